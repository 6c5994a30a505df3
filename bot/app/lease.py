"""One review job per pull request at a time: a lease per pull request.

Jobs for one pull request never run at once, whichever process took them: two reviews of one
head would race to create the check run and post the same comments. Without Redis (one process)
the lease is an asyncio lock. With Redis it is a key set with `SET NX PX` holding a random token,
renewed while the job runs and released at its end by a script that deletes it only if it still
holds this job's token, so a job whose lease expired can never release another job's.

A job whose renewal finds the lease gone (the process stalled past the lease's lifetime, and
another process may now hold it) is told by `Lease.check()`, which the job calls before every
write to GitHub.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from typing import Any, Protocol

log = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 60.0
POLL_SECONDS = (0.05, 1.0)  # first and longest wait between attempts to take a busy lease

# KEYS[1] = lease key; ARGV[1] = token, ARGV[2] = ttl in ms.
_RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


class LeaseLost(RuntimeError):
    """The lease expired while the job ran; another process may be reviewing this pull request."""


class Lease(Protocol):
    def check(self) -> None:
        """Raise `LeaseLost` when this job no longer holds its pull request."""
        ...


class Leases(Protocol):
    """Hands out the lease of a pull request, waiting while another job holds it."""

    def hold(self, key: str) -> contextlib.AbstractAsyncContextManager[Lease]: ...

    async def aclose(self) -> None: ...


class _Held:
    def __init__(self) -> None:
        self.lost = False

    def check(self) -> None:
        if self.lost:
            raise LeaseLost("the pull request's lease expired while the review ran")


class LocalLeases:
    """Leases within one process: an asyncio lock per pull request, dropped when nobody waits."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[Lease]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield _Held()
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]

    async def aclose(self) -> None:
        return None


class RedisLeases:
    """Leases shared by every process on one Redis (see the module docstring).

    `redis` is a `redis.asyncio.Redis`; keys are `<prefix><key>`. `ttl` is how long a lease
    outlives a process that died holding it; it is renewed every `ttl / 3` while held.
    """

    def __init__(self, redis: Any, *, prefix: str = "compliance-bot:lease:", ttl: float = DEFAULT_TTL_SECONDS,
                 owns_client: bool = False) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = ttl
        self._owns_client = owns_client
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisLeases:
        from bot.app.redis_client import redis_client

        return cls(redis_client(url, decode_responses=True), owns_client=True, **kwargs)

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[Lease]:
        name = self.prefix + key
        token = secrets.token_hex(16)
        ttl_ms = max(1, int(self.ttl * 1000))
        wait = POLL_SECONDS[0]
        while not await self.redis.set(name, token, nx=True, px=ttl_ms):
            log.debug("lease %s is held by another job; waiting", key)
            await asyncio.sleep(wait)
            wait = min(wait * 2, POLL_SECONDS[1])
        held = _Held()
        done = asyncio.Event()
        renewer = asyncio.create_task(self._keep(name, token, ttl_ms, held, done), name=f"lease-renew:{key}")
        try:
            yield held
        finally:
            await self._stop_renewing(renewer, done)
            try:
                await self._release(keys=[name], args=[token])
            except Exception as exc:  # noqa: BLE001 - the lease then expires by itself after ttl
                log.warning("lease %s not released (%s); it expires in %.0f s", key, type(exc).__name__, self.ttl)

    async def _stop_renewing(self, renewer: asyncio.Task[None], done: asyncio.Event) -> None:
        """Stop the renewer by its event, not by cancelling it: a cancellation landing inside a
        Redis call may surface as a connection error, which the renewer takes for a passing
        outage and goes on renewing: the job would never end, holding the pull request. The
        wait is bounded by one renewal call; past `ttl` it is cancelled all the same."""
        done.set()
        _finished, pending = await asyncio.wait({renewer}, timeout=self.ttl)
        if pending:
            renewer.cancel()
            await asyncio.wait({renewer}, timeout=1.0)

    async def _keep(self, name: str, token: str, ttl_ms: int, held: _Held, done: asyncio.Event) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.ttl / 3):
                    await done.wait()
            if done.is_set():
                return
            try:
                renewed = await self._renew(keys=[name], args=[token, ttl_ms])
            except Exception as exc:  # noqa: BLE001 - Redis away for a moment: the next renewal may work
                log.warning("lease %s not renewed (%s)", name, type(exc).__name__)
                continue
            if not renewed:
                held.lost = True
                log.error("lease %s expired while its job ran; the job stops before its next write", name)
                return

    async def aclose(self) -> None:
        if self._owns_client:
            await self.redis.aclose()
