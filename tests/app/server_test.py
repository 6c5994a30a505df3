"""The webhook server, driven through its ASGI interface (httpx ASGI transport + the lifespan
protocol, as uvicorn runs it), and `bot.app.serve.run` under a real uvicorn in a subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any, Self

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.types import Receive, Scope, Send

from bot.app import logs, serve
from bot.app.evidence_store import EvidenceStore, EvidenceStoreError, SqliteEvidenceStore
from bot.app.job_queue import InProcessQueue, JobQueue, RedisStreamQueue
from bot.app.jobs import ReviewJob
from bot.app.scaleout import HEARTBEAT_TTL, live_workers
from bot.app.server import MAX_BODY_BYTES, build_queue, create_app
from bot.app.settings import Settings, load_settings
from bot.app.webhooks import Ignored, route, signature_for
from bot.report.evidence_chain import StoredEntry
from tests.app.redis_fixtures import RedisServer
from tests.app.redis_fixtures import eventually as eventually_async
from tests.app.root_logger import root_logger_restored
from tests.fakegithub import descriptions

REPO_ROOT = Path(__file__).resolve().parents[2]
WEBHOOKS = descriptions.webhooks_dir()  # GitHub's examples, fetched from npm (tests/fakegithub/descriptions.py)
HEADERS_EXAMPLE = json.loads((WEBHOOKS / "headers.example.json").read_text())
REDIS_URL = "redis://127.0.0.1:6379/0"
SECRET = "It's a Secret to Everybody"

pytestmark = pytest.mark.anyio


@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()


@pytest.fixture(scope="module")
def settings(pem: str) -> Settings:
    # load_settings(mapping) also picks up REDIS_URL from the process environment (reported: a
    # settings bug), and REDIS_URL is what points the Redis tests at a server: without this, every
    # test here would run on the shared Redis under the default stream name.
    with pytest.MonkeyPatch.context() as env:
        env.delenv("REDIS_URL", raising=False)
        return load_settings({"APP_ID": "42", "PRIVATE_KEY": pem, "WEBHOOK_SECRET": SECRET,
                              "WORKER_CONCURRENCY": "2"})


def payload_files() -> list[Path]:
    return sorted(p for p in WEBHOOKS.glob("*.json") if p.name != "headers.example.json")


def delivery_headers(event: str, body: bytes, *, delivery: str | None = None, secret: str = SECRET,
                     template: dict[str, str] | None = None) -> dict[str, str]:
    """The documented header set, with this delivery's event, id, length and real signatures."""
    headers = dict(template or HEADERS_EXAMPLE["headers"])
    names = {name.lower(): name for name in headers}
    headers[names["x-github-event"]] = event
    headers[names["x-github-delivery"]] = delivery or str(uuid.uuid4())
    headers[names["x-hub-signature-256"]] = signature_for(secret, body)
    headers.pop(names.get("x-hub-signature", ""), None)  # the SHA-1 placeholder matches nothing
    headers.pop(names.get("content-length", ""), None)  # httpx sets the real one
    return headers


DEADLINE = 10.0  # seconds: bounds a broken case only; the awaited thing normally takes milliseconds


async def eventually(predicate: Any, what: str) -> None:
    """Poll `predicate()` until true; fail after DEADLINE seconds (no sleeping as a barrier)."""
    deadline = time.monotonic() + DEADLINE
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {DEADLINE:.0f}s waiting for {what}", pytrace=False)
        await asyncio.sleep(0.005)


class Recorder:
    """A fake review handler: collects jobs; can hold them at a gate."""

    def __init__(self, *, gated: bool = False) -> None:
        self.jobs: list[ReviewJob] = []
        self.finished: list[ReviewJob] = []
        self.gate = asyncio.Event()
        if not gated:
            self.gate.set()
        self.arrived = asyncio.Event()

    async def __call__(self, job: ReviewJob) -> None:
        self.jobs.append(job)
        self.arrived.set()
        await self.gate.wait()
        self.finished.append(job)

    async def wait_for(self, count: int, timeout: float = 3.0) -> None:
        async def wait() -> None:
            while len(self.jobs) < count:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(wait(), timeout)


class Running:
    """Runs an app's lifespan like a server does and hands each request a copy of its state."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}
        self._task = asyncio.create_task(self.app(scope, self._to_app.get, self._from_app.put))
        await self._to_app.put({"type": "lifespan.startup"})
        message = await asyncio.wait_for(self._from_app.get(), 5)
        assert message["type"] == "lifespan.startup.complete", message
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.shutdown()

    async def shutdown(self) -> None:
        if self._task is None:
            return
        await self._to_app.put({"type": "lifespan.shutdown"})
        message = await asyncio.wait_for(self._from_app.get(), 10)
        assert message["type"] == "lifespan.shutdown.complete", message
        await self._task
        self._task = None

    async def asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app({**scope, "state": dict(self.state)}, receive, send)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.asgi), base_url="http://testserver")


@contextlib.asynccontextmanager
async def started(settings: Settings, handler: Any, queue: JobQueue | None = None,
                  **options: Any) -> AsyncIterator[tuple[Running, httpx.AsyncClient]]:
    async with Running(create_app(settings, handler, queue, **options)) as running, running.client() as client:
        yield running, client


# -- signed replay of every shared payload ---------------------------------------------------------


@pytest.mark.parametrize("path", payload_files(), ids=lambda p: p.name)
async def test_signed_replay_of_real_payload(settings: Settings, path: Path) -> None:
    body = path.read_bytes()
    event = path.name.split(".", 1)[0]
    headers = delivery_headers(event, body, delivery=f"delivery-{path.stem}")
    expected = route(event, f"delivery-{path.stem}", json.loads(body))
    handler = Recorder()
    queue = SpyQueue()
    async with started(settings, handler, queue) as (_running, client):
        response = await client.post("/webhook", content=body, headers=headers)
        if isinstance(expected, ReviewJob):
            assert response.status_code == 202
            assert response.json() == {"queued": True, "delivery": f"delivery-{path.stem}"}
            await handler.wait_for(1)
            assert handler.jobs == [expected]
        elif isinstance(expected, Ignored):
            assert response.status_code == 202
            assert response.json() == {"ignored": expected.reason}
        else:
            assert response.status_code == 200
            assert response.json() == {"ok": True, "event": "ping"}
    await queue.close()
    # The server queues before it answers, so the queue shows at once whether a job was made.
    assert queue.puts == ([expected] if isinstance(expected, ReviewJob) else [])
    assert len(handler.jobs) == len(queue.puts)


@pytest.mark.parametrize("casing", ["documented", "rest-api", "lower", "upper"])
async def test_header_lookup_ignores_case(settings: Settings, casing: str) -> None:
    body = (WEBHOOKS / "pull_request.opened.json").read_bytes()
    template = HEADERS_EXAMPLE["also_documented"]["rest_api_hook_delivery_example"]["headers"] \
        if casing == "rest-api" else None
    headers = delivery_headers("pull_request", body, delivery="d-case", template=template)
    if casing == "lower":
        headers = {k.lower(): v for k, v in headers.items()}
    elif casing == "upper":
        headers = {k.upper(): v for k, v in headers.items()}
    handler = Recorder()
    async with started(settings, handler) as (_running, client):
        response = await client.post("/webhook", content=body, headers=headers)
        assert response.status_code == 202, response.text
        await handler.wait_for(1)
    assert handler.jobs[0].delivery_id == "d-case"


async def test_compact_body_as_github_sends_it(settings: Settings) -> None:
    payload = json.loads((WEBHOOKS / "pull_request.synchronize.json").read_text())
    body = json.dumps(payload, separators=(",", ":")).encode()
    handler = Recorder()
    async with started(settings, handler) as (_running, client):
        response = await client.post("/webhook", content=body, headers=delivery_headers("pull_request", body))
        assert response.status_code == 202
        await handler.wait_for(1)
    assert handler.jobs[0].trigger == "pull_request.synchronize"


async def test_answers_before_the_review_runs(settings: Settings) -> None:
    handler = Recorder(gated=True)  # the review "takes forever"
    body = (WEBHOOKS / "pull_request.opened.json").read_bytes()
    async with started(settings, handler) as (running, client):
        response = await client.post("/webhook", content=body, headers=delivery_headers("pull_request", body))
        assert response.status_code == 202  # answered while the review cannot have finished (gated)
        await handler.wait_for(1)
        assert handler.finished == []  # still running after the response went out
        assert running.state["worker"].running_jobs == handler.jobs
        handler.gate.set()


async def test_redelivered_webhook_is_not_queued_twice(settings: Settings) -> None:
    handler = Recorder()
    body = (WEBHOOKS / "pull_request.reopened.json").read_bytes()
    headers = delivery_headers("pull_request", body, delivery="same-delivery")
    queue = SpyQueue()
    async with started(settings, handler, queue) as (_running, client):
        first = await client.post("/webhook", content=body, headers=headers)
        second = await client.post("/webhook", content=body, headers=headers)
        await handler.wait_for(1)
    await queue.close()
    assert queue.accepted == 1  # the queue refused the second put: nothing left to run twice
    assert first.status_code == 202 and first.json()["queued"] is True
    assert second.status_code == 202
    assert second.json() == {"queued": False, "duplicate": True, "delivery": "same-delivery"}
    assert len(handler.jobs) == 1


# -- rejections: nothing queued, handler never called ---------------------------------------------


class SpyQueue(InProcessQueue):
    def __init__(self) -> None:
        super().__init__()
        self.puts: list[ReviewJob] = []
        self.accepted = 0

    async def put(self, job: ReviewJob) -> bool:
        self.puts.append(job)
        queued = await super().put(job)
        self.accepted += queued
        return queued


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("missing", "missing X-Hub-Signature-256 header"),
        ("empty", "missing X-Hub-Signature-256 header"),
        ("wrong-secret", "signature does not match"),
        ("other-body", "signature does not match"),
        ("sha1-only", "missing X-Hub-Signature-256 header"),
        ("garbage", "signature does not match"),
    ],
)
async def test_forged_or_missing_signature_is_401(settings: Settings, case: str, error: str) -> None:
    body = (WEBHOOKS / "pull_request.opened.json").read_bytes()
    headers = delivery_headers("pull_request", body)
    if case == "missing":
        del headers["X-Hub-Signature-256"]
    elif case == "empty":
        headers["X-Hub-Signature-256"] = ""
    elif case == "wrong-secret":
        headers["X-Hub-Signature-256"] = signature_for("guessed", body)
    elif case == "other-body":
        headers["X-Hub-Signature-256"] = signature_for(SECRET, body.replace(b'"number": 2', b'"number": 3'))
    elif case == "sha1-only":
        del headers["X-Hub-Signature-256"]
        headers["X-Hub-Signature"] = HEADERS_EXAMPLE["headers"]["X-Hub-Signature"]
    else:
        headers["X-Hub-Signature-256"] = "sha256=not-hex-\u00ff".encode("latin-1")  # type: ignore[assignment]
    handler = Recorder()
    queue = SpyQueue()
    async with started(settings, handler, queue) as (_running, client):
        response = await client.post("/webhook", content=body, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": error}
    assert handler.jobs == [] and queue.puts == []


async def test_malformed_json_with_valid_signature_is_400(settings: Settings) -> None:
    body = b'{"action": "opened", "pull_request": '
    queue = SpyQueue()
    async with started(settings, Recorder(), queue) as (_running, client):
        response = await client.post("/webhook", content=body, headers=delivery_headers("pull_request", body))
    assert response.status_code == 400
    assert response.json() == {"error": "body is not valid JSON"}
    assert queue.puts == []


async def test_non_utf8_body_with_valid_signature_is_400(settings: Settings) -> None:
    body = b'{"zen": "\xff\xfe"}'
    async with started(settings, Recorder()) as (_running, client):
        response = await client.post("/webhook", content=body, headers=delivery_headers("ping", body))
    assert response.status_code == 400


async def test_bad_payload_with_valid_signature_is_400(settings: Settings) -> None:
    payload = json.loads((WEBHOOKS / "pull_request.opened.json").read_text())
    del payload["pull_request"]["head"]["sha"]
    body = json.dumps(payload).encode()
    queue = SpyQueue()
    async with started(settings, Recorder(), queue) as (_running, client):
        response = await client.post("/webhook", content=body, headers=delivery_headers("pull_request", body))
    assert response.status_code == 400
    assert response.json() == {"error": "bad payload: pull_request.head.sha is missing"}
    assert queue.puts == []


@pytest.mark.parametrize(("header", "error"), [("X-GitHub-Event", "missing X-GitHub-Event header"),
                                               ("X-GitHub-Delivery", "missing X-GitHub-Delivery header")])
async def test_missing_github_headers_are_400(settings: Settings, header: str, error: str) -> None:
    body = (WEBHOOKS / "pull_request.opened.json").read_bytes()
    headers = delivery_headers("pull_request", body)
    del headers[header]
    async with started(settings, Recorder()) as (_running, client):
        response = await client.post("/webhook", content=body, headers=headers)
    assert response.status_code == 400 and response.json() == {"error": error}


async def test_26_mb_body_is_413(settings: Settings) -> None:
    body = b'{"pad": "' + b"x" * (26 * 1024 * 1024) + b'"}'
    queue = SpyQueue()
    async with started(settings, Recorder(), queue) as (_running, client):
        response = await client.post("/webhook", content=body, headers=delivery_headers("ping", body))
    assert response.status_code == 413
    assert response.json() == {"error": f"payload larger than {MAX_BODY_BYTES} bytes"}
    assert queue.puts == []


async def test_oversized_content_length_is_refused_without_reading_the_body(settings: Settings) -> None:
    received: list[dict[str, Any]] = []
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        received.append({})
        return {"type": "http.request", "body": b"x" * 1024, "more_body": True}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    async with Running(create_app(settings, Recorder())) as running:
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
            "scheme": "http", "path": "/webhook", "raw_path": b"/webhook", "query_string": b"",
            "root_path": "", "client": ("127.0.0.1", 1), "server": ("testserver", 80),
            "headers": [(b"content-length", str(26 * 1024 * 1024).encode()), (b"x-github-event", b"ping"),
                        (b"x-github-delivery", b"d-big"), (b"x-hub-signature-256", b"sha256=00")],
        }
        await running.asgi(scope, receive, send)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413
    assert received == []  # not a byte was read


async def test_chunked_body_is_cut_off_while_streaming(settings: Settings) -> None:
    chunk = b"x" * (1024 * 1024)
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(100):  # 100 MB offered, no Content-Length
            pulled += 1
            yield chunk

    async with started(settings, Recorder()) as (_running, client):
        response = await client.post("/webhook", content=body(), headers={
            "X-GitHub-Event": "ping", "X-GitHub-Delivery": "d-chunked", "X-Hub-Signature-256": "sha256=00"})
    assert response.status_code == 413
    assert pulled <= 27  # stopped right after passing 25 MB


async def test_small_limit_is_configurable(settings: Settings) -> None:
    body = (WEBHOOKS / "ping.json").read_bytes()
    async with started(settings, Recorder(), max_body_bytes=1000) as (_running, client):
        response = await client.post("/webhook", content=body, headers=delivery_headers("ping", body))
    assert response.status_code == 413


async def test_invalid_content_length_is_400(settings: Settings) -> None:
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    async with Running(create_app(settings, Recorder())) as running:
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": "/webhook", "raw_path": b"/webhook", "query_string": b"",
                 "root_path": "", "headers": [(b"content-length", b"12abc")], "client": None,
                 "server": None}
        await running.asgi(scope, receive, send)
    assert sent[0]["status"] == 400


async def test_only_post_on_webhook(settings: Settings) -> None:
    async with started(settings, Recorder()) as (_running, client):
        assert (await client.get("/webhook")).status_code == 405
        assert (await client.get("/nope")).status_code == 404


# -- health, lifespan, logging --------------------------------------------------------------------


async def test_healthz_and_readyz(settings: Settings) -> None:
    async with started(settings, Recorder()) as (_running, client):
        health = await client.get("/healthz")
        ready = await client.get("/readyz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "queue": "ok", "workers": 1}


async def test_an_unreachable_queue_is_not_ready_but_alive(settings: Settings) -> None:
    queue = RedisStreamQueue.from_url("redis://127.0.0.1:1/0", stream="unused", group="unused")
    try:
        async with started(settings, Recorder(), queue) as (_running, client):
            health = await client.get("/healthz")
            ready = await client.get("/readyz")
    finally:
        await queue.close()
    assert health.status_code == 200  # liveness: a probe must not restart the pod for Redis
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "queue": "unreachable", "workers": 0}


async def test_queue_outage_answers_503(settings: Settings) -> None:
    queue = RedisStreamQueue.from_url("redis://127.0.0.1:1/0", stream="unused", group="unused")
    body = (WEBHOOKS / "pull_request.opened.json").read_bytes()
    try:
        async with started(settings, Recorder(), queue) as (_running, client):
            response = await client.post("/webhook", content=body, headers=delivery_headers("pull_request", body))
    finally:
        await queue.close()
    assert response.status_code == 503 and response.json() == {"error": "queue unavailable"}


async def test_lifespan_owns_the_queue_and_worker_it_builds(settings: Settings) -> None:
    running = Running(create_app(settings, Recorder()))
    async with running:
        queue, worker = running.state["queue"], running.state["worker"]
        assert isinstance(queue, InProcessQueue)
        assert worker.started and worker.concurrency == 2
        assert running.state["settings"] is settings
        assert await queue.ping()
    assert not worker.started
    assert not await queue.ping()  # closed with the app


async def test_an_injected_queue_is_left_open(settings: Settings) -> None:
    queue = InProcessQueue()
    async with Running(create_app(settings, Recorder(), queue)) as running:
        assert running.state["queue"] is queue
    assert await queue.ping()
    await queue.close()


def test_build_queue_follows_redis_url(settings: Settings, pem: str) -> None:
    assert isinstance(build_queue(settings), InProcessQueue)
    with_redis = load_settings({"APP_ID": "42", "PRIVATE_KEY": pem, "WEBHOOK_SECRET": SECRET,
                                "REDIS_URL": REDIS_URL})
    queue = build_queue(with_redis)
    assert isinstance(queue, RedisStreamQueue)
    asyncio.run(queue.close())


async def test_shutdown_drains_a_running_review(settings: Settings) -> None:
    handler = Recorder(gated=True)
    body = (WEBHOOKS / "pull_request.opened.json").read_bytes()
    running = Running(create_app(settings, handler))
    await running.__aenter__()
    async with running.client() as client:
        assert (await client.post("/webhook", content=body,
                                  headers=delivery_headers("pull_request", body))).status_code == 202
    await handler.wait_for(1)
    worker = running.state["worker"]
    shutting_down = asyncio.create_task(running.shutdown())
    await eventually(lambda: worker.stopping, what="the shutdown to stop the worker")
    assert not shutting_down.done()  # waits for the review in progress (gated: it cannot be done)
    handler.gate.set()
    await asyncio.wait_for(shutting_down, DEADLINE)
    assert len(handler.finished) == 1


async def test_one_log_line_per_delivery(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    body = (WEBHOOKS / "pull_request.opened.json").read_bytes()
    forged = delivery_headers("pull_request", body, delivery="d-forged", secret="wrong")
    good = delivery_headers("pull_request", body, delivery="d-good")
    ping = (WEBHOOKS / "ping.json").read_bytes()
    handler = Recorder()
    with caplog.at_level(logging.INFO, logger="bot.app.server"):
        async with started(settings, handler) as (_running, client):
            caplog.clear()
            await client.post("/webhook", content=body, headers=good)
            await client.post("/webhook", content=body, headers=forged)
            await client.post("/webhook", content=ping, headers=delivery_headers("ping", ping, delivery="d-ping"))
            await handler.wait_for(1)
            lines = [r.getMessage() for r in caplog.records if r.name == "bot.app.server"]
    assert len(lines) == 3
    assert re.match(r"delivery=d-good event=pull_request action=opened repo=Codertocat/Hello-World "
                    r"status=202 outcome=queued pull_request.opened \(\d+\.\d ms\)$", lines[0])
    assert lines[1].startswith("delivery=d-forged event=pull_request action=- repo=- status=401 "
                               "outcome=rejected: bad signature")
    assert lines[2].startswith("delivery=d-ping event=ping action=- repo=Octocoders/Hello-World status=200 "
                               "outcome=pong")
    assert SECRET not in caplog.text and good["X-Hub-Signature-256"] not in caplog.text


async def test_log_line_neutralizes_header_injection(settings: Settings,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    body = b"{}"
    headers = {"X-GitHub-Event": "ping", "X-GitHub-Delivery": "abc\tFAKE status=200", "X-Hub-Signature-256": "x"}
    with caplog.at_level(logging.INFO, logger="bot.app.server"):
        async with started(settings, Recorder()) as (_running, client):
            await client.post("/webhook", content=body, headers=headers)
    line = [r.getMessage() for r in caplog.records if r.name == "bot.app.server"][-1]
    assert line.startswith("delivery=abc?FAKE?status=200 event=ping")


# -- Redis Streams end to end ----------------------------------------------------------------------


@pytest.fixture()
async def redis_queue(redis_url: str, redis_names: dict[str, str]) -> AsyncIterator[RedisStreamQueue]:
    queue = RedisStreamQueue.from_url(redis_url, stream=redis_names["stream"], group=redis_names["group"],
                                      block=0.05)
    yield queue
    await queue.close()


async def test_signed_delivery_through_redis_streams(settings: Settings, redis_queue: RedisStreamQueue) -> None:
    handler = Recorder()
    body = (WEBHOOKS / "check_suite.rerequested.json").read_bytes()
    headers = delivery_headers("check_suite", body, delivery="d-redis")
    async with started(settings, handler, redis_queue) as (_running, client):
        response = await client.post("/webhook", content=body, headers=headers)
        duplicate = await client.post("/webhook", content=body, headers=headers)
        await handler.wait_for(1)
        health = await client.get("/healthz")
    assert response.status_code == 202 and response.json() == {"queued": True, "delivery": "d-redis"}
    assert duplicate.json()["duplicate"] is True
    assert [j.delivery_id for j in handler.jobs] == ["d-redis"]
    assert handler.jobs[0] == route("check_suite", "d-redis", json.loads(body))
    assert health.status_code == 200
    pending = await redis_queue.redis.xpending(redis_queue.stream, redis_queue.group)
    assert pending["pending"] == 0  # acked after the job finished (shutdown waited for it)


# -- bot.app.serve ------------------------------------------------------------------------------------


def test_run_exits_2_with_one_line_on_bad_settings(capsys: pytest.CaptureFixture[str]) -> None:
    called: list[Settings] = []

    def factory(settings: Settings) -> Any:
        called.append(settings)
        raise AssertionError("must not be called")

    with pytest.raises(SystemExit) as caught:
        serve.run("127.0.0.1", 0, factory, env={"APP_ID": "x", "WEBHOOK_SECRET": "s"})
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err == ("compliance-bot: APP_ID: must be an integer (the GitHub App's numeric id); "
                   "PRIVATE_KEY is required (the GitHub App's PEM private key, or set PRIVATE_KEY_PATH)\n")
    assert called == []


def test_redacting_formatter_hides_credentials(pem: str) -> None:
    stream = io.StringIO()
    logger = logging.getLogger("test.redaction")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.RedactingFormatter(secrets=[SECRET]))
    logger.addHandler(handler)
    logger.propagate = False
    try:
        token = "ghs_" + "A1b2C3d4" * 5
        jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiI0MiJ9.c2lnbmF0dXJlLXBhcnQ"
        logger.error("token %s jwt %s secret %s url %s", token, jwt, SECRET, "redis://u:hunter22@h:1")
        logger.error("headers {'Authorization': 'Bearer %s'}", "opaque-value-123")
        try:
            raise RuntimeError(f"key was {pem}")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    for leaked in (token, jwt, SECRET, "hunter22", "opaque-value-123", pem.splitlines()[2]):
        assert leaked not in text
    assert "[token redacted]" in text and "[private key redacted]" in text and "redis://u:***@h:1" in text


def test_configure_logging_sets_level_and_redaction() -> None:
    stream = io.StringIO()
    with root_logger_restored() as root:
        logs.configure_logging("WARNING", secrets=["a-long-webhook-secret"], stream=stream)
        logging.getLogger("bot.test").info("hidden at WARNING")
        logging.getLogger("bot.test").warning("secret is a-long-webhook-secret")
        assert root.level == logging.WARNING
    assert stream.getvalue().count("\n") == 1
    assert "secret is [secret redacted]" in stream.getvalue()


_SERVE_SCRIPT = textwrap.dedent(
    """
    import os, sys
    from bot.app import serve

    def make_handler(settings):
        out = os.environ["TEST_JOBS_FILE"]
        async def handler(job):
            with open(out, "a") as f:
                f.write(job.to_json() + "\\n")
        return handler

    serve.run("127.0.0.1", 0, make_handler)
    """
)


@pytest.fixture()
def served(pem: str, tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[str]]]:
    jobs_file = tmp_path / "jobs.jsonl"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "PRIVATE_KEY_PATH")}
    env.update(APP_ID="42", PRIVATE_KEY=pem.replace("\n", "\\n"), WEBHOOK_SECRET=SECRET, LOG_LEVEL="INFO",
               TEST_JOBS_FILE=str(jobs_file), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-c", _SERVE_SCRIPT], cwd=REPO_ROOT, env=env,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    url = None
    deadline = time.monotonic() + 20
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        found = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", line)
        if found:
            url = found.group(1)
            break
    if url is None:
        proc.kill()
        pytest.fail("server did not start:\n" + "".join(lines))
    try:
        yield url, jobs_file, proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_run_serves_with_real_uvicorn_and_stops_gracefully(
    served: tuple[str, Path, subprocess.Popen[str]], pem: str
) -> None:
    url, jobs_file, proc = served
    body = (WEBHOOKS / "pull_request.opened.json").read_bytes()
    with httpx.Client(base_url=url, timeout=10) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        response = client.post("/webhook", content=body, headers=delivery_headers("pull_request", body,
                                                                                  delivery="d-live"))
        assert response.status_code == 202
        forged = client.post("/webhook", content=body, headers=delivery_headers("pull_request", body,
                                                                                secret="nope"))
        assert forged.status_code == 401

        def chunks() -> Iterator[bytes]:
            for _ in range(40):
                yield b"x" * (1024 * 1024)

        with contextlib.suppress(httpx.HTTPError):  # the server may close before all is sent
            too_big = client.post("/webhook", content=chunks(), headers={
                "X-GitHub-Event": "ping", "X-GitHub-Delivery": "d-big", "X-Hub-Signature-256": "sha256=0"})
            assert too_big.status_code == 413
    deadline = time.monotonic() + 30  # a deadline for a broken server; the job lands in milliseconds
    while time.monotonic() < deadline and not (jobs_file.exists() and jobs_file.read_text()):
        time.sleep(0.02)
    jobs = [ReviewJob.from_json(line) for line in jobs_file.read_text().splitlines()]
    assert [j.delivery_id for j in jobs] == ["d-live"]
    proc.send_signal(signal.SIGTERM)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status tells a supervisor why.
    assert proc.wait(timeout=15) in (0, -signal.SIGTERM)
    assert proc.stderr is not None
    log = proc.stderr.read()
    assert "delivery=d-live event=pull_request action=opened repo=Codertocat/Hello-World status=202" in log
    assert "worker stopped: 1 job(s) processed, 0 failed" in log
    assert SECRET not in log and pem.splitlines()[1] not in log


# -- hostile deliveries ----------------------------------------------------------------------------


async def test_a_signed_body_nested_100k_levels_is_400_not_a_traceback(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    body = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    queue = SpyQueue()
    async with started(settings, Recorder(), queue) as (_running, client):
        response = await client.post("/webhook", content=body, headers=delivery_headers("ping", body))
    assert response.status_code == 400
    assert response.json() == {"error": "body nests deeper than 400 levels"}
    assert queue.puts == [] and "Traceback" not in caplog.text


async def test_a_signed_body_nested_401_levels_is_refused_and_400_levels_are_read(settings: Settings) -> None:
    async with started(settings, Recorder(), SpyQueue()) as (_running, client):
        deep = b"{\"zen\": \"x\", \"hook_id\": 1, \"a\": " + b"[" * 400 + b"]" * 400 + b"}"
        assert (await client.post("/webhook", content=deep, headers=delivery_headers("ping", deep))).status_code == 400
        ok = b"{\"zen\": \"x\", \"hook_id\": 1, \"a\": " + b"[" * 399 + b"]" * 399 + b"}"
        assert (await client.post("/webhook", content=ok, headers=delivery_headers("ping", ok))).status_code == 200


async def test_a_pull_request_number_past_64_bits_is_not_queued(settings: Settings) -> None:
    payload = json.loads((WEBHOOKS / "pull_request.opened.json").read_text())
    payload["number"] = payload["pull_request"]["number"] = 10**30
    body = json.dumps(payload).encode()
    queue = SpyQueue()
    async with started(settings, Recorder(), queue) as (_running, client):
        response = await client.post("/webhook", content=body, headers=delivery_headers("pull_request", body))
    assert response.status_code == 400
    assert response.json() == {"error": "bad payload: pull_request.number is larger than GitHub's 64-bit ids"}
    assert queue.puts == []


@pytest.mark.parametrize(
    "extra",
    [
        {"X-Padding": "a" * 100_000},
        {f"X-Header-{i}": "1" for i in range(1_000)},
    ],
    ids=["100 KB value", "1,000 headers"],
)
async def test_oversized_headers_are_431(settings: Settings, extra: dict[str, str]) -> None:
    body = (WEBHOOKS / "pull_request.opened.json").read_bytes()
    queue = SpyQueue()
    async with started(settings, Recorder(), queue) as (_running, client):
        response = await client.post("/webhook", content=body,
                                     headers={**delivery_headers("pull_request", body), **extra})
        assert (await client.get("/healthz", headers=extra)).status_code == 431
    assert response.status_code == 431
    assert response.json() == {"error": "request headers too large"}
    assert queue.puts == []


async def test_a_body_that_stops_arriving_is_408_within_the_deadline(settings: Settings) -> None:
    never = asyncio.Event()

    async def trickle() -> AsyncIterator[bytes]:
        yield b'{"zen": '
        await never.wait()  # the rest never comes
        yield b"}"

    queue = SpyQueue()
    async with started(settings, Recorder(), queue, body_read_seconds=0.2) as (_running, client):
        response = await client.post("/webhook", content=trickle(), headers={
            "X-GitHub-Event": "ping", "X-GitHub-Delivery": "d-slow", "X-Hub-Signature-256": "sha256=0"})
    assert response.status_code == 408
    assert response.json() == {"error": "body not received in time"}
    assert queue.puts == []


# -- merges: evidence events -----------------------------------------------------------------------


def merged_payload() -> bytes:
    payload: dict[str, Any] = json.loads((descriptions.webhooks_dir() / "pull_request.closed.json").read_text())
    payload["pull_request"].update(merged=True, merged_at="2026-03-02T09:00:00Z", merged_by={"login": "octocat"})
    return json.dumps(payload).encode()


class DownStore(EvidenceStore):
    description = "a store that is down"

    def append(self, kind: str, record: Mapping[str, Any]) -> StoredEntry:
        raise EvidenceStoreError("cannot append to the evidence store a store that is down: refused")

    def entries(self, repository: str | None = None) -> list[StoredEntry]:
        return []

    def has_review(self, review_key: str) -> bool:
        return False


async def test_a_merge_is_appended_to_the_store(settings: Settings, tmp_path: Path) -> None:
    store = SqliteEvidenceStore(tmp_path / "evidence.sqlite3")
    body = merged_payload()
    handler = Recorder()
    async with started(settings, handler, evidence=store) as (_running, client):
        response = await client.post("/webhook", content=body,
                                     headers=delivery_headers("pull_request", body, delivery="merge-1"))
    assert response.status_code == 202 and response.json() == {"recorded": "merge", "seq": 1}
    (entry,) = store.entries()
    record = entry.record()
    assert (entry.kind, record["event"], record["repository"], record["pull_request"]) == (
        "merge", "merge", "Codertocat/Hello-World", 2)
    assert (record["merged_at"], record["merged_by"], record["delivery_id"]) == ("2026-03-02T09:00:00Z", "octocat",
                                                                                  "merge-1")
    assert record["head_sha"] == json.loads(body)["pull_request"]["head"]["sha"]
    assert handler.jobs == []  # a merge is no review


@pytest.mark.parametrize(("store", "status", "reply"), [
    (None, 202, {"ignored": "merged: no evidence store"}),
    (DownStore(), 503, {"error": "evidence store unavailable; redeliver later"}),
])
async def test_a_merge_without_a_working_store(settings: Settings, store: EvidenceStore | None, status: int,
                                               reply: dict[str, str]) -> None:
    body = merged_payload()
    async with started(settings, Recorder(), evidence=store) as (_running, client):
        response = await client.post("/webhook", content=body, headers=delivery_headers("pull_request", body))
    assert (response.status_code, response.json()) == (status, reply)


def test_serve_stops_with_one_line_when_the_evidence_store_cannot_be_opened(pem: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "PRIVATE_KEY_PATH")}
    env.update(APP_ID="42", PRIVATE_KEY=pem.replace("\n", "\\n"), WEBHOOK_SECRET=SECRET,
               DATABASE_URL="postgresql://auditor:hunter2@127.0.0.1:1/evidence")
    script = "from bot.app import serve, runner; serve.run('127.0.0.1', 0, runner.make_handler)"
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("compliance-bot: cannot open the evidence store PostgreSQL "
                           "postgresql://auditor:***@127.0.0.1:1/evidence (schema public):")
    assert "hunter2" not in done.stderr + done.stdout and "Traceback" not in done.stderr


async def test_readiness_follows_redis_and_worker_heartbeats_while_liveness_holds(
        settings: Settings, redis_server: RedisServer) -> None:
    queue = RedisStreamQueue.from_url(redis_server.url, stream="jobs", group="g", block=0.05)
    body = (WEBHOOKS / "pull_request.opened.json").read_bytes()
    try:
        async with started(settings, Recorder(), queue) as (_running, client):
            async def ready() -> bool:
                return (await client.get("/readyz")).status_code == 200

            await eventually_async(ready, what="ready once this process's worker has beaten")
            assert (await client.get("/readyz")).json() == {"status": "ready", "queue": "ok", "workers": 1}
            redis_server.kill()
            down = await client.get("/readyz")
            assert down.status_code == 503 and down.json()["queue"] == "unreachable"
            assert (await client.get("/healthz")).status_code == 200  # liveness never asks Redis
            refused = await client.post("/webhook", content=body,
                                        headers=delivery_headers("pull_request", body, delivery="d-down"))
            assert refused.status_code == 503 and refused.json() == {"error": "queue unavailable"}
            redis_server.start()
            await eventually_async(ready, what="ready again once Redis is back and the heartbeat is written")
    finally:
        await queue.close()


async def test_only_recent_heartbeats_count_and_a_clean_stop_removes_its_own(
        settings: Settings, redis_url: str, redis_names: dict[str, str]) -> None:
    queue = RedisStreamQueue.from_url(redis_url, stream=redis_names["stream"], group=redis_names["group"], block=0.05)
    key = f"{redis_names['stream']}:workers"
    try:
        assert await live_workers(queue) == 0
        await queue.redis.zadd(key, {"long-gone": time.time() - 10 * HEARTBEAT_TTL})
        assert await live_workers(queue) == 0  # a worker not heard of for three beats is dead
        async with started(settings, Recorder(), queue) as (_running, client):
            async def ready() -> bool:
                return (await client.get("/readyz")).status_code == 200

            await eventually_async(ready, what="ready once the worker has beaten")
            assert queue.consumer in await queue.redis.zrange(key, 0, -1)
        assert await queue.redis.zrange(key, 0, -1) == []  # ours removed at stop, the stale one pruned by a beat
        assert await live_workers(queue) == 0
    finally:
        await queue.close()


# -- the latest head -------------------------------------------------------------------------------


async def test_a_redelivered_older_push_does_not_wind_the_latest_head_back(settings: Settings) -> None:
    older = json.loads((WEBHOOKS / "pull_request.synchronize.json").read_bytes())
    newer = json.loads(json.dumps(older))
    newer["pull_request"]["head"]["sha"] = "b" * 40
    newer["after"] = "b" * 40
    bodies = [json.dumps(older).encode(), json.dumps(newer).encode()]
    first = delivery_headers("pull_request", bodies[0], delivery="push-1")
    async with started(settings, Recorder()) as (running, client):
        assert (await client.post("/webhook", content=bodies[0], headers=first)).json()["queued"] is True
        second = delivery_headers("pull_request", bodies[1], delivery="push-2")
        assert (await client.post("/webhook", content=bodies[1], headers=second)).json()["queued"] is True
        again = await client.post("/webhook", content=bodies[0], headers=first)  # GitHub redelivers push 1
        assert again.status_code == 202 and again.json()["duplicate"] is True
        job = route("pull_request", "push-1", older)
        assert isinstance(job, ReviewJob)
        assert await running.state["attached"].heads.latest(job) == "b" * 40
