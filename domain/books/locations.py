"""epub.js locations: the list `book.locations.generate(chars)` of epub.js 0.3.93 returns, string for string.

epub.js walks each linear spine document's `<body>` text nodes (whitespace-only ones skipped), cuts a
range CFI every `chars` UTF-16 code units, starts the next range one unit after the break, and closes
the last range at the end of the last text node. The quirks below (text steps numbered among text
nodes only, a first range at offset 1 when the first text node is long enough, the closing range
repeated after an exact break) are epub.js's own, kept so that a reader's saved positions match.
"""

from __future__ import annotations

import math
import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

from domain.books import markup
from domain.errors import InvalidArgument

#: What JavaScript's String.prototype.trim() strips (Python's str.strip() differs at the edges).
JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
CONTAINER = "META-INF/container.xml"
DOCUMENT_EXTENSIONS = {".xhtml", ".html", ".htm", ".xml"}


@dataclass(frozen=True)
class Step:
    """One CFI step: an element (even numbers) or a text node (odd numbers, counted among text nodes)."""

    kind: str  # "element" | "text"
    index: int
    id: str = ""

    def __str__(self) -> str:
        number = (self.index + 1) * 2 if self.kind == "element" else 1 + 2 * self.index
        return f"{number}[{self.id}]" if self.id else str(number)


@dataclass(frozen=True)
class TextNode:
    """A DOM text node as epub.js sees it: its path from below `<html>` and its length in UTF-16 units."""

    path: tuple[Step, ...]
    length: int
    blank: bool


@dataclass(frozen=True)
class SpineDocument:
    """A linear spine item: its CFI base (`/6/4[id]`) and its parsed XHTML."""

    cfi_base: str
    root: etree._Element


def generate(path: Path, chars: int = 150) -> list[str]:
    """The locations of the EPUB at `path`, every `chars` characters, as epub.js generates them."""
    if chars < 1:
        raise InvalidArgument(f"chars must be a positive number of characters, not {chars!r}.")
    locations: list[str] = []
    for document in spine_documents(path):
        locations.extend(document_locations(document, chars))
    return locations


def chars_for_count(path: Path, locations_count: int) -> int:
    """The original's `locations_count`: characters per location = ceil(total characters / count)."""
    if locations_count < 1:
        raise InvalidArgument(f"locations_count must be positive, not {locations_count!r}.")
    total = sum(
        node.length for doc in spine_documents(path) for node in text_nodes(doc.root) if not node.blank
    )
    return max(1, math.ceil(total / locations_count))


def document_locations(document: SpineDocument, chars: int) -> list[str]:
    """epub.js `Locations.parse` over one document, transcribed step for step."""
    locations: list[str] = []
    counter = 0
    start: tuple[TextNode, int] | None = None
    prev: TextNode | None = None
    for node in text_nodes(document.root):
        if node.blank:
            continue
        length, pos = node.length, 0
        if counter == 0:
            start = (node, 0)
        if chars - counter > length:
            counter += length
            pos = length
        while pos < length:
            dist = chars - counter
            if counter == 0:
                pos += 1
                start = (node, pos)
            if pos + dist >= length:
                counter += length - pos
                pos = length
            else:
                pos += dist
                locations.append(range_cfi(document.cfi_base, start, (node, pos)))
                counter = 0
        prev = node
    if start is not None and prev is not None:
        locations.append(range_cfi(document.cfi_base, start, (prev, prev.length)))
    return locations


def range_cfi(base: str, start: tuple[TextNode, int], end: tuple[TextNode, int]) -> str:
    """`new EpubCFI(range, base).toString()`: shared steps, then the start and end paths."""
    start_steps, end_steps = start[0].path, end[0].path
    shared = 0
    for i, step in enumerate(start_steps):
        # epub.js compares the terminals by identity, so the last step is never shared.
        if i == len(start_steps) - 1 or i >= len(end_steps) or end_steps[i] != step:
            break
        shared += 1

    def segment(steps: tuple[Step, ...], offset: int | None = None) -> str:
        text = "/" + "/".join(str(step) for step in steps)
        return text if offset is None else f"{text}:{offset}"

    return (
        f"epubcfi({base}!{segment(start_steps[:shared])}"
        f",{segment(start_steps[shared:], start[1])},{segment(end_steps[shared:], end[1])})"
    )


def text_nodes(root: etree._Element) -> Iterator[TextNode]:
    """Every text node under `<body>` in document order (what a SHOW_TEXT TreeWalker visits)."""
    elements = (e for e in root.iter() if isinstance(e.tag, str))
    body = next((e for e in elements if etree.QName(e).localname == "body"), None)
    if body is None:
        return
    yield from _walk(body, _path_to(body))


def _walk(element: etree._Element, path: tuple[Step, ...]) -> Iterator[TextNode]:
    texts = 0
    elements = 0

    def text(value: str) -> TextNode:
        nonlocal texts
        node = TextNode((*path, Step("text", texts)), utf16_length(value), not value.strip(JS_WHITESPACE))
        texts += 1
        return node

    if element.text:
        yield text(element.text)
    for child in element:
        if isinstance(child.tag, str):  # comments and processing instructions are not elements
            yield from _walk(child, (*path, Step("element", elements, child.get("id") or "")))
            elements += 1
        if child.tail:
            yield text(child.tail)


def _path_to(element: etree._Element) -> tuple[Step, ...]:
    """Steps from the child of the root element down to `element`."""
    steps: list[Step] = []
    while element.getparent() is not None:
        parent = element.getparent()
        index = [c for c in parent if isinstance(c.tag, str)].index(element)
        steps.insert(0, Step("element", index, element.get("id") or ""))
        element = parent
    return tuple(steps)


def utf16_length(text: str) -> int:
    """A JavaScript string's length: characters outside the BMP count twice."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def spine_documents(path: Path) -> Iterator[SpineDocument]:
    """The EPUB's linear spine items that are documents, with epub.js's CFI base for each."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise InvalidArgument(f"{path.name!r} is not an EPUB file: {error}.") from None
    with archive:
        opf_path = _rootfile(archive, path.name)
        package = _parse(archive, opf_path, path.name)
        manifest = {item.get("id"): item.get("href", "") for item in package.iter("{*}item")}
        spine = next(package.iter("{*}spine"), None)
        if spine is None:
            raise InvalidArgument(f"{path.name!r} has no <spine> in {opf_path!r}.")
        spine_index = [c for c in package if isinstance(c.tag, str)].index(spine)
        opf_dir = posixpath.dirname(opf_path)
        for position, itemref in enumerate(spine.iter("{*}itemref")):
            href = manifest.get(itemref.get("idref"))
            linear = (itemref.get("linear") or "yes") == "yes"
            if not linear or not href or posixpath.splitext(href)[1].lower() not in DOCUMENT_EXTENSIONS:
                continue
            member = posixpath.normpath(posixpath.join(opf_dir, unquote(href.split("#")[0])))
            base = f"/{(spine_index + 1) * 2}/{(position + 1) * 2}"
            if itemref.get("id"):
                base += f"[{itemref.get('id')}]"
            html = member.lower().endswith((".html", ".htm"))
            yield SpineDocument(base, _parse_document(archive, member, path.name, html=html))


def _rootfile(archive: zipfile.ZipFile, name: str) -> str:
    container = _parse(archive, CONTAINER, name)
    rootfile = next(container.iter("{*}rootfile"), None)
    if rootfile is None or not rootfile.get("full-path"):
        raise InvalidArgument(f"{name!r} has no rootfile in {CONTAINER}.")
    return rootfile.get("full-path")


def _read(archive: zipfile.ZipFile, member: str, name: str) -> bytes:
    try:
        return archive.read(member)
    except KeyError:
        raise InvalidArgument(f"{name!r} lacks {member!r}.") from None


def _parse(archive: zipfile.ZipFile, member: str, name: str) -> etree._Element:
    """The container or the package document: plain XML."""
    try:
        return etree.fromstring(
            _read(archive, member, name), etree.XMLParser(resolve_entities=False, no_network=True)
        )
    except etree.XMLSyntaxError as error:
        raise InvalidArgument(f"{member!r} in {name!r} is not well-formed XML: {error}.") from None


def _parse_document(archive: zipfile.ZipFile, member: str, name: str, *, html: bool) -> etree._Element:
    """A spine document as epub.js in a browser parses it: `.html` / `.htm` with the HTML parser,
    whatever its media type, anything else as XHTML (`domain.books.markup`)."""
    content = _read(archive, member, name)
    if html:
        return markup.parse_html(content)
    try:
        return markup.parse_xhtml(content)
    except etree.XMLSyntaxError as error:
        raise InvalidArgument(f"{member!r} in {name!r} is not well-formed XML: {error}.") from None
