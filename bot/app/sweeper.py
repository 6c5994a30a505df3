"""The sweeper: deliveries GitHub could not hand us are asked for again.

Why: while Redis (or the bot) is down, `POST /webhook` answers 503 and GitHub lists the delivery
as failed, but never redelivers it by itself. So, every `interval` seconds, one process (the
leader: whoever holds the Redis lock `<stream>:sweeper:lock`, taken with `SET NX PX` and a TTL so
a dead leader's lock expires) lists the App's failed deliveries since its last sweep
(`GET /app/hook/deliveries?status=failure`, App JWT, cursor pages) and asks GitHub to redeliver
(`POST /app/hook/deliveries/{id}/attempts`) each one whose GUID was never queued (answered 5xx or
not at all: a 4xx, such as a bad signature, would fail again; and at most `MAX_REDELIVERIES`
times): the queue's
de-duplication key `<dedup prefix><guid>` is set when a delivery is queued, so a GUID without one
was never processed. A redelivery asked for is remembered for a while
(`<stream>:sweeper:asked:<guid>`) so overlapping sweeps ask once; a redelivery that fails again is
a new failed delivery, found by the next sweep.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
from collections import Counter
from typing import Any

from bot.github.client import GitHubApp, GitHubError

__all__ = ["LOOKBACK", "Sweeper"]

log = logging.getLogger(__name__)

LOOKBACK = dt.timedelta(hours=72)  # GitHub keeps (and redelivers) deliveries for three days
MAX_REDELIVERIES = 3  # a GUID redelivered this often and failing still is left to an operator

# Release the lock only if it is still ours (it may have expired and been taken over).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Sweeper:
    """Redeliver the failed deliveries nobody processed; one leader at a time (module docstring)."""

    def __init__(self, app: GitHubApp, redis: Any, *, stream: str, dedup_prefix: str, interval: float = 60.0,
                 lookback: dt.timedelta = LOOKBACK) -> None:
        self.app = app
        self.redis = redis
        self.dedup_prefix = dedup_prefix
        self.interval = interval
        self.lookback = lookback
        self.lock_key = f"{stream}:sweeper:lock"
        self.since_key = f"{stream}:sweeper:since"
        self.asked_prefix = f"{stream}:sweeper:asked:"
        self.lock_ttl_ms = int(max(interval * 3, 30.0) * 1000)
        self._release = redis.register_script(_RELEASE)
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="delivery-sweeper")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def sweep(self) -> list[str] | None:
        """One sweep: the GUIDs whose redelivery was asked for; None when another process leads."""
        token = secrets.token_hex(8)
        if not await self.redis.set(self.lock_key, token, nx=True, px=self.lock_ttl_ms):
            return None
        try:
            started = dt.datetime.now(dt.UTC)
            stored = await self.redis.get(self.since_key)
            oldest = (started - self.lookback).strftime("%Y-%m-%dT%H:%M:%SZ")
            since = max(str(stored), oldest) if stored else oldest
            failed = await self.app.failed_deliveries(since)
            redelivered = Counter(d.guid for d in failed if d.redelivery)
            asked: list[str] = []
            for delivery in reversed(failed):  # oldest first: redelivered in the order they came
                if delivery.guid in asked or 400 <= delivery.status_code < 500:
                    continue  # a 4xx (a bad signature, a bad payload) fails the same way every time
                if redelivered[delivery.guid] >= MAX_REDELIVERIES:
                    log.error("sweeper: delivery %s failed %d redeliveries; not asking again",
                              delivery.guid, redelivered[delivery.guid])
                    continue
                if await self.redis.exists(self.dedup_prefix + delivery.guid):
                    continue  # queued by an earlier attempt (or by another server): processed
                if not await self.redis.set(self.asked_prefix + delivery.guid, "1", nx=True,
                                            px=self.lock_ttl_ms):
                    continue  # asked for by a sweep a moment ago
                await self.app.redeliver(delivery.id)
                asked.append(delivery.guid)
                log.info("sweeper: asked GitHub to redeliver %s (%s, answered %d at %s)",
                         delivery.guid, delivery.event, delivery.status_code, delivery.delivered_at)
            # The next sweep looks back a little before this one began: deliveries finish late.
            await self.redis.set(self.since_key,
                                 (started - dt.timedelta(seconds=self.interval)).strftime("%Y-%m-%dT%H:%M:%SZ"))
            return asked
        finally:
            await self._release(keys=[self.lock_key], args=[token])

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.sweep()
            except GitHubError as exc:
                log.warning("sweeper: %s; trying again in %.0fs", exc, self.interval)
            except Exception as exc:  # noqa: BLE001 - Redis away: the next sweep catches up
                log.warning("sweeper: cannot reach Redis (%s); trying again in %.0fs",
                            type(exc).__name__, self.interval)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._stop.wait()
