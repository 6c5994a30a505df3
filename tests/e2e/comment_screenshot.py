"""Make docs/inline-comment.png: one review against the fake GitHub, the bot's inline comment on
the unencrypted EBS volume as the pull request's "Files changed" tab shows it, in chromium.

    python -m tests.e2e.comment_screenshot [OUTPUT]      (default docs/inline-comment.png)

A script, not a test: the tests write their screenshots under pytest's temporary folder only."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page

from tests.browser import open_page as browser_page
from tests.e2e.report_screenshot import VOLUME
from tests.e2e.serving import REPO_ROOT, App, completed_run, serve, wait_for
from tests.fakegithub import FakeGitHub, Repository
from tests.fakegithub.review_web import files_url

WIDTH = 1000  # the README's picture: one comment, about the width GitHub gives it
MARGIN = 8


def reviewed_pull(fake: FakeGitHub, app: App, name: str = "infra") -> tuple[Repository, int]:
    """A pull request adding `VOLUME` as infra/main.tf, once the bot has posted its review."""
    repo = fake.create_repo("octo-org", name, files={"README.md": "infra\n"})
    repo.commit("feature", {"infra/main.tf": VOLUME}, "add storage")
    number = repo.open_pull_request(head="feature", title="Add storage")
    assert app.deliver(*fake.webhook("pull_request.opened", repo, number)).status_code == 202
    completed_run(fake, repo, repo.branch_sha("feature"))
    wait_for(lambda: any(r["comments"] for r in fake.reviews(repo, number)), 30, "the bot's inline comments")
    return repo, number


def comment_thread(page: Page, rule_id: str) -> Locator:
    """The thread on the "Files changed" page whose comment is about `rule_id`."""
    return page.locator(".thread", has_text=f"{rule_id}:").first


def shoot_comment(page: Page, thread: Locator, output: Path) -> None:
    """A picture of `thread` as it sits in its file: from the file's header down to the diff line
    under the thread, so the commented line and its context are in it."""
    file_box = _box(page.locator("section.file", has=thread).first)
    row = page.locator("tr.thread-row", has=thread).first
    after = row.locator("xpath=following-sibling::tr[1]")
    bottom_box = _box(after if after.count() else row)
    top = max(file_box["y"] - MARGIN, 0)
    page.screenshot(path=str(output), clip={
        "x": max(file_box["x"] - MARGIN, 0), "y": top, "width": file_box["width"] + 2 * MARGIN,
        "height": bottom_box["y"] + bottom_box["height"] - top,
    })


def _box(locator: Locator) -> dict[str, Any]:
    box = locator.bounding_box()
    assert box is not None, "the element is not shown"
    return dict(box)


def main(output: Path) -> None:
    with FakeGitHub() as fake, tempfile.TemporaryDirectory() as folder:
        with serve(fake, Path(folder) / "server.log") as app:
            repo, number = reviewed_pull(fake, app)
        with browser_page(width=WIDTH) as page:
            page.goto(files_url(fake, repo, number))
            shoot_comment(page, comment_thread(page, "CB-AWS-001"), output)
    print(f"wrote {output} ({output.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO_ROOT / "docs" / "inline-comment.png")
