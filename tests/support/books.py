"""Books made by the tests: small Russian EPUBs and text files with known descriptive sentences."""

from __future__ import annotations

from pathlib import Path

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
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("bookjobs-test")
    book.set_title("Тестовая книга")
    book.set_language("ru")
    book.add_author("Тест Тестович")
    items = []
    for n in range(1, chapters + 1):
        item = epub.EpubHtml(title=f"Глава {n}", file_name=f"chap{n:02d}.xhtml", lang="ru")
        text = texts[n - 1] if texts else chapter_text(n, repeat)
        paragraphs = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
        item.content = f"<html><body><h1>Глава {n}</h1>{paragraphs}</body></html>"
        book.add_item(item)
        items.append(item)
    notes = epub.EpubHtml(title="Примечания", file_name="notes.xhtml", lang="ru")
    notes.content = "<html><body><p>Примечание: старый дом у реки.</p></body></html>"
    book.add_item(notes)
    book.toc = items
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *items]
    if with_nonlinear:
        book.spine.append((notes.id, "no"))
    epub.write_epub(str(path), book)
    return path


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
