"""A bench run's Redis keys, removed at its end: everything under its namespace, the shared
caches' hash-tagged keys (`{<namespace>:<family>:<ident>}:<what>`) included."""

from __future__ import annotations

import redis


def delete_namespace(url: str, namespace: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        keys = [*client.scan_iter(match=f"{namespace}*"), *client.scan_iter(match=f"{{{namespace}*")]
        if keys:
            client.delete(*keys)
    finally:
        client.close()
