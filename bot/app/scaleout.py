"""What a process adds beside its queue to scale out: retries, latest heads, worker heartbeats.

One call, `attach(handler, queue, worker)`, gives a web or worker process the pieces that suit
its queue (Redis-backed when the queue is, in-process otherwise), hands the review runner its
retry scheduler and head record, and starts the background tasks (the retry mover, the
heartbeat); `close()` stops them. Kept apart from the server so every process role wires the
same way.

Heartbeats: each process running a `Worker` refreshes its consumer name in the sorted set
`<stream>:workers` (score = time of the last beat); `/readyz` counts those beaten within
`HEARTBEAT_TTL` seconds, so a web process knows whether any worker anywhere is alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from bot.app.heads import Heads, LocalHeads, RedisHeads
from bot.app.job_queue import InProcessQueue, JobQueue, RedisStreamQueue
from bot.app.retries import LocalRetries, RedisRetries, RetryMover, RetryPolicy, retries_for
from bot.app.sweeper import LocalLedger, RedisLedger, Sweeper, SweepLedger, ledger_ttl
from bot.github.client import GitHubApp

__all__ = ["HEARTBEAT_SECONDS", "HEARTBEAT_TTL", "Attached", "attach", "live_workers"]

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0
HEARTBEAT_TTL = 3 * HEARTBEAT_SECONDS  # a worker not heard of for three beats is taken for dead


@dataclass
class Attached:
    """The pieces `attach` made; `close()` stops their tasks."""

    heads: Heads
    retries: LocalRetries | RedisRetries | None
    queue: JobQueue
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _mover: RetryMover | None = None
    _sweeper: Sweeper | None = None

    async def close(self) -> None:
        self._stop.set()
        if self._mover is not None:
            await self._mover.stop()
        if self._sweeper is not None:
            await self._sweeper.stop()
        for task in self._tasks:
            await task
        if isinstance(self.retries, LocalRetries):
            await self.retries.close()


def attach(handler: Any, queue: JobQueue, worker: Any | None = None, *,
           policy: RetryPolicy | None = None, mover_interval: float = 0.5,
           heartbeat: float = HEARTBEAT_SECONDS, sweep_interval: float | None = None) -> Attached:
    """Wire retries and heads into `handler` (a `ReviewRunner`; other handlers are left alone)
    and start the background tasks. `worker`: this process's `Worker`, whose liveness is beaten.
    `sweep_interval`: seconds between sweeps for failed deliveries (None: no sweeper); with Redis
    one process of all sweeps, without it this one (`bot.app.sweeper`)."""
    heads: Heads = (RedisHeads(queue.redis, f"{queue.stream}:head:") if isinstance(queue, RedisStreamQueue)
                    else LocalHeads())
    retries = retries_for(queue, policy)
    if hasattr(handler, "retries") and handler.retries is None:
        handler.retries = retries
    if hasattr(handler, "heads") and handler.heads is None:
        handler.heads = heads
    if isinstance(queue, RedisStreamQueue) and worker is not None and hasattr(handler, "fail_abandoned"):
        queue.on_dead = handler.fail_abandoned  # a job given up by the queue completes its check run
    attached = Attached(heads, retries, queue)
    if isinstance(retries, RedisRetries):
        attached._mover = RetryMover(retries, mover_interval)
        attached._mover.start()
    app = getattr(handler, "app", None)
    if isinstance(app, GitHubApp) and sweep_interval:
        ttl = ledger_ttl(sweep_interval)
        ledger: SweepLedger | None = (
            RedisLedger(queue.redis, stream=queue.stream, dedup_prefix=queue.dedup_prefix, ttl_ms=int(ttl * 1000))
            if isinstance(queue, RedisStreamQueue) else LocalLedger(queue, ttl) if isinstance(queue, InProcessQueue)
            else None)
        if ledger is not None:
            attached._sweeper = Sweeper(app, ledger, interval=sweep_interval)
            attached._sweeper.start()
    if isinstance(queue, RedisStreamQueue) and worker is not None:
        attached._tasks.append(asyncio.create_task(_beat(queue, worker, attached._stop, heartbeat),
                                                   name="worker-heartbeat"))
    return attached


def workers_key(queue: RedisStreamQueue) -> str:
    return f"{queue.stream}:workers"


async def _beat(queue: RedisStreamQueue, worker: Any, stop: asyncio.Event, every: float) -> None:
    key = workers_key(queue)
    while not stop.is_set():
        if worker.started and not worker.stopping:
            try:
                now = time.time()
                async with queue.redis.pipeline(transaction=True) as pipe:
                    pipe.zadd(key, {queue.consumer: now})
                    pipe.zremrangebyscore(key, "-inf", now - 10 * HEARTBEAT_TTL)  # long-dead names
                    await pipe.execute()
            except Exception as exc:  # noqa: BLE001 - Redis away: /readyz says so already
                log.debug("heartbeat not written (%s)", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(every):
                await stop.wait()
    with contextlib.suppress(Exception):
        await queue.redis.zrem(key, queue.consumer)  # a clean stop is not a dead worker


async def live_workers(queue: RedisStreamQueue) -> int:
    """Workers (in any process) that beat within `HEARTBEAT_TTL` seconds."""
    return int(await queue.redis.zcount(workers_key(queue), time.time() - HEARTBEAT_TTL, "+inf"))
