"""A real headless browser for tests: Debian's Chromium (/usr/bin/chromium, or $CHROMIUM) driven
by Playwright. Nothing downloads a browser (`playwright install` is never run): without Chromium
the test fails saying how to install it, as `.ci/run` does. Chromium runs without its sandbox
(Playwright's default), which root, as CI runs, needs.

    def test_page(browser_page: Page) -> None:
        browser_page.goto(url)
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

DEFAULT_CHROMIUM = "/usr/bin/chromium"
PAGE_TIMEOUT_MS = 15_000  # each action and navigation; the test's own timeout bounds the whole


def chromium_path() -> Path:
    """The Chromium to drive; fails the test (never skips) when there is none."""
    path = Path(os.environ.get("CHROMIUM") or DEFAULT_CHROMIUM)
    if not (path.is_file() and os.access(path, os.X_OK)):
        found = shutil.which("chromium")
        if found is None:
            pytest.fail(f"no Chromium at {path}: install Debian's package (apt-get install -y chromium; "
                        ".ci/run does it) or set CHROMIUM to its path", pytrace=False)
        path = Path(found)
    return path


@contextlib.contextmanager
def open_page(width: int = 1200, height: int = 900) -> Iterator[Page]:
    """A fresh page in a fresh headless Chromium, closed with everything it opened: for tests that
    open the browser part-way (after a review has run) and for scripts that take screenshots."""
    executable = chromium_path()
    with sync_playwright() as playwright:
        # --disable-dev-shm-usage: a container's small /dev/shm would crash the renderer
        browser = playwright.chromium.launch(executable_path=str(executable), headless=True,
                                             args=["--disable-gpu", "--disable-dev-shm-usage"])
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            page.set_default_navigation_timeout(PAGE_TIMEOUT_MS)
            yield page
            context.close()
        finally:
            browser.close()


@pytest.fixture
def browser_page() -> Iterator[Page]:
    """A fresh page in a fresh headless Chromium (see `open_page`)."""
    with open_page() as page:
        yield page
