"""End to end, what a reviewer sees of the bot's inline comments: a real review of a pull request
adding an unencrypted EBS volume (and a public database), then the fake GitHub's "Files changed"
page in a real browser: each comment under the line it is about, its Markdown rendered (no raw
markers), and the one-click fix as GitHub's "Suggested change"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Dialog, Locator, Page

from tests.e2e.comment_screenshot import comment_thread, reviewed_pull, shoot_comment
from tests.e2e.serving import App
from tests.fakegithub import FakeGitHub
from tests.fakegithub.review_web import files_url

# A server process starts and one review runs inside the test: on a loaded 2-core machine that
# alone can take over a minute.
pytestmark = pytest.mark.timeout(300)


def squeezed(locator: Locator) -> str:
    """The element's text as a reader sees it, runs of spaces as one (the diff aligns with them)."""
    return re.sub(r"\s+", " ", locator.inner_text()).strip()


def cells(row: Locator) -> list[str]:
    return [squeezed(cell) for cell in row.locator("td").all()]


def commented_row(thread: Locator) -> Locator:
    """The diff line right above a thread: the line it comments on."""
    return thread.locator("xpath=ancestor::tr[1]/preceding-sibling::tr[1]")


def test_the_bots_comments_read_as_on_github(fake: FakeGitHub, app: App, browser_page: Page, tmp_path: Path) -> None:
    repo, number = reviewed_pull(fake, app, "rendered")
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:  # nothing on the page may run as script
        dialogs.append(dialog.message)
        dialog.dismiss()

    page = browser_page
    page.on("dialog", on_dialog)
    page.set_viewport_size({"width": 1000, "height": 900})
    response = page.goto(files_url(fake, repo, number))
    assert response is not None and response.status == 200
    assert page.locator("section.file .file-header").first.inner_text().endswith("infra/main.tf")

    thread = comment_thread(page, "CB-AWS-001")
    assert thread.is_visible()
    assert thread.locator(".author").inner_text() == fake.bot_login
    title = thread.locator("strong", has_text="CB-AWS-001: EBS volume is not encrypted")
    assert title.is_visible()  # the bold title, rendered
    assert "(high) on aws_ebs_volume.data" in squeezed(thread)
    assert thread.locator("code", has_text="aws_ebs_volume.data").is_visible()

    line = commented_row(thread)
    assert line.get_attribute("data-new") == "4" and line.get_attribute("class") == "line addition"
    assert cells(line) == ["", "4", "+ encrypted = false"]
    assert "Comment on line 4" in thread.inner_text()

    suggestion = thread.locator(".suggestion")
    assert suggestion.is_visible()
    assert suggestion.locator(".suggestion-header").inner_text() == "Suggested change"
    assert [cells(r) for r in suggestion.locator("tr.deletion").all()] == [["4", "- encrypted = false"]]
    assert [cells(r) for r in suggestion.locator("tr.addition").all()] == [["", "+ encrypted = true"]]

    # every comment of the review, each under its own line
    where = {rule: commented_row(comment_thread(page, rule)).get_attribute("data-new")
             for rule in ("CB-AWS-001", "CB-AWS-003", "CB-AWS-058")}
    assert where == {"CB-AWS-001": "4", "CB-AWS-003": "10", "CB-AWS-058": "7"}
    assert page.locator(".thread").count() == 3

    text = page.locator("main").inner_text()
    for raw in ("**", "```", "suggestion\n", "<!--", "fingerprint", "&lt;", "&amp;"):
        assert raw not in text, f"{raw!r} is shown on the page"

    shot = tmp_path / "inline-comment.png"
    shoot_comment(page, thread, shot)
    assert dialogs == []
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
