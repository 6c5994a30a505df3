"""The cache shared by every process of one App: installation tokens, policy files, blob texts.

Why: scaled out (N web servers, M workers, one Redis), each process would mint its own token
per installation, and read the same policy file and the same blobs again for every review it
takes. With REDIS_URL they share one cache in Redis; without it (one process) the same interface
is served from this process's memory, bounded.

    cache_for(settings) -> SharedCache      RedisCache when REDIS_URL is set, else LocalCache

Keys are `{<REDIS_NAMESPACE>:<family>:<ident>}:<what>`: the hash tag (the braces) keeps one
installation's, one repository's or one blob's keys in one Redis Cluster slot. Every value has a
lifetime, and no value is larger than `MAX_ENTRY_BYTES` (a larger one is not stored).

A cache never fails a review: a Redis that does not answer is a miss (read) or "not stored"
(write), logged as a warning (at most once per `WARN_EVERY` seconds, naming the error's kind
and the redacted URL, never a value), and the caller asks GitHub instead.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from bot.app.store_settings import redact_url
from bot.github.store import SharedStore

__all__ = ["MAX_ENTRY_BYTES", "LocalCache", "RedisCache", "SharedCache", "cache_for", "cache_key"]

log = logging.getLogger(__name__)

SharedCache = SharedStore  # the protocol both kinds serve (defined beside the GitHub layer, which uses it)

MAX_ENTRY_BYTES = 1024 * 1024  # one blob text or policy file; larger ones are read from GitHub each time
LOCAL_ENTRIES = 10_000
LOCAL_BYTES = 64 * 1024 * 1024
REDIS_TIMEOUT_SECONDS = 2.0  # a cache slower than this is slower than GitHub: give up and fetch
WARN_EVERY = 30.0


def cache_key(namespace: str, family: str, ident: str, what: str) -> str:
    """`{namespace:family:ident}:what`; braces in `ident` are escaped so the tag stays the whole of it."""
    safe = ident.replace("%", "%25").replace("{", "%7B").replace("}", "%7D")
    return f"{{{namespace}:{family}:{safe}}}:{what}"


class LocalCache:
    """This process's cache (the built-in mode): at most `entries` values and `max_bytes` bytes,
    the least recently used first out, each value gone after its lifetime. One event loop uses
    it, so no lock: nothing awaits between a look-up and its update."""

    def __init__(self, namespace: str = "compliance-bot", entries: int = LOCAL_ENTRIES,
                 max_bytes: int = LOCAL_BYTES, max_entry_bytes: int = MAX_ENTRY_BYTES) -> None:
        self.namespace = namespace
        self.entries = entries
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes
        self._values: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._values)

    def key(self, family: str, ident: str, what: str) -> str:
        return cache_key(self.namespace, family, ident, what)

    async def get(self, key: str) -> bytes | None:
        found = self._values.get(key)
        if found is None:
            return None
        expires, value = found
        if expires <= time.monotonic():
            self._drop(key)
            return None
        self._values.move_to_end(key)
        return value

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [await self.get(key) for key in keys]

    async def set(self, key: str, value: bytes, ttl: float) -> bool:
        if ttl <= 0 or len(value) > self.max_entry_bytes:
            return False
        self._drop(key)
        self._values[key] = (time.monotonic() + ttl, value)
        self._bytes += len(value)
        while len(self._values) > self.entries or self._bytes > self.max_bytes:
            self._drop(next(iter(self._values)))
        return True

    async def set_many(self, values: Mapping[str, bytes], ttl: float) -> int:
        return sum([await self.set(key, value, ttl) for key, value in values.items()])

    async def delete(self, key: str) -> None:
        self._drop(key)

    def _drop(self, key: str) -> None:
        found = self._values.pop(key, None)
        if found is not None:
            self._bytes -= len(found[1])

    async def aclose(self) -> None:
        self._values.clear()
        self._bytes = 0


class RedisCache:
    """The cache in Redis, shared by every process on it. `redis` is a `redis.asyncio.Redis`
    returning bytes; lifetimes are set with each write (`SET ... PX`)."""

    def __init__(self, redis: Any, namespace: str, *, where: str = "Redis",
                 max_entry_bytes: int = MAX_ENTRY_BYTES, owns_client: bool = False) -> None:
        self.redis = redis
        self.namespace = namespace
        self.where = where  # for warnings: the redacted URL
        self.max_entry_bytes = max_entry_bytes
        self._owns_client = owns_client
        self._warned = -WARN_EVERY

    @classmethod
    def from_url(cls, url: str, namespace: str, **kwargs: Any) -> RedisCache:
        from bot.app.redis_client import redis_client

        client = redis_client(url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
        return cls(client, namespace, where=redact_url(url), owns_client=True, **kwargs)

    def key(self, family: str, ident: str, what: str) -> str:
        return cache_key(self.namespace, family, ident, what)

    async def get(self, key: str) -> bytes | None:
        return (await self.get_many([key]))[0]

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        try:
            # One GET per key in one round trip (not MGET: the keys may sit in different cluster slots).
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.get(key)
                values = await pipe.execute()
        except Exception as exc:  # noqa: BLE001 - whatever Redis does, the review asks GitHub instead
            self._warn("read", exc)
            return [None] * len(keys)
        return [bytes(value) if isinstance(value, bytes | bytearray) else None for value in values]

    async def set(self, key: str, value: bytes, ttl: float) -> bool:
        return await self.set_many({key: value}, ttl) == 1

    async def set_many(self, values: Mapping[str, bytes], ttl: float) -> int:
        kept = {key: value for key, value in values.items() if len(value) <= self.max_entry_bytes}
        ttl_ms = int(ttl * 1000)
        if not kept or ttl_ms <= 0:
            return 0
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key, value in kept.items():
                    pipe.set(key, value, px=ttl_ms)
                await pipe.execute()
        except Exception as exc:  # noqa: BLE001 - not cached: the next review reads GitHub again
            self._warn("write", exc)
            return 0
        return len(kept)

    async def delete(self, key: str) -> None:
        try:
            await self.redis.delete(key)
        except Exception as exc:  # noqa: BLE001 - the value then expires by itself
            self._warn("delete", exc)

    def _warn(self, what: str, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned >= WARN_EVERY:
            self._warned = now
            log.warning("shared cache at %s: %s failed (%s); reading from GitHub instead", self.where, what,
                        type(exc).__name__)
        else:
            log.debug("shared cache at %s: %s failed (%s)", self.where, what, type(exc).__name__)

    async def aclose(self) -> None:
        if self._owns_client:
            await self.redis.aclose()


def cache_for(settings: Any) -> LocalCache | RedisCache:
    """The shared cache of a process with these settings (`bot.app.settings.Settings`)."""
    if settings.redis_url:
        return RedisCache.from_url(settings.redis_url, settings.redis_namespace)
    return LocalCache(settings.redis_namespace)
