"""Book import, the NLP processors and their ensemble, the EPUB cache, and the pipeline on SQLite."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from sqlalchemy import func, select

from domain import db
from domain.books import cache
from domain.books.importer import import_book
from domain.books.locations import chars_for_count
from domain.books.locations import generate as generate_locations
from domain.books.processing import resolve_path
from domain.errors import InvalidArgument
from domain.models.books import Book, Chapter, Description
from tests.support.books import DESCRIPTIVE, PLAIN, make_epub
from tests.support.ledger import first_result, wait_for


def test_an_epub_is_read_in_spine_order_without_nav_or_non_linear_items(tmp_path):
    book = import_book(make_epub(tmp_path / "b.epub", chapters=3), "epub")

    assert (book.title, book.author, book.language) == ("Тестовая книга", "Тест Тестович", "ru")
    assert [(c.title, c.href) for c in book.chapters] == [
        ("Глава 1", "chap01.xhtml"),
        ("Глава 2", "chap02.xhtml"),
        ("Глава 3", "chap03.xhtml"),
    ]
    assert "Примечание" not in " ".join(c.text for c in book.chapters)
    assert book.chapters[1].text.split("\n\n")[1] == f"{DESCRIPTIVE[2]} {PLAIN[0]}"


def test_a_text_file_is_split_on_chapter_headings(tmp_path):
    path = tmp_path / "novel.txt"
    path.write_text(
        "Предисловие.\n\nГлава 1. Дом\n\nСтарый дом.\n\nГлава 2\n\nТёмная река.\n", encoding="utf-8"
    )

    book = import_book(path, "txt")

    assert [(c.title, c.text) for c in book.chapters] == [
        ("Глава 1. Дом", "Старый дом."),
        ("Глава 2", "Тёмная река."),
    ]


@pytest.mark.parametrize(
    ("content", "file_format", "message"),
    [
        (b"not a zip at all", "epub", "is not an EPUB file"),
        (b"PK\x03\x04broken", "epub", "is not an EPUB file|is not a readable EPUB"),
        ("Глава 1\n\nтекст".encode("cp1251"), "txt", "is not UTF-8 text"),
        (b"", "txt", "is empty"),
    ],
)
def test_a_corrupt_file_fails_with_a_clear_error(tmp_path, content, file_format, message):
    path = tmp_path / f"bad.{file_format}"
    path.write_bytes(content)

    with pytest.raises(InvalidArgument, match=message):
        import_book(path, file_format)


def test_the_epub_cache_is_deterministic_and_refreshed_when_the_file_changes(tmp_path):
    source = make_epub(tmp_path / "b.epub")
    first = cache.cache_file(source, book_id=7, media_root=tmp_path / "media")
    again = cache.cache_file(source, book_id=7, media_root=tmp_path / "media")
    cached = tmp_path / "media" / "cache" / "epub" / first.cache_file
    blob = cached.read_bytes()

    assert (first.status, again.status) == ("cached", "fresh")
    assert gzip.decompress(blob) == source.read_bytes()
    assert blob[4:8] == b"\0\0\0\0"  # mtime=0: the same file always gives the same bytes
    assert first.compressed_size_bytes == len(blob) and first.file_size_bytes == source.stat().st_size
    assert first.cache_key == "epub:7"

    make_epub(source, chapters=4)
    changed = cache.cache_file(source, book_id=7, media_root=tmp_path / "media")
    assert changed.cache_file != first.cache_file and changed.status == "cached"
    assert [p.name for p in cached.parent.iterdir()] == [changed.cache_file]


def add_book(path: Path, file_format: str = "epub") -> int:
    with db.session_scope() as session:
        book = Book(file_path=str(path), file_format=file_format)
        session.add(book)
        session.flush()
        return book.id


def test_process_book_fans_out_finalizes_once_and_a_rerun_replaces_descriptions(
    stub_broker, stub_worker, tmp_path
):
    from actors import books

    book_path = make_epub(tmp_path / "b.epub", chapters=3)
    book_id = add_book(book_path)

    def finished():
        with db.session_scope() as session:
            book = session.get(Book, book_id)
            return book.status == "processed" and (book.book_metadata or {}).get("cache") and book

    books.process_book.send(book_id)
    book = wait_for(finished, timeout=60, what="the book to be processed and cached")
    with db.session_scope() as session:
        first_count = session.scalar(
            select(func.count()).select_from(Description).where(Description.book_id == book_id)
        )
    assert book.chapter_count == book.chapters_done == 3
    assert book.book_metadata["processing_result"]["descriptions_found"] == first_count >= 3
    assert book.book_metadata["cache"]["status"] == "cached"
    # About 2,000 locations, as the original: this small book gets one every `chars_for_count` chars.
    assert book.book_metadata["locations"] == generate_locations(book_path, chars_for_count(book_path, 2000))
    finalized = wait_for(lambda: first_result("finalize_book"), timeout=10, what="finalize_book's result")
    assert finalized["cfi_locations_generated"] == len(book.book_metadata["locations"]) > 0

    books.process_book.send(book_id)
    wait_for(finished, timeout=60)
    stub_broker.join("books", fail_fast=False)
    stub_worker.join()
    with db.session_scope() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Description).where(Description.book_id == book_id)
            )
            == first_count
        )
        assert (
            session.scalar(select(func.count()).select_from(Chapter).where(Chapter.book_id == book_id)) == 3
        )


def test_a_corrupt_book_is_marked_failed_and_its_job_is_dead(stub_broker, stub_worker, tmp_path):
    from actors import books

    (tmp_path / "bad.epub").write_bytes(b"garbage")
    book_id = add_book(tmp_path / "bad.epub")

    books.process_book.send(book_id)
    stub_broker.join("books", fail_fast=False)

    with db.session_scope() as session:
        book = session.get(Book, book_id)
        assert book.status == "failed"
        assert "'bad.epub' is not an EPUB file" in book.error
        assert session.scalar(select(func.count()).select_from(Chapter)) == 0


def test_stanza_is_used_only_with_its_models_on_disk_and_never_downloads(tmp_path, monkeypatch):
    import sys
    import types

    from domain.nlp import stanza_processor

    built = []

    class Pipeline:  # stanza's own API, faked at the boundary: its models cannot be had offline here
        def __init__(self, **options):
            built.append(options)

        def __call__(self, text):
            start = text.index("Москве")
            entity = types.SimpleNamespace(type="LOC", start_char=start, end_char=start + 6)
            return types.SimpleNamespace(ents=[entity])

    monkeypatch.setitem(sys.modules, "stanza", types.SimpleNamespace(Pipeline=Pipeline))
    monkeypatch.setenv("STANZA_RESOURCES_DIR", str(tmp_path))
    monkeypatch.setattr(
        stanza_processor, "_pipeline", stanza_processor.load_once(stanza_processor._pipeline.__wrapped__)
    )
    processor = stanza_processor.StanzaProcessor()

    assert processor.available() is False and built == []  # no models: not even built
    (tmp_path / "ru").mkdir()
    (tmp_path / "resources.json").write_text("{}")

    assert processor.available() is True
    assert built == [
        dict(lang="ru", processors="tokenize,ner", dir=str(tmp_path), download_method=None, use_gpu=False)
    ]
    [found] = processor.find("Он жил в Москве.")
    assert (found.kind, found.processor, "Он жил в Москве."[found.start : found.end]) == (
        "location",
        "stanza",
        "Москве",
    )


def test_a_book_file_outside_books_root_is_refused_and_only_epubs_are_cached(tmp_path):
    books, media = tmp_path / "books", tmp_path / "media"
    books.mkdir()
    inside = books / "a.epub"
    inside.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    (books / "link.epub").symlink_to("/etc/hostname")

    assert resolve_path(str(inside), media, books) == inside
    for outside in ("/etc/hostname", str(books / "link.epub"), str(books / ".." / "x.epub")):
        with pytest.raises(InvalidArgument, match="is outside BOOKS_ROOT"):
            resolve_path(outside, media, books)
    with pytest.raises(InvalidArgument, match="is not an EPUB"):
        cache.cache_file(Path("/etc/hostname"), book_id=5, media_root=media)
    with pytest.raises(InvalidArgument, match="is not a regular file"):
        cache.cache_file(books, book_id=5, media_root=media)
    assert not (media / "cache").exists() or not any((media / "cache").rglob("*"))
    assert cache.cache_file(inside, book_id=5, media_root=media).status == "cached"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("calibre", "«Да», — сказал он."),
        ("html_without_charset", "Ёлка, ёж и щука."),  # UTF-8, not Latin-1, without a <meta charset>
        ("text_html", "ячейка один"),  # a text/html spine item is a chapter too
        ("cdata_and_comments", "внутри <b>не тег</b>"),  # CDATA is text to a reader
        ("xhtml11_entities", "«Привет» — сказал он…"),  # XHTML's named entities resolved
    ],
)
def test_books_from_the_wild_import_with_their_text_intact(tmp_path, name, expected):
    from tests.support.epubs import WILD_EPUBS

    book = import_book(WILD_EPUBS[name].write(tmp_path / f"{name}.epub"), "epub")

    text = "\n".join(chapter.text for chapter in book.chapters)
    assert expected in text
    assert "Ð" not in text and "\ufffd" not in text
