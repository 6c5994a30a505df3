"""The sweeper against the fake GitHub's deliveries API, with its ledger in a real Redis or in the
built-in process: failed deliveries never queued are redelivered once, processed ones are not,
pages are followed, one leader at a time."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.app.job_queue import InProcessQueue, QueueFull
from bot.app.jobs import ReviewJob
from bot.app.scaleout import attach
from bot.app.sweeper import LocalLedger, RedisLedger, Sweeper
from bot.github.client import GitHubApp
from tests.app.redis_fixtures import eventually
from tests.fakegithub import FakeGitHub

pytestmark = pytest.mark.anyio


@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"


async def test_failed_deliveries_never_queued_are_redelivered_once(fake_github: FakeGitHub, redis_url: str,
                                                                  redis_names: dict[str, str]) -> None:
    repo = fake_github.create_repo("octo-org", "swept", files={"README.md": "x\n"})
    repo.commit("feature", {"a.txt": "a\n"}, "change")
    number = repo.open_pull_request(head="feature")
    guids = []
    for _ in range(105):  # more than one page of 100
        headers, _body = fake_github.webhook("pull_request.synchronize", repo, number)
        fake_github.answered(headers, 503)
        guids.append(headers["X-GitHub-Delivery"])
    fine, _ = fake_github.webhook("pull_request.synchronize", repo, number)
    fake_github.answered(fine, 202)
    unsigned, _ = fake_github.webhook("pull_request.synchronize", repo, number)
    fake_github.answered(unsigned, 401)  # would fail the same way again
    client: Any = aioredis.from_url(redis_url, decode_responses=True)
    dedup = f"{redis_names['stream']}:delivery:"
    try:
        for guid in guids[:3]:  # queued by a redelivery GitHub made of its own accord
            await client.set(dedup + guid, "1")
        app = GitHubApp(fake_github.app_id, fake_github.private_key_pem, fake_github.url, 10.0)
        ledger = RedisLedger(client, stream=redis_names["stream"], dedup_prefix=dedup, ttl_ms=180_000)
        sweeper = Sweeper(app, ledger)
        other = Sweeper(app, RedisLedger(client, stream=redis_names["stream"], dedup_prefix=dedup, ttl_ms=180_000))
        asked = await sweeper.sweep()
        assert asked == guids[3:]  # oldest first; the processed and the successful ones left alone
        by_id = {d.id: d.guid for d in fake_github.world.deliveries}
        assert [by_id[i] for i in fake_github.redelivery_requests] == guids[3:]
        assert fake_github.count("GET", r"^/app/hook/deliveries$") == 2  # the Link header's cursor followed
        assert all(r.auth == "jwt" for r in fake_github.requests if r.path.startswith("/app/hook/"))
        assert await other.sweep() == []  # asked for a moment ago: not again
        await client.set(ledger.lock_key, "someone-else", px=10_000)
        assert await sweeper.sweep() is None  # another process leads
        assert await client.get(ledger.lock_key) == "someone-else"  # and its lock is left alone
    finally:
        await client.aclose()


async def test_a_guid_that_keeps_failing_is_asked_for_a_bounded_number_of_times(
        fake_github: FakeGitHub, redis_url: str, redis_names: dict[str, str]) -> None:
    repo = fake_github.create_repo("octo-org", "stubborn", files={"README.md": "x\n"})
    repo.commit("feature", {"a.txt": "a\n"}, "change")
    number = repo.open_pull_request(head="feature")
    headers, _ = fake_github.webhook("pull_request.synchronize", repo, number)
    fake_github.answered(headers, 503)
    original = fake_github.world.deliveries[-1]
    for _ in range(3):  # three redeliveries GitHub made, each answered 503 again
        fake_github.world.deliveries.append(dataclasses.replace(original, id=fake_github.world.ids.next("delivery"),
                                                                redelivery=True))
    client: Any = aioredis.from_url(redis_url, decode_responses=True)
    try:
        app = GitHubApp(fake_github.app_id, fake_github.private_key_pem, fake_github.url, 10.0)
        sweeper = Sweeper(app, RedisLedger(client, stream=redis_names["stream"], dedup_prefix=f"{redis_names['stream']}:d:",
                                           ttl_ms=180_000))
        assert await sweeper.sweep() == []
        assert fake_github.redelivery_requests == []
    finally:
        await client.aclose()


# -- the built-in single process --------------------------------------------------------------------


def job_for(headers: dict[str, str], number: int) -> ReviewJob:
    return ReviewJob(delivery_id=headers["X-GitHub-Delivery"], trigger="pull_request.synchronize", installation_id=1,
                     owner="octo-org", repo="local", pull_number=number, head_sha="a" * 40, base_sha="b" * 40,
                     base_ref="main", default_branch="main")


async def test_the_built_in_process_sweeps_what_its_queue_refused(fake_github: FakeGitHub) -> None:
    """Without Redis nobody else would: a delivery the full in-process queue refused with 503 is
    asked for again once the queue has room; one the queue took is not, even when GitHub gave up
    waiting for the answer; a 4xx is not; a GUID is asked for once."""
    repo = fake_github.create_repo("octo-org", "local", files={"README.md": "x\n"})
    repo.commit("feature", {"a.txt": "a\n"}, "change")
    number = repo.open_pull_request(head="feature")
    queue = InProcessQueue(maxsize=2)
    taken, _ = fake_github.webhook("pull_request.synchronize", repo, number)
    assert await queue.put(job_for(taken, number))
    fake_github.answered(taken, 202)
    late, _ = fake_github.webhook("pull_request.synchronize", repo, number)
    assert await queue.put(job_for(late, number))
    fake_github.answered(late, 504)  # GitHub stopped waiting, yet the queue holds it
    refused, _ = fake_github.webhook("pull_request.synchronize", repo, number)
    with pytest.raises(QueueFull):
        await queue.put(job_for(refused, number))
    fake_github.answered(refused, 503)  # what the server answers when the queue is full
    unsigned, _ = fake_github.webhook("pull_request.synchronize", repo, number)
    fake_github.answered(unsigned, 401)
    app = GitHubApp(fake_github.app_id, fake_github.private_key_pem, fake_github.url, 10.0)
    sweeper = Sweeper(app, LocalLedger(queue, ttl_seconds=180))
    assert await sweeper.sweep() == []  # still full: asking now would be refused once more
    assert fake_github.redelivery_requests == [] and await sweeper.ledger.since() is None  # looks as far next time
    await queue.ack(await queue.get())  # the worker takes a job: there is room
    assert await sweeper.sweep() == [refused["X-GitHub-Delivery"]]
    by_id = {d.id: d.guid for d in fake_github.world.deliveries}
    assert [by_id[i] for i in fake_github.redelivery_requests] == [refused["X-GitHub-Delivery"]]
    assert await sweeper.sweep() == []  # asked for a moment ago: not again


async def test_attach_starts_a_sweeper_in_the_built_in_mode(fake_github: FakeGitHub) -> None:
    repo = fake_github.create_repo("octo-org", "attached", files={"README.md": "x\n"})
    repo.commit("feature", {"a.txt": "a\n"}, "change")
    number = repo.open_pull_request(head="feature")
    refused, _ = fake_github.webhook("pull_request.synchronize", repo, number)
    fake_github.answered(refused, 503)

    class Handler:
        app = GitHubApp(fake_github.app_id, fake_github.private_key_pem, fake_github.url, 10.0)
        retries = None
        heads = None

    attached = attach(Handler(), InProcessQueue(), sweep_interval=30.0)
    try:
        await eventually(lambda: fake_github.redelivery_requests, what="the built-in sweeper's first sweep")
    finally:
        await attached.close()
    by_id = {d.id: d.guid for d in fake_github.world.deliveries}
    assert [by_id[i] for i in fake_github.redelivery_requests] == [refused["X-GitHub-Delivery"]]
