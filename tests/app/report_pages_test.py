"""Report pages' store: unguessable tokens, bounded memory, expiry, Redis TTL, hashed keys."""

from __future__ import annotations

import asyncio
from typing import Any

import redis

from bot.app.report_pages import MemoryReports, RedisReports, new_token, valid_token


def test_tokens_are_long_random_and_checked_for_shape() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100 and all(valid_token(t) and len(t) == 43 for t in tokens)
    for bad in ("", "short", "a" * 44, "../../etc/passwd" + "a" * 27, "a" * 42 + "!"):
        assert not valid_token(bad)


def test_memory_store_is_bounded_and_pages_expire() -> None:
    async def scenario() -> tuple[list[dict[str, Any] | None], dict[str, Any] | None, int, dict[str, Any] | None]:
        store = MemoryReports(ttl=3600, capacity=3)
        tokens = [await store.put({"n": i}) for i in range(5)]
        found = [await store.get(t) for t in tokens]
        gone = MemoryReports(ttl=0)
        expired = await gone.get(await gone.put({"n": 1}))
        return found, await store.get("x" * 43), len(store), expired

    found, unknown, size, expired = asyncio.run(scenario())
    assert found == [None, None, {"n": 2}, {"n": 3}, {"n": 4}]  # the oldest two were dropped
    assert unknown is None and size == 3 and expired is None


def test_redis_store_keeps_pages_for_the_ttl_under_hashed_keys(redis_url: str, redis_names: dict[str, str]) -> None:
    prefix = redis_names["prefix"] + ":report:"

    async def scenario() -> tuple[str, object, object]:
        store = RedisReports.from_url(redis_url, prefix, ttl=7 * 86_400)
        try:
            token = await store.put({"title": "3 blocking finding(s)"})
            return token, await store.get(token), await store.get(new_token())
        finally:
            await store.aclose()

    token, page, unknown = asyncio.run(scenario())
    assert page == {"title": "3 blocking finding(s)"} and unknown is None
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        (key,) = list(client.scan_iter(match=f"{prefix}*"))
        assert token not in key  # the key is the token's hash: a key listing opens no page
        assert 7 * 86_400 - 60 <= client.ttl(key) <= 7 * 86_400
    finally:
        client.close()
