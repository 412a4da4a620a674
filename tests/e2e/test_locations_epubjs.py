"""Locations string for string as epub.js 0.3.93 itself generates them (under Node with jsdom)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from domain.books.locations import generate
from tests.conftest import REPO_ROOT, REQUIRE_SERVICES
from tests.support.books import make_epub
from tests.support.epubs import EPUBS

pytestmark = pytest.mark.e2e
REFERENCE = REPO_ROOT / "tests" / "epubjs"


def epubjs_locations(path: Path, chars: int) -> list[str]:
    """What `book.locations.generate(chars)` returns in epub.js for the file at `path`."""
    if shutil.which("node") is None or not (REFERENCE / "node_modules" / "epubjs").is_dir():
        reason = "epub.js is not installed: run `npm ci --prefix tests/epubjs` (make test does)."
        pytest.fail(reason) if REQUIRE_SERVICES else pytest.skip(reason)
    done = subprocess.run(
        ["node", str(REFERENCE / "locations.js"), str(path), str(chars)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("chars", [1, 7, 150, 1000])
@pytest.mark.parametrize("name", [*EPUBS, "ebooklib"])
def test_locations_are_the_ones_epubjs_generates(tmp_path, name, chars):
    if name == "ebooklib":
        path = make_epub(tmp_path / "book.epub", chapters=3, repeat=3)
    else:
        path = EPUBS[name].write(tmp_path / f"{name}.epub")

    expected = epubjs_locations(path, chars)

    assert len(expected) > 0
    assert generate(path, chars) == expected
