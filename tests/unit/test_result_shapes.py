"""Every task the seeds document returns the keys of the seed's example (extra keys are allowed).

The key lists are copied from the seed documents of the Celery originals (`../shared/seeds/`):
`002_…` for the book, image, monitoring and NLP tasks.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from broker import runtime
from broker.settings import Settings
from domain import db
from domain.models.books import Chapter
from tests.support.books import DESCRIPTIVE, PLAIN, add_described_book, make_epub

PROCESS_BOOK = {
    "book_id", "total_chapters", "descriptions_found", "processing_time_seconds", "status",
    "nlp_processors_used", "ensemble_consensus_rate", "cfi_locations_generated", "cache_status",
}  # fmt: skip
GENERATE_IMAGES = {
    "user_id", "requested_count", "generated_count", "failed_count", "total_time_seconds",
    "generated_images",
}  # fmt: skip
GENERATED_IMAGE = {"description_id", "image_url", "status"}
BATCH_GENERATE = {
    "book_id", "user_id", "limit", "selected_descriptions", "generated_count", "processing_time_seconds",
}  # fmt: skip
CLEANUP_OLD_IMAGES = {"deleted_files", "freed_space_mb", "deletion_time_seconds", "errors"}
SYSTEM_STATS = {
    "timestamp", "users_total", "books_total", "descriptions_total", "images_generated",
    "active_sessions", "celery_queue_lengths",
}  # fmt: skip
HEALTH_CHECK = {"status", "worker_id", "timestamp", "response_time_ms"}
GENERATE_CFI_LOCATIONS = {
    "book_id", "locations_generated", "generation_time_seconds", "file_format", "status",
}  # fmt: skip
CACHE_EPUB_FILE = {
    "book_id", "cache_key", "file_size_bytes", "compressed_size_bytes", "compression_ratio",
    "ttl_seconds", "status",
}  # fmt: skip
MULTI_NLP_ENSEMBLE = {
    "chapter_id", "mode", "processors_used", "descriptions_found", "consensus_rate",
    "processing_time_seconds", "quality_metrics",
}  # fmt: skip


@pytest.fixture
def configured(sqlite_url: str, tmp_path: Path):
    """Every actor bound to an in-memory broker, SQLite, and media and mail under tmp_path."""
    import actors

    settings = Settings(
        broker_url="memory://",
        database_url=sqlite_url,
        media_root=tmp_path / "media",
        mail_outbox_dir=tmp_path / "outbox",
    )
    broker = runtime.configure(settings)
    runtime.rebind_actors(broker, actors.all_actors())
    yield broker
    broker.close()


def book_with_file(tmp_path: Path) -> int:
    from domain.models.books import Book

    path = make_epub(tmp_path / "book.epub", chapters=2)
    with db.session_scope() as session:
        book = Book(file_path=str(path), file_format="epub")
        session.add(book)
        session.flush()
        return book.id


def test_process_book_returns_the_originals_result_once_its_chapters_are_done(configured, tmp_path):
    from actors import books

    book_id = book_with_file(tmp_path)
    assert books.process_book.fn(book_id)["total_chapters"] == 2
    with db.session_scope() as session:
        chapter_ids = session.scalars(select(Chapter.id).where(Chapter.book_id == book_id)).all()
    for chapter_id in chapter_ids:
        books.process_chapter.fn(chapter_id)

    result = books.finalize_book.fn(book_id)

    assert set(result) >= PROCESS_BOOK, PROCESS_BOOK - set(result)
    assert result["status"] == "completed" and result["cfi_locations_generated"] > 0
    assert set(result["nlp_processors_used"]) <= {"natasha", "spacy", "vectors", "stanza"}


def test_generate_cfi_locations_takes_the_originals_locations_count(configured, tmp_path):
    from actors import books

    book_id = book_with_file(tmp_path)

    about = books.generate_cfi_locations.fn(book_id, 40)
    fixed = books.generate_cfi_locations.fn(book_id, chars=150)

    assert set(about) >= GENERATE_CFI_LOCATIONS and about["status"] == "completed"
    assert about["file_format"] == "epub" and abs(about["locations_generated"] - 40) <= 2
    assert fixed["chars"] == 150 and fixed["locations_count"] is None


def test_cache_epub_file_keys_the_cache_as_the_original(configured, tmp_path):
    from actors import books

    book_id = book_with_file(tmp_path)

    result = books.cache_epub_file.fn(book_id)

    assert set(result) >= CACHE_EPUB_FILE
    assert result["cache_key"] == f"epub:{book_id}" and result["book_id"] == book_id


def test_image_tasks_return_the_originals_shapes(configured, tmp_path):
    from actors import images

    book_id, ids = add_described_book(DESCRIPTIVE[:3], [0.9, 0.7, 0.5])

    generated = images.generate_images.fn(ids[:2], 7)
    batch = images.batch_generate_for_book.fn(book_id, 7, 5)
    cleaned = images.cleanup_old_images.fn(30)

    assert set(generated) >= GENERATE_IMAGES and generated["generated_count"] == 2
    assert all(set(image) >= GENERATED_IMAGE for image in generated["generated_images"])
    assert set(batch) >= BATCH_GENERATE and batch["selected_descriptions"] == 1
    assert set(cleaned) >= CLEANUP_OLD_IMAGES


def test_monitoring_tasks_return_the_originals_shapes_with_queue_lengths_on_the_embedded_broker(
    configured,
):
    from actors import email, monitoring

    email.send_email.send("a@example.com", "s", context={"body": "b"})

    stats = monitoring.system_stats.fn()
    health = monitoring.health_check.fn()

    assert set(stats) >= SYSTEM_STATS
    assert stats["celery_queue_lengths"]["email"] == 1
    assert set(health) >= HEALTH_CHECK and health["status"] == "healthy"


def test_the_multi_nlp_ensemble_task_reports_mode_processors_and_their_confidences(configured):
    from actors import books

    text = " ".join(DESCRIPTIVE + PLAIN)

    result = books.process_multi_nlp_ensemble.fn(text, 12, "parallel")

    assert set(result) >= MULTI_NLP_ENSEMBLE
    assert (result["chapter_id"], result["mode"]) == (12, "parallel") and result["descriptions_found"] >= 2
    assert set(result["quality_metrics"]) <= {f"{n}_confidence" for n in result["processors_used"]}
    assert all(0 < value <= 1 for value in result["quality_metrics"].values())
