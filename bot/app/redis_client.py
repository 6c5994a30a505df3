"""Every Redis client the App opens, from one place: a pool of connections that waits for one to
come free instead of failing.

redis-py's default pool holds at most 100 connections and raises at once past them ("Too many
connections"): a burst of deliveries (each one a queue write and a head record) then got 503s on
a Redis that was answering. Here a request waits its turn, bounded: past `POOL_WAIT_SECONDS`
without a free connection the call fails as a Redis outage does, and its caller answers as for
one (the web server with 503, which GitHub's delivery log and the sweeper take up).
"""

from __future__ import annotations

from typing import Any

__all__ = ["MAX_CONNECTIONS", "POOL_WAIT_SECONDS", "redis_client"]

MAX_CONNECTIONS = 64  # per client; one process holds a handful of clients (queue, cache, leases, reports)
POOL_WAIT_SECONDS = 5.0


def redis_client(url: str, **options: Any) -> Any:
    """A `redis.asyncio.Redis` for `url` owning its own waiting pool (closed with the client);
    `options` are the connections' (decode_responses, socket timeouts, health checks)."""
    import redis.asyncio as aioredis

    pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=MAX_CONNECTIONS,
                                                    timeout=POOL_WAIT_SECONDS, **options)
    return aioredis.Redis.from_pool(pool)
