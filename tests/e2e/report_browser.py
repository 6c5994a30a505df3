"""A real browser for report page tests: Debian's chromium (/usr/bin/chromium) driven by
Playwright. Playwright's own browser download is never used (`playwright install` fetches from a
host the machines cannot reach); without chromium the test fails saying how to install it."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"


@contextlib.contextmanager
def browser_page() -> Iterator[Page]:
    """A fresh page of a headless chromium, closed at the end."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); "
                    ".ci/run does it on CI", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            context = browser.new_context(viewport={"width": 1200, "height": 900})
            page = context.new_page()
            page.set_default_timeout(30_000)
            yield page
        finally:
            browser.close()
