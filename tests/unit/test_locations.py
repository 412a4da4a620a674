"""epub.js locations: CFI shapes, the original's `locations_count`, bad files, and the actor."""

from __future__ import annotations

import math
import zipfile

import pytest

from domain import db
from domain.books.locations import chars_for_count, generate, spine_documents, text_nodes
from domain.errors import InvalidArgument
from domain.models.books import Book
from tests.support.epubs import EPUBS, Document, Epub


def test_range_cfis_carry_the_spine_position_itemref_id_and_element_ids(tmp_path):
    path = EPUBS["images_and_nested"].write(tmp_path / "n.epub")

    locations = generate(path, 150)

    # Strings epub.js 0.3.93 printed for this file (the e2e test compares every one live).
    assert locations[:2] == [
        "epubcfi(/8/2[chap01ref]!/4/2[c1]/2,/2[h1]/1:0,/4[c1p0]/1:138)",
        "epubcfi(/8/2[chap01ref]!/4/2[c1]/2/4[c1p0],/1:139,/1:289)",
    ]
    # The non-linear notes (third itemref... second here) are skipped but counted: the next is /6.
    assert not any(cfi.startswith("epubcfi(/8/4!") for cfi in locations)
    assert locations[-1].startswith("epubcfi(/8/6!/4,")


def test_lengths_are_counted_in_utf16_code_units(tmp_path):
    path = Epub([Document("e.xhtml", "<p>😺😺😺😺😺</p>")]).write(tmp_path / "e.epub")

    assert generate(path, 4) == [
        "epubcfi(/6/2!/4/2,/1:1,/1:5)",
        "epubcfi(/6/2!/4/2,/1:6,/1:10)",
    ]


def test_whitespace_only_text_is_skipped_but_still_numbers_its_siblings(tmp_path):
    body = "<p>один<!-- c -->два</p><p>\u00a0\u3000</p><p>три</p>"
    path = Epub([Document("w.xhtml", body)]).write(tmp_path / "w.epub")

    [document] = spine_documents(path)
    nodes = [(n.path[-1].index, n.blank, n.length) for n in text_nodes(document.root) if n.length]

    assert (0, False, 4) in nodes and (1, False, 3) in nodes  # a comment splits "один" and "два"
    assert generate(path, 100) == ["epubcfi(/6/2!/4,/2/1:0,/6/1:3)"]


def test_locations_count_picks_characters_per_location_like_the_original(tmp_path):
    path = EPUBS["entities"].write(tmp_path / "e.epub")
    [document] = spine_documents(path)
    total = sum(n.length for n in text_nodes(document.root) if not n.blank)

    chars = chars_for_count(path, 10)

    assert chars == math.ceil(total / 10)
    assert 10 <= len(generate(path, chars)) <= 11  # the closing range may repeat the last break


@pytest.mark.parametrize(
    ("write", "message"),
    [
        (lambda p: p.write_bytes(b"plain text"), "is not an EPUB file"),
        (lambda p: zipfile.ZipFile(p, "w").writestr("a.txt", "x"), "lacks 'META-INF/container.xml'"),
        (
            lambda p: Epub([Document("bad.xhtml", "<p>Том&nbsp;и Джерри</p>")]).write(p),
            "'OEBPS/bad.xhtml' in 'book.epub' is not well-formed XML: Entity 'nbsp' not defined",
        ),
    ],
)
def test_an_unreadable_file_fails_with_a_clear_error(tmp_path, write, message):
    path = tmp_path / "book.epub"
    write(path)

    with pytest.raises(InvalidArgument, match=message):
        generate(path)


def test_chars_must_be_positive(tmp_path):
    path = EPUBS["short_chapters"].write(tmp_path / "s.epub")

    with pytest.raises(InvalidArgument, match="chars must be a positive number"):
        generate(path, 0)


def test_the_actor_stores_locations_and_accepts_the_original_signature(stub_broker, stub_worker, tmp_path):
    from actors import books

    path = EPUBS["images_and_nested"].write(tmp_path / "n.epub")
    with db.session_scope() as session:
        book = Book(title="t", file_path=str(path), file_format="epub")
        session.add(book)
        session.flush()
        book_id = book.id

    first = books.generate_cfi_locations.send(book_id, chars=150).get_result(block=True, timeout=5000)
    by_count = books.generate_cfi_locations.send(book_id, 5)  # the original's locations_count
    second = by_count.get_result(block=True, timeout=5000)
    assert first["locations_generated"] == 17
    assert second["chars"] == chars_for_count(path, 5)
    assert 5 <= second["locations_generated"] <= 7
    with db.session_scope() as session:
        stored = session.get(Book, book_id).book_metadata
        assert stored["locations"] == generate(path, second["chars"])
        assert stored["locations_chars"] == second["chars"]
