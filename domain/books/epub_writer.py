"""Write a small EPUB 3 (ebooklib): the demo's book, and the books the tests process."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ChapterText:
    title: str
    paragraphs: list[str]
    file_name: str = ""
    heading_id: str = ""


@dataclass(frozen=True)
class BookText:
    identifier: str
    title: str
    author: str
    chapters: list[ChapterText]
    language: str = "ru"
    notes: list[str] = field(default_factory=list)  # a non-linear notes page, when given


def write_epub(path: Path, book: BookText) -> Path:
    """An EPUB 3 with a navigation document, the chapters in order, and the notes page non-linear."""
    from ebooklib import epub

    document = epub.EpubBook()
    document.set_identifier(book.identifier)
    document.set_title(book.title)
    document.set_language(book.language)
    document.add_author(book.author)
    items = []
    for n, chapter in enumerate(book.chapters, start=1):
        item = epub.EpubHtml(
            title=chapter.title, file_name=chapter.file_name or f"chap{n:02d}.xhtml", lang=book.language
        )
        heading_id = f' id="{chapter.heading_id}"' if chapter.heading_id else ""
        paragraphs = "".join(f"<p>{p}</p>" for p in chapter.paragraphs)
        item.content = f"<html><body><h1{heading_id}>{chapter.title}</h1>{paragraphs}</body></html>"
        document.add_item(item)
        items.append(item)
    document.toc = items
    document.add_item(epub.EpubNcx())
    document.add_item(epub.EpubNav())
    document.spine = ["nav", *items]
    if book.notes:
        notes = epub.EpubHtml(title="Примечания", file_name="notes.xhtml", lang=book.language)
        notes.content = "<html><body>" + "".join(f"<p>{p}</p>" for p in book.notes) + "</body></html>"
        document.add_item(notes)
        document.spine.append((notes.id, "no"))
    path.parent.mkdir(parents=True, exist_ok=True)
    epub.write_epub(str(path), document)
    return path
