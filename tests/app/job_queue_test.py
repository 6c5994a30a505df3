"""Job queues: the in-process default, and Redis Streams against a real Redis (REDIS_URL).

Every Redis test uses its own stream/group/key names and deletes them afterwards (see
tests/app/redis_fixtures.py); the ones that restart Redis run their own server.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.app.job_queue import Delivery, InProcessQueue, JobQueue, QueueClosed, QueueFull, RedisStreamQueue
from bot.app.jobs import ReviewJob
from bot.app.redis_client import MAX_CONNECTIONS
from tests.app.redis_fixtures import eventually

pytestmark = pytest.mark.anyio

DEADLINE = 10.0  # seconds: bounds a broken case only; the awaited thing normally takes milliseconds


@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"


def job(delivery: str = "d-1", *, pull: int = 2, head: str = "a") -> ReviewJob:
    return ReviewJob(
        delivery_id=delivery, trigger="pull_request.synchronize", installation_id=1, owner="octo",
        repo="hello", pull_number=pull, head_sha=head * 40, base_sha="b" * 40, base_ref="main",
        default_branch="main",
    )


# -- in-process ------------------------------------------------------------------------------------


async def test_in_process_put_get_ack_fifo() -> None:
    queue = InProcessQueue()
    assert isinstance(queue, JobQueue)
    assert await queue.put(job("d-1")) and await queue.put(job("d-2"))
    first, second = await queue.get(), await queue.get()
    assert (first.job.delivery_id, second.job.delivery_id) == ("d-1", "d-2")
    assert first.attempt == 1 and first.order < second.order
    assert queue.unacked == 2
    await queue.ack(first)
    await queue.ack(second)
    assert queue.unacked == 0 and queue.qsize() == 0
    assert await queue.ping()
    await queue.close()
    assert not await queue.ping()


async def test_in_process_dedup_by_delivery_id() -> None:
    queue = InProcessQueue()
    assert await queue.put(job("d-1"))
    assert not await queue.put(job("d-1"))  # GitHub redelivered the same delivery
    assert await queue.put(job("d-2"))  # same PR and head, but another delivery
    assert queue.qsize() == 2


async def test_in_process_dedup_expires() -> None:
    queue = InProcessQueue(dedup_ttl=0.05)
    assert await queue.put(job("d-1"))
    assert not await queue.put(job("d-1"))

    async def accepted_again() -> bool:
        return await queue.put(job("d-1"))

    await eventually(accepted_again, what="the delivery id to expire from the de-dup memory")
    assert queue.qsize() == 2


async def test_in_process_dedup_memory_is_bounded() -> None:
    queue = InProcessQueue(maxsize=10, dedup_capacity=3)
    for n in range(5):
        assert await queue.put(job(f"d-{n}"))
        await queue.ack(await queue.get())
    assert await queue.put(job("d-0"))  # forgotten: only the 3 latest ids are kept
    assert not await queue.put(job("d-4"))


async def test_in_process_is_bounded() -> None:
    queue = InProcessQueue(maxsize=2)
    await queue.put(job("d-1"))
    await queue.put(job("d-2"))
    with pytest.raises(QueueFull):
        await queue.put(job("d-3"))
    await queue.get()
    assert await queue.put(job("d-3"))  # and d-3 was not marked as seen by the refused put


async def test_in_process_get_waits_for_put() -> None:
    queue = InProcessQueue()
    getter = asyncio.create_task(queue.get())
    await asyncio.sleep(0)  # one loop step: the getter (scheduled first) has run and now waits
    assert not getter.done()
    await queue.put(job("d-1"))
    delivery = await asyncio.wait_for(getter, DEADLINE)
    assert delivery.job == job("d-1")


async def test_in_process_close_wakes_getters_and_ends_iteration() -> None:
    queue = InProcessQueue()
    await queue.put(job("d-1"))
    seen: list[str] = []

    async def consume() -> None:
        async for delivery in queue:
            seen.append(delivery.job.delivery_id)
            await queue.ack(delivery)

    consumer = asyncio.create_task(consume())
    blocked = asyncio.create_task(queue.get())
    await eventually(lambda: seen == ["d-1"] and queue.unacked == 0, what="the consumer to take and ack d-1")
    await queue.close()
    await asyncio.wait_for(consumer, DEADLINE)
    with pytest.raises(QueueClosed):
        await asyncio.wait_for(blocked, DEADLINE)
    assert seen == ["d-1"]
    with pytest.raises(QueueClosed):
        await queue.put(job("d-2"))
    with pytest.raises(QueueClosed):
        await queue.get()
    await queue.close()  # idempotent


# -- Redis Streams ---------------------------------------------------------------------------------


@pytest.fixture()
async def queues(redis_url: str, redis_names: dict[str, str]) -> AsyncIterator[Any]:
    """make(consumer, **options) -> a RedisStreamQueue with its own client, closed afterwards."""
    made: list[RedisStreamQueue] = []

    def make(consumer: str, **options: Any) -> RedisStreamQueue:
        options.setdefault("block", 0.05)
        queue = RedisStreamQueue.from_url(
            redis_url, stream=redis_names["stream"], group=redis_names["group"], consumer=consumer, **options
        )
        made.append(queue)
        return queue

    yield make
    for queue in made:
        await queue.close()


async def pending(queue: RedisStreamQueue) -> int:
    return int((await queue.redis.xpending(queue.stream, queue.group))["pending"])


async def test_redis_put_get_ack(queues: Any) -> None:
    queue: RedisStreamQueue = queues("a")
    assert isinstance(queue, JobQueue)
    assert await queue.ping()
    assert await queue.put(job("d-1")) and await queue.put(job("d-2", head="c"))
    first = await asyncio.wait_for(queue.get(), DEADLINE)
    second = await asyncio.wait_for(queue.get(), DEADLINE)
    assert first.job == job("d-1") and second.job == job("d-2", head="c")
    assert first.attempt == 1 and first.order < second.order
    assert await pending(queue) == 2
    await queue.ack(first)
    await queue.ack(second)
    assert await pending(queue) == 0
    fields = (await queue.redis.xrange(queue.stream, first.id, first.id))[0][1]
    assert fields["delivery"] == "d-1" and ReviewJob.from_json(fields["job"]) == job("d-1")


async def test_redis_a_burst_beyond_the_connection_pool_waits_its_turn(queues: Any) -> None:
    """A burst of deliveries at once: each put waits for a free connection instead of failing with
    "Too many connections" (redis-py's default pool raises past 100; the web server then answered
    503 on a healthy Redis)."""
    queue: RedisStreamQueue = queues("web")
    burst = MAX_CONNECTIONS * 4
    accepted = await asyncio.wait_for(asyncio.gather(*(queue.put(job(f"d-{i}", pull=i)) for i in range(burst))),
                                      DEADLINE * 3)
    assert accepted == [True] * burst
    assert await queue.redis.xlen(queue.stream) == burst
    pool = queue.redis.connection_pool
    assert len(pool._available_connections) + len(pool._in_use_connections) <= MAX_CONNECTIONS


async def test_redis_dedup_by_delivery_id(queues: Any, redis_names: dict[str, str]) -> None:
    queue: RedisStreamQueue = queues("a", dedup_ttl=600)
    assert await queue.put(job("d-1"))
    assert not await queue.put(job("d-1"))
    other_process = queues("b")  # de-dup holds across processes: it lives in Redis
    assert not await other_process.put(job("d-1"))
    assert await other_process.put(job("d-2"))
    assert await queue.redis.xlen(queue.stream) == 2
    ttl = await queue.redis.ttl(f"{redis_names['stream']}:delivery:d-1")
    assert 0 < ttl <= 600


async def test_redis_stream_is_capped(queues: Any) -> None:
    queue: RedisStreamQueue = queues("a", maxlen=10)
    for n in range(300):
        await queue.put(job(f"d-{n}"))
    # MAXLEN ~ trims whole macro-nodes (100 entries by default), so "about" 10.
    assert await queue.redis.xlen(queue.stream) < 300


async def test_redis_consumers_share_the_work(queues: Any) -> None:
    a: RedisStreamQueue = queues("a")
    b: RedisStreamQueue = queues("b")
    for n in range(6):
        await a.put(job(f"d-{n}"))
    got = [await asyncio.wait_for(q.get(), DEADLINE) for q in (a, b, a, b, a, b)]
    assert sorted(d.job.delivery_id for d in got) == [f"d-{n}" for n in range(6)]
    consumers = {c["name"]: c["pending"] for c in await a.redis.xinfo_consumers(a.stream, a.group)}
    assert consumers == {"a": 3, "b": 3}


async def test_redis_dead_consumers_delivery_is_reclaimed_after_idle_timeout(queues: Any) -> None:
    dead: RedisStreamQueue = queues("dead")
    await dead.put(job("d-1"))
    taken = await asyncio.wait_for(dead.get(), DEADLINE)
    await dead.close()  # the process dies without acking

    patient: RedisStreamQueue = queues("patient", claim_idle=3600)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(patient.get(), 0.2)  # not idle for an hour: not taken over
    survivor: RedisStreamQueue = queues("survivor", claim_idle=0.3)
    reclaimed = await asyncio.wait_for(survivor.get(), DEADLINE)
    assert reclaimed.id == taken.id and reclaimed.job == job("d-1")
    assert reclaimed.attempt == 2
    consumers = {c["name"]: c["pending"] for c in await survivor.redis.xinfo_consumers(survivor.stream, survivor.group)}
    assert consumers["survivor"] == 1 and consumers["dead"] == 0
    await survivor.ack(reclaimed)
    assert await pending(survivor) == 0


async def test_redis_touch_keeps_a_live_consumers_job(queues: Any) -> None:
    """touch() resets the idle time that a takeover waits for, and does not count as an attempt."""
    busy: RedisStreamQueue = queues("busy")
    await busy.put(job("d-1"))
    held = await asyncio.wait_for(busy.get(), DEADLINE)

    async def entry() -> dict[str, Any]:
        (found,) = await busy.redis.xpending_range(busy.stream, busy.group, min=held.id, max=held.id, count=1)
        return dict(found)

    async def idle_for_a_while() -> dict[str, Any] | None:
        found = await entry()
        return found if found["time_since_delivered"] >= 1000 else None

    before = await eventually(idle_for_a_while, what="the held entry to be idle for a second")
    await busy.touch(held)
    after = await entry()
    assert after["time_since_delivered"] < before["time_since_delivered"]  # reset, not grown
    assert (after["consumer"], after["times_delivered"]) == ("busy", 1)  # still ours; not an attempt

    other: RedisStreamQueue = queues("other", claim_idle=0.3)  # no more touches: now it is taken over
    reclaimed = await asyncio.wait_for(other.get(), DEADLINE)
    assert reclaimed.id == held.id and reclaimed.attempt == 2


async def test_redis_a_delivery_handed_back_is_taken_at_once_without_counting_an_attempt(queues: Any) -> None:
    stopping: RedisStreamQueue = queues("stopping")
    await stopping.put(job("d-1"))
    held = await asyncio.wait_for(stopping.get(), DEADLINE)
    await stopping.release(held)
    other: RedisStreamQueue = queues("other", claim_idle=3600)  # would wait an hour for a dead consumer's
    taken = await asyncio.wait_for(other.get(), DEADLINE)
    assert taken.id == held.id and taken.attempt == 2  # handed out twice; the release itself is no attempt
    (entry,) = await other.redis.xpending_range(other.stream, other.group, min=held.id, max=held.id, count=1)
    assert entry["consumer"] == "other" and entry["times_delivered"] == 2


async def test_redis_dead_consumers_are_removed_once_silent_with_nothing_pending(queues: Any) -> None:
    dead: RedisStreamQueue = queues("dead")
    await dead.put(job("d-1"))
    await asyncio.wait_for(dead.get(), DEADLINE)
    await dead.close()  # dies holding d-1
    idle: RedisStreamQueue = queues("idle")  # a consumer that read nothing and went quiet, with nothing pending
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(idle.get(), 0.1)
    await idle.close()
    survivor: RedisStreamQueue = queues("survivor", claim_idle=0.3)
    await asyncio.wait_for(survivor.get(), DEADLINE)  # d-1, taken over

    async def names() -> set[str] | None:
        found = {c["name"] for c in await survivor.redis.xinfo_consumers(survivor.stream, survivor.group)}
        return found if found == {"survivor"} else None

    async def survivor_reads() -> set[str] | None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(survivor.get(), 0.1)  # each round checks for the dead
        return await names()

    assert await eventually(survivor_reads, what="the dead consumers to be removed") == {"survivor"}


async def test_redis_too_many_attempts_go_to_dead_letter(queues: Any) -> None:
    first: RedisStreamQueue = queues("first", max_attempts=1)
    await first.put(job("d-poison"))
    await asyncio.wait_for(first.get(), DEADLINE)
    await first.close()  # died on it
    second: RedisStreamQueue = queues("second", claim_idle=0.0, max_attempts=1)  # takes over at once
    await second.put(job("d-fine"))
    delivery = await asyncio.wait_for(second.get(), DEADLINE)
    assert delivery.job.delivery_id == "d-fine"
    dead = await second.redis.xrange(second.dead_letter_stream)
    assert [(f["delivery"], f["reason"]) for _id, f in dead] == [("d-poison", "too many attempts")]
    await second.ack(delivery)
    assert await pending(second) == 0


async def test_redis_malformed_entry_is_set_aside(queues: Any) -> None:
    queue: RedisStreamQueue = queues("a")
    await queue.put(job("d-0"))
    await queue.ack(await asyncio.wait_for(queue.get(), DEADLINE))  # group exists now
    await queue.redis.xadd(queue.stream, {"job": "{not json"})
    await queue.put(job("d-1"))
    delivery = await asyncio.wait_for(queue.get(), DEADLINE)
    assert delivery.job.delivery_id == "d-1"
    dead = await queue.redis.xrange(queue.dead_letter_stream)
    assert [f["reason"] for _id, f in dead] == ["malformed"]


async def test_redis_trimmed_pending_entry_is_dropped(queues: Any) -> None:
    dead: RedisStreamQueue = queues("dead")
    await dead.put(job("d-1"))
    taken = await asyncio.wait_for(dead.get(), DEADLINE)
    await dead.close()
    survivor: RedisStreamQueue = queues("survivor", claim_idle=0.0)
    await survivor.redis.xdel(survivor.stream, taken.id)
    getter = asyncio.create_task(survivor.get())

    async def dropped() -> bool:
        return await pending(survivor) == 0

    await eventually(dropped, what="the trimmed entry to be acked away")
    assert not getter.done()  # nothing was handed out for it
    await finishes_after_cancel(getter)


async def test_redis_recovers_when_the_group_disappears(queues: Any) -> None:
    queue: RedisStreamQueue = queues("a")
    await queue.put(job("d-1"))
    await queue.ack(await asyncio.wait_for(queue.get(), DEADLINE))
    await queue.redis.delete(queue.stream)  # e.g. Redis restarted without persistence
    await queue.put(job("d-2"))
    delivery = await asyncio.wait_for(queue.get(), DEADLINE)
    assert delivery.job.delivery_id == "d-2"


async def test_redis_iteration_and_close(queues: Any) -> None:
    queue: RedisStreamQueue = queues("a")
    await queue.put(job("d-1"))
    seen: list[Delivery] = []

    async def consume() -> None:
        async for delivery in queue:
            seen.append(delivery)
            await queue.ack(delivery)
            await queue.close()

    await asyncio.wait_for(consume(), DEADLINE)
    assert [d.job.delivery_id for d in seen] == ["d-1"]
    with pytest.raises(QueueClosed):
        await queue.get()
    with pytest.raises(QueueClosed):
        await queue.put(job("d-2"))


async def test_redis_resp3_client(redis_url: str, redis_names: dict[str, str]) -> None:
    client = aioredis.from_url(redis_url, decode_responses=True, protocol=3)
    queue = RedisStreamQueue(client, stream=redis_names["stream"], group=redis_names["group"], consumer="a",
                             block=0.05)
    try:
        assert await queue.put(job("d-1"))
        delivery = await asyncio.wait_for(queue.get(), DEADLINE)
        assert delivery.job == job("d-1")
        await queue.ack(delivery)
    finally:
        await queue.close()
        await client.aclose()  # not owned by the queue


async def test_redis_unreachable_ping_is_false() -> None:
    queue = RedisStreamQueue.from_url("redis://127.0.0.1:1/0", stream="x", group="y")
    try:
        assert not await queue.ping()
    finally:
        await queue.close()


# -- cancelling get() ------------------------------------------------------------------------------
#
# The worker cancels `get()` at every stop. On Python 3.11 a cancellation that lands while redis-py
# sends a command is lost (redis-py wraps the write in asyncio.wait_for, which drops a cancellation
# arriving just as the write completes), and the old get() then looped on XREADGROUP for ever, its
# task "cancelling" and never done. These tests fail (deadline) on that code.

CANCELLED_GET_DEADLINE = 1.0  # seconds a cancelled get() has to finish
GETTERS = 4  # concurrent getters on one queue, as a worker's consumers


async def finishes_after_cancel(task: asyncio.Task[Any]) -> None:
    """Cancel `task` and require that it ends, cancelled, within the deadline."""
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=CANCELLED_GET_DEADLINE)
    if not done:
        stack = "".join(f"\n  {frame.f_code.co_filename}:{frame.f_lineno}" for frame in task.get_stack())
        while not task.done():  # do not leave it looping behind the next test
            task.cancel()
            await asyncio.wait({task}, timeout=0.5)
        pytest.fail(f"get() still running {CANCELLED_GET_DEADLINE}s after cancel(), at:{stack}", pytrace=False)
    assert task.cancelled(), f"a cancelled get() must end cancelled, not with {task!r}"


async def blocked_clients(admin: aioredis.Redis, name: str) -> int:
    """Connections named `name` that Redis shows blocked in XREADGROUP right now."""
    return sum(
        1 for client in await admin.client_list()
        if client.get("name") == name and client.get("cmd") == "xreadgroup" and "b" in client.get("flags", "")
    )


@pytest.fixture()
async def admin(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.mark.parametrize("block", [2.0, 0.002], ids=["block-2s", "block-2ms"])
async def test_redis_get_cancelled_while_blocked_in_xreadgroup_finishes(
    redis_url: str, redis_names: dict[str, str], admin: aioredis.Redis, block: float
) -> None:
    """Like a worker's stop: getters blocked on an empty stream are cancelled; all of them end, and
    the queue (its connections) still works afterwards. With a 2 ms BLOCK the getters go round and
    round, so the cancellations land at every point of a round, not only in the blocked read."""
    for round_ in range(10):
        name = f"{redis_names['prefix']}:client:{round_}"
        client = aioredis.from_url(redis_url, decode_responses=True, client_name=name, health_check_interval=30)
        queue = RedisStreamQueue(client, stream=redis_names["stream"], group=redis_names["group"],
                                 consumer="worker", block=block, owns_client=True)
        try:
            getters = [asyncio.create_task(queue.get()) for _ in range(GETTERS)]

            async def all_blocked(name: str = name) -> bool:
                return await blocked_clients(admin, name) == GETTERS

            await eventually(all_blocked, what=f"{GETTERS} connections named {name} blocked in XREADGROUP")
            for getter in getters:
                await finishes_after_cancel(getter)
            assert await queue.put(job(f"d-{round_}"))
            delivery = await asyncio.wait_for(queue.get(), DEADLINE)
            assert delivery.job == job(f"d-{round_}")
            await queue.ack(delivery)
        finally:
            await queue.close()
    assert int((await admin.xpending(redis_names["stream"], redis_names["group"]))["pending"]) == 0


async def test_redis_get_cancelled_at_any_step_finishes(queues: Any) -> None:
    """Cancel get() after 0, 1, 2, ... event-loop steps, so the cancellation lands at each await of a
    round in turn (with a warm connection, step 1 is redis-py sending XREADGROUP: the lost-cancel
    spot). Whatever the step, get() must end cancelled within the deadline."""
    queue: RedisStreamQueue = queues("a")
    await queue.put(job("d-0"))
    await queue.ack(await asyncio.wait_for(queue.get(), DEADLINE))  # the group exists; a connection is pooled
    for steps in range(30):
        getter = asyncio.create_task(queue.get())
        for _ in range(steps):
            await asyncio.sleep(0)  # not a barrier: it only picks where the cancellation lands
        await finishes_after_cancel(getter)
    assert await queue.put(job("d-1"))
    delivery = await asyncio.wait_for(queue.get(), DEADLINE)
    assert delivery.job == job("d-1")


async def test_redis_entry_read_after_a_get_was_cancelled_goes_to_the_next_get(
    redis_url: str, redis_names: dict[str, str], admin: aioredis.Redis
) -> None:
    """An entry that arrives just after a blocked get() was cancelled is handed out by the next get()
    at once, as attempt 1: it is not stranded in this consumer's pending list until a takeover."""
    name = f"{redis_names['prefix']}:client"
    client = aioredis.from_url(redis_url, decode_responses=True, client_name=name)
    queue = RedisStreamQueue(client, stream=redis_names["stream"], group=redis_names["group"], consumer="a",
                             block=30.0, claim_idle=3600, owns_client=True)
    try:
        getter = asyncio.create_task(queue.get())

        async def blocked() -> bool:
            return await blocked_clients(admin, name) == 1

        await eventually(blocked, what="the getter blocked in XREADGROUP")
        await finishes_after_cancel(getter)
        await queue.put(job("d-1"))
        delivery = await asyncio.wait_for(queue.get(), DEADLINE)  # far less than BLOCK or claim_idle
        assert delivery.job == job("d-1") and delivery.attempt == 1
        await queue.ack(delivery)
        assert await pending(queue) == 0
    finally:
        await queue.close()
