"""The latest head SHA of each pull request, recorded when a delivery is queued (a duplicate is not).

Why: twenty pushes in two seconds queue twenty jobs, and reviewing each head in turn costs twenty
reviews of which only the last matters. The webhook server records the head each
`pull_request` delivery names; a job whose head is no longer the latest stops early (and once
more before it posts) and completes its check run `neutral`, "superseded by <sha>". With Redis
the record is shared by every server and worker; without it, it lives in this process.

The record only says "look again": deliveries of one pull request may arrive out of order, so
the runner stops a job only when GitHub also names a newer head (`bot.app.runner`).
"""

from __future__ import annotations

from typing import Any, Protocol

from bot.app.jobs import ReviewJob

__all__ = ["HEAD_TTL_SECONDS", "Heads", "LocalHeads", "RedisHeads", "records_head"]

HEAD_TTL_SECONDS = 7 * 24 * 3600  # a pull request quiet for a week needs no coalescing

# Deliveries whose head is the pull request's head as of the event (check_* events may name an
# older head: a re-run of an old commit's check).
HEAD_TRIGGERS = frozenset({"pull_request.opened", "pull_request.synchronize", "pull_request.reopened",
                           "pull_request.ready_for_review", "pull_request.edited"})


def records_head(job: ReviewJob) -> bool:
    """Whether routing `job` tells us the pull request's latest head."""
    return job.trigger in HEAD_TRIGGERS


class Heads(Protocol):
    """Latest head per pull request."""

    async def record(self, job: ReviewJob) -> None:
        """`job`'s head is now the latest of its pull request."""
        ...

    async def latest(self, job: ReviewJob) -> str | None:
        """The latest head recorded for `job`'s pull request; None when none is."""
        ...


class LocalHeads:
    """This process's record (the built-in single-process mode)."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._heads: dict[str, str] = {}

    async def record(self, job: ReviewJob) -> None:
        self._heads.pop(job.pull_request_key, None)
        self._heads[job.pull_request_key] = job.head_sha
        while len(self._heads) > self.capacity:
            del self._heads[next(iter(self._heads))]  # the pull request updated longest ago

    async def latest(self, job: ReviewJob) -> str | None:
        return self._heads.get(job.pull_request_key)


class RedisHeads:
    """One key per pull request, `<prefix><installation>/<owner>/<repo>#<n>` = head SHA, with a TTL."""

    def __init__(self, redis: Any, prefix: str, ttl: int = HEAD_TTL_SECONDS) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = ttl

    async def record(self, job: ReviewJob) -> None:
        await self.redis.set(self.prefix + job.pull_request_key, job.head_sha, ex=self.ttl)

    async def latest(self, job: ReviewJob) -> str | None:
        value = await self.redis.get(self.prefix + job.pull_request_key)
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)
