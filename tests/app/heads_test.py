"""Coalescing: the latest head per pull request, recorded at routing; a job for a superseded head
stops early (and again before posting) and completes its check run `neutral`; a head GitHub
still names is reviewed whatever the record says (deliveries may arrive out of order)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.app.heads import LocalHeads, RedisHeads, records_head
from bot.app.jobs import ReviewJob
from bot.app.runner import Reviewed, ReviewRunner
from bot.app.webhooks import route
from bot.github.client import GitHubApp
from tests.fakegithub import FakeGitHub, Repository

pytestmark = pytest.mark.anyio

UNENCRYPTED = 'resource "aws_ebs_volume" "v{i}" {{\n  availability_zone = "eu-west-1a"\n  size = 1\n  encrypted = false\n}}\n'


@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"


def pr(fake: FakeGitHub, name: str) -> tuple[Repository, int]:
    repo = fake.create_repo("octo-org", name, files={"README.md": "x\n"})
    repo.commit("feature", {"main.tf": UNENCRYPTED.format(i=0)}, "change")
    return repo, repo.open_pull_request(head="feature")


def job_for(fake: FakeGitHub, repo: Repository, number: int, event: str = "pull_request.synchronize") -> ReviewJob:
    headers, body = fake.webhook(event, repo, number)
    job = route(headers["X-GitHub-Event"], headers["X-GitHub-Delivery"], json.loads(body))
    assert isinstance(job, ReviewJob)
    return job


def runner_for(fake: FakeGitHub, heads: LocalHeads) -> ReviewRunner:
    runner = ReviewRunner(GitHubApp(fake.app_id, fake.private_key_pem, fake.url, 10.0), "compliance")
    runner.heads = heads
    return runner


async def test_jobs_for_older_heads_stop_before_any_work(fake_github: FakeGitHub) -> None:
    repo, number = pr(fake_github, "coalesce")
    heads = LocalHeads()
    jobs = []
    for i in range(1, 4):
        repo.push(number, {"main.tf": UNENCRYPTED.format(i=i)})
        jobs.append(job_for(fake_github, repo, number))
        assert records_head(jobs[-1])
        await heads.record(jobs[-1])
    runner = runner_for(fake_github, heads)
    for job in jobs:
        await runner(job)
    (run,) = fake_github.check_runs(repo)  # the older heads created none
    assert run["head_sha"] == jobs[-1].head_sha == repo.branch_sha("feature")
    assert run["status"] == "completed" and run["conclusion"] == "failure"
    assert len(fake_github.reviews(repo, number)) == 1


async def test_a_head_that_moves_while_the_engine_runs_is_not_posted(fake_github: FakeGitHub,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    repo, number = pr(fake_github, "moved")
    heads = LocalHeads()
    job = job_for(fake_github, repo, number, "pull_request.opened")
    await heads.record(job)
    run_engine = ReviewRunner._run_engine

    async def push_meanwhile(self: ReviewRunner, *args: Any) -> Reviewed:
        reviewed = await run_engine(self, *args)
        repo.push(number, {"main.tf": UNENCRYPTED.format(i=9)})
        await heads.record(job_for(fake_github, repo, number))
        return reviewed

    monkeypatch.setattr(ReviewRunner, "_run_engine", push_meanwhile)
    await runner_for(fake_github, heads)(job)
    (run,) = fake_github.check_runs(repo)
    newer = repo.branch_sha("feature")
    assert run["head_sha"] == job.head_sha and run["status"] == "completed" and run["conclusion"] == "neutral"
    assert run["title"] == f"Superseded by {newer[:12]}" and f"Superseded by {newer}" in run["summary"]
    assert fake_github.reviews(repo, number) == []  # nothing posted for the old head


async def test_a_record_out_of_order_does_not_stop_the_head_github_names(fake_github: FakeGitHub) -> None:
    repo, number = pr(fake_github, "outoforder")
    older = job_for(fake_github, repo, number, "pull_request.opened")
    repo.push(number, {"main.tf": UNENCRYPTED.format(i=1)})
    newest = job_for(fake_github, repo, number)
    heads = LocalHeads()
    await heads.record(newest)
    await heads.record(older)  # the older delivery arrived last
    await runner_for(fake_github, heads)(newest)
    (run,) = fake_github.check_runs(repo)
    assert run["head_sha"] == newest.head_sha and run["conclusion"] == "failure"


async def test_redis_heads_are_shared_and_expire(redis_url: str, redis_names: dict[str, str]) -> None:
    client: Any = aioredis.from_url(redis_url, decode_responses=True)
    try:
        one, other = RedisHeads(client, redis_names["prefix"] + ":head:"), RedisHeads(client, redis_names["prefix"] + ":head:")
        job = ReviewJob("d", "pull_request.synchronize", 1, "Octo", "Infra", 4, "a" * 40, "b" * 40, "main", "main")
        assert await other.latest(job) is None
        await one.record(job)
        assert await other.latest(job) == "a" * 40
        assert 0 < await client.ttl(redis_names["prefix"] + ":head:" + job.pull_request_key) <= one.ttl
    finally:
        await client.aclose()


def test_only_pull_request_events_name_the_latest_head() -> None:
    job = ReviewJob("d", "check_run.rerequested", 1, "o", "r", 4, "a" * 40, "b" * 40, "main", "main")
    assert not records_head(job)
    assert records_head(ReviewJob("d", "pull_request.synchronize", 1, "o", "r", 4, "a" * 40, "b" * 40, "main", "main"))
