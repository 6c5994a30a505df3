"""Job-level retries: a passing GitHub failure re-schedules the job instead of failing its check.

Why here and not in the HTTP client: githubkit already repeats a request a few times within
seconds, but an outage of minutes or a rate limit exhausted for an hour outlasts any request.
Sleeping through it would hold a worker (and its per-PR lease) for the whole wait, and a worker
that dies meanwhile would lose the wait. So the job ends, and its next attempt is recorded where
every process sees it:

- with Redis, a sorted set `<stream>:retries` scored by the due time (epoch seconds); a mover in
  every process (`RetryMover`) moves due jobs back onto the stream, each one atomically (a Lua
  script: ZREM and XADD together), so two movers never queue one retry twice;
- without Redis, a delayed `call_later` re-queue into the in-process queue (lost if the process
  stops, as the built-in queue's jobs are).

After `RetryPolicy.attempts` hand-outs the job's check run is completed `failure` with the cause in
words and the job goes to the dead-letter stream `<stream>:dead`, listed by
`compliance-bot jobs --dead`. Re-running a job is safe: its check run is found again by the
review's `external_id` before one is created, and comments are planned from those on GitHub.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

from bot.app.job_queue import InProcessQueue, JobQueue, RedisStreamQueue
from bot.app.jobs import ReviewJob
from bot.github.client import GitHubError

__all__ = [
    "DeadJob",
    "LocalRetries",
    "RedisRetries",
    "RetryMover",
    "RetryPolicy",
    "RetryScheduler",
    "cause_in_words",
    "retries_for",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how late a job is tried again.

    - `attempts`: hand-outs of one job in all (the first one included) before it is dead.
    - `base_delay`, `max_delay`: exponential back-off for failures that name no wait (5xx, network).
    - `max_wait`: the longest wait a rate limit's reset may ask for (an hour-long exhaustion is
      waited out; a reset further away than this is taken as this).
    - `announce_after`: a rate-limit wait at least this long is said on the check run (set back to
      `queued`, "waiting for GitHub's rate limit until HH:MM UTC"); shorter ones are not worth a call.
    """

    attempts: int = 6
    base_delay: float = 2.0
    max_delay: float = 300.0
    max_wait: float = 3900.0
    announce_after: float = 60.0

    def delay(self, retry: int, exc: GitHubError) -> float:
        """Seconds until retry number `retry` (1 = the first retry) of a job that failed with `exc`."""
        if exc.retry_after is not None:
            return min(max(exc.retry_after, 0.0) + 1.0, self.max_wait)  # a second past GitHub's reset
        backoff = min(self.base_delay * float(2 ** (retry - 1)), self.max_delay)
        return backoff * random.uniform(0.8, 1.2)

    def allows(self, job: ReviewJob) -> bool:
        """Whether `job` (which just failed) may be tried once more."""
        return job.retry + 1 < self.attempts


def cause_in_words(exc: GitHubError) -> str:
    """What went wrong, for a person reading the check run: the host and reason when GitHub could
    not be reached, the rate limit when that was it, else GitHub's own answer."""
    if exc.unreachable:
        host, _, reason = exc.unreachable.partition(": ")
        return f"GitHub API unreachable at {host}: {reason}"
    if exc.rate_limited:
        return f"GitHub's rate limit was still exhausted after every retry ({exc})"
    return f"GitHub kept failing ({exc})"


@dataclass(frozen=True)
class DeadJob:
    """A job that ran out of attempts (or could not be read): what `compliance-bot jobs --dead` shows."""

    entry: str
    delivery_id: str
    reason: str
    cause: str
    job: ReviewJob | None

    def describe(self) -> str:
        where = (f"{self.job.full_name}#{self.job.pull_number}@{self.job.head_sha[:12]}" if self.job is not None
                 else "(not a review job)")
        cause = f": {self.cause}" if self.cause else ""
        return f"{self.entry}  delivery {self.delivery_id}  {where}  {self.reason}{cause}"


class RetryScheduler(Protocol):
    """Where the runner sends a job to be tried again later, or to the dead letters."""

    policy: RetryPolicy

    async def schedule(self, job: ReviewJob, delay: float) -> None:
        """Hand `job` out again (as is: the caller has counted the retry) in `delay` seconds."""
        ...

    async def dead_letter(self, job: ReviewJob, cause: str) -> None:
        """`job` ran out of attempts: record it, with `cause`, for an operator."""
        ...


class LocalRetries:
    """The built-in mode's retries: a delayed re-queue into the in-process queue."""

    def __init__(self, queue: InProcessQueue, policy: RetryPolicy | None = None, dead_capacity: int = 1000) -> None:
        self.queue = queue
        self.policy = policy or RetryPolicy()
        self.dead: deque[DeadJob] = deque(maxlen=dead_capacity)
        self._timers: set[asyncio.TimerHandle] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def waiting(self) -> int:
        """Retries scheduled and not yet queued."""
        return len(self._timers) + len(self._tasks)

    async def schedule(self, job: ReviewJob, delay: float) -> None:
        loop = asyncio.get_running_loop()
        timer: asyncio.TimerHandle

        def due() -> None:
            self._timers.discard(timer)
            task = loop.create_task(self.queue.requeue(job), name=f"retry:{job.delivery_id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        timer = loop.call_later(max(delay, 0.0), due)
        self._timers.add(timer)

    async def dead_letter(self, job: ReviewJob, cause: str) -> None:
        self.dead.append(DeadJob(str(len(self.dead) + 1), job.delivery_id, "retries exhausted", cause, job))

    async def close(self) -> None:
        """Drop the retries still waiting (the in-process queue's jobs do not outlive it either)."""
        if self._timers:
            log.warning("%d scheduled retr(ies) dropped at shutdown", len(self._timers))
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task


# Move due retries onto the stream, each atomically with its removal from the set.
# KEYS[1] = retries set, KEYS[2] = stream; ARGV = now (epoch s), batch size, stream maxlen.
_MOVE_SCRIPT = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, job in ipairs(due) do
  redis.call('ZREM', KEYS[1], job)
  local delivery = cjson.decode(job)['delivery_id']
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'job', job, 'delivery', delivery)
end
return #due
"""


class RedisRetries:
    """Retries in a Redis sorted set beside the queue's stream, dead letters in its dead stream."""

    def __init__(self, redis: Any, stream: str, *, maxlen: int = 10_000, policy: RetryPolicy | None = None) -> None:
        self.redis = redis
        self.stream = stream
        self.key = f"{stream}:retries"
        self.dead_stream = f"{stream}:dead"
        self.maxlen = maxlen
        self.policy = policy or RetryPolicy()
        self._move = redis.register_script(_MOVE_SCRIPT)

    @classmethod
    def for_queue(cls, queue: RedisStreamQueue, policy: RetryPolicy | None = None) -> RedisRetries:
        return cls(queue.redis, queue.stream, maxlen=queue.maxlen, policy=policy)

    async def schedule(self, job: ReviewJob, delay: float) -> None:
        await self.redis.zadd(self.key, {job.to_json(): time.time() + max(delay, 0.0)})

    async def dead_letter(self, job: ReviewJob, cause: str) -> None:
        await self.redis.xadd(self.dead_stream, {"job": job.to_json(), "delivery": job.delivery_id,
                                                 "reason": "retries exhausted", "cause": cause},
                              maxlen=self.maxlen, approximate=True)

    async def move_due(self, batch: int = 100) -> int:
        """Queue the retries that are due; how many were moved."""
        return int(await self._move(keys=[self.key, self.stream], args=[time.time(), batch, self.maxlen]))

    async def delayed(self) -> list[tuple[float, ReviewJob]]:
        """The retries waiting, soonest first: (due epoch seconds, job)."""
        found = await self.redis.zrange(self.key, 0, -1, withscores=True)
        return [(float(score), ReviewJob.from_json(raw)) for raw, score in found]

    async def dead(self, count: int = 100) -> list[DeadJob]:
        """The latest dead letters, newest first."""
        entries = await self.redis.xrevrange(self.dead_stream, count=count)
        return [_dead_job(_text(entry_id), {_text(k): _text(v) for k, v in fields.items()})
                for entry_id, fields in entries]


def _dead_job(entry: str, fields: dict[str, str]) -> DeadJob:
    job: ReviewJob | None
    try:
        job = ReviewJob.from_json(fields.get("job", ""))
    except (ValueError, TypeError):
        job = None
    return DeadJob(entry, fields.get("delivery", "?"), fields.get("reason", "?"), fields.get("cause", ""), job)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class RetryMover:
    """Moves due retries from the Redis set onto the stream every `interval` seconds, until stopped.
    Every process may run one: the move script is atomic per job."""

    def __init__(self, retries: RedisRetries, interval: float = 1.0) -> None:
        self.retries = retries
        self.interval = interval
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="retry-mover")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                moved = await self.retries.move_due()
            except Exception as exc:  # noqa: BLE001 - Redis away: the retries wait in the set
                log.warning("retry mover: cannot reach Redis (%s); trying again", type(exc).__name__)
            else:
                if moved:
                    log.info("retry mover: %d due retr(ies) queued again", moved)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._stop.wait()


def retries_for(queue: JobQueue, policy: RetryPolicy | None = None) -> LocalRetries | RedisRetries | None:
    """The retry scheduler that suits `queue`; None for a queue it knows nothing of (a test's)."""
    if isinstance(queue, RedisStreamQueue):
        return RedisRetries.for_queue(queue, policy)
    if isinstance(queue, InProcessQueue):
        return LocalRetries(queue, policy)
    return None


def next_attempt(job: ReviewJob) -> ReviewJob:
    """`job` as its next attempt is queued: the retry counted."""
    return dataclasses.replace(job, retry=job.retry + 1)


def describe_delayed(due: float, job: ReviewJob, now: float | None = None) -> str:
    """One line for `compliance-bot jobs`."""
    wait = due - (time.time() if now is None else now)
    when = f"in {wait:.0f}s" if wait > 0 else "due now"
    return (f"retry {job.retry} of delivery {job.delivery_id}  {job.full_name}#{job.pull_number}@{job.head_sha[:12]}"
            f"  {when}")

