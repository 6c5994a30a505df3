"""Redis for the tests: the machine's shared server, or a private `redis-server` a test may kill.

- `redis_url`: the shared server, `REDIS_URL` (default `redis://127.0.0.1:6379/0`). Checked once per
  session with PING; when it does not answer, every test that needs it fails with one clear message
  (never skipped: a test that did not run is not a test that passed).
- `redis_names`: unique stream/group/key names for one test; every key under the prefix (or under
  `{<prefix>`, hash-tagged) is deleted afterwards, so tests can share the server, in parallel and
  across checkouts.
- `redis_server`: a private `redis-server` on a free port (no persistence, a temp dir), for tests
  that kill or restart Redis. Waited for by polling PING with a deadline; killed at teardown.

Imported by `tests/conftest.py`, so any test can ask for these fixtures by name.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, overload

import pytest
import redis

from bench.redis_keys import delete_namespace

__all__ = ["REDIS_URL", "RedisServer", "eventually", "redis_names", "redis_server", "redis_url"]

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
START_DEADLINE = 10.0  # seconds a private redis-server has to answer PING

T = TypeVar("T")


@overload
async def eventually(check: Callable[[], Awaitable[T | None]], *, what: str, timeout: float = ...) -> T: ...
@overload
async def eventually(check: Callable[[], T | None], *, what: str, timeout: float = ...) -> T: ...
async def eventually(check: Callable[[], Any], *, what: str, timeout: float = 10.0) -> Any:
    """Poll `check()` (a function or a coroutine function) until it returns something truthy.

    Returns that value. Fails the test with `what` after `timeout` seconds: a deadline, not a guess
    at how long something takes (the usual wait is milliseconds; the deadline only bounds a broken
    case, so it can be generous).
    """
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if inspect.isawaitable(found):
            found = await found
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}", pytrace=False)
        await asyncio.sleep(0.005)


def _pings(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False
    finally:
        client.close()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The shared Redis server's URL; fails (not skips) the test when it does not answer."""
    if not _pings(REDIS_URL):
        pytest.fail(
            f"Redis is not reachable at {REDIS_URL}: these tests need a Redis server. Start one "
            "(`redis-server --save '' --appendonly no`) or point REDIS_URL at one.",
            pytrace=False,
        )
    return REDIS_URL


@pytest.fixture()
def redis_names(redis_url: str) -> Iterator[dict[str, str]]:
    """Unique `stream`, `group` and key `prefix` for one test; its keys are deleted afterwards."""
    prefix = f"test:compliance-bot:{uuid.uuid4().hex}"
    yield {"stream": f"{prefix}:jobs", "group": f"{prefix}:group", "prefix": prefix}
    delete_namespace(redis_url, prefix)  # ... and the shared cache's hash-tagged keys


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
        return False


@dataclass
class RedisServer:
    """A private `redis-server` (no persistence); `kill()` and `start()` it at will."""

    directory: Path
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start the server on `port` (again, after a kill) and wait until it answers PING."""
        assert self.process is None, "already running"
        self.starts += 1
        executable = shutil.which("redis-server")
        if executable is None:
            pytest.fail("redis-server is not installed: the tests that restart Redis need it", pytrace=False)
        self.process = subprocess.Popen(
            [executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory), "--logfile", str(self.directory / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_DEADLINE
        while not _pings(self.url):
            if self.process.poll() is not None and self.starts == 1 and _port_taken(self.port):
                # Someone took the free port between our probe and the server's bind: take another.
                self.process = None
                self.port = _free_port()
                return self.start()
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (self.directory / "redis.log")
                text = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                self.kill()
                pytest.fail(f"private redis-server on port {self.port} did not answer PING:\n{text}",
                            pytrace=False)
            time.sleep(0.01)
        return self

    def kill(self) -> None:
        """SIGKILL the server (what a crash looks like) and wait for it to be gone."""
        if self.process is None:
            return
        self.process.kill()
        self.process.wait(timeout=10)
        self.process = None


@pytest.fixture()
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A started private Redis server; killed at teardown."""
    directory = tmp_path / "redis"
    directory.mkdir()
    server = RedisServer(directory)
    try:
        yield server.start()
    finally:
        server.kill()
