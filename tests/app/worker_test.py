"""Worker: failures stay contained, concurrency, one PR's jobs one after another (all of them, in
arrival order: the worker drops none), graceful and bounded stop.

No sleeps as barriers and no elapsed-time assertions: tests wait on events, or poll with a deadline
(`eventually`), and a "must finish" is a deadline on the awaited task."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.app.job_queue import Delivery, InProcessQueue, RedisStreamQueue
from bot.app.jobs import JobFailed, ReviewJob
from bot.app.worker import Worker
from tests.app.redis_fixtures import RedisServer, eventually

pytestmark = pytest.mark.anyio

DEADLINE = 10.0  # seconds: bounds a broken case only; the awaited thing normally takes milliseconds


@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"


def job(delivery: str, *, pull: int = 1, head: str = "a", check_run_id: int | None = None) -> ReviewJob:
    return ReviewJob(
        delivery_id=delivery, trigger="pull_request.synchronize", installation_id=7, owner="octo",
        repo="hello", pull_number=pull, head_sha=head * 40, base_sha="b" * 40, base_ref="main",
        default_branch="main", check_run_id=check_run_id,
    )


class Recorder:
    """A fake handler: records calls and concurrency; jobs can be held at a gate."""

    def __init__(self, *, gated: bool = False, fail: set[str] | None = None, reported: set[str] | None = None) -> None:
        self.started: list[str] = []
        self.finished: list[str] = []
        self.cancelled: list[str] = []
        self.running = 0
        self.max_running = 0
        self.running_per_pr: dict[int, int] = {}
        self.max_per_pr = 0
        self.gate = asyncio.Event()
        if not gated:
            self.gate.set()
        self.fail = fail or set()
        self.reported = reported or set()
        self.changed = asyncio.Condition()

    async def __call__(self, job: ReviewJob) -> None:
        self.started.append(job.delivery_id)
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        per_pr = self.running_per_pr.get(job.pull_number, 0) + 1
        self.running_per_pr[job.pull_number] = per_pr
        self.max_per_pr = max(self.max_per_pr, per_pr)
        await self._notify()
        try:
            await self.gate.wait()
            await asyncio.sleep(0)
            if job.delivery_id in self.fail:
                raise RuntimeError(f"GitHub said no to {job.delivery_id}")
            if job.delivery_id in self.reported:
                raise JobFailed("read main.tf@abc: cannot reach api.github.com: ConnectError: refused")
            self.finished.append(job.delivery_id)
        except asyncio.CancelledError:
            self.cancelled.append(job.delivery_id)
            raise
        finally:
            self.running -= 1
            self.running_per_pr[job.pull_number] -= 1
            await self._notify()

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def until(self, predicate: Any, timeout: float = DEADLINE) -> None:
        async def wait() -> None:
            async with self.changed:
                await self.changed.wait_for(predicate)

        await asyncio.wait_for(wait(), timeout)


@pytest.fixture()
async def queue() -> AsyncIterator[InProcessQueue]:
    q = InProcessQueue()
    yield q
    await q.close()


async def test_handler_exception_is_logged_and_the_worker_goes_on(
    queue: InProcessQueue, caplog: pytest.LogCaptureFixture
) -> None:
    handler = Recorder(fail={"d-1"})
    async with Worker(queue, handler, concurrency=1) as worker:
        await queue.put(job("d-1"))
        await queue.put(job("d-2", pull=2))
        await handler.until(lambda: handler.finished == ["d-2"])
        assert (worker.failed, worker.processed) == (1, 1)
    assert queue.unacked == 0  # the failed job was acked too: it is not retried forever
    failures = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "bot.app.worker"]
    assert len(failures) == 1
    message = failures[0].getMessage()
    assert "delivery=d-1" in message and "octo/hello#1" in message and "RuntimeError" in message
    assert failures[0].exc_info is not None  # the traceback is kept for debugging


async def test_a_failure_already_reported_is_one_line_without_a_traceback(
    queue: InProcessQueue, caplog: pytest.LogCaptureFixture
) -> None:
    handler = Recorder(reported={"d-1"})
    async with Worker(queue, handler, concurrency=1) as worker:
        await queue.put(job("d-1"))
        await queue.put(job("d-2", pull=2))
        await handler.until(lambda: handler.finished == ["d-2"])
        assert (worker.failed, worker.processed) == (1, 1)
    failures = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "bot.app.worker"]
    assert len(failures) == 1 and failures[0].exc_info is None
    assert "cannot reach api.github.com: ConnectError: refused" in failures[0].getMessage()


async def test_runs_up_to_concurrency_jobs_at_once(queue: InProcessQueue) -> None:
    handler = Recorder(gated=True)
    async with Worker(queue, handler, concurrency=3):
        for n in range(6):
            await queue.put(job(f"d-{n}", pull=n))
        await handler.until(lambda: handler.running == 3)
        # Every consumer is inside a (gated) job, so none can have taken a 4th delivery.
        assert handler.running == 3 and queue.qsize() == 3  # the other 3 wait in the queue
        handler.gate.set()
        await handler.until(lambda: len(handler.finished) == 6)
    assert handler.max_running == 3
    assert queue.unacked == 0


async def test_jobs_for_the_same_pr_never_overlap(queue: InProcessQueue) -> None:
    handler = Recorder(gated=True)
    async with Worker(queue, handler, concurrency=4):
        await queue.put(job("pr1-a", pull=1, head="a"))
        await handler.until(lambda: handler.started == ["pr1-a"])
        await queue.put(job("pr1-b", pull=1, head="b"))
        await queue.put(job("pr1-c", pull=1, head="c"))
        await queue.put(job("pr2-a", pull=2, head="a"))
        # PR 2 runs beside PR 1; PR 1's later jobs wait for its running one. The queue hands out in
        # order, so by the time pr2-a starts, pr1-b and pr1-c were taken and put in PR 1's lane.
        await handler.until(lambda: "pr2-a" in handler.started)
        assert handler.started == ["pr1-a", "pr2-a"] and queue.qsize() == 0
        handler.gate.set()
        await handler.until(lambda: len(handler.finished) == 4)
    assert handler.max_per_pr == 1
    pr1 = [d for d in handler.finished if d.startswith("pr1")]
    assert pr1 == ["pr1-a", "pr1-b", "pr1-c"]  # in arrival order


async def test_no_job_is_dropped_for_a_newer_one_of_the_same_pr(queue: InProcessQueue) -> None:
    """Whether a head is already reviewed is the job's business (its check run on GitHub), not the
    worker's: a redelivery of the same head under a new id, a re-run and a newer head all run, one
    after another, in arrival order."""
    handler = Recorder(gated=True)
    async with Worker(queue, handler, concurrency=2) as worker:
        await queue.put(job("sha1", head="1"))
        await handler.until(lambda: handler.started == ["sha1"])
        await queue.put(job("sha1-again", head="1"))
        await queue.put(job("sha1-rerun", head="1", check_run_id=99))
        await queue.put(job("sha2", head="2"))
        await eventually(lambda: queue.unacked == 4, what="all four deliveries taken, three waiting in the lane")
        assert handler.started == ["sha1"]
        handler.gate.set()
        await handler.until(lambda: len(handler.finished) == 4)
        assert handler.finished == ["sha1", "sha1-again", "sha1-rerun", "sha2"]
        assert worker.processed == 4 and handler.max_per_pr == 1
    assert queue.unacked == 0


async def test_graceful_stop_drains_running_jobs(queue: InProcessQueue) -> None:
    handler = Recorder(gated=True)
    worker = Worker(queue, handler, concurrency=2)
    await worker.start()
    await queue.put(job("d-1", pull=1))
    await queue.put(job("d-2", pull=2))
    await handler.until(lambda: handler.running == 2)
    stopping = asyncio.create_task(worker.stop(timeout=DEADLINE * 3))
    await eventually(lambda: worker.stopping, what="stop() to begin")
    assert not stopping.done()  # waits for the jobs in hand (gated: they cannot have finished)
    await queue.put(job("d-3", pull=3))  # arrives after stop began: not taken
    handler.gate.set()
    await asyncio.wait_for(stopping, DEADLINE)
    assert sorted(handler.finished) == ["d-1", "d-2"] and handler.cancelled == []
    assert queue.unacked == 0 and queue.qsize() == 1
    assert not worker.started


async def test_stop_cancels_jobs_past_the_timeout_and_hands_them_back(queue: InProcessQueue) -> None:
    handler = Recorder(gated=True)  # never released: a hung job
    worker = Worker(queue, handler, concurrency=1)
    await worker.start()
    await queue.put(job("hung"))
    await handler.until(lambda: handler.running == 1)
    await asyncio.wait_for(worker.stop(timeout=0.1), DEADLINE)
    assert handler.cancelled == ["hung"]
    assert queue.unacked == 0 and queue.qsize() == 1  # handed back: the next consumer takes it
    assert (await asyncio.wait_for(queue.get(), DEADLINE)).job.delivery_id == "hung"


async def test_stop_of_an_idle_worker_does_not_wait_for_the_timeout(queue: InProcessQueue) -> None:
    worker = Worker(queue, Recorder(), concurrency=4)
    await worker.start()
    await asyncio.wait_for(worker.stop(timeout=3600), DEADLINE)  # consumers waiting in get() end at once
    assert not worker.started
    await worker.stop()  # idempotent


async def test_job_timeout(queue: InProcessQueue, caplog: pytest.LogCaptureFixture) -> None:
    handler = Recorder(gated=True)
    async with Worker(queue, handler, concurrency=1, job_timeout=0.05) as worker:
        await queue.put(job("slow"))
        await handler.until(lambda: handler.cancelled == ["slow"])
        handler.gate.set()
        await queue.put(job("next", pull=2))
        await handler.until(lambda: handler.finished == ["next"])
        assert worker.failed == 1
    assert "delivery=slow review timed out" in caplog.text


async def test_a_handlers_own_timeout_error_is_a_failure_not_a_job_timeout(
    queue: InProcessQueue, caplog: pytest.LogCaptureFixture
) -> None:
    async def handler(job: ReviewJob) -> None:
        raise TimeoutError("GitHub read timed out")

    async with Worker(queue, handler, concurrency=1) as worker:
        await queue.put(job("d-1"))
        await eventually(lambda: worker.failed == 1, what="the job to fail")
    assert "delivery=d-1 review failed" in caplog.text and "GitHub read timed out" in caplog.text


class FlakyQueue(InProcessQueue):
    """Fails the first `failures` gets, like a Redis outage."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def get(self) -> Delivery:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("redis is down")
        return await super().get()


async def test_queue_outage_does_not_kill_consumers(caplog: pytest.LogCaptureFixture) -> None:
    queue = FlakyQueue(failures=2)
    handler = Recorder()
    async with Worker(queue, handler, concurrency=1, retry_delay=0.01):
        await queue.put(job("d-1"))
        await handler.until(lambda: handler.finished == ["d-1"])
    assert caplog.text.count("cannot read the queue (ConnectionError: redis is down)") == 2
    await queue.close()


async def test_repr_and_invalid_concurrency(queue: InProcessQueue) -> None:
    worker = Worker(queue, Recorder(), concurrency=2)
    assert "concurrency=2" in repr(worker)
    with pytest.raises(ValueError):
        Worker(queue, Recorder(), concurrency=0)


class CancelLosingQueue(InProcessQueue):
    """An in-process queue whose get() loses cancellations, as redis-py's did on Python 3.11: it
    only ends when the queue is closed."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = 0
        self.lost = 0

    async def get(self) -> Delivery:
        self.waiting += 1
        try:
            while True:
                try:
                    return await super().get()
                except asyncio.CancelledError:
                    self.lost += 1
        finally:
            self.waiting -= 1


async def test_stop_does_not_hang_on_a_get_that_loses_its_cancellation(caplog: pytest.LogCaptureFixture) -> None:
    queue = CancelLosingQueue()
    worker = Worker(queue, Recorder(), concurrency=2, cancel_timeout=0.2)
    try:
        await worker.start()
        await eventually(lambda: queue.waiting == 2, what="both consumers waiting in get()")
        await asyncio.wait_for(worker.stop(timeout=DEADLINE), DEADLINE)
        assert not worker.started and queue.lost >= 2
        assert caplog.text.count("queue.get() did not end within 0.2s of being cancelled; left behind") == 2
    finally:
        await queue.close()  # the gets left behind end now (QueueClosed)
    await eventually(lambda: queue.waiting == 0, what="the abandoned gets to end")


async def test_stop_does_not_hang_on_a_job_that_ignores_cancellation(
    queue: InProcessQueue, caplog: pytest.LogCaptureFixture
) -> None:
    release = asyncio.Event()
    started = asyncio.Event()

    async def stubborn(job: ReviewJob) -> None:
        started.set()
        while not release.is_set():
            try:
                await release.wait()
            except asyncio.CancelledError:
                continue  # a badly behaved job

    worker = Worker(queue, stubborn, concurrency=1, cancel_timeout=0.2)
    try:
        await worker.start()
        await queue.put(job("stubborn"))
        await asyncio.wait_for(started.wait(), DEADLINE)
        await asyncio.wait_for(worker.stop(timeout=0.1), DEADLINE)
        assert not worker.started
        assert "consumer task review-worker-0 did not end within 0.2s of being cancelled; left behind" \
            in caplog.text
    finally:
        release.set()  # let it end before the loop closes
    await eventually(lambda: queue.unacked == 0, what="the left-behind job to finish and be acked")


# -- with Redis Streams ----------------------------------------------------------------------------


class TouchCountingQueue(RedisStreamQueue):
    touches = 0

    async def touch(self, delivery: Delivery) -> None:
        await super().touch(delivery)
        self.touches += 1


async def test_redis_heartbeat_and_redelivery_after_a_cut_short_stop(
    redis_url: str, redis_names: dict[str, str]
) -> None:
    """A long job is touched by its live worker's heartbeat; when that worker stops before the job
    finishes, the delivery stays pending, and another process takes it over after the idle timeout."""
    stream, group = redis_names["stream"], redis_names["group"]
    first_queue = TouchCountingQueue(aioredis.from_url(redis_url, decode_responses=True), consumer="first",
                                     block=0.05, owns_client=True, stream=stream, group=group)
    other_queue = RedisStreamQueue.from_url(redis_url, consumer="other", claim_idle=0.3, block=0.05,
                                            stream=stream, group=group)
    slow = Recorder(gated=True)
    fast = Recorder()
    try:
        first = Worker(first_queue, slow, concurrency=1, heartbeat=0.05)
        await first.start()
        await first_queue.put(job("long"))
        await slow.until(lambda: slow.started == ["long"])
        await eventually(lambda: first_queue.touches >= 3, what="the heartbeat to touch the job")
        await asyncio.wait_for(first.stop(timeout=0.05), DEADLINE)  # cut short: cancelled, not acked
        assert slow.cancelled == ["long"]
        consumers = {c["name"]: c["pending"] for c in
                     await other_queue.redis.xinfo_consumers(other_queue.stream, other_queue.group)}
        assert consumers == {"first": 1}
        other = Worker(other_queue, fast, concurrency=1)
        await other.start()
        await fast.until(lambda: fast.finished == ["long"])
        await asyncio.wait_for(other.stop(), DEADLINE)
        assert int((await other_queue.redis.xpending(other_queue.stream, other_queue.group))["pending"]) == 0
    finally:
        await first_queue.close()
        await other_queue.close()


@pytest.mark.parametrize("block", [2.0, 0.002], ids=["block-2s", "block-2ms"])
async def test_redis_worker_stop_ends_its_blocked_reads_at_once(
    redis_url: str, redis_names: dict[str, str], block: float
) -> None:
    """Stop a worker whose consumers are blocked in XREADGROUP on an empty stream: it must not wait for
    its stop timeout (let alone hang). Repeated, with a 2 ms BLOCK too, so that the stop lands at
    every point of a read round."""
    admin = aioredis.from_url(redis_url, decode_responses=True)
    try:
        for cycle in range(10):
            name = f"{redis_names['prefix']}:worker:{cycle}"
            client = aioredis.from_url(redis_url, decode_responses=True, client_name=name, health_check_interval=30)
            queue = RedisStreamQueue(client, stream=redis_names["stream"], group=redis_names["group"],
                                     consumer="worker", block=block, owns_client=True)
            worker = Worker(queue, Recorder(), concurrency=4, stop_timeout=3600, cancel_timeout=3600)
            try:
                await worker.start()

                async def all_blocked(name: str = name) -> bool:
                    return sum(1 for c in await admin.client_list() if c.get("name") == name
                               and c.get("cmd") == "xreadgroup" and "b" in c.get("flags", "")) == 4

                await eventually(all_blocked, what=f"4 consumers of {name} blocked in XREADGROUP")
                stopping = asyncio.create_task(worker.stop())
                done, _ = await asyncio.wait({stopping}, timeout=DEADLINE)
                if not done:
                    await queue.close()  # ends the stuck reads, so the worker can finish
                    await asyncio.wait({stopping}, timeout=DEADLINE)
                    pytest.fail(f"worker.stop() still running {DEADLINE}s after it was called (cycle {cycle})",
                                pytrace=False)
                assert not worker.started
            finally:
                await queue.close()
    finally:
        await admin.aclose()


async def test_redis_worker_stopped_at_any_step_stops_at_once(redis_url: str, redis_names: dict[str, str]) -> None:
    """Start a worker on a warm queue and stop it after 0, 1, 2, ... event-loop steps, so the stop
    lands at each await of the consumers' first read in turn (redis-py sending XREADGROUP among
    them). stop() must return without waiting for its timeout."""
    queue = RedisStreamQueue.from_url(redis_url, consumer="worker", block=0.05,
                                      stream=redis_names["stream"], group=redis_names["group"])
    try:
        await queue.put(job("warm-up"))
        await queue.ack(await asyncio.wait_for(queue.get(), DEADLINE))  # group made, a connection pooled
        for steps in range(30):
            worker = Worker(queue, Recorder(), concurrency=2, stop_timeout=3600, cancel_timeout=3600)
            await worker.start()
            for _ in range(steps):
                await asyncio.sleep(0)  # not a barrier: it only picks where the stop lands
            stopping = asyncio.create_task(worker.stop())
            done, _ = await asyncio.wait({stopping}, timeout=DEADLINE)
            if not done:
                await queue.close()  # ends the stuck reads, so the worker can finish
                await asyncio.wait({stopping}, timeout=DEADLINE)
                pytest.fail(f"worker.stop() still running {DEADLINE}s after it was called ({steps} steps)",
                            pytrace=False)
    finally:
        await queue.close()


async def test_redis_worker_rides_out_a_redis_restart(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis is killed under a running worker and comes back empty (no persistence): the consumers
    log the outage and retry, and once Redis is back the group is made again and new jobs run."""
    queue = RedisStreamQueue.from_url(redis_server.url, consumer="worker", block=0.05, stream="jobs", group="g")
    handler = Recorder()
    try:
        async with Worker(queue, handler, concurrency=2, retry_delay=0.05):
            await queue.put(job("before"))
            await handler.until(lambda: handler.finished == ["before"])
            await asyncio.to_thread(redis_server.kill)
            await eventually(lambda: "cannot read the queue" in caplog.text, what="the consumers to see the outage")
            await asyncio.to_thread(redis_server.start)

            async def queued() -> bool:
                try:
                    return await queue.put(job("after"))
                except (RedisError, OSError):
                    return False  # still reconnecting

            await eventually(queued, what="the restarted Redis to accept a job")
            await handler.until(lambda: handler.finished == ["before", "after"])
        assert "consumer group g on jobs is gone; creating it again" in caplog.text
        assert int((await queue.redis.xpending("jobs", "g"))["pending"]) == 0
    finally:
        await queue.close()
