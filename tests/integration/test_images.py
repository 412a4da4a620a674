"""Image actors on real RabbitMQ and PostgreSQL, against a real HTTP image API on loopback."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from actors import images
from domain import db
from domain.models.images import GeneratedImage
from tests.support.books import add_described_book
from tests.support.ledger import wait_for_status

pytestmark = pytest.mark.integration


def add_book_with_descriptions(scores: list[float]) -> tuple[int, list[int]]:
    texts = [f"Тёмный лес над рекой {i}." for i in range(len(scores))]
    return add_described_book(texts, scores, title="Война и мир", author="Лев Толстой")


def test_generate_images_through_the_http_api_carries_on_past_a_bad_one_and_never_twice(
    rabbitmq_broker, start_worker, image_server, tmp_path
):
    start_worker(IMAGE_PROVIDER="http", IMAGE_API_URL=image_server.url, MEDIA_ROOT=str(tmp_path))
    _, ids = add_book_with_descriptions([0.9, 0.8, 0.7])
    image_server.answer_next(200, b"<html>captcha</html>", {"Content-Type": "text/html"})

    first = wait_for_status(images.generate_images.send(ids, 5).message_id, "done").result
    second = wait_for_status(images.generate_images.send(ids, 5).message_id, "done").result

    assert (first["generated_count"], first["failed_count"]) == (2, 1)
    assert (second["generated_count"], second["reused_count"], second["failed_count"]) == (
        1,
        2,
        0,
    )  # only the failed one again
    assert len(image_server.requests) == 4
    with db.session_scope() as session:
        rows = session.scalars(select(GeneratedImage).order_by(GeneratedImage.id)).all()
    assert [r.status for r in rows] == ["failed", "completed", "completed", "completed"]
    assert "text/html, not an image" in rows[0].error
    assert all((tmp_path / r.file_path).is_file() for r in rows if r.status == "completed")


def test_batch_generation_takes_the_best_descriptions_without_an_image(
    rabbitmq_broker, start_worker, tmp_path
):
    start_worker(MEDIA_ROOT=str(tmp_path))
    book_id, ids = add_book_with_descriptions([0.2, 0.9, 0.5, 0.7])
    wait_for_status(images.generate_images.send([ids[1]], 5).message_id, "done")

    row = wait_for_status(images.batch_generate_for_book.send(book_id, 5, 2).message_id, "done")
    result = row.result

    shown = ("book_id", "user_id", "limit", "selected_descriptions", "generated_count")
    assert {k: result[k] for k in shown} == {
        "book_id": book_id,
        "user_id": 5,
        "limit": 2,
        "selected_descriptions": 2,
        "generated_count": 2,
    }
    with db.session_scope() as session:
        illustrated = set(session.scalars(select(GeneratedImage.description_id)))
    assert illustrated == {ids[1], ids[3], ids[2]}  # 0.9 already had one; then 0.7 and 0.5
    assert (row.progress_done, row.progress_total, row.progress_note) == (2, 2, "images")
