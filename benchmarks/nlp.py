"""NLP speed: KB/s of each processor and of the ensemble, and `process_book` wall time on a ~1 MB EPUB.

    python -m benchmarks.nlp [--kb 500] [--book-kb 1000]

The prose is the corpus's passages shuffled into paragraphs (Russian, 55 % descriptive).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from benchmarks import services
from benchmarks.nlp_corpus import load
from domain.nlp.ensemble import Mode, default_processors, find_passages


def prose(kilobytes: int, seed: int = 7) -> str:
    sentences = [passage.text for passage in load()]
    rng = random.Random(seed)
    paragraphs, size = [], 0
    while size < kilobytes * 1024:
        paragraph = " ".join(rng.sample(sentences, 6))
        paragraphs.append(paragraph)
        size += len(paragraph.encode())
    return "\n\n".join(paragraphs)


def kb_per_second(run, text: str, chunk: int = 20_000) -> float:
    """Throughput over chapter-sized chunks, as the chapter jobs see them."""
    pieces = [text[i : i + chunk] for i in range(0, len(text), chunk)]
    start = time.perf_counter()
    for piece in pieces:
        run(piece)
    return len(text.encode()) / 1024 / (time.perf_counter() - start)


def book_wall_time(book_kb: int) -> tuple[float, int]:
    """Seconds from `process_book.send` to the book marked processed, with 2 worker processes."""
    from actors import books
    from broker import runtime
    from broker.settings import Settings
    from domain import db
    from domain.models.books import Book
    from tests.support.books import make_epub

    with tempfile.TemporaryDirectory() as tmp, services.vhost() as url, services.schema() as database_url:
        text = prose(book_kb, seed=11)
        chapters = max(1, len(text) // 25_000)
        path = make_epub(Path(tmp) / "book.epub", chapters=chapters, repeat=1, texts=_split(text, chapters))
        runtime.rebind_actors(
            runtime.configure(Settings(broker_url=url, database_url=database_url)),
            [books.process_book, books.process_chapter, books.finalize_book, books.cache_epub_file],
        )
        with db.session_scope() as session:
            book = Book(file_path=str(path), file_format="epub")
            session.add(book)
            session.flush()
            book_id = book.id
        with services.workers(
            url, database_url, processes=2, threads=1, modules=(), extra_env={"MEDIA_ROOT": tmp}
        ) as _:
            time.sleep(8)  # let both workers load their models before the clock starts
            start = time.perf_counter()
            books.process_book.send(book_id)
            services.wait_until(
                lambda: _status(book_id) == "processed",
                timeout=600,
                interval=0.1,
                what="the book to be processed",
            )
            return time.perf_counter() - start, path.stat().st_size


def _status(book_id: int) -> str:
    from domain import db
    from domain.models.books import Book

    with db.session_scope() as session:
        return session.get(Book, book_id).status


def _split(text: str, parts: int) -> list[str]:
    paragraphs = text.split("\n\n")
    size = -(-len(paragraphs) // parts)
    return ["\n\n".join(paragraphs[i : i + size]) for i in range(0, len(paragraphs), size)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kb", type=int, default=500)
    parser.add_argument("--book-kb", type=int, default=1000)
    options = parser.parse_args()
    text = prose(options.kb)
    processors = default_processors()
    for processor in processors:
        processor.find("Прогрев моделей.")
    print(f"\n{len(text.encode()) // 1024} KB of Russian prose, chapters of 20,000 characters, one core\n")
    for processor in processors:
        rate = kb_per_second(lambda t, p=processor: find_passages(t, Mode.SINGLE, [p]), text)
        print(f"  {processor.name:<10}{rate:>8.1f} KB/s")
    rate = kb_per_second(lambda t: find_passages(t, Mode.ENSEMBLE, processors), text)
    print(f"  {'ensemble':<10}{rate:>8.1f} KB/s")
    seconds, size = book_wall_time(options.book_kb)
    print(
        f"\n  process_book of a {size / 1024:.0f} KB EPUB with 2 worker processes: {seconds:.1f} s end to end"
    )


if __name__ == "__main__":
    main()
