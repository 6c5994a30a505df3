"""End to end: the App scans what GitHub calls binary and what is too large for a patch (a 6 MB
`.env` and a `.env` with a NUL byte both passed), and a file past the scan limit fails the check
naming it, while the rest of the pull request is still reviewed."""

from __future__ import annotations

from typing import Any

from bot.engine.tree import MAX_SCAN_BYTES
from tests.cli.secrets_files_test import KEY, NUL_ENV, big_env, last_line
from tests.e2e.serving import App, completed_run
from tests.fakegithub import FakeGitHub


def _run(fake: FakeGitHub, app: App, name: str, files: dict[str, str | None]) -> dict[str, Any]:
    repo = fake.create_repo("octo-org", name, files={"README.md": "# service\n"})
    repo.commit("feature", files, "add configuration")
    number = repo.open_pull_request(head="feature", title="Configuration")
    assert app.deliver(*fake.webhook("pull_request.opened", repo, number)).status_code == 202
    return completed_run(fake, repo, repo.branch_sha("feature"))


def _found(run: dict[str, Any]) -> list[tuple[str, int, str]]:
    return sorted((a["path"], a["start_line"], a["title"]) for a in run["annotations"])


def test_a_6_mb_env_and_an_env_with_a_nul_byte_are_scanned(fake: FakeGitHub, app: App) -> None:
    big = big_env(6_000_000)
    run = _run(fake, app, "big-and-binary", {"config/.env": big, "config/exported.env": NUL_ENV})
    assert run["conclusion"] == "failure"
    found = _found(run)
    assert [(path, line) for path, line, title in found if "CB-SECRET-001" in title] == [
        ("config/.env", last_line(big)), ("config/exported.env", 2)]
    assert ("config/exported.env", 3) in [(path, line) for path, line, title in found if "CB-SECRET-008" in title]
    assert "binary file" not in run["summary"]


def test_a_file_past_the_scan_limit_fails_the_check_naming_it(fake: FakeGitHub, app: App) -> None:
    run = _run(fake, app, "too-large", {"data/dump.sql": "-- " + "x" * MAX_SCAN_BYTES + "\n",
                                        ".env": f"AWS_ACCESS_KEY_ID={KEY}\n"})
    assert run["conclusion"] == "failure"
    assert "`data/dump.sql`: not scanned for secrets: too large (16.8 MB; the limit is 16 MiB)" in run["summary"]
    assert [(path, line) for path, line, title in _found(run) if "CB-SECRET-001" in title] == [(".env", 1)]
