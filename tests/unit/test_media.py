"""Generated images are served read-only at MEDIA_URL, and nothing else under MEDIA_ROOT or outside it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from broker.settings import Settings
from dashboard.app import create_app
from tests.support.image_server import png


@pytest.fixture
def media(tmp_path, sqlite_url, stub_broker):
    root = tmp_path / "media"
    (root / "images" / "1").mkdir(parents=True)
    (root / "images" / "1" / "7-abc.png").write_bytes(png())
    (root / "cache" / "epub").mkdir(parents=True)
    (root / "cache" / "epub" / "book-1.epub.gz").write_bytes(b"private")
    secret = tmp_path / "secret.txt"
    secret.write_text("outside MEDIA_ROOT")
    (root / "images" / "1" / "link.png").symlink_to(secret)
    settings = Settings(database_url=sqlite_url, media_root=root)
    with TestClient(create_app(settings, stub_broker), base_url="http://127.0.0.1") as client:
        yield client


def test_a_generated_image_is_served_at_its_public_url(media):
    answer = media.get("/media/images/1/7-abc.png")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/png" and answer.content == png()


@pytest.mark.parametrize(
    "path",
    [
        "/media/cache/epub/book-1.epub.gz",
        "/media/images/1/link.png",
        "/media/images/../cache/epub/book-1.epub.gz",
        "/media/images/%2e%2e/cache/epub/book-1.epub.gz",
    ],
)
def test_nothing_but_the_images_folder_is_served(media, path):
    assert media.get(path).status_code == 404


def test_writes_to_media_are_refused(media):
    assert media.post("/media/images/1/new.png", content=b"x").status_code in (404, 405, 415)
