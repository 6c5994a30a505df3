"""Job-level retries: transient GitHub failures re-schedule the job (Redis sorted set + mover, or a
delayed in-process re-queue), the check run is never created twice, and after the last attempt it
is completed `failure` with the cause in words and the job is a dead letter."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import threading
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.app.job_queue import InProcessQueue, RedisStreamQueue
from bot.app.jobs import JobFailed, ReviewJob
from bot.app.retries import LocalRetries, RedisRetries, RetryPolicy, cause_in_words, next_attempt
from bot.app.runner import ReviewRunner
from bot.app.webhooks import route
from bot.github.client import GitHubApp, GitHubError
from tests.app.redis_fixtures import eventually
from tests.fakegithub import FakeGitHub, Repository
from tests.fakegithub.messages import Response

pytestmark = pytest.mark.anyio

UNENCRYPTED = 'resource "aws_ebs_volume" "v" {\n  availability_zone = "eu-west-1a"\n  size = 1\n  encrypted = false\n}\n'
FAST = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)


@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"


def pr(fake: FakeGitHub, name: str) -> tuple[Repository, int]:
    repo = fake.create_repo("octo-org", name, files={"README.md": "x\n"})
    repo.commit("feature", {"main.tf": UNENCRYPTED}, "change")
    return repo, repo.open_pull_request(head="feature")


def job_for(fake: FakeGitHub, repo: Repository, number: int) -> ReviewJob:
    headers, body = fake.webhook("pull_request.opened", repo, number)
    job = route(headers["X-GitHub-Event"], headers["X-GitHub-Delivery"], json.loads(body))
    assert isinstance(job, ReviewJob)
    return job


async def drain(queue: InProcessQueue, retries: LocalRetries, runner: ReviewRunner) -> list[str]:
    """Run every job handed out until nothing is queued or scheduled; the failures, in words."""
    failures: list[str] = []
    async with asyncio.timeout(60):
        while queue.qsize() or retries.waiting or queue.unacked:
            if not queue.qsize():
                await eventually(lambda: queue.qsize() or not retries.waiting, what="a retry to be due")
                continue
            delivery = await queue.get()
            try:
                await runner(delivery.job)
            except JobFailed as exc:
                failures.append(str(exc))
            finally:
                await queue.ack(delivery)
    return failures


def in_process_runner(fake: FakeGitHub, policy: RetryPolicy = FAST, timeout: float = 10.0
                      ) -> tuple[ReviewRunner, InProcessQueue, LocalRetries]:
    queue = InProcessQueue()
    retries = LocalRetries(queue, policy)
    runner = ReviewRunner(GitHubApp(fake.app_id, fake.private_key_pem, fake.url, timeout), "compliance")
    runner.retries = retries
    return runner, queue, retries


# -- the policy ------------------------------------------------------------------------------------


def test_backoff_grows_and_a_rate_limit_reset_is_honoured() -> None:
    policy = RetryPolicy(attempts=5, base_delay=2.0, max_delay=30.0, max_wait=3900.0)
    server_error = GitHubError("read pull: HTTP 502", 502)
    assert 1.6 <= policy.delay(1, server_error) <= 2.4
    assert 6.4 <= policy.delay(3, server_error) <= 9.6
    assert policy.delay(10, server_error) <= 36.0  # capped (with jitter)
    hour = GitHubError("read pull: HTTP 403 API rate limit exceeded", 403, True, retry_after=3600.0)
    assert policy.delay(1, hour) == 3601.0  # waits for the reset, one second past it
    assert policy.delay(1, GitHubError("x", 403, True, retry_after=99999.0)) == 3900.0
    job = ReviewJob("d", "pull_request.opened", 1, "o", "r", 1, "a" * 40, "b" * 40, "main", "main")
    assert policy.allows(job) and policy.allows(dataclasses.replace(job, retry=3))
    assert not policy.allows(dataclasses.replace(job, retry=4))  # the fifth hand-out was the last


def test_the_cause_is_said_in_words() -> None:
    assert cause_in_words(GitHubError("read pull: cannot reach h: ConnectError: refused",
                                      unreachable="api.github.com: connection refused")) == \
        "GitHub API unreachable at api.github.com: connection refused"
    assert "rate limit" in cause_in_words(GitHubError("HTTP 403 API rate limit exceeded", 403, True))
    assert cause_in_words(GitHubError("complete check run: HTTP 502", 502)) == \
        "GitHub kept failing (complete check run: HTTP 502)"


# -- in-process (built-in mode) --------------------------------------------------------------------


async def test_consecutive_502s_on_the_check_run_patch_end_in_one_completed_run(fake_github: FakeGitHub) -> None:
    repo, number = pr(fake_github, "patch502")
    # More than the HTTP client's own retries of one request (5 tries): the job must be re-scheduled.
    fake_github.inject("PATCH", r"/check-runs/\d+$", status=502, times=8)
    runner, queue, retries = in_process_runner(fake_github, RetryPolicy(attempts=8, base_delay=0.01, max_delay=0.02))
    await queue.put(job_for(fake_github, repo, number))
    assert await drain(queue, retries, runner) == []
    (run,) = fake_github.check_runs(repo)
    assert run["status"] == "completed" and run["conclusion"] == "failure"  # the finding, not the outage
    assert "CB-AWS-001" in json.dumps(run["annotations"])
    assert fake_github.count("POST", r"/check-runs$") == 1
    assert len(fake_github.reviews(repo, number)) == 1


async def test_a_rate_limit_re_schedules_after_its_reset(fake_github: FakeGitHub) -> None:
    repo, number = pr(fake_github, "ratelimited")
    fake_github.inject_primary_rate_limit("GET", r"/pulls/\d+$", times=6, reset_in=1)
    runner, queue, retries = in_process_runner(fake_github)
    scheduled: list[float] = []
    schedule = retries.schedule

    async def recording(job: ReviewJob, delay: float) -> None:
        scheduled.append(delay)
        await schedule(job, delay)

    retries.schedule = recording  # type: ignore[method-assign]
    await queue.put(job_for(fake_github, repo, number))
    assert await drain(queue, retries, runner) == []
    assert scheduled and all(0.0 <= d <= 3.0 for d in scheduled)  # the reset's time, not a back-off guess
    (run,) = fake_github.check_runs(repo)
    assert run["status"] == "completed" and run["conclusion"] == "failure"


async def test_a_check_run_post_that_times_out_after_taking_effect_is_not_repeated(fake_github: FakeGitHub) -> None:
    repo, number = pr(fake_github, "createtimeout")
    late = threading.Event()

    def slow_create(operation_id: str | None, response: Response) -> Response | None:
        if operation_id == "checks/create" and not late.is_set():
            late.set()
            threading.Event().wait(1.5)  # GitHub made the run; its answer comes after the client gave up
        return None

    fake_github.response_hook = slow_create
    runner, queue, retries = in_process_runner(fake_github, timeout=0.5)
    await queue.put(job_for(fake_github, repo, number))
    assert await drain(queue, retries, runner) == []
    assert late.is_set()
    (run,) = fake_github.check_runs(repo)
    assert run["status"] == "completed" and run["conclusion"] == "failure"
    assert fake_github.count("POST", r"/check-runs$") == 1  # found again by external_id, never re-created


async def test_after_the_last_attempt_the_check_fails_with_the_cause_and_the_job_is_dead(
        fake_github: FakeGitHub) -> None:
    repo, number = pr(fake_github, "exhausted")
    fake_github.inject("POST", r"/pulls/\d+/reviews$", status=502, times=1000)
    runner, queue, retries = in_process_runner(fake_github, RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02))
    await queue.put(job_for(fake_github, repo, number))
    failures = await drain(queue, retries, runner)
    assert len(failures) == 1 and failures[0].startswith("GitHub kept failing (") and "502" in failures[0]
    (run,) = fake_github.check_runs(repo)
    assert run["status"] == "completed" and run["conclusion"] == "failure"
    assert run["title"] == "Review could not finish" and "GitHub kept failing" in run["summary"]
    (dead,) = retries.dead
    assert dead.job is not None and dead.job.retry == 2  # three hand-outs: the first and two retries
    assert dead.cause == failures[0]


async def test_an_unreachable_github_is_named_with_its_host() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nothing listens there
    queue = InProcessQueue()
    retries = LocalRetries(queue, RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02))
    runner = ReviewRunner(GitHubApp(1, _pem(), f"http://127.0.0.1:{port}", 2.0), "compliance")
    runner.retries = retries
    await queue.put(ReviewJob("d-down", "pull_request.opened", 1, "o", "r", 1, "a" * 40, "b" * 40, "main", "main"))
    failures = await drain(queue, retries, runner)
    assert failures == ["GitHub API unreachable at 127.0.0.1: connection refused"]
    assert [d.cause for d in retries.dead] == failures


def _pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


# -- Redis -----------------------------------------------------------------------------------------


async def test_redis_retries_wait_in_the_set_then_move_onto_the_stream_once(
        redis_url: str, redis_names: dict[str, str]) -> None:
    client: Any = aioredis.from_url(redis_url, decode_responses=True)
    queue = RedisStreamQueue(client, stream=redis_names["stream"], group=redis_names["group"], block=0.05)
    retries = RedisRetries.for_queue(queue)
    other = RedisRetries.for_queue(queue)  # a second process's mover
    try:
        job = ReviewJob("d-retry", "pull_request.opened", 1, "o", "r", 1, "a" * 40, "b" * 40, "main", "main")
        assert await queue.put(job)
        first = await queue.get()
        await queue.ack(first)
        await retries.schedule(next_attempt(job), 3600.0)
        await retries.schedule(next_attempt(next_attempt(job)), 0.0)
        assert [(j.retry) for _, j in await retries.delayed()] == [2, 1]
        moved = await asyncio.gather(retries.move_due(), other.move_due())
        assert sorted(moved) == [0, 1]  # atomic: one mover takes each due retry
        again = await queue.get()  # past the de-duplication that stopped the delivery id before
        assert again.job.delivery_id == "d-retry" and again.job.retry == 2
        await queue.ack(again)
        assert [j.retry for _, j in await retries.delayed()] == [1]  # not due yet: still waiting
        await retries.dead_letter(again.job, "GitHub API unreachable at api.github.com: connection refused")
        (dead,) = await retries.dead()
        assert dead.delivery_id == "d-retry" and dead.reason == "retries exhausted"
        assert dead.cause == "GitHub API unreachable at api.github.com: connection refused"
        assert "o/r#1@aaaaaaaaaaaa" in dead.describe()
    finally:
        await queue.close()
        await client.aclose()
