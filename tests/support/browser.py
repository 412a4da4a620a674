"""Debian's Chromium, headless, driven by Playwright: the dashboard's browser test and epub.js parity."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_SERVICES

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@contextmanager
def chromium() -> Iterator:
    """A launched headless Chromium (Playwright's Browser); skips, or fails in CI, when it is missing."""
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        reason = "Debian's chromium is not installed (apt-get install chromium)."
        pytest.fail(reason) if REQUIRE_SERVICES else pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
