"""`app.yml` asks for exactly the permissions and events the code uses: the review succeeds
with them, and fails without any one of them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml

from bot.app.jobs import JobFailed, ReviewJob
from bot.app.runner import ReviewRunner
from bot.app.webhooks import route
from bot.github.client import GitHubApp, GitHubError
from tests.fakegithub import FakeGitHub

MANIFEST = yaml.safe_load((Path(__file__).resolve().parents[2] / "app.yml").read_text())
PERMISSIONS = dict(MANIFEST["default_permissions"])
VOLUME = 'resource "aws_ebs_volume" "v" {\n  availability_zone = "a"\n  size = 1\n  encrypted = false\n}\n'
# One volume's finding has an exception a security-team member approved (the team membership is
# read with `members: read`), the other's is posted.
EXCEPTED = VOLUME.replace('"v"', '"w"').replace(
    "encrypted = false", 'encrypted = false  # compliance:ignore CB-AWS-001 reason="scratch disk" until=2099-01-01')
POLICY = "fail_on: low\nexceptions:\n  approvers: [{org}/security]\n"


def run_review(fake: FakeGitHub, name: str, permissions: dict[str, str]) -> None:
    org = "perm-org-" + name
    repo = fake.create_repo(org, name, files={".github/compliance.yml": POLICY.format(org=org)},
                            permissions=permissions)
    fake.set_team_members(org, "security", {"alice": "member"})
    repo.commit("feature", {"m/main.tf": VOLUME + EXCEPTED}, "change")
    number = repo.open_pull_request(head="feature")
    repo.submit_review(number, "alice")
    headers, body = fake.webhook("pull_request.opened", repo, number)
    job = route(headers["X-GitHub-Event"], headers["X-GitHub-Delivery"], json.loads(body))
    assert isinstance(job, ReviewJob)
    asyncio.run(ReviewRunner(GitHubApp(fake.app_id, fake.private_key_pem, fake.url, 10.0), "compliance")(job))


def test_manifest_shape() -> None:
    assert MANIFEST["name"] and MANIFEST["description"] and MANIFEST["url"]
    assert MANIFEST["hook_attributes"]["url"].endswith("/webhook")
    assert set(MANIFEST["default_events"]) == {"pull_request", "pull_request_review", "check_suite", "check_run"}
    assert PERMISSIONS == {"checks": "write", "contents": "read", "members": "read", "metadata": "read",
                           "pull_requests": "write"}


def test_review_succeeds_with_the_manifest_permissions(fake_github: FakeGitHub) -> None:
    run_review(fake_github, "full", PERMISSIONS)
    assert fake_github.count(status=403) == 0
    (posted,) = [r for r in fake_github.reviews("perm-org-full", "full", 1) if r["user"] == fake_github.bot_login]
    assert [c["line"] for c in posted["comments"]] == [4]  # the volume without an exception
    run = fake_github.check_runs("perm-org-full", "full")[-1]
    assert "approved by alice (perm-org-full/security)" in run["summary"]


@pytest.mark.parametrize("permission", sorted(p for p in PERMISSIONS if p != "metadata"))
def test_each_permission_is_needed(fake_github: FakeGitHub, permission: str) -> None:
    reduced = {k: v for k, v in PERMISSIONS.items() if k != permission}
    with pytest.raises(JobFailed) as failed:  # reported on the check run where it could be, then ended
        run_review(fake_github, permission.replace("_", "-"), reduced)
    assert isinstance(failed.value.__cause__, GitHubError) and failed.value.__cause__.status == 403
    assert fake_github.count(status=403) >= 1
