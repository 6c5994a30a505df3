"""Without chromium the browser fixture fails the test, saying what to install: never a skip."""

from __future__ import annotations

import pytest

from tests.e2e import report_browser


def test_a_missing_chromium_fails_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_browser, "CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(pytest.fail.Exception) as failed, report_browser.browser_page():
        raise AssertionError("unreachable: no browser to open")
    assert "/nonexistent/chromium is missing" in str(failed.value) and "apt-get install -y chromium" in str(failed.value)
