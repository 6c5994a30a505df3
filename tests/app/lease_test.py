"""One job per pull request at a time: in one process (asyncio) and across processes (Redis)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.app.lease import LeaseLost, LocalLeases, RedisLeases

DEADLINE = 10.0

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class CountingRedis:
    """A client that tells when a lease was asked for (so a test waits on an event, not a clock)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.asked = asyncio.Event()

    async def set(self, *args: Any, **kwargs: Any) -> Any:
        self.asked.set()
        return await self.inner.set(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
async def clients(redis_url: str) -> AsyncIterator[tuple[Any, Any]]:
    """Two separate connections, as two processes would have."""
    first = aioredis.from_url(redis_url, decode_responses=True)
    second = aioredis.from_url(redis_url, decode_responses=True)
    yield first, second
    await first.aclose()
    await second.aclose()


async def test_local_leases_run_one_job_per_pull_request() -> None:
    leases = LocalLeases()
    entered: list[str] = []

    async def job(name: str, key: str, hold: asyncio.Event | None = None) -> None:
        async with leases.hold(key):
            entered.append(name)
            if hold is not None:
                await hold.wait()

    release = asyncio.Event()
    first = asyncio.create_task(job("first", "pr-1", release))
    while "first" not in entered:
        await asyncio.sleep(0)
    second = asyncio.create_task(job("second", "pr-1"))
    other = asyncio.create_task(job("other", "pr-2"))
    await asyncio.wait_for(other, DEADLINE)  # another pull request is never held up
    for _ in range(20):
        await asyncio.sleep(0)
    assert entered == ["first", "other"]  # the second job of pr-1 waits for the first
    release.set()
    await asyncio.wait_for(asyncio.gather(first, second), DEADLINE)
    assert entered == ["first", "other", "second"]
    assert leases._locks == {}  # nothing kept once nobody holds or waits


async def test_redis_lease_is_exclusive_across_processes(clients: tuple[Any, Any]) -> None:
    prefix = f"test-lease-{uuid.uuid4().hex}:"
    one = RedisLeases(clients[0], prefix=prefix)
    waiting_client = CountingRedis(clients[1])
    two = RedisLeases(waiting_client, prefix=prefix)
    async with one.hold("pr-1"):
        token = await clients[0].get(prefix + "pr-1")
        assert token
        assert 0 < await clients[0].pttl(prefix + "pr-1") <= 60_000
        blocked = asyncio.create_task(_enter(two, "pr-1"))
        await asyncio.wait_for(waiting_client.asked.wait(), DEADLINE)
        assert not blocked.done()  # it asked and was refused: the first job holds the pull request
    await asyncio.wait_for(blocked, DEADLINE)
    assert await clients[0].get(prefix + "pr-1") is None  # released at the end


async def _enter(leases: RedisLeases, key: str) -> None:
    async with leases.hold(key) as lease:
        lease.check()


async def test_a_lease_is_released_only_by_its_holder(clients: tuple[Any, Any]) -> None:
    prefix = f"test-lease-{uuid.uuid4().hex}:"
    one, two = RedisLeases(clients[0], prefix=prefix), RedisLeases(clients[1], prefix=prefix)
    async with one.hold("pr-1"):
        await clients[0].delete(prefix + "pr-1")  # it expired (the process stalled)
        async with two.hold("pr-1"):  # ... and another job took the pull request
            theirs = await clients[1].get(prefix + "pr-1")
        assert await clients[1].get(prefix + "pr-1") is None
        await clients[1].set(prefix + "pr-1", "someone-else")
    assert await clients[0].get(prefix + "pr-1") == "someone-else"  # the first job's exit left it alone
    assert theirs
    await clients[0].delete(prefix + "pr-1")


async def test_a_job_learns_its_lease_expired_before_its_next_write(clients: tuple[Any, Any]) -> None:
    prefix = f"test-lease-{uuid.uuid4().hex}:"
    leases = RedisLeases(clients[0], prefix=prefix, ttl=0.3)
    async with leases.hold("pr-1") as lease:
        lease.check()
        await clients[0].delete(prefix + "pr-1")

        async def lost() -> None:
            while True:
                try:
                    lease.check()
                except LeaseLost:
                    return
                await asyncio.sleep(0.02)

        await asyncio.wait_for(lost(), DEADLINE)
