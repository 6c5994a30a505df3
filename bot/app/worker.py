"""Run review jobs from a `JobQueue`: N consumers; one PR's jobs one after another.

De-duplication has one design, and none of it lives here:

- the queue drops a delivery id it has already seen (a GitHub redelivery);
- a review is keyed by (repository, PR, head SHA, policy SHA, engine version) and its check run is
  found again on GitHub, so the job itself skips work that is already done;
- with Redis, a per-PR lease taken by the job runner serialises jobs for one PR across processes.

The worker never drops a job because another one for the same PR is around: whether a PR head is
already reviewed is not for process-local memory to decide. Its per-PR lanes are pure scheduling:
a delivery for a PR whose job is running waits in that PR's lane and is run, in arrival order, by
the consumer already busy with the PR, so the other consumers stay free for other PRs.

Each of the `concurrency` consumer tasks takes a delivery from the queue and runs the handler on
it, within `job_timeout`. A handler exception is logged (delivery id, PR, exception; never the
job's credentials, which it does not carry) and the consumer goes on. Every finished job is acked,
failed or not: retrying is the job's business (it reports failures on the check run). A heartbeat
`touch`es the deliveries in hand so a Redis queue does not hand a long job to another consumer.
Deliveries whose job did not finish (the process stopped) are not acked, so a Redis queue hands
them out again.

`stop(timeout)` stops taking deliveries, lets running jobs (and jobs already waiting in their
lanes) finish for up to `timeout` seconds, then cancels what is left. No wait in `stop()` is
unbounded: a task that does not end within `cancel_timeout` of being cancelled (a queue client
or handler that loses the cancellation) is logged and left behind rather than hanging shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Self

from bot.app.job_queue import Delivery, JobQueue, QueueClosed
from bot.app.jobs import JobFailed, ReviewJob
from bot.app.logs import job_scope
from bot.app.metrics import Metrics

__all__ = ["Handler", "Worker", "stopped_by_shutdown"]

log = logging.getLogger(__name__)

Handler = Callable[[ReviewJob], Awaitable[None]]

PullRequestKey = tuple[int, str, str, int]


class _Shutdown:
    """Set on a running job before `stop()` cancels it: the handler then knows the cancellation is
    a shutdown (hand the job back) and not its time-out (fail it)."""

    def __init__(self) -> None:
        self.stopping = False


_JOB_SHUTDOWN: contextvars.ContextVar[_Shutdown | None] = contextvars.ContextVar("job_shutdown", default=None)


def stopped_by_shutdown() -> bool:
    """In a job being cancelled: whether its worker is shutting down (the job goes back to the queue)."""
    flag = _JOB_SHUTDOWN.get()
    return flag is not None and flag.stopping


def pr_key(job: ReviewJob) -> PullRequestKey:
    return (job.installation_id, job.owner.lower(), job.repo.lower(), job.pull_number)


@dataclass
class _Lane:
    """Deliveries for one PR: the one running (held by one consumer) and those waiting behind it."""

    waiting: deque[Delivery] = field(default_factory=deque)


class Worker:
    """Consume `queue` with `concurrency` tasks, calling `handler(job)` for each delivery.

    - `stop_timeout`: default for `stop()`.
    - `job_timeout`: a job running longer is cancelled and logged (None = no limit).
    - `heartbeat`: seconds between `queue.touch()` calls for held deliveries, so a Redis queue does
      not hand a long job to another consumer while this one is alive.
    - `retry_delay`: first pause after the queue fails to hand out a delivery (doubles, up to 30 s).
    - `cancel_timeout`: how long to wait for a cancelled task (a `queue.get()`, a consumer, the
      heartbeat) to end before logging it and going on without it.
    """

    def __init__(
        self,
        queue: JobQueue,
        handler: Handler,
        concurrency: int = 4,
        *,
        stop_timeout: float = 25.0,
        job_timeout: float | None = 900.0,
        heartbeat: float = 30.0,
        retry_delay: float = 1.0,
        cancel_timeout: float = 5.0,
        metrics: Metrics | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.queue = queue
        self.handler = handler
        self.concurrency = concurrency
        self.stop_timeout = stop_timeout
        self.job_timeout = job_timeout
        self.heartbeat = heartbeat
        self.retry_delay = retry_delay
        self.cancel_timeout = cancel_timeout
        self.metrics = metrics  # jobs by outcome, when given
        self._lanes: dict[PullRequestKey, _Lane] = {}
        self._held: dict[str, Delivery] = {}  # handed out by the queue, not yet acked
        self._running: dict[str, Delivery] = {}
        self._shutdown_flags: dict[str, _Shutdown] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._heartbeat_task: asyncio.Task[None] | None = None
        self._stopping: asyncio.Event | None = None
        self._consumers_done: asyncio.Event | None = None
        self.processed = 0
        self.failed = 0

    def __repr__(self) -> str:
        return (
            f"Worker(concurrency={self.concurrency}, running={len(self._running)}, "
            f"held={len(self._held)}, processed={self.processed}, failed={self.failed})"
        )

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return bool(self._tasks)

    @property
    def stopping(self) -> bool:
        """`stop()` has begun: no delivery is taken any more."""
        return self._stopping is not None and self._stopping.is_set() and bool(self._tasks)

    @property
    def running_jobs(self) -> list[ReviewJob]:
        """Jobs whose handler is running now."""
        return [d.job for d in self._running.values()]

    async def start(self) -> None:
        if self._tasks:
            raise RuntimeError("worker already started")
        self._stopping = asyncio.Event()
        self._consumers_done = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._consume(i), name=f"review-worker-{i}") for i in range(self.concurrency)
        ]
        self._heartbeat_task = asyncio.create_task(self._beat(), name="review-worker-heartbeat")
        log.info("worker started: %d consumer(s) on %r", self.concurrency, self.queue)

    async def stop(self, timeout: float | None = None) -> None:
        """Stop taking deliveries; wait up to `timeout` s for jobs in hand, then cancel them."""
        if not self._tasks or self._stopping is None or self._consumers_done is None:
            return
        timeout = self.stop_timeout if timeout is None else timeout
        self._stopping.set()
        tasks = list(self._tasks)
        _done, pending = await asyncio.wait(tasks, timeout=timeout)
        if pending:
            for flag in self._shutdown_flags.values():
                flag.stopping = True
            log.warning(
                "worker stop: %d job(s) still running after %.1fs, cancelling: %s",
                len(self._running), timeout,
                ", ".join(_describe(d.job) for d in self._running.values()) or "-",
            )
            await self._cancel(pending, "consumer")
        # The heartbeat kept touching the jobs in hand while they drained; now it ends by itself.
        self._consumers_done.set()
        if self._heartbeat_task is not None:
            _done, beating = await asyncio.wait({self._heartbeat_task}, timeout=self.cancel_timeout)
            if beating:
                await self._cancel(beating, "heartbeat")
        await self._hand_back()
        self._tasks = []
        self._heartbeat_task = None
        log.info("worker stopped: %d job(s) processed, %d failed", self.processed, self.failed)

    async def _hand_back(self) -> None:
        """Deliveries still held after stopping go back to the queue, unacked, for another consumer
        to take at once (not after a takeover's wait)."""
        for delivery in list(self._held.values()):
            try:
                async with asyncio.timeout(self.cancel_timeout):
                    await self.queue.release(delivery)
            except Exception as exc:  # noqa: BLE001 - still unacked: a takeover finds it after claim_idle
                log.warning("delivery=%s could not be handed back (%s); it is taken over once idle",
                            delivery.job.delivery_id, type(exc).__name__)
            self._held.pop(delivery.id, None)

    async def _cancel(self, tasks: set[asyncio.Task[None]], what: str) -> None:
        """Cancel `tasks` and wait for them, at most `cancel_timeout` s; log the ones left behind."""
        for task in tasks:
            task.cancel()
        _done, stuck = await asyncio.wait(tasks, timeout=self.cancel_timeout)
        for task in stuck:
            log.error("worker stop: %s task %s did not end within %.1fs of being cancelled; left behind",
                      what, task.get_name(), self.cancel_timeout)
            task.add_done_callback(_retrieve)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- consumers -------------------------------------------------------------------------------

    async def _consume(self, index: int) -> None:
        assert self._stopping is not None
        failures = 0
        while not self._stopping.is_set():
            try:
                delivery = await self._next()
            except QueueClosed:
                return
            except Exception as exc:  # noqa: BLE001 - the queue backend is down: wait and retry
                failures += 1
                log.error("worker %d: cannot read the queue (%s: %s); retrying", index, type(exc).__name__, exc)
                await self._sleep(min(self.retry_delay * 2 ** min(failures - 1, 5), 30.0))
                continue
            failures = 0
            if delivery is None:
                return  # stopping
            self._held[delivery.id] = delivery
            key = pr_key(delivery.job)
            lane = self._lanes.get(key)
            if lane is not None:
                self._enqueue_behind(lane, delivery)
                continue  # the consumer holding this PR runs it; this one takes more work
            self._lanes[key] = lane = _Lane()
            try:
                await self._run(delivery)
                # Run what queued up for this PR meanwhile; on stop, still finish what is in hand.
                while lane.waiting:
                    await self._run(lane.waiting.popleft())
            finally:
                del self._lanes[key]

    async def _next(self) -> Delivery | None:
        """The next delivery, or None once stopping (a delivery that arrived meanwhile is kept)."""
        assert self._stopping is not None
        get = asyncio.ensure_future(self.queue.get())
        stop = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({get, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            if not get.done():
                get.cancel()
                get.add_done_callback(_retrieve)
                # Bounded: a get() that loses its cancellation must not hold this consumer (or stop()).
                # A delivery it hands out after being left behind stays unacked: the queue redelivers it.
                await asyncio.wait({get}, timeout=self.cancel_timeout)
                if not get.done():
                    log.error("queue.get() did not end within %.1fs of being cancelled; left behind",
                              self.cancel_timeout)
        if not get.done() or get.cancelled():
            return None
        return get.result()

    def _enqueue_behind(self, lane: _Lane, delivery: Delivery) -> None:
        lane.waiting.append(delivery)
        log.debug("delivery=%s waits for the running review of %s", delivery.job.delivery_id,
                  _describe(delivery.job))

    async def _run(self, delivery: Delivery) -> None:
        with job_scope(delivery.job.delivery_id, delivery.job.full_name, delivery.job.pull_number,
                       delivery.job.head_sha):  # the worker's own lines of the job name it too
            await self._run_job(delivery)

    async def _run_job(self, delivery: Delivery) -> None:
        job = delivery.job
        self._running[delivery.id] = delivery
        started = time.monotonic()
        log.info("delivery=%s review started: %s (%s, attempt %d)",
                 job.delivery_id, _describe(job), job.trigger, delivery.attempt)
        deadline = asyncio.timeout(self.job_timeout)
        flag = self._shutdown_flags[delivery.id] = _Shutdown()
        token = _JOB_SHUTDOWN.set(flag)
        try:
            async with deadline:
                await self.handler(job)
        except asyncio.CancelledError:
            # Stopped before the job finished: leave it unacked so it is handed out again.
            log.warning("delivery=%s review cancelled before it finished: %s", job.delivery_id, _describe(job))
            self._count("cancelled")
            raise
        except Exception as exc:
            self.failed += 1
            timed_out = isinstance(exc, TimeoutError) and deadline.expired()
            self._count("timed_out" if timed_out else "failed")
            if timed_out:
                log.error("delivery=%s review timed out after %.0fs: %s",
                          job.delivery_id, self.job_timeout, _describe(job))
            else:
                log.error(
                    "delivery=%s review failed after %.2fs: %s: %s: %s",
                    job.delivery_id, time.monotonic() - started, _describe(job), type(exc).__name__, exc,
                    exc_info=None if isinstance(exc, JobFailed) else exc,
                )
        else:
            self.processed += 1
            self._count("done")
            log.info("delivery=%s review done in %.2fs: %s",
                     job.delivery_id, time.monotonic() - started, _describe(job))
        finally:
            self._running.pop(delivery.id, None)
            self._shutdown_flags.pop(delivery.id, None)
            _JOB_SHUTDOWN.reset(token)
        await self._ack(delivery)

    def _count(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.job(outcome)

    async def _ack(self, delivery: Delivery) -> None:
        try:
            await self.queue.ack(delivery)
        except Exception as exc:  # noqa: BLE001
            log.error("delivery=%s could not be acked (%s: %s); it may run again",
                      delivery.job.delivery_id, type(exc).__name__, exc)
        finally:
            self._held.pop(delivery.id, None)

    async def _beat(self) -> None:
        assert self._consumers_done is not None
        while not await _wait_event(self._consumers_done, self.heartbeat):
            for delivery in list(self._held.values()):
                try:
                    await self.queue.touch(delivery)
                except Exception as exc:  # noqa: BLE001
                    log.warning("delivery=%s heartbeat failed (%s)", delivery.job.delivery_id, type(exc).__name__)

    async def _sleep(self, seconds: float) -> None:
        assert self._stopping is not None
        await _wait_event(self._stopping, seconds)


async def _wait_event(event: asyncio.Event, seconds: float) -> bool:
    """Wait up to `seconds` for `event`; whether it is set."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
    return event.is_set()


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Done-callback for a task left behind: collect its outcome so asyncio does not complain."""
    if not task.cancelled() and task.exception() is not None:
        log.debug("a task left behind ended with %r", task.exception())


def _describe(job: ReviewJob) -> str:
    return f"{job.full_name}#{job.pull_number}@{job.head_sha[:12]}"
