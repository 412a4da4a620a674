"""Read a book into chapters: EPUB in spine order (linear items), or UTF-8 text split on headings."""

from __future__ import annotations

import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from domain.books import markup
from domain.errors import InvalidArgument

#: A plain-text chapter starts at a line like "Глава 3", "ГЛАВА III. Бал", "Chapter 2".
HEADING = re.compile(
    r"^[ \t]*((?:Глава|ГЛАВА|Часть|ЧАСТЬ|Chapter|CHAPTER)[ \t]+[\wIVXLCDM]+[^\n]*)$", re.MULTILINE
)
BLOCKS = ("p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "tr", "br")
#: Spine items read as chapters: XHTML, and HTML as Calibre and older tools write it.
DOCUMENT_TYPES = ("application/xhtml+xml", "text/html")


@dataclass(frozen=True)
class ImportedChapter:
    title: str
    href: str
    text: str


@dataclass(frozen=True)
class ImportedBook:
    title: str
    author: str
    language: str
    chapters: list[ImportedChapter] = field(default_factory=list)


def import_book(path: Path, file_format: str) -> ImportedBook:
    """Chapters of the file at `path`; InvalidArgument says clearly why a file cannot be read."""
    if not path.is_file():
        raise InvalidArgument(f"Book file {str(path)!r} does not exist.")
    if file_format == "epub":
        return import_epub(path)
    if file_format == "txt":
        return import_text(path)
    raise InvalidArgument(f"Unknown book format {file_format!r}; use 'epub' or 'txt'.")


def import_epub(path: Path) -> ImportedBook:
    """Spine order, linear items only, titles from the navigation (else the first heading)."""
    from ebooklib import ITEM_DOCUMENT, epub

    if not zipfile.is_zipfile(path):
        raise InvalidArgument(f"{path.name!r} is not an EPUB file (not a ZIP archive).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = epub.read_epub(str(path), options={"ignore_ncx": False})
    except Exception as error:
        raise InvalidArgument(f"{path.name!r} is not a readable EPUB: {error}") from None
    titles = _toc_titles(book.toc)
    chapters = []
    for idref, linear in book.spine:
        item = book.get_item_with_id(idref)
        document = item is not None and (
            item.get_type() == ITEM_DOCUMENT or getattr(item, "media_type", "") in DOCUMENT_TYPES
        )
        if not document or isinstance(item, epub.EpubNav) or str(linear).lower() == "no":
            continue
        html = PurePosixPath(item.get_name()).suffix.lower() in (".html", ".htm")
        heading, text = _html_text(item.content, html=html)  # raw: get_content() re-renders HTML
        if text.strip():
            title = titles.get(PurePosixPath(item.get_name()).name) or heading or f"Глава {len(chapters) + 1}"
            chapters.append(ImportedChapter(title=title, href=item.get_name(), text=text))
    if not chapters:
        raise InvalidArgument(f"{path.name!r} has no readable chapters in its spine.")
    return ImportedBook(
        title=_first(book.get_metadata("DC", "title")) or path.stem,
        author=_first(book.get_metadata("DC", "creator")),
        language=_first(book.get_metadata("DC", "language")) or "ru",
        chapters=chapters,
    )


def import_text(path: Path) -> ImportedBook:
    """A UTF-8 text split at chapter headings (one chapter if there are none)."""
    try:
        content = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InvalidArgument(f"{path.name!r} is not UTF-8 text (byte {error.start}).") from None
    marks = list(HEADING.finditer(content))
    if not marks:
        parts = [(path.stem, content)]
    else:
        parts = [
            (m.group(1).strip(), content[m.end() : nxt.start() if nxt else len(content)])
            for m, nxt in zip(marks, [*marks[1:], None], strict=True)
        ]
    chapters = [ImportedChapter(title=t, href="", text=_paragraphs(x)) for t, x in parts if x.strip()]
    if not chapters:
        raise InvalidArgument(f"{path.name!r} is empty.")
    return ImportedBook(title=path.stem, author="", language="ru", chapters=chapters)


def _html_text(content: bytes, *, html: bool) -> tuple[str, str]:
    """(first heading, text with one paragraph per block element) of a spine document, read as the
    reader's browser reads it: UTF-8, `.html` items as HTML, others as XML (CDATA is text there),
    falling back to HTML for XML that is not well-formed."""
    from lxml import etree
    from lxml import html as lxml_html

    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", markup.decode(content))
    try:
        root = None if html else etree.fromstring(text, etree.XMLParser(recover=False, no_network=True))
    except etree.XMLSyntaxError:
        root = None
    try:
        root = lxml_html.fromstring(etree.tostring(root, encoding="unicode") if root is not None else text)
    except (etree.ParserError, ValueError):
        return "", ""
    for bad in root.xpath("//script|//style|//head"):
        bad.drop_tree()
    headings = root.xpath("//h1|//h2|//h3")
    heading = " ".join(headings[0].text_content().split()) if headings else ""
    for element in root.iter(*BLOCKS):
        element.tail = "\n\n" + (element.tail or "")
    return heading, _paragraphs(root.text_content())


def _paragraphs(text: str) -> str:
    paragraphs = (" ".join(block.split()) for block in re.split(r"\n\s*\n", text))
    return "\n\n".join(p for p in paragraphs if p)


def _toc_titles(toc) -> dict[str, str]:
    titles: dict[str, str] = {}
    for entry in toc:
        if isinstance(entry, tuple):  # (Section, [children])
            section, children = entry
            titles.update(_toc_titles(children))
            entry = section
        href = getattr(entry, "href", None)
        if href:
            titles.setdefault(PurePosixPath(href.split("#")[0]).name, entry.title)
    return titles


def _first(values) -> str:
    return str(values[0][0]).strip() if values else ""
