"""What the GitHub layer asks of a cache shared by processes (`bot.app.shared_cache` has the two
kinds: in this process, or in Redis when several processes serve one App).

Only a protocol lives here: the GitHub layer may not import the App's, and a cache it is handed
must never fail a call to GitHub. Every method answers "nothing there" (or "not stored") when the
cache cannot be reached, so a caller always falls back to asking GitHub.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

__all__ = ["SharedStore"]


class SharedStore(Protocol):
    """Bytes by key, each with a lifetime; never raises for a cache that is away."""

    def key(self, family: str, ident: str, what: str) -> str:
        """The key of `what` for one `ident` of `family` (`{<namespace>:installation:123}:token`):
        the braces keep a family member's keys in one Redis Cluster slot."""
        ...

    async def get(self, key: str) -> bytes | None:
        """The value, or None when there is none (expired, never stored, or the cache is away)."""
        ...

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """`get` of each key, in order, in one round trip where the cache allows."""
        ...

    async def set(self, key: str, value: bytes, ttl: float) -> bool:
        """Keep `value` for `ttl` seconds; False when it was not kept (too large, or the cache is away)."""
        ...

    async def set_many(self, values: Mapping[str, bytes], ttl: float) -> int:
        """`set` of each pair; how many were kept."""
        ...

    async def delete(self, key: str) -> None:
        """Forget `key` (nothing happens when the cache is away: the value then expires by itself)."""
        ...
