"""Book processing bookkeeping: chapters in, descriptions out, and a barrier that finds the last chapter."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from domain.books import locations as epub_locations
from domain.books.importer import import_book
from domain.errors import InvalidArgument, NotFound
from domain.models.base import utcnow
from domain.models.books import Book, Chapter, Description
from domain.nlp.ensemble import Mode, book_mode, default_processors, find_passages


@dataclass(frozen=True)
class ChapterOutcome:
    book_id: int
    chapter_id: int
    descriptions: int
    last: bool  # this chapter completed the book
    already_done: bool = False
    chapters_done: int = 0  # of the book, this one included
    chapter_count: int = 0

    def as_dict(self) -> dict:
        data = asdict(self)
        del data["chapters_done"], data["chapter_count"]  # progress, not the job's result
        return data


def get_book(session: Session, book_id: int, *, lock: bool = False) -> Book:
    statement = select(Book).where(Book.id == book_id)
    book = session.scalars(statement.with_for_update() if lock else statement).one_or_none()
    if book is None:
        raise NotFound(f"Book {book_id!r} not found.")
    return book


def prepare(session: Session, *, book_id: int, media_root: Path, books_root: Path | None = None) -> list[int]:
    """Import the book's file into chapters (replacing an earlier run's) and return their ids in order."""
    book = get_book(session, book_id, lock=True)
    imported = import_book(resolve_path(book.file_path, media_root, books_root), book.file_format)
    session.execute(delete(Description).where(Description.book_id == book_id))
    session.execute(delete(Chapter).where(Chapter.book_id == book_id))
    chapters = [
        Chapter(
            book_id=book_id,
            number=n,
            title=c.title[:500],
            spine_href=c.href,
            text=c.text,
            char_count=len(c.text),
        )
        for n, c in enumerate(imported.chapters, start=1)
    ]
    session.add_all(chapters)
    book.title = book.title or imported.title
    book.author = book.author or imported.author
    book.language = imported.language or book.language
    book.status, book.error = "processing", None
    book.chapter_count, book.chapters_done = len(chapters), 0
    book.processing_started_at, book.processed_at = utcnow(), None
    session.flush()
    return [chapter.id for chapter in chapters]


def mark_failed(session: Session, *, book_id: int, error: str) -> None:
    """The book could not be processed; `error` says why."""
    session.execute(update(Book).where(Book.id == book_id).values(status="failed", error=error))


def process_chapter(session: Session, *, chapter_id: int, mode: str | None = None) -> ChapterOutcome:
    """Find a chapter's descriptions and count it towards its book, once (the row lock makes it so)."""
    chapter = session.scalars(select(Chapter).where(Chapter.id == chapter_id).with_for_update()).one_or_none()
    if chapter is None:
        # A re-run of the book replaced its chapters; this job belongs to the run before.
        return ChapterOutcome(0, chapter_id, 0, last=False, already_done=True)
    if chapter.is_processed:
        return ChapterOutcome(chapter.book_id, chapter_id, 0, last=False, already_done=True)
    passages = find_passages(chapter.text, mode or book_mode())
    session.add_all(
        Description(
            book_id=chapter.book_id,
            chapter_id=chapter_id,
            text=p.text,
            kind=p.kind,
            priority_score=p.priority_score,
            confidence=p.confidence,
            consensus=p.consensus,
            processors=list(p.processors),
            start_offset=p.start,
            end_offset=p.end,
        )
        for p in passages
    )
    chapter.is_processed = True
    done, total = session.execute(
        update(Book)
        .where(Book.id == chapter.book_id)
        .values(chapters_done=Book.chapters_done + 1)
        .returning(Book.chapters_done, Book.chapter_count)
    ).one()
    return ChapterOutcome(
        chapter.book_id,
        chapter_id,
        len(passages),
        last=done == total,
        chapters_done=done,
        chapter_count=total,
    )


def needs_finalizing(session: Session, *, book_id: int) -> bool:
    """Every chapter is done but the book is not marked processed (a finalize message went missing)."""
    book = get_book(session, book_id)
    return book.status == "processing" and book.chapters_done >= book.chapter_count


def finalize(session: Session, *, book_id: int) -> dict:
    """Mark the book processed and return the original's result shape (the stored one if done already)."""
    book = get_book(session, book_id, lock=True)
    if book.status == "processed" and "processing_result" in (book.book_metadata or {}):
        return book.book_metadata["processing_result"]
    count, consensus = session.execute(
        select(func.count(Description.id), func.avg(Description.consensus)).where(
            Description.book_id == book_id
        )
    ).one()
    processors = sorted(
        {
            name
            for row in session.scalars(select(Description.processors).where(Description.book_id == book_id))
            for name in row
        }
    )
    book.status, book.processed_at = "processed", utcnow()
    started = book.processing_started_at or book.processed_at
    result = {
        "book_id": book_id,
        "total_chapters": book.chapter_count,
        "descriptions_found": count,
        "processing_time_seconds": round((book.processed_at - started).total_seconds(), 3),
        "status": "completed",
        "nlp_processors_used": processors,
        "ensemble_consensus_rate": round(float(consensus or 0.0), 4),
    }
    book.book_metadata = {**(book.book_metadata or {}), "processing_result": result}
    return result


def generate_locations(
    session: Session,
    *,
    book_id: int,
    media_root: Path,
    chars: int | None = None,
    locations_count: int | None = None,
    books_root: Path | None = None,
) -> dict:
    """epub.js locations of the book's EPUB, stored in its metadata; `locations_count` picks `chars`."""
    book = get_book(session, book_id, lock=True)
    started = time.perf_counter()
    if book.file_format != "epub":
        return {
            "book_id": book_id,
            "locations_generated": 0,
            "generation_time_seconds": 0.0,
            "file_format": book.file_format,
            "status": "skipped",
            "reason": f"Locations need an EPUB; book {book_id!r} is {book.file_format!r}.",
        }
    path = resolve_path(book.file_path, media_root, books_root)
    if chars is None:
        chars = epub_locations.chars_for_count(path, locations_count) if locations_count else 150
    found = epub_locations.generate(path, chars)
    book.book_metadata = {**(book.book_metadata or {}), "locations": found, "locations_chars": chars}
    return {
        "book_id": book_id,
        "locations_generated": len(found),
        "generation_time_seconds": round(time.perf_counter() - started, 3),
        "file_format": book.file_format,
        "status": "completed",
        "chars": chars,
        "locations_count": locations_count,
    }


def resolve_path(file_path: str, media_root: Path, books_root: Path | None = None) -> Path:
    """A book file path as stored (absolute, or relative to MEDIA_ROOT) made absolute; with
    `books_root` (BOOKS_ROOT), InvalidArgument for one that resolves anywhere else (symlinks and
    `..` included), so a row pointing at /etc/passwd is never read, parsed or copied."""
    path = Path(file_path)
    path = path if path.is_absolute() else media_root / path
    if books_root is not None and not path.resolve().is_relative_to(books_root.resolve()):
        raise InvalidArgument(f"Book file {file_path!r} is outside BOOKS_ROOT {str(books_root)!r}.")
    return path


#: `process_multi_nlp_ensemble` returns at most this many passages (the counts cover all of them).
ANALYSIS_PASSAGES = 100


def analyse_text(*, text: str, chapter_id: int, mode: str = Mode.ENSEMBLE) -> dict:
    """The original's `process_multi_nlp_ensemble_task`: the ensemble on `text`, nothing stored."""
    if mode not in set(Mode):
        raise InvalidArgument(f"mode must be one of {', '.join(Mode)}, not {mode!r}.")
    if not isinstance(text, str):
        raise InvalidArgument(f"text must be a string, not {type(text).__name__}.")
    started = time.perf_counter()
    processors = default_processors()
    passages = find_passages(text, mode, processors)
    names = [p.name for p in processors]
    confidences = {
        f"{name}_confidence": round(sum(c) / len(c), 4)
        for name in names
        if (c := [p.confidences[name] for p in passages if name in p.confidences])
    }
    return {
        "chapter_id": chapter_id,
        "mode": str(Mode(mode)),
        "processors_used": names,
        "descriptions_found": len(passages),
        "consensus_rate": round(sum(p.consensus for p in passages) / len(passages), 4) if passages else 0.0,
        "processing_time_seconds": round(time.perf_counter() - started, 3),
        "quality_metrics": confidences,
        "descriptions": [
            {"text": p.text, "kind": p.kind, "confidence": p.confidence, "priority_score": p.priority_score}
            for p in passages[:ANALYSIS_PASSAGES]
        ],
    }
