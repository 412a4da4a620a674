"""Book processing on real RabbitMQ and PostgreSQL: chapters spread over workers, one barrier, once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from actors import books
from domain import db
from domain.models.books import Book, Chapter, Description
from domain.models.jobs import Job
from domain.nlp.ensemble import find_passages
from tests.support.books import make_epub
from tests.support.ledger import wait_for

pytestmark = pytest.mark.integration


def add_book(path) -> int:
    with db.session_scope() as session:
        book = Book(file_path=str(path), file_format="epub")
        session.add(book)
        session.flush()
        return book.id


def processed(book_id: int) -> Book | None:
    with db.session_scope() as session:
        book = session.get(Book, book_id)
        return book if book.status == "processed" and "cache" in (book.book_metadata or {}) else None


def count(model, **where) -> int:
    statement = select(func.count()).select_from(model)
    for column, value in where.items():
        statement = statement.where(getattr(model, column) == value)
    with db.session_scope() as session:
        return session.scalar(statement)


def test_chapters_spread_over_two_workers_and_the_book_is_finalized_once(
    rabbitmq_broker, start_worker, tmp_path
):
    start_worker(processes=2, threads=2, MEDIA_ROOT=str(tmp_path / "media"))
    book_id = add_book(make_epub(tmp_path / "book.epub", chapters=8))

    book_job = books.process_book.send(book_id).message_id

    book = wait_for(lambda: processed(book_id), timeout=90, what="the book to be processed")
    assert book.chapters_done == book.chapter_count == 8
    with db.session_scope() as session:  # the book's job shows its chapters as they finish
        bar = session.execute(
            select(Job.progress_done, Job.progress_total, Job.progress_note).where(Job.message_id == book_job)
        ).one()
    assert tuple(bar) == (8, 8, "chapters")
    assert count(Chapter, book_id=book_id, is_processed=True) == 8
    assert count(Job, actor_name="finalize_book", status="done") == 1
    with db.session_scope() as session:
        workers = set(session.scalars(select(Job.worker_id).where(Job.actor_name == "process_chapter")))
    assert len(workers) == 2
    result = book.book_metadata["processing_result"]
    assert result["descriptions_found"] == count(Description, book_id=book_id) > 0
    assert set(result["nlp_processors_used"]) <= {"natasha", "spacy", "vectors"}


def test_a_worker_killed_mid_book_still_finishes_the_book_once(rabbitmq_broker, start_worker, tmp_path):
    media = str(tmp_path / "media")
    first = start_worker(processes=1, threads=2, MEDIA_ROOT=media)
    book_id = add_book(make_epub(tmp_path / "book.epub", chapters=12, repeat=6))
    books.process_book.send(book_id)
    wait_for(lambda: count(Chapter, book_id=book_id, is_processed=True) >= 2, timeout=60, what="two chapters")

    first.kill()
    start_worker(processes=1, threads=2, MEDIA_ROOT=media)

    book = wait_for(lambda: processed(book_id), timeout=120, what="the book to be processed")
    assert book.chapters_done == book.chapter_count == 12
    with db.session_scope() as session:
        stored = dict(
            session.execute(
                select(Description.chapter_id, func.count())
                .where(Description.book_id == book_id)
                .group_by(Description.chapter_id)
            ).all()
        )
        chapters = session.execute(select(Chapter.id, Chapter.text).where(Chapter.book_id == book_id)).all()
    # Each chapter's descriptions are stored exactly once: as many as the ensemble finds in its text.
    assert stored == {chapter_id: len(find_passages(text)) for chapter_id, text in chapters}
    assert count(Job, actor_name="finalize_book", status="done") == 1
