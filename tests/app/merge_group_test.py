"""Merge queues: `merge_group.checks_requested` gets a `compliance` check run on the group's head,
reviewing the change from the group's base to its head, with no pull request to comment on."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.app.jobs import ReviewJob
from bot.app.runner import ReviewRunner
from bot.app.webhooks import BadPayload, Ignored, route
from bot.github.client import GitHubApp
from tests.fakegithub import FakeGitHub
from tests.fakegithub.descriptions import webhook_example

UNENCRYPTED = 'resource "aws_ebs_volume" "v" {\n  availability_zone = "eu-west-1a"\n  size = 1\n  encrypted = false\n}\n'


def test_the_merge_group_head_is_reviewed_against_its_base(fake_github: FakeGitHub) -> None:
    repo = fake_github.create_repo("octo-org", "queued", files={"README.md": "x\n"})
    base = repo.branch_sha("main")
    repo.commit("feature", {"main.tf": UNENCRYPTED}, "change")
    number = repo.open_pull_request(head="feature")
    queue_branch = f"gh-readonly-queue/main/pr-{number}-{base}"
    head = repo.commit(queue_branch, {"main.tf": UNENCRYPTED}, f"Merge pull request #{number}")
    headers, body = fake_github.webhook("merge_group.checks_requested", repo, overrides={"merge_group": {
        "head_sha": head, "base_sha": base, "head_ref": f"refs/heads/{queue_branch}", "base_ref": "refs/heads/main",
        "head_commit": {"id": head}}})
    job = route(headers["X-GitHub-Event"], headers["X-GitHub-Delivery"], json.loads(body))
    assert isinstance(job, ReviewJob) and job.is_merge_group
    assert (job.pull_number, job.head_sha, job.base_sha, job.base_ref) == (0, head, base, "main")
    asyncio.run(ReviewRunner(GitHubApp(fake_github.app_id, fake_github.private_key_pem, fake_github.url, 10.0),
                             "compliance")(job))
    (run,) = fake_github.check_runs(repo)
    assert run["name"] == "compliance" and run["head_sha"] == head
    assert run["status"] == "completed" and run["conclusion"] == "failure"
    assert [(a["path"], a["annotation_level"]) for a in run["annotations"]] == [("main.tf", "failure")]
    assert "merge queue's group" in run["summary"]
    assert fake_github.reviews(repo, number) == []  # the pull request's own review comments, not the group's
    assert fake_github.count("GET", r"/pulls/\d+$") == 0


def test_merge_group_routing() -> None:
    payload = webhook_example("merge_group.checks_requested.json")
    job = route("merge_group", "d-mg", payload)
    assert isinstance(job, ReviewJob)
    assert job.trigger == "merge_group.checks_requested" and job.head_sha == payload["merge_group"]["head_sha"]
    assert job.base_ref == "main"
    assert route("merge_group", "d-mg2", {**payload, "action": "destroyed"}) == \
        Ignored("merge_group.destroyed: action not reviewed")
    bent = {**payload, "merge_group": {**payload["merge_group"], "base_ref": "refs/heads/"}}
    with pytest.raises(BadPayload, match="merge_group.base_ref names no branch"):
        route("merge_group", "d-mg3", bent)
    with pytest.raises(BadPayload, match="merge_group.head_sha"):
        route("merge_group", "d-mg4", {**payload, "merge_group": {**payload["merge_group"], "head_sha": "main"}})
