"""A job the Redis queue gives up on (its workers died on it, one takeover after another) is a
dead letter, and its check run is completed `failure` with the cause in words: a required check
left `queued` for ever would block the pull request with nothing saying why."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.app.job_queue import RedisStreamQueue
from bot.app.jobs import ReviewJob
from bot.app.lease import RedisLeases
from bot.app.runner import INTERRUPTED_TITLE, ReviewRunner
from bot.app.scaleout import attach
from bot.app.webhooks import route
from bot.app.worker import Worker
from bot.github.client import GitHubApp
from tests.app.redis_fixtures import eventually
from tests.fakegithub import FakeGitHub

pytestmark = pytest.mark.anyio

UNENCRYPTED = 'resource "aws_ebs_volume" "v" {\n  availability_zone = "eu-west-1a"\n  size = 1\n  encrypted = false\n}\n'


@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"


async def test_a_job_dead_lettered_after_takeovers_completes_its_check_run_failure(
        fake_github: FakeGitHub, redis_url: str, redis_names: dict[str, str]) -> None:
    repo = fake_github.create_repo("octo-org", "dies-every-time", files={"README.md": "x\n"})
    repo.commit("feature", {"main.tf": UNENCRYPTED}, "change")
    number = repo.open_pull_request(head="feature")
    headers, body = fake_github.webhook("pull_request.opened", repo, number)
    job = route(headers["X-GitHub-Event"], headers["X-GitHub-Delivery"], json.loads(body))
    assert isinstance(job, ReviewJob)
    app = GitHubApp(fake_github.app_id, fake_github.private_key_pem, fake_github.url, 10.0)
    # What the last worker left: the run set back to queued as it was handed back (then it died).
    async with app.installation(job.installation_id) as gh:
        run_id = await gh.create_check_run(job.owner, job.repo, {
            "name": "compliance", "head_sha": job.head_sha, "status": "queued", "external_id": "some-review-key",
            "output": {"title": INTERRUPTED_TITLE, "summary": "queued again"}})

    client: Any = aioredis.from_url(redis_url, decode_responses=True)

    def consumer(name: str) -> RedisStreamQueue:
        return RedisStreamQueue(client, stream=redis_names["stream"], group=redis_names["group"], consumer=name,
                                claim_idle=0.2, claim_interval=0.05, block=0.05, max_attempts=2)

    first, second, last = consumer("first"), consumer("second"), consumer("last")
    runner = ReviewRunner(app, "compliance", leases=RedisLeases(client, prefix=f"{redis_names['prefix']}:lease:"))
    attached = attach(runner, last, Worker(last, runner))  # the worker role wires the queue to the runner
    getting: asyncio.Task[Any] | None = None
    try:
        assert await first.put(job)
        assert (await first.get()).attempt == 1  # ... and that worker dies: never acked
        taken = await asyncio.wait_for(second.get(), 30)
        assert taken.attempt == 2 and taken.job.delivery_id == job.delivery_id  # taken over; dies as well
        getting = asyncio.ensure_future(last.get())  # the third hand-out is past max_attempts

        def completed() -> dict[str, Any] | None:
            (run,) = fake_github.check_runs(repo)
            return run if run["status"] == "completed" else None

        run = await eventually(completed, what="the given-up job's check run to be completed", timeout=60)
        assert not getting.done()  # the dead job was not handed out
        assert run["id"] == run_id and run["conclusion"] == "failure"
        assert run["title"] == "Review could not finish"
        assert "started 2 times" in run["summary"] and "stopped before it finished" in run["summary"]
        assert "Error" not in run["summary"]  # words, not an exception's type
        (dead,) = await client.xrange(f"{redis_names['stream']}:dead")
        assert dead[1]["reason"] == "too many attempts" and dead[1]["delivery"] == job.delivery_id
        assert len(fake_github.check_runs(repo)) == 1  # completed, not replaced
    finally:
        if getting is not None:
            getting.cancel()
            await asyncio.gather(getting, return_exceptions=True)
        await attached.close()
        for queue in (first, second, last):
            await queue.close()
        await runner.aclose()
        await client.aclose()
