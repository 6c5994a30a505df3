"""End to end: what the App writes to GitHub (review comments, the check run's summary, text and
annotations) and to its log never holds more of a found secret than the mask, and the policy on
the default branch can show a short prefix."""

from __future__ import annotations

import json

from tests.e2e.serving import App, completed_run, wait_for
from tests.fakegithub import FakeGitHub
from tests.report.secrets_masking_test import FILES, leaks


def _written(fake: FakeGitHub, repo: str) -> str:
    """Every body the App sent to the repository's API (REST writes and GraphQL mutations)."""
    bodies = [r.body for r in fake.requests if r.method in ("POST", "PATCH", "PUT")
              and (repo in r.path or r.path.endswith("/graphql"))]
    return json.dumps(bodies, default=str)


def _review(fake: FakeGitHub, app: App, name: str, base: dict[str, str]) -> tuple[dict[str, object], str]:
    repo = fake.create_repo("octo-org", name, files={"README.md": "# service\n", **base})
    repo.commit("feature", dict(FILES), "configure the service")
    number = repo.open_pull_request(head="feature", title="Configure")
    assert app.deliver(*fake.webhook("pull_request.opened", repo, number)).status_code == 202
    run = completed_run(fake, repo, repo.branch_sha("feature"))
    wait_for(lambda: fake.reviews(repo, number), 60, "the review")
    return run, _written(fake, repo.full_name)


def test_the_app_writes_and_logs_only_masked_secrets(fake: FakeGitHub, app: App) -> None:
    run, written = _review(fake, app, "masked", {})
    assert run["conclusion"] == "failure"
    assert leaks(written) == []
    assert leaks(app.log.read_text(errors="replace")) == []
    assert written.count("`****`") >= 10  # the comments and annotations are there, masked


def test_the_default_branch_policy_can_show_a_prefix(fake: FakeGitHub, app: App) -> None:
    _, written = _review(fake, app, "prefixed", {".github/compliance.yml": "secrets:\n  show_prefix: true\n"})
    assert "`AKIA****`" in written and "`Tr0u****`" in written and "`Xk9v****`" in written
    assert "`****`" not in written
