"""Books made by the tests: small Russian EPUBs and text files with known descriptive sentences."""

from __future__ import annotations

from pathlib import Path

from domain.books.epub_writer import BookText, ChapterText, write_epub

DESCRIPTIVE = [
    "Старый дом стоял на высоком холме над тёмной рекой.",
    "В густом тумане звенел далёкий колокол.",
    "Седой старик в чёрном плаще сидел у окна.",
    "На широкой площади шумел пёстрый рынок.",
    "Золотой свет заката лежал на пустой дороге.",
]
PLAIN = [
    "Он сказал, что придёт завтра.",
    "Она согласилась и ничего не ответила.",
    "Потом они долго спорили о деньгах.",
]


def chapter_text(n: int, repeat: int = 1) -> str:
    """Paragraphs mixing descriptive and plain sentences; chapter `n` gets its own order."""
    sentences = DESCRIPTIVE[n % len(DESCRIPTIVE) :] + DESCRIPTIVE[: n % len(DESCRIPTIVE)]
    paragraphs = [f"{d} {PLAIN[i % len(PLAIN)]}" for i, d in enumerate(sentences)]
    return "\n\n".join(paragraphs * repeat)


def make_epub(
    path: Path,
    *,
    chapters: int = 3,
    repeat: int = 1,
    with_nonlinear: bool = True,
    texts: list[str] | None = None,
) -> Path:
    """An EPUB 3 with a nav, `chapters` linear chapters and (optionally) a non-linear notes page."""
    texts = texts or [chapter_text(n, repeat) for n in range(1, chapters + 1)]
    book = BookText(
        "bookjobs-test",
        "Тестовая книга",
        "Тест Тестович",
        [ChapterText(f"Глава {n}", text.split("\n\n")) for n, text in enumerate(texts[:chapters], start=1)],
        notes=["Примечание: старый дом у реки."] if with_nonlinear else [],
    )
    return write_epub(path, book)


def add_described_book(
    texts: list[str], scores: list[float] | None = None, *, title: str = "Книга", author: str = "Автор"
) -> tuple[int, list[int]]:
    """A book with one chapter and a description per text (priority from `scores`); returns their ids."""
    from domain import db
    from domain.models.books import Book, Chapter, Description

    scores = scores or [0.5] * len(texts)
    with db.session_scope() as session:
        book = Book(title=title, author=author, file_path="x", file_format="epub")
        session.add(book)
        session.flush()
        chapter = Chapter(book_id=book.id, number=1, title="1", text=texts[0], char_count=len(texts[0]))
        session.add(chapter)
        session.flush()
        rows = [
            Description(
                book_id=book.id,
                chapter_id=chapter.id,
                text=text,
                kind="location",
                priority_score=score,
                confidence=0.6,
                consensus=1.0,
                processors=["spacy"],
                start_offset=0,
                end_offset=10,
            )
            for text, score in zip(texts, scores, strict=True)
        ]
        session.add_all(rows)
        session.flush()
        return book.id, [row.id for row in rows]
