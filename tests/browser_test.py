"""Without Chromium the browser fails the test, saying what to install: never a skip."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import open_page


def test_a_missing_chromium_fails_with_a_clear_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("PATH", str(tmp_path))  # no chromium to fall back on either
    with pytest.raises(pytest.fail.Exception) as failed, open_page():
        raise AssertionError("unreachable: no browser to open")
    message = str(failed.value)
    assert "no Chromium at /nonexistent/chromium" in message and "apt-get install -y chromium" in message
