"""Where report pages wait to be read: Redis (every process, for REPORT_TTL_DAYS), or this
process's memory (bounded, the oldest dropped first) when REDIS_URL is unset.

A page is found by an unguessable token (`secrets.token_urlsafe(32)`: 256 bits) in its URL, the
only thing that grants reading it, as for a GitHub "secret gist" link. The store keys pages by the
token's SHA-256, so a Redis dump or a key listing does not hand out working links; a token that
is not of the shape made here is refused before any lookup.
"""

from __future__ import annotations

import collections
import hashlib
import json
import re
import secrets
import time
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

__all__ = ["MemoryReports", "RedisReports", "ReportStore", "new_token", "valid_token"]

DAY = 86_400
MEMORY_CAPACITY = 1_000  # pages kept in one process without Redis
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # token_urlsafe(32): 32 bytes in unpadded base64url


def new_token() -> str:
    return secrets.token_urlsafe(32)


def valid_token(token: str) -> bool:
    return bool(_TOKEN.match(token))


def _key(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


@runtime_checkable
class ReportStore(Protocol):
    """Keeps report pages (JSON data) by token."""

    async def put(self, data: Mapping[str, Any]) -> str:
        """Keep `data`; the token that reads it back."""
        ...

    async def get(self, token: str) -> dict[str, Any] | None:
        """The page's data, or None when the token is unknown, malformed or expired."""
        ...

    async def aclose(self) -> None: ...


class MemoryReports:
    """At most `capacity` pages for `ttl` seconds in this process (lost when it stops)."""

    def __init__(self, ttl: float = 30 * DAY, capacity: int = MEMORY_CAPACITY) -> None:
        self.ttl = ttl
        self.capacity = capacity
        self._pages: collections.OrderedDict[str, tuple[float, str]] = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self._pages)

    async def put(self, data: Mapping[str, Any]) -> str:
        token = new_token()
        self._pages[_key(token)] = (time.monotonic() + self.ttl, json.dumps(data))
        while len(self._pages) > self.capacity:
            self._pages.popitem(last=False)
        return token

    async def get(self, token: str) -> dict[str, Any] | None:
        if not valid_token(token):
            return None
        found = self._pages.get(_key(token))
        if found is None:
            return None
        expires, text = found
        if expires <= time.monotonic():
            del self._pages[_key(token)]
            return None
        page: dict[str, Any] = json.loads(text)
        return page

    async def aclose(self) -> None:
        return None


class RedisReports:
    """Pages as Redis strings under `prefix` + sha256(token), expiring after `ttl` seconds."""

    def __init__(self, redis: Any, prefix: str, ttl: int = 30 * DAY, *, owns_client: bool = False) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = int(ttl)
        self._owns_client = owns_client

    @classmethod
    def from_url(cls, url: str, prefix: str, ttl: int = 30 * DAY) -> RedisReports:
        from bot.app.redis_client import redis_client

        return cls(redis_client(url, decode_responses=True, health_check_interval=30), prefix, ttl,
                   owns_client=True)

    async def put(self, data: Mapping[str, Any]) -> str:
        token = new_token()
        await self.redis.set(self.prefix + _key(token), json.dumps(data), ex=self.ttl)
        return token

    async def get(self, token: str) -> dict[str, Any] | None:
        if not valid_token(token):
            return None
        text = await self.redis.get(self.prefix + _key(token))
        if text is None:
            return None
        page: dict[str, Any] = json.loads(text)
        return page

    async def aclose(self) -> None:
        if self._owns_client:
            await self.redis.aclose()


def open_reports(settings: Any) -> ReportStore:
    """Redis when REDIS_URL is set, else this process's memory; pages kept REPORT_TTL_DAYS."""
    ttl = int(settings.report_ttl_days) * DAY
    if settings.redis_url:
        return RedisReports.from_url(settings.redis_url, f"{settings.redis_namespace}:report:", ttl)
    return MemoryReports(ttl)
