"""Locations string for string as epub.js 0.3.93 itself generates them: under Node with jsdom, and in
headless Chromium (where the reader runs), which is the reference for books jsdom cannot read alike."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from domain.books.locations import chars_for_count, generate
from tests.conftest import REPO_ROOT, REQUIRE_SERVICES
from tests.support.books import make_epub
from tests.support.browser import chromium
from tests.support.epubs import EPUBS, WILD_EPUBS

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


#: epub.js as the reader's browser runs it: JSZip and epub.js's own bundle, the book as an ArrayBuffer.
IN_BROWSER = """async ([data, chars]) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const book = ePub(bytes.buffer);
    await book.ready;
    const locations = await book.locations.generate(chars);
    book.destroy();
    return locations;
}"""


@pytest.fixture(scope="module")
def epubjs_page():
    """A blank Chromium page with JSZip and epub.js 0.3.93 loaded from tests/epubjs/node_modules."""
    modules = REFERENCE / "node_modules"
    if not (modules / "epubjs" / "dist" / "epub.min.js").is_file():
        reason = "epub.js is not installed: run `npm ci --prefix tests/epubjs` (make test does)."
        pytest.fail(reason) if REQUIRE_SERVICES else pytest.skip(reason)
    with chromium() as browser:
        page = browser.new_page()
        page.set_content("<!DOCTYPE html><html><body></body></html>")
        page.add_script_tag(path=str(modules / "jszip" / "dist" / "jszip.min.js"))
        page.add_script_tag(path=str(modules / "epubjs" / "dist" / "epub.min.js"))
        yield page


def chromium_locations(page, path: Path, chars: int) -> list[str]:
    return page.evaluate(IN_BROWSER, [base64.b64encode(path.read_bytes()).decode(), chars])


@pytest.mark.parametrize("spacing", [1, 37, 150, 1024, "locations_count=2000"])
@pytest.mark.parametrize("name", [*WILD_EPUBS, *EPUBS])
def test_locations_are_the_ones_epubjs_generates_in_chromium(tmp_path, epubjs_page, name, spacing):
    path = {**EPUBS, **WILD_EPUBS}[name].write(tmp_path / f"{name}.epub")
    chars = chars_for_count(path, 2000) if spacing == "locations_count=2000" else spacing

    expected = chromium_locations(epubjs_page, path, chars)

    assert len(expected) > 0
    assert generate(path, chars) == expected
