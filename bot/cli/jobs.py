"""`compliance-bot jobs [--dead]`: what the Redis queue holds besides the stream's backlog.

Without `--dead`: the jobs waiting for a retry (soonest first, with when they are due) and the
stream's backlog. With `--dead`: the jobs that ran out of attempts, newest first, each with its
cause, so an operator can see what never got reviewed and redeliver it from GitHub.
Reads REDIS_URL and REDIS_NAMESPACE, as the App does; nothing else of the App's settings.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from bot.cli.errors import UsageError

__all__ = ["add_jobs_parser", "run_jobs"]


def add_jobs_parser(sub: Any) -> None:
    jobs = sub.add_parser("jobs", help="list the queue's delayed retries, or (--dead) its dead letters (needs REDIS_URL)")
    jobs.add_argument("--dead", action="store_true", help="list the jobs that ran out of attempts, with their cause")
    jobs.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")


def run_jobs(args: argparse.Namespace) -> int:
    import asyncio  # here, not at the top: the CLI's parser imports this module for every command

    url = os.environ.get("REDIS_URL", "").strip()
    if not url:
        raise UsageError("REDIS_URL is not set: only the Redis queue keeps retries and dead letters "
                         "(the built-in queue's live in the server process)")
    namespace = os.environ.get("REDIS_NAMESPACE", "").strip() or "compliance-bot"
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    try:
        lines = asyncio.run(_lines(url, f"{namespace}:jobs", dead=args.dead, limit=args.limit))
    except OSError as exc:
        raise UsageError(f"cannot reach Redis: {exc}") from None
    for line in lines:
        print(line)
    return 0


async def _lines(url: str, stream: str, *, dead: bool, limit: int) -> list[str]:
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError

    from bot.app.retries import RedisRetries, describe_delayed
    from bot.app.settings import redact_url

    client: Any = aioredis.from_url(url, decode_responses=True, socket_connect_timeout=5, socket_timeout=5)
    retries = RedisRetries(client, stream)
    try:
        if dead:
            found = await retries.dead(limit)
            return [d.describe() for d in found] or ["no dead letters"]
        delayed = (await retries.delayed())[:limit]
        backlog = int(await client.xlen(stream))
        lines = [describe_delayed(due, job) for due, job in delayed]
        return [*lines, f"{len(delayed)} retr(ies) waiting; {backlog} entr(ies) in the stream {stream}"]
    except RedisError as exc:
        raise UsageError(f"cannot read the queue at {redact_url(url)}: {exc}") from None
    finally:
        await client.aclose()
