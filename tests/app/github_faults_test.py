"""Every GitHub call a review job makes, failing every way GitHub fails: a 5xx outage (longer than
the HTTP client's own retries), a timeout after the request took effect, a secondary rate limit
(403 + retry-after) and a primary one (x-ratelimit-remaining 0 + reset). Whatever the call and the
fault, the job ends with one check run on the head, completed with the review's own conclusion,
and one review: a retry never creates a second run or posts the comments twice.

An hour-long exhaustion is not slept through nor failed: the job is scheduled for after the reset
in Redis's delay set, the check run says until when it waits, and the retry completes it."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
import types
from collections.abc import Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

import bot.app.retries as retries_module
from bot.app.job_queue import RedisStreamQueue
from bot.app.retries import RedisRetries, RetryPolicy
from bot.app.runner import ReviewRunner
from bot.github.client import GitHubApp
from tests.app.retries_test import drain, in_process_runner, job_for, pr
from tests.fakegithub import FakeGitHub
from tests.fakegithub.messages import Response

pytestmark = pytest.mark.anyio

# (method, path regex, operation id) of each call a review job makes on this pull request.
CALLS: dict[str, tuple[str, str, str | None]] = {
    "get pull request": ("GET", r"/pulls/\d+$", "pulls/get"),
    "get contents (policy)": ("GET", r"/contents/", "repos/get-content"),
    "list check runs": ("GET", r"/commits/[0-9a-f]+/check-runs$", "checks/list-for-ref"),
    "create check run": ("POST", r"/check-runs$", "checks/create"),
    "list files": ("GET", r"/pulls/\d+/files$", "pulls/list-files"),
    "get tree": ("GET", r"/git/trees/", "git/get-tree"),
    "graphql (blobs, threads)": ("POST", r"^/graphql$", None),
    "create review": ("POST", r"/pulls/\d+/reviews$", "pulls/create-review"),
    "update check run": ("PATCH", r"/check-runs/\d+$", "checks/update"),
}
FAULTS = ["5xx", "timeout after effect", "secondary rate limit", "primary rate limit"]
POLICY = RetryPolicy(attempts=8, base_delay=0.01, max_delay=0.05)  # a POST is not repeated by the client: each 502 costs an attempt
CLIENT_TIMEOUT = 1.0


@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"


def late_answer(operation: str | None, fired: threading.Event) -> Callable[[str | None, Response], Response | None]:
    """A hook answering the first `operation` after the client gave up: GitHub did it all the same."""

    def hook(operation_id: str | None, response: Response) -> Response | None:
        if operation_id == operation and not fired.is_set():
            fired.set()
            threading.Event().wait(CLIENT_TIMEOUT * 3)
        return None

    return hook


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("call", list(CALLS))
async def test_every_call_every_fault_ends_in_one_completed_run(fake_github: FakeGitHub, call: str,
                                                                fault: str) -> None:
    method, path, operation = CALLS[call]
    repo, number = pr(fake_github, re.sub(r"\W+", "-", f"{call}-{fault}"))
    fired = threading.Event()
    injected: Any = None
    if fault == "5xx":  # more 502s than the client's own five tries: only a job-level retry gets past
        injected = fake_github.inject(method, path, status=502, times=6)
    elif fault == "secondary rate limit":
        injected = fake_github.inject_rate_limit(method, path, times=2, retry_after=1)
    elif fault == "primary rate limit":
        injected = fake_github.inject_primary_rate_limit(method, path, times=2, reset_in=1)
    else:
        fake_github.response_hook = late_answer(operation, fired)
    runner, queue, retries = in_process_runner(fake_github, POLICY, timeout=CLIENT_TIMEOUT)
    try:
        await queue.put(job_for(fake_github, repo, number))
        assert await drain(queue, retries, runner) == []
    finally:
        fake_github.response_hook = None
        fake_github.faults.clear()
    assert fired.is_set() if injected is None else injected.fired == injected.times  # the fault happened
    runs = fake_github.check_runs(repo)
    assert [(r["status"], r["conclusion"]) for r in runs] == [("completed", "failure")]  # the finding's failure
    assert "CB-AWS-001" in json.dumps(runs[0]["annotations"])
    assert fake_github.count("POST", rf"/repos/octo-org/{repo.name}/check-runs$", status=201) == 1
    (review,) = fake_github.reviews(repo, number)
    assert len(review["comments"]) == 1


async def test_an_hour_long_exhaustion_is_scheduled_after_the_reset_and_completed_then(
        fake_github: FakeGitHub, redis_url: str, redis_names: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    repo, number = pr(fake_github, "hour-long")
    job = job_for(fake_github, repo, number)
    fake_github.inject_primary_rate_limit("GET", r"/pulls/\d+/files$", times=1000, reset_in=3600)
    client: Any = aioredis.from_url(redis_url, decode_responses=True)
    queue = RedisStreamQueue(client, stream=redis_names["stream"], group=redis_names["group"], block=0.05)
    retries = RedisRetries.for_queue(queue, RetryPolicy(attempts=4))
    runner = ReviewRunner(GitHubApp(fake_github.app_id, fake_github.private_key_pem, fake_github.url, 10.0),
                          "compliance")
    runner.retries = retries
    try:
        assert await queue.put(job)
        first = await queue.get()
        started = time.time()
        await runner(first.job)  # neither raises (failed) nor sleeps for the hour
        await queue.ack(first)
        assert time.time() - started < 60
        ((due, retry),) = await retries.delayed()
        assert retry.retry == 1 and started + 3590 <= due <= time.time() + 3610  # a second past the reset
        (run,) = fake_github.check_runs(repo)
        until = dt.datetime.fromtimestamp(due, dt.UTC)
        assert run["status"] == "queued"
        assert run["title"] in {f"Waiting for GitHub's rate limit until {t:%H:%M} UTC"
                                for t in (until, until - dt.timedelta(seconds=5))}
        assert "completes by itself" in run["summary"]
        listed = fake_github.count("GET", r"/pulls/\d+/files$")
        assert listed == 1  # one refused request: the client does not spin on an hour-long reset
        assert await retries.move_due() == 0  # not due: it waits in the set
        assert fake_github.count("GET", r"/pulls/\d+/files$") == listed

        # The hour passes (a clock an hour and more ahead for the mover) and GitHub's limit resets.
        real = time.time
        monkeypatch.setattr(retries_module, "time", types.SimpleNamespace(time=lambda: real() + 3700))
        fake_github.faults.clear()
        assert await retries.move_due() == 1
        again = await queue.get()
        assert again.job.delivery_id == job.delivery_id and again.job.retry == 1
        await runner(again.job)
        await queue.ack(again)
    finally:
        fake_github.faults.clear()
        await queue.close()
        await runner.aclose()
        await client.aclose()
    (run,) = fake_github.check_runs(repo)
    assert run["status"] == "completed" and run["conclusion"] == "failure"
    assert "CB-AWS-001" in json.dumps(run["annotations"])
    assert fake_github.count("POST", r"/repos/octo-org/hour-long/check-runs$") == 1
    assert len(fake_github.reviews(repo, number)) == 1
