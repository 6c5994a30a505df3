"""A bench run's (or a test's) Redis keys, removed at its end: everything under its namespace,
the shared caches' hash-tagged keys (`{<namespace>:<family>:<ident>}:<what>`) included."""

from __future__ import annotations

import redis


def delete_namespace(url: str, namespace: str) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)  # a dead server fails, never hangs
    try:
        keys = [*client.scan_iter(match=f"{namespace}*"), *client.scan_iter(match=f"{{{namespace}*")]
        if keys:
            client.delete(*keys)
    finally:
        client.close()
