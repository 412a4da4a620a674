"""Book actors on the `books` queue: import, one job per chapter, a barrier, then finishing touches."""

from __future__ import annotations

import dramatiq

from broker import jobs
from broker.runtime import current_settings
from domain import db
from domain.books import cache as cache_service
from domain.books import processing as book_service
from domain.errors import PermanentError


@dramatiq.actor(queue_name="books")
def process_book(book_id: int) -> dict:
    """Split the book into chapters and fan out one `process_chapter` each (replacing an earlier run)."""
    try:
        with db.session_scope() as session:
            chapter_ids = book_service.prepare(
                session,
                book_id=book_id,
                media_root=current_settings().media_root,
                books_root=current_settings().books_root,
            )
    except PermanentError as error:
        with db.session_scope() as session:
            book_service.mark_failed(session, book_id=book_id, error=str(error))
        raise
    # Sent after the COMMIT, so every chapter job finds its chapter; each reports to this job's bar.
    this_job = jobs.current_job_id()
    jobs.progress(0, len(chapter_ids), "chapters")
    broker = dramatiq.get_broker()
    for chapter_id in chapter_ids:
        broker.enqueue(process_chapter.message_with_options(args=(chapter_id,), book_job=this_job))
    return {"book_id": book_id, "total_chapters": len(chapter_ids), "status": "processing"}


@dramatiq.actor(queue_name="books")
def process_chapter(chapter_id: int, mode: str | None = None) -> dict:
    """Find the chapter's descriptions; the job that completes the book sends `finalize_book`."""
    with db.session_scope() as session:
        outcome = book_service.process_chapter(session, chapter_id=chapter_id, mode=mode)
    book_job = jobs.current_option("book_job")
    if book_job and not outcome.already_done:
        jobs.progress(outcome.chapters_done, outcome.chapter_count, "chapters", job=book_job)
    if outcome.already_done and outcome.book_id:
        with db.session_scope() as session:  # a redelivery after a crash that lost the finalize message
            last = book_service.needs_finalizing(session, book_id=outcome.book_id)
    else:
        last = outcome.last
    if last:
        finalize_book.send(outcome.book_id)
    return outcome.as_dict()


@dramatiq.actor(queue_name="books")
def finalize_book(book_id: int) -> dict:
    """Mark the book processed, generate its epub.js locations, return the original's result, cache it."""
    with db.session_scope() as session:
        result = book_service.finalize(session, book_id=book_id)
    try:  # in this job, so that the result says how many; a re-run with other `chars` is its own job
        locations = generate_cfi_locations(book_id)
        result = {**result, "cfi_locations_generated": locations["locations_generated"]}
    except PermanentError as error:  # a malformed document: the book is still readable and processed
        result = {**result, "cfi_locations_generated": 0, "locations_error": str(error)}
    cache_epub_file.send(book_id)
    return {**result, "cache_status": "queued"}


@dramatiq.actor(queue_name="books")
def generate_cfi_locations(book_id: int, locations_count: int = 2000, *, chars: int | None = None) -> dict:
    """About `locations_count` epub.js locations (the original's 2000), or one every `chars` characters."""
    with db.session_scope() as session:
        return book_service.generate_locations(
            session,
            book_id=book_id,
            media_root=current_settings().media_root,
            books_root=current_settings().books_root,
            chars=chars,
            locations_count=None if chars else locations_count,
        )


@dramatiq.actor(queue_name="books")
def process_multi_nlp_ensemble(text: str, chapter_id: int, mode: str = "ensemble") -> dict:
    """The ensemble on a piece of text in any of the five modes; nothing is stored."""
    return book_service.analyse_text(text=text, chapter_id=chapter_id, mode=mode)


@dramatiq.actor(queue_name="books")
def cache_epub_file(book_id: int) -> dict:
    """A gzip copy of the book's file under MEDIA_ROOT, kept 24 h and refreshed when the file changes."""
    media_root = current_settings().media_root
    with db.session_scope() as session:
        book = book_service.get_book(session, book_id)
        source = book_service.resolve_path(book.file_path, media_root, current_settings().books_root)
    entry = cache_service.cache_file(source, book_id=book_id, media_root=media_root)
    with db.session_scope() as session:
        book = book_service.get_book(session, book_id, lock=True)
        book.book_metadata = {**(book.book_metadata or {}), "cache": entry.as_dict()}
    return {"book_id": book_id, **entry.as_dict()}
