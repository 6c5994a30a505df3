"""The sweeper: deliveries GitHub could not hand us are asked for again.

Why: while Redis (or the bot) is down, or the queue is full, `POST /webhook` answers 503 (or
nothing) and GitHub lists the delivery as failed, but never redelivers it by itself. So, every
`interval` seconds, one process (the leader) lists the App's failed deliveries since its last
sweep (`GET /app/hook/deliveries?status=failure`, App JWT, cursor pages) and asks GitHub to
redeliver (`POST /app/hook/deliveries/{id}/attempts`) each one whose GUID was never queued
(answered 5xx or not at all: a 4xx, such as a bad signature, would fail again; and at most
`MAX_REDELIVERIES` times). A redelivery asked for is remembered for a while so overlapping sweeps
ask once; a redelivery that fails again is a new failed delivery, found by the next sweep.

What the sweeper remembers lives in a ledger:
- `RedisLedger` (web servers and workers on one Redis): the leader is whoever holds the lock
  `<stream>:sweeper:lock` (`SET NX PX`, with a TTL so a dead leader's lock expires); a GUID was
  queued when the queue's de-duplication key `<dedup prefix><guid>` exists; asked-for GUIDs are
  `<stream>:sweeper:asked:<guid>`.
- `LocalLedger` (the built-in single process): it always leads, and a GUID was queued when the
  in-process queue saw it. After a restart it has seen nothing, so its first sweep asks again for
  every delivery that failed in the last three days and was not redelivered `MAX_REDELIVERIES`
  times (those that failed while it was down, the reason it sweeps); one that a person
  redelivered meanwhile is reviewed again, which the runner makes harmless (one check run per
  head, a superseded head stops early).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
import time
from collections import Counter
from typing import Any, Protocol

from bot.app.job_queue import InProcessQueue
from bot.github.client import GitHubApp, GitHubError

__all__ = ["LOOKBACK", "LocalLedger", "RedisLedger", "SweepLedger", "Sweeper", "ledger_ttl"]

log = logging.getLogger(__name__)

LOOKBACK = dt.timedelta(hours=72)  # GitHub keeps (and redelivers) deliveries for three days
MAX_REDELIVERIES = 3  # a GUID redelivered this often and failing still is left to an operator

# Release the lock only if it is still ours (it may have expired and been taken over).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class SweepLedger(Protocol):
    """What the sweeper keeps between sweeps and shares with the queue (module docstring)."""

    async def lead(self) -> str | None:
        """A token when this process may sweep now; None when another one leads."""
        ...

    async def release(self, token: str) -> None:
        """Leadership taken with `token` is given up."""
        ...

    async def since(self) -> str | None:
        """Where the last sweep said the next should look from (ISO 8601 UTC); None: never swept."""
        ...

    async def swept(self, since: str) -> None:
        """The next sweep looks from `since`."""
        ...

    async def queued(self, guid: str) -> bool:
        """Whether a delivery with this GUID was queued (so processed, or being processed)."""
        ...

    async def ask_once(self, guid: str) -> bool:
        """True the first time in a while this GUID's redelivery is asked for."""
        ...

    def has_room(self) -> bool:
        """Whether a redelivery now would be queued (a full queue would refuse it once more)."""
        ...


class RedisLedger:
    """The ledger in Redis, shared by every process on it; one leader at a time (module docstring)."""

    def __init__(self, redis: Any, *, stream: str, dedup_prefix: str, ttl_ms: int) -> None:
        self.redis = redis
        self.dedup_prefix = dedup_prefix
        self.ttl_ms = ttl_ms
        self.lock_key = f"{stream}:sweeper:lock"
        self.since_key = f"{stream}:sweeper:since"
        self.asked_prefix = f"{stream}:sweeper:asked:"
        self._release = redis.register_script(_RELEASE)

    async def lead(self) -> str | None:
        token = secrets.token_hex(8)
        return token if await self.redis.set(self.lock_key, token, nx=True, px=self.ttl_ms) else None

    async def release(self, token: str) -> None:
        await self._release(keys=[self.lock_key], args=[token])

    async def since(self) -> str | None:
        stored = await self.redis.get(self.since_key)
        return str(stored) if stored else None

    async def swept(self, since: str) -> None:
        await self.redis.set(self.since_key, since)

    async def queued(self, guid: str) -> bool:
        return bool(await self.redis.exists(self.dedup_prefix + guid))

    async def ask_once(self, guid: str) -> bool:
        return bool(await self.redis.set(self.asked_prefix + guid, "1", nx=True, px=self.ttl_ms))

    def has_room(self) -> bool:
        return True  # the stream is capped by trimming, never by refusing


class LocalLedger:
    """The ledger of the built-in single process: it always leads; its queue knows what it queued."""

    def __init__(self, queue: InProcessQueue, ttl_seconds: float) -> None:
        self.queue = queue
        self.ttl_seconds = ttl_seconds
        self._since: str | None = None
        self._asked: dict[str, float] = {}

    async def lead(self) -> str | None:
        return "local"

    async def release(self, token: str) -> None:
        return None

    async def since(self) -> str | None:
        return self._since

    async def swept(self, since: str) -> None:
        self._since = since

    async def queued(self, guid: str) -> bool:
        return self.queue.has_seen(guid)

    async def ask_once(self, guid: str) -> bool:
        now = time.monotonic()
        self._asked = {g: until for g, until in self._asked.items() if until > now}
        if guid in self._asked:
            return False
        self._asked[guid] = now + self.ttl_seconds
        return True

    def has_room(self) -> bool:
        return self.queue.qsize() < self.queue.maxsize


def ledger_ttl(interval: float) -> float:
    """Seconds a leader's lock and an asked-for GUID are kept: a few sweeps' worth."""
    return max(interval * 3, 30.0)


class Sweeper:
    """Redeliver the failed deliveries nobody processed; one leader at a time (module docstring)."""

    def __init__(self, app: GitHubApp, ledger: SweepLedger, *, interval: float = 60.0,
                 lookback: dt.timedelta = LOOKBACK) -> None:
        self.app = app
        self.ledger = ledger
        self.interval = interval
        self.lookback = lookback
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
        token = await self.ledger.lead()
        if token is None:
            return None
        try:
            started = dt.datetime.now(dt.UTC)
            stored = await self.ledger.since()
            oldest = (started - self.lookback).strftime("%Y-%m-%dT%H:%M:%SZ")
            since = max(stored, oldest) if stored else oldest
            failed = await self.app.failed_deliveries(since)
            redelivered = Counter(d.guid for d in failed if d.redelivery)
            asked: list[str] = []
            full = False
            for delivery in reversed(failed):  # oldest first: redelivered in the order they came
                if delivery.guid in asked or 400 <= delivery.status_code < 500:
                    continue  # a 4xx (a bad signature, a bad payload) fails the same way every time
                if redelivered[delivery.guid] >= MAX_REDELIVERIES:
                    log.error("sweeper: delivery %s failed %d redeliveries; not asking again",
                              delivery.guid, redelivered[delivery.guid])
                    continue
                if await self.ledger.queued(delivery.guid):
                    continue  # queued by an earlier attempt (or by another server): processed
                if not self.ledger.has_room():
                    log.info("sweeper: the queue is full; the remaining redeliveries wait for the next sweep")
                    full = True
                    break
                if not await self.ledger.ask_once(delivery.guid):
                    continue  # asked for by a sweep a moment ago
                await self.app.redeliver(delivery.id)
                asked.append(delivery.guid)
                log.info("sweeper: asked GitHub to redeliver %s (%s, answered %d at %s)",
                         delivery.guid, delivery.event, delivery.status_code, delivery.delivered_at)
            # The next sweep looks back a little before this one began (deliveries finish late), or
            # as far as this one did when a full queue stopped it before the end.
            if not full:
                await self.ledger.swept((started - dt.timedelta(seconds=self.interval)).strftime("%Y-%m-%dT%H:%M:%SZ"))
            return asked
        finally:
            await self.ledger.release(token)

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.sweep()
            except GitHubError as exc:
                log.warning("sweeper: %s; trying again in %.0fs", exc, self.interval)
            except Exception as exc:  # noqa: BLE001 - Redis away: the next sweep catches up
                log.warning("sweeper: cannot reach its ledger (%s); trying again in %.0fs",
                            type(exc).__name__, self.interval)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._stop.wait()
