"""`compliance-bot jobs [--dead]` against a real Redis: delayed retries and dead letters listed,
and a clear message (no traceback) without REDIS_URL or with Redis down."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.app.jobs import ReviewJob
from bot.app.retries import RedisRetries
from bot.cli.main import main

JOB = ReviewJob("d-dead", "pull_request.synchronize", 7, "octo-org", "infra", 12, "c" * 40, "b" * 40, "main", "main",
                retry=5)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def _fill(url: str, stream: str) -> None:
    client: Any = aioredis.from_url(url, decode_responses=True)
    try:
        retries = RedisRetries(client, stream)
        await retries.schedule(ReviewJob("d-later", "pull_request.opened", 7, "octo-org", "infra", 3, "a" * 40,
                                         "b" * 40, "main", "main", retry=1), 600.0)
        await retries.dead_letter(JOB, "GitHub API unreachable at api.github.com: connection refused")
    finally:
        await client.aclose()


def test_jobs_lists_retries_and_dead_letters(redis_url: str, redis_names: dict[str, str],
                                             monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    namespace = redis_names["prefix"]
    asyncio.run(_fill(redis_url, f"{namespace}:jobs"))
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("REDIS_NAMESPACE", namespace)
    code, out, _ = run(capsys, "jobs")
    assert code == 0
    assert "retry 1 of delivery d-later  octo-org/infra#3@aaaaaaaaaaaa  in 6" in out
    assert out.splitlines()[-1] == f"1 retr(ies) waiting; 0 entr(ies) in the stream {namespace}:jobs"
    code, out, _ = run(capsys, "jobs", "--dead")
    assert code == 0
    (line,) = out.splitlines()
    assert line.endswith("delivery d-dead  octo-org/infra#12@cccccccccccc  retries exhausted: "
                         "GitHub API unreachable at api.github.com: connection refused")


def test_jobs_without_redis_says_why(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    code, out, err = run(capsys, "jobs", "--dead")
    assert code == 2 and out == ""
    assert err.startswith("compliance-bot: error: REDIS_URL is not set")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{port}/0")
    code, out, err = run(capsys, "jobs")
    assert code == 2 and out == ""
    assert err.startswith(f"compliance-bot: error: cannot read the queue at redis://127.0.0.1:{port}/0: ")
    assert "Traceback" not in err and "Error " in err
