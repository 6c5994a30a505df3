"""Queues that carry `ReviewJob`s from the webhook server to the worker.

`JobQueue` is the protocol. Two implementations:

- `InProcessQueue`: an asyncio queue inside this process (the default when REDIS_URL is unset).
  Bounded; jobs are lost if the process stops.
- `RedisStreamQueue`: a Redis Stream read through a consumer group, at-least-once:
  `put` de-duplicates by X-GitHub-Delivery id (`SET NX EX`) and `XADD`s (`MAXLEN ~`) in one
  atomic script; `get` `XREADGROUP`s as this process's consumer; `ack` `XACK`s after the job
  finished; a delivery left pending by a dead consumer is taken over with `XAUTOCLAIM` once it has
  been idle for `claim_idle` seconds (3 heartbeats by default: seconds, not minutes). A live
  consumer keeps its long jobs from being taken over by calling `touch` (the worker does it on a
  timer); a stopping one hands a job back with `release` (idle as if long dead: taken at once);
  consumers silent past `claim_idle` with nothing pending are removed from the group.

A `Delivery` is one hand-out of a job: the job plus the queue's message id and attempt number.

Cancelling `RedisStreamQueue.get()` (the worker does it at every stop) never depends on cancelling
redis-py. Each read ("round": one XAUTOCLAIM check or one XREADGROUP BLOCK of at most `block`
seconds) runs in a task of its own, and `get()` only waits for it with `asyncio.wait`, which is
always cancellable. Why: on Python 3.11, redis-py 8 sends every command through
`asyncio.wait_for(write, socket_timeout)`, and 3.11's `wait_for` drops a cancellation that arrives
just as the write completes (CPython gh-86296, fixed by the 3.12 rewrite of `wait_for`). The
command then goes on as if nothing happened; the old `get()`, a loop of XREADGROUPs that only
returns with an entry, went round for ever on an empty stream, its task "cancelling" but never
done, and so did a worker's stop. Now a cancelled `get()` ends at once; its round is not
interrupted mid-command (so its connection goes back to the pool clean) and ends by itself within
`block` seconds; an entry it reads meanwhile is handed out by the next `get()` instead of waiting
in this consumer's pending list for a takeover. `close()` cancels the rounds still running (an
interrupted read makes redis-py disconnect that connection, so it is never reused) and waits for
them, bounded by `block`, before closing the client.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from bot.app.jobs import ReviewJob

__all__ = [
    "Delivery",
    "InProcessQueue",
    "JobQueue",
    "QueueClosed",
    "QueueFull",
    "QueueStats",
    "RedisStreamQueue",
]

log = logging.getLogger(__name__)

_HANDED_BACK_MS = 24 * 3600 * 1000  # idle time given to an entry handed back: past any claim_idle
DEFAULT_DEDUP_TTL = 3 * 24 * 3600  # GitHub keeps deliveries (and lets you redeliver them) for 3 days


class QueueClosed(Exception):
    """The queue was closed: `get` has nothing more to hand out, `put` accepts nothing."""


class QueueFull(Exception):
    """The bounded in-process queue is full (the server answers 503)."""


@dataclass(frozen=True)
class Delivery:
    """One hand-out of a job by a queue.

    - `id`: the queue's message id (Redis stream entry id, or a counter in-process); `ack` needs it.
    - `attempt`: how many times the queue has handed this message out (1 = first time).
    - `order`: arrival order within one queue (later = greater), for logs and tests.
    - `queued_at`: when it was queued (Unix time), for the oldest job's age in the metrics.
    """

    id: str
    job: ReviewJob
    attempt: int = 1
    order: tuple[int, int] = field(default=(0, 0), compare=False)
    queued_at: float = field(default_factory=time.time, compare=False)


@dataclass(frozen=True)
class QueueStats:
    """What `/metrics` shows of a queue: jobs waiting to be handed out, jobs handed out and not yet
    finished, and the age in seconds of the oldest of either (0 when there is none)."""

    waiting: int
    in_progress: int
    oldest_age: float


@runtime_checkable
class JobQueue(Protocol):
    """What the server and the worker need from a queue."""

    async def put(self, job: ReviewJob) -> bool:
        """Enqueue `job`; False when its delivery id was already queued (a redelivery)."""
        ...

    async def get(self) -> Delivery:
        """Wait for the next delivery; raises `QueueClosed` once the queue is closed."""
        ...

    def __aiter__(self) -> AsyncIterator[Delivery]:
        """`async for delivery in queue:` until the queue is closed."""
        ...

    async def ack(self, delivery: Delivery) -> None:
        """The job of `delivery` is finished (successfully or not): never hand it out again."""
        ...

    async def touch(self, delivery: Delivery) -> None:
        """`delivery` is still being worked on: keep other consumers from taking it over."""
        ...

    async def release(self, delivery: Delivery) -> None:
        """`delivery` was stopped before it finished: hand it to another consumer at once, unacked."""
        ...

    async def ping(self) -> bool:
        """Whether the queue's backend is reachable (for /healthz)."""
        ...

    async def close(self) -> None:
        """Stop handing out deliveries and release connections. Idempotent."""
        ...


async def _iterate(queue: JobQueue) -> AsyncIterator[Delivery]:
    while True:
        try:
            yield await queue.get()
        except QueueClosed:
            return


class _SeenDeliveries:
    """Delivery ids seen in the last `ttl` seconds, at most `capacity` of them (oldest dropped)."""

    def __init__(self, ttl: float, capacity: int) -> None:
        self.ttl = ttl
        self.capacity = capacity
        self._expiry: collections.OrderedDict[str, float] = collections.OrderedDict()

    def add(self, key: str) -> bool:
        """Record `key`; False when it was already recorded and has not expired."""
        now = time.monotonic()
        while self._expiry:
            oldest, expires = next(iter(self._expiry.items()))
            if expires > now and len(self._expiry) < self.capacity:
                break
            del self._expiry[oldest]
        if key in self._expiry:
            return False
        self._expiry[key] = now + self.ttl
        return True

    def forget(self, key: str) -> None:
        self._expiry.pop(key, None)

    def __contains__(self, key: str) -> bool:
        expires = self._expiry.get(key)
        return expires is not None and expires > time.monotonic()


class InProcessQueue:
    """A bounded asyncio queue; `put` raises `QueueFull` rather than making the webhook wait."""

    def __init__(self, maxsize: int = 1000, *, dedup_ttl: float = DEFAULT_DEDUP_TTL, dedup_capacity: int = 100_000):
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self._items: collections.deque[Delivery] = collections.deque()
        self._ready = asyncio.Condition()
        self._seen = _SeenDeliveries(dedup_ttl, dedup_capacity)
        self._counter = itertools.count(1)
        self._unacked: dict[str, float] = {}  # id -> queued_at
        self._closed = False

    def __repr__(self) -> str:
        return f"InProcessQueue(maxsize={self.maxsize}, queued={len(self._items)}, unacked={len(self._unacked)})"

    def qsize(self) -> int:
        return len(self._items)

    def has_seen(self, delivery_id: str) -> bool:
        """Whether a delivery with this id was queued here lately (the sweeper's question)."""
        return delivery_id in self._seen

    @property
    def unacked(self) -> int:
        """Deliveries handed out and not yet acked."""
        return len(self._unacked)

    async def put(self, job: ReviewJob) -> bool:
        if self._closed:
            raise QueueClosed("queue is closed")
        if len(self._items) >= self.maxsize:
            raise QueueFull(f"in-process queue is full ({self.maxsize} jobs waiting)")
        if not self._seen.add(job.delivery_id):
            return False
        n = next(self._counter)
        async with self._ready:
            self._items.append(Delivery(id=str(n), job=job, order=(n, 0)))
            self._ready.notify()
        return True

    async def requeue(self, job: ReviewJob) -> None:
        """Queue `job` again past the de-duplication (its delivery id was seen): a retry that
        `bot.app.retries` re-scheduled. Dropped, with a log line, once the queue is closed."""
        if self._closed:
            log.warning("delivery=%s retry dropped: the queue is closed", job.delivery_id)
            return
        n = next(self._counter)
        async with self._ready:
            self._items.append(Delivery(id=str(n), job=job, order=(n, 0)))
            self._ready.notify()

    async def get(self) -> Delivery:
        async with self._ready:
            await self._ready.wait_for(lambda: self._closed or bool(self._items))
            if self._closed:
                raise QueueClosed("queue is closed")
            delivery = self._items.popleft()
            self._unacked[delivery.id] = delivery.queued_at
            return delivery

    def __aiter__(self) -> AsyncIterator[Delivery]:
        return _iterate(self)

    async def ack(self, delivery: Delivery) -> None:
        self._unacked.pop(delivery.id, None)

    async def touch(self, delivery: Delivery) -> None:
        return None

    async def release(self, delivery: Delivery) -> None:
        self._unacked.pop(delivery.id, None)
        if self._closed:
            log.warning("delivery=%s stopped with the process: the in-process queue cannot keep it",
                        delivery.job.delivery_id)
            return
        async with self._ready:
            self._items.appendleft(delivery)
            self._ready.notify()

    async def ping(self) -> bool:
        return not self._closed

    async def stats(self) -> QueueStats:
        """Jobs waiting and in progress in this process, and the oldest one's age."""
        times = [d.queued_at for d in self._items] + list(self._unacked.values())
        return QueueStats(len(self._items), len(self._unacked), max(time.time() - min(times), 0.0) if times else 0.0)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._items:
            log.warning("in-process queue closed with %d job(s) not started; they are dropped", len(self._items))
            self._items.clear()
        async with self._ready:
            self._ready.notify_all()


# Atomically: remember the delivery id for `ttl` seconds, and append the job only if it is new.
# KEYS[1] = de-dup key, KEYS[2] = stream; ARGV = ttl, maxlen, job JSON, delivery id.
_PUT_SCRIPT = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'job', ARGV[3], 'delivery', ARGV[4])
end
return false
"""


# Remove the consumers of a group idle past a threshold with nothing pending, in one step.
# KEYS[1] = stream; ARGV = group, this consumer's name (kept), idle threshold in ms.
_FORGET_DEAD_SCRIPT = """
local removed = {}
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local fields = {}
  for i = 1, #consumer, 2 do fields[consumer[i]] = consumer[i + 1] end
  if fields['name'] ~= ARGV[2] and tonumber(fields['pending']) == 0 and tonumber(fields['idle']) > tonumber(ARGV[3]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], fields['name'])
    table.insert(removed, fields['name'])
  end
end
return removed
"""


def _id_ms(entry_id: str) -> int:
    return int(str(entry_id).split("-", 1)[0])


def default_consumer_name() -> str:
    """Unique per process: host, pid and a random suffix (a restarted process is a new consumer)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class RedisStreamQueue:
    """At-least-once job queue on a Redis Stream and consumer group (see the module docstring).

    `redis` must be a `redis.asyncio.Redis`; use `RedisStreamQueue.from_url()` to have the queue
    own (and close) its client. Stream, group and key names are parameters so tests can isolate.
    """

    def __init__(
        self,
        redis: Any,
        *,
        stream: str = "compliance-bot:jobs",
        group: str = "compliance-bot",
        consumer: str | None = None,
        dedup_prefix: str | None = None,
        dedup_ttl: int = DEFAULT_DEDUP_TTL,
        maxlen: int = 10_000,
        claim_idle: float = 300.0,
        claim_interval: float | None = None,
        block: float = 2.0,
        max_attempts: int = 5,
        owns_client: bool = False,
    ) -> None:
        self.redis = redis
        self.stream = stream
        self.group = group
        self.consumer = consumer or default_consumer_name()
        self.dedup_prefix = dedup_prefix if dedup_prefix is not None else f"{stream}:delivery:"
        self.dedup_ttl = int(dedup_ttl)
        self.maxlen = maxlen
        self.claim_idle = claim_idle
        self.claim_interval = claim_interval if claim_interval is not None else max(min(claim_idle / 2, 30.0), 0.01)
        self.block = block
        self.max_attempts = max_attempts
        self.dead_letter_stream = f"{stream}:dead"
        self._owns_client = owns_client
        self._put_script = redis.register_script(_PUT_SCRIPT)
        self._forget_script = redis.register_script(_FORGET_DEAD_SCRIPT)
        self._group_ready = False
        self._next_claim = 0.0
        self._claim_cursor = "0-0"
        self._closed = False
        self._rounds: set[asyncio.Task[Delivery | None]] = set()  # reads in flight
        self._orphans: set[asyncio.Task[Delivery | None]] = set()  # ... whose getter was cancelled
        self._spare: collections.deque[Delivery] = collections.deque()  # read by an orphan, not handed out
        self._spare_waiters: set[asyncio.Future[None]] = set()
        # Told of a job given up after `max_attempts` hand-outs (with the cause in words), so its
        # check run is completed `failure` instead of being left queued for ever (the worker role
        # sets it to the review runner's `fail_abandoned`). Runs in the background, bounded.
        self.on_dead: Callable[[ReviewJob, str], Awaitable[None]] | None = None
        self.on_dead_timeout = 120.0
        self._dead_tasks: set[asyncio.Task[None]] = set()

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisStreamQueue:
        """A queue owning a new `redis.asyncio` client for `url` (closed by `close()`)."""
        from bot.app.redis_client import redis_client

        client = redis_client(url, decode_responses=True, health_check_interval=30)
        return cls(client, owns_client=True, **kwargs)

    def __repr__(self) -> str:
        return f"RedisStreamQueue(stream={self.stream!r}, group={self.group!r}, consumer={self.consumer!r})"

    # -- producer ------------------------------------------------------------------------------

    async def put(self, job: ReviewJob) -> bool:
        if self._closed:
            raise QueueClosed("queue is closed")
        await self._ensure_group()
        entry_id = await self._put_script(
            keys=[self.dedup_prefix + job.delivery_id, self.stream],
            args=[self.dedup_ttl, self.maxlen, job.to_json(), job.delivery_id],
        )
        return entry_id is not None

    # -- consumer ------------------------------------------------------------------------------

    async def get(self) -> Delivery:
        """The next delivery. Cancelling a waiting `get()` always ends it at once (module docstring)."""
        while True:
            if self._closed:
                raise QueueClosed("queue is closed")
            if self._spare:
                return self._spare.popleft()
            read = self._adopt_round() or self._start_round()
            spare = asyncio.get_running_loop().create_future()
            self._spare_waiters.add(spare)
            try:
                # asyncio.wait, unlike redis-py's own awaits, never loses a cancellation.
                await asyncio.wait({read, spare}, return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                self._abandon_round(read)
                raise
            finally:
                self._spare_waiters.discard(spare)
                spare.cancel()
            if not read.done():
                self._abandon_round(read)  # another round read a delivery: take that one (loop)
                continue
            if read.cancelled():
                continue  # close() ended it
            delivery = read.result()  # a Redis error goes to the caller, as before
            if delivery is None:
                continue
            if self._closed:
                log.info("queue closed: entry %s stays pending and will be redelivered", delivery.id)
                raise QueueClosed("queue is closed")
            return delivery

    def __aiter__(self) -> AsyncIterator[Delivery]:
        return _iterate(self)

    async def ack(self, delivery: Delivery) -> None:
        await self.redis.xack(self.stream, self.group, delivery.id)

    async def touch(self, delivery: Delivery) -> None:
        # XCLAIM to ourselves with min-idle 0 resets the idle time; JUSTID keeps the attempt count.
        await self.redis.xclaim(
            self.stream, self.group, self.consumer, min_idle_time=0, message_ids=[delivery.id], justid=True
        )

    async def release(self, delivery: Delivery) -> None:
        # Still ours and unacked, but idle as if its consumer had died long ago: the next XAUTOCLAIM
        # of any consumer takes it (JUSTID: not counted as another attempt).
        await self.redis.xclaim(
            self.stream, self.group, self.consumer, min_idle_time=0, message_ids=[delivery.id],
            idle=int(self.claim_idle * 1000) + _HANDED_BACK_MS, justid=True,
        )
        log.info("delivery=%s queue entry %s handed back for another consumer", delivery.job.delivery_id, delivery.id)

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except Exception:  # noqa: BLE001 - any failure means "not reachable"
            return False

    async def stats(self) -> QueueStats:
        """From the consumer group (shared by every process): `lag` entries not yet handed out,
        `pending` handed out and not acked; the oldest age from the first of each's entry id (a
        stream id is its creation time in milliseconds). A stream with no group yet is empty."""
        try:
            groups = await self.redis.xinfo_groups(self.stream)
        except Exception as exc:  # redis-py raises its ResponseError for a stream that does not exist
            if "no such key" in str(exc).lower():
                return QueueStats(0, 0, 0.0)
            raise
        group = next((g for g in groups if g.get("name") == self.group), None)
        if group is None:
            return QueueStats(0, 0, 0.0)
        pending, lag = int(group.get("pending") or 0), group.get("lag")
        oldest: list[int] = []
        if pending:
            summary = await self.redis.xpending(self.stream, self.group)
            if summary.get("min"):
                oldest.append(_id_ms(summary["min"]))
        first = await self.redis.xrange(self.stream, min=f"({group['last-delivered-id']}", max="+", count=1)
        if first:
            oldest.append(_id_ms(first[0][0]))
        if lag is None:  # Redis cannot tell after entries were deleted: count them
            lag = len(await self.redis.xrange(self.stream, min=f"({group['last-delivered-id']}", max="+",
                                              count=self.maxlen))
        age = max(time.time() - min(oldest) / 1000, 0.0) if oldest else 0.0
        return QueueStats(int(lag), pending, age)

    async def close(self) -> None:
        """Stop handing out deliveries, end the reads in flight, close an owned client."""
        if self._closed:
            return
        self._closed = True
        if self._dead_tasks:  # completing a given-up job's check run: let it finish, bounded
            await asyncio.wait(set(self._dead_tasks), timeout=10.0)
        for waiter in self._spare_waiters:
            if not waiter.done():
                waiter.set_result(None)
        rounds = set(self._rounds)
        for read in rounds:
            read.cancel()  # interrupted reads are disconnected by redis-py, never reused
        if rounds:
            # A cancellation redis-py loses only lets a round run to the end of its BLOCK.
            _done, late = await asyncio.wait(rounds, timeout=self.block + 5.0)
            if late:
                log.warning("queue close: %d read(s) still running after %.1fs; left behind", len(late),
                            self.block + 5.0)
        if self._spare:
            log.warning(
                "queue closed with %d entr(ies) read but not handed out; they stay pending and another "
                "consumer takes them over after %.0fs", len(self._spare), self.claim_idle,
            )
            self._spare.clear()
        if self._owns_client:
            await self.redis.aclose()

    # -- internals -----------------------------------------------------------------------------

    def _start_round(self) -> asyncio.Task[Delivery | None]:
        read = asyncio.create_task(self._round(), name=f"redis-queue-read:{self.consumer}")
        self._rounds.add(read)
        read.add_done_callback(self._round_done)
        return read

    def _adopt_round(self) -> asyncio.Task[Delivery | None] | None:
        """A round whose getter was cancelled and that is still reading: wait for it, not a new one."""
        for read in self._orphans:
            if not read.done():
                self._orphans.discard(read)
                return read
        return None

    def _abandon_round(self, read: asyncio.Task[Delivery | None]) -> None:
        """The getter of `read` went away: let the round finish, keep what it reads for the next get()."""
        if read.done():
            self._harvest(read)
        else:
            self._orphans.add(read)

    def _round_done(self, read: asyncio.Task[Delivery | None]) -> None:
        self._rounds.discard(read)
        if read in self._orphans:
            self._orphans.discard(read)
            self._harvest(read)

    def _harvest(self, read: asyncio.Task[Delivery | None]) -> None:
        if read.cancelled():
            return
        exc = read.exception()
        if exc is not None:
            log.debug("an abandoned queue read failed (%s: %s); the next get() reads again", type(exc).__name__, exc)
            return
        delivery = read.result()
        if delivery is None:
            return
        self._spare.append(delivery)
        for waiter in self._spare_waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _round(self) -> Delivery | None:
        """One read: take over an idle entry (every `claim_interval`) or XREADGROUP for `block` s."""
        from redis.exceptions import ResponseError

        try:
            await self._ensure_group()
            if time.monotonic() >= self._next_claim:
                claimed = await self._claim_one()
                if claimed is not None:
                    return claimed
            return await self._read_new()
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # Redis lost the stream or group (restart without persistence): create it again.
            log.warning("consumer group %s on %s is gone; creating it again", self.group, self.stream)
            self._group_ready = False
            return None

    async def _ensure_group(self) -> None:
        if self._group_ready:
            return
        from redis.exceptions import ResponseError

        try:
            # "0": after Redis lost the group, entries already in the stream are still delivered.
            await self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    async def _read_new(self) -> Delivery | None:
        block_ms = max(1, int(self.block * 1000))
        # Never block past the next reclaim check.
        until_claim = self._next_claim - time.monotonic()
        if until_claim > 0:
            block_ms = max(1, min(block_ms, int(until_claim * 1000) + 1))
        response = await self.redis.xreadgroup(
            self.group, self.consumer, {self.stream: ">"}, count=1, block=block_ms
        )
        for entry_id, fields in _entries(response):
            return await self._delivery(entry_id, fields, attempt=1)
        return None

    async def _claim_one(self) -> Delivery | None:
        """Take over one delivery another consumer left pending for `claim_idle` seconds."""
        while True:
            response = await self.redis.xautoclaim(
                self.stream,
                self.group,
                self.consumer,
                min_idle_time=max(0, int(self.claim_idle * 1000)),
                start_id=self._claim_cursor,
                count=1,
            )
            cursor, claimed = _text(response[0]), response[1]
            deleted = response[2] if len(response) > 2 else []
            self._claim_cursor = cursor
            for entry_id in deleted or []:
                # Trimmed by MAXLEN (or deleted) while pending: nothing left to run.
                log.error("queue entry %s was trimmed before it was processed; dropping it", _text(entry_id))
                await self.redis.xack(self.stream, self.group, entry_id)
            for entry_id, fields in claimed:
                if fields is None:
                    await self.redis.xack(self.stream, self.group, entry_id)
                    continue
                attempt = await self._attempt(_text(entry_id))
                log.warning(
                    "took over queue entry %s (attempt %d) left pending by another consumer",
                    _text(entry_id), attempt,
                )
                delivery = await self._delivery(entry_id, fields, attempt=attempt)
                if delivery is not None:
                    return delivery
            if cursor == "0-0":
                self._next_claim = time.monotonic() + self.claim_interval
                await self._forget_dead_consumers()
                return None
            if not claimed and not deleted:
                return None

    async def _forget_dead_consumers(self) -> None:
        """Remove consumers silent for `claim_idle` with nothing pending (their entries were taken
        over), atomically (a consumer reading meanwhile is never removed with an entry in hand): a
        group does not collect the dead of every restart and crash for ever. A live consumer reads
        at least every `block` seconds, far within `claim_idle`."""
        removed = await self._forget_script(keys=[self.stream],
                                            args=[self.group, self.consumer, int(self.claim_idle * 1000)])
        for name in removed or []:
            log.info("removed consumer %s from group %s: silent for %.0f s with nothing pending",
                     _text(name), self.group, self.claim_idle)

    async def _attempt(self, entry_id: str) -> int:
        pending = await self.redis.xpending_range(self.stream, self.group, min=entry_id, max=entry_id, count=1)
        if pending:
            return int(pending[0].get("times_delivered", 1))
        return 1

    async def _delivery(self, entry_id: Any, fields: Any, *, attempt: int) -> Delivery | None:
        entry = _text(entry_id)
        data = {_text(k): _text(v) for k, v in (fields or {}).items()}
        try:
            job = ReviewJob.from_json(data["job"])
        except Exception as exc:  # noqa: BLE001 - a malformed entry must not stop the consumer
            log.error("queue entry %s is not a review job (%s); moving it to %s",
                      entry, type(exc).__name__, self.dead_letter_stream)
            await self._dead_letter(entry, data, reason="malformed")
            return None
        if attempt > self.max_attempts:
            log.error(
                "delivery=%s queue entry %s was handed out %d times (consumers died on it); moving it to %s",
                job.delivery_id, entry, attempt - 1, self.dead_letter_stream,
            )
            await self._dead_letter(entry, data, reason="too many attempts")
            self._tell_dead(job, f"the review was started {attempt - 1} times and each time the worker running it "
                                 "stopped before it finished (it crashed, was killed, or ran out of memory), so it "
                                 "was given up")
            return None
        return Delivery(id=entry, job=job, attempt=attempt, order=_order(entry), queued_at=_id_ms(entry) / 1000)

    def _tell_dead(self, job: ReviewJob, cause: str) -> None:
        if self.on_dead is None:
            return
        task = asyncio.create_task(self._run_on_dead(self.on_dead, job, cause), name=f"dead:{job.delivery_id}")
        self._dead_tasks.add(task)
        task.add_done_callback(self._dead_tasks.discard)

    async def _run_on_dead(self, on_dead: Callable[[ReviewJob, str], Awaitable[None]], job: ReviewJob,
                           cause: str) -> None:
        try:
            async with asyncio.timeout(self.on_dead_timeout):
                await on_dead(job, cause)
        except Exception as exc:  # noqa: BLE001 - the dead letter is recorded; only its check run stays open
            log.error("delivery=%s dead-lettered, but its check run could not be completed (%s: %s)",
                      job.delivery_id, type(exc).__name__, exc)

    async def _dead_letter(self, entry_id: str, data: dict[str, str], *, reason: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(self.dead_letter_stream, {**data, "entry": entry_id, "reason": reason},
                      maxlen=self.maxlen, approximate=True)
            pipe.xack(self.stream, self.group, entry_id)
            await pipe.execute()


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _order(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    try:
        return int(ms), int(seq or 0)
    except ValueError:
        return 0, 0


def _entries(response: Any) -> list[tuple[Any, Any]]:
    """(id, fields) pairs of an XREADGROUP reply, for RESP2 and RESP3 clients alike.

    RESP2: [[stream, [(id, fields), ...]]]; RESP3: {stream: [[(id, fields), ...]]}.
    """
    if not response:
        return []
    streams = response.values() if isinstance(response, dict) else (item[1] for item in response)
    entries: list[tuple[Any, Any]] = []
    for messages in streams:
        if messages and not isinstance(messages[0][0], (str, bytes)):
            messages = [m for batch in messages for m in batch]
        entries.extend((m[0], m[1]) for m in messages)
    return entries
