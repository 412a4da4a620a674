"""Image providers, storage and cleanup without the broker: real PNGs, a real HTTP server on loopback."""

from __future__ import annotations

import io
import os
from datetime import timedelta

import pytest
from PIL import Image, ImageDraw

from domain import db
from domain.errors import PermanentError, TransientError
from domain.images import service, storage
from domain.images.providers import HttpProvider, LocalProvider, _font
from domain.models.base import utcnow
from domain.models.images import GeneratedImage
from tests.support.books import add_described_book
from tests.support.image_server import png

TEXT = "Старый дом стоял на высоком холме над тёмной рекой, и золотой закат горел в окнах."


def test_the_local_provider_draws_a_decodable_png_of_the_requested_size():
    picture = LocalProvider().generate("p", text=TEXT, width=512, height=512)

    image = Image.open(io.BytesIO(picture.png))
    assert (image.format, image.size, picture.width) == ("PNG", (512, 512), 512)
    top, bottom = image.getpixel((5, 5)), image.getpixel((5, 506))
    assert top != bottom  # a gradient in the description's palette (sunset: warm)
    assert bottom[0] > bottom[2]


def render(text: str, font) -> bytes:
    image = Image.new("L", (300, 60), 0)
    ImageDraw.Draw(image).text((5, 5), text, font=font, fill=255)
    return image.tobytes()


def test_cyrillic_renders_as_letters_not_tofu_boxes():
    font = _font(32)
    # Tofu would draw every missing letter as the same box, so different words would look alike.
    assert render("Жук", font) != render("Щит", font)
    assert render("Ж", font) != render("Щ", font) != render("Ы", font)
    assert render("Ж", font) != render("\uffff", font)  # a code point no font has → the tofu glyph


def test_http_provider_stores_a_200_and_retries_a_500(image_server):
    provider = HttpProvider(image_server.url, timeout=2)
    image_server.answer_next(500, b"oops")

    picture = provider.generate("туман над рекой", text="", width=64, height=48, seed=3)

    assert (picture.width, picture.height) == (64, 48)
    assert len(image_server.requests) == 2
    path = image_server.requests[-1][1]
    assert (
        path.startswith("/prompt/%D1%82%D1%83%D0%BC%D0%B0%D0%BD")
        and "width=64" in path
        and "nologo=true" in path
    )


def test_http_provider_waits_at_least_retry_after_on_429(image_server):
    image_server.answer_next(429, b"slow down", {"Retry-After": "1", "Content-Type": "text/plain"})

    HttpProvider(image_server.url, timeout=2).generate("p", text="")

    (first, _), (second, _) = image_server.requests
    assert second - first >= 1.0


def test_a_slow_server_times_out_as_a_transient_failure(image_server):
    image_server.answer_next(200, png(), {"Content-Type": "image/png"}, delay=1.5)

    with pytest.raises(TransientError, match="unreachable or too slow"):
        HttpProvider(image_server.url, timeout=0.5, attempts=1).generate("p", text="")


@pytest.mark.parametrize(
    ("status", "headers", "body", "message"),
    [
        (200, {"Content-Type": "text/html"}, b"<html>nope</html>", "sent text/html, not an image"),
        (200, {"Content-Type": "image/png"}, b"not really a png", "not a decodable image"),
        (404, {"Content-Type": "text/plain"}, b"", "answered 404"),
    ],
)
def test_bad_answers_are_permanent_failures(image_server, status, headers, body, message):
    image_server.answer_next(status, body, headers)

    with pytest.raises(PermanentError, match=message):
        HttpProvider(image_server.url, timeout=2).generate("p", text="")


def add_descriptions(count: int) -> list[int]:
    return add_described_book([f"{TEXT} {i}" for i in range(count)], [i / 10 for i in range(count)])[1]


def generate(ids, tmp_path, limit=50, provider=None):
    return service.generate_images(
        db.session_scope,
        description_ids=ids,
        user_id=7,
        provider=provider or LocalProvider(),
        media_root=tmp_path,
        media_url="/media/",
        daily_limit=limit,
    )


def test_one_bad_description_does_not_stop_the_others_and_a_second_run_reuses(sqlite_url, tmp_path):
    ids = add_descriptions(2)

    first = generate([ids[0], 999_999, ids[1]], tmp_path)
    second = generate([ids[0], ids[1]], tmp_path)

    assert (first["requested_count"], first["generated_count"], first["failed_count"]) == (3, 2, 1)
    assert [i["status"] for i in first["generated_images"]] == ["completed", "failed", "completed"]
    url = first["generated_images"][0]["image_url"]
    assert url.startswith("/media/images/") and (tmp_path / url.removeprefix("/media/")).is_file()
    assert (second["generated_count"], second["reused_count"]) == (0, 2)
    assert [i["image_url"] for i in second["generated_images"]] == [
        first["generated_images"][0]["image_url"],
        first["generated_images"][2]["image_url"],
    ]


def test_the_daily_limit_refuses_clearly_and_generates_nothing_more(sqlite_url, tmp_path):
    ids = add_descriptions(3)
    generate(ids[:2], tmp_path, limit=2)

    result = generate(ids[2:], tmp_path, limit=2)

    assert result["generated_count"] == 0
    assert result["refused"] == "Daily limit of 2 images reached for user 7."
    assert result["generated_images"] == [
        {"description_id": ids[2], "image_url": None, "status": "daily_limit_reached"}
    ]


def test_cleanup_deletes_only_old_files_inside_media_root_and_reports_freed_space(sqlite_url, tmp_path):
    media, outside = tmp_path / "media", tmp_path / "elsewhere"
    outside.mkdir()
    secret = outside / "keep.png"
    secret.write_bytes(b"x" * 1000)
    ids = add_descriptions(5)
    old = storage.store(media, book_id=1, description_id=ids[0], png=png())
    (media / "images" / "1" / "a-folder").mkdir()
    new = storage.store(media, book_id=1, description_id=ids[1], png=png(32, 32))
    (media / "images" / "1" / "link.png").symlink_to(secret)
    long_ago = utcnow() - timedelta(days=40)
    with db.session_scope() as session:
        session.add_all(
            [
                GeneratedImage(
                    description_id=ids[0],
                    user_id=1,
                    provider="local",
                    prompt="p",
                    file_path=str(old),
                    status="completed",
                    created_at=long_ago,
                ),
                GeneratedImage(
                    description_id=ids[1],
                    user_id=1,
                    provider="local",
                    prompt="p",
                    file_path=str(new),
                    status="completed",
                ),
                GeneratedImage(
                    description_id=ids[2],
                    user_id=1,
                    provider="local",
                    prompt="p",
                    file_path="images/1/link.png",
                    status="completed",
                    created_at=long_ago,
                ),
                GeneratedImage(
                    description_id=ids[3],
                    user_id=1,
                    provider="local",
                    prompt="p",
                    file_path="../elsewhere/keep.png",
                    status="completed",
                    created_at=long_ago,
                ),
                GeneratedImage(  # a row whose path is a folder used to fail the whole run every night
                    description_id=ids[4],
                    user_id=1,
                    provider="local",
                    prompt="p",
                    file_path="images/1/a-folder",
                    status="completed",
                    created_at=long_ago,
                ),
            ]
        )
    old_size = (media / old).stat().st_size

    result = service.cleanup_old(db.session_scope, media_root=media, days_old=30)

    assert result["deleted_files"] == 1 and result["freed_bytes"] == old_size
    assert result["freed_space_mb"] == round(old_size / 1024 / 1024, 6)
    errors = result["errors"]
    assert len(errors) == 3 and sum("resolves outside" in e for e in errors) == 2
    assert any("a-folder': it is not a regular file" in e for e in errors)
    assert not (media / old).exists() and (media / new).exists() and (media / "images/1/a-folder").is_dir()
    with db.session_scope() as session:  # every old row went, the good one's too
        assert session.query(GeneratedImage).count() == 1
    assert secret.read_bytes() == b"x" * 1000 and os.path.islink(media / "images" / "1" / "link.png")
