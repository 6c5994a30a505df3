"""`compliance-bot serve` as its own process (real uvicorn on loopback) against a fake GitHub,
and the waits end-to-end tests need (polling with a deadline, never a sleep as a barrier)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from tests.fakegithub import FakeGitHub, Repository

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class App:
    """A running server process and how to talk to it."""

    def __init__(self, url: str, log: Path) -> None:
        self.url = url
        self.log = log

    def deliver(self, headers: dict[str, str], body: bytes) -> httpx.Response:
        return httpx.post(f"{self.url}/webhook", headers=headers, content=body, timeout=10)


@contextlib.contextmanager
def serve(fake: FakeGitHub, log: Path, env: Mapping[str, str] | None = None,
          args: Sequence[str] = ()) -> Iterator[App]:
    """Start the server with the fake's App settings (plus `env`, and `args` such as
    `--no-worker`), wait until it is healthy, stop it at the end; its log must never hold the
    private key, an installation token or the secret."""
    port = free_port()
    environment = {**os.environ, **fake.app_env(), "LOG_LEVEL": "DEBUG"}
    environment.pop("REDIS_URL", None)
    environment.update(env or {})
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli.main", "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            env=environment, stdout=out, stderr=subprocess.STDOUT, cwd=REPO_ROOT,
        )
        url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"server exited: {log.read_text()}")
            try:
                return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        try:
            wait_for(healthy, 90, "the server to start")  # a deadline: a loaded machine starts slowly
            yield App(url, log)
        finally:
            process.terminate()
            process.wait(timeout=30)
    text = log.read_text(errors="replace")
    assert "BEGIN RSA PRIVATE KEY" not in text and "BEGIN PRIVATE KEY" not in text
    assert "ghs_" not in text, "an installation token was logged"
    assert fake.webhook_secret not in text


class WorkerProcess:
    """A running `compliance-bot worker` and its log."""

    def __init__(self, process: subprocess.Popen[bytes], log: Path) -> None:
        self.process = process
        self.log = log

    @property
    def pid(self) -> int:
        return self.process.pid


@contextlib.contextmanager
def work(fake: FakeGitHub, log: Path, env: Mapping[str, str], args: Sequence[str] = ()) -> Iterator[WorkerProcess]:
    """Start `compliance-bot worker` (REDIS_URL and the rest in `env`), wait until it says it is
    ready; at the end stop it if the test has not (SIGTERM, then SIGKILL) and check its log."""
    environment = {**os.environ, **fake.app_env(), "LOG_LEVEL": "DEBUG", **env}
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "bot.cli.main", "worker", *args],
                                   env=environment, stdout=out, stderr=subprocess.STDOUT, cwd=REPO_ROOT)

        def ready() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"worker exited: {log.read_text()}")
            return "compliance bot worker ready" in log.read_text(errors="replace")

        try:
            wait_for(ready, 90, "the worker to start")
            yield WorkerProcess(process, log)
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
    text = log.read_text(errors="replace")
    assert "BEGIN RSA PRIVATE KEY" not in text and "ghs_" not in text and fake.webhook_secret not in text


def completed_runs(fake: FakeGitHub, repo: Repository, sha: str) -> list[dict[str, Any]]:
    return [r for r in fake.check_runs(repo) if r["head_sha"] == sha and r["status"] == "completed"]


def completed_run(fake: FakeGitHub, repo: Repository, sha: str, count: int = 1) -> dict[str, Any]:
    """The latest completed check run on `sha`, once at least `count` of them completed."""
    runs: list[dict[str, Any]] = wait_for(lambda: (r := completed_runs(fake, repo, sha)) and len(r) >= count and r,
                                          60, f"{count} completed check run(s) on {sha[:7]}")
    return runs[-1]
