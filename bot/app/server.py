"""The webhook server: a plain Starlette app whose lifespan owns the queue and the worker.

    POST /webhook   verify X-Hub-Signature-256 over the raw body, route the delivery, queue the
                    job and answer 202 at once (the review runs in the worker, never in the request);
                    a merge is appended to the evidence store (202), or 503 when the store
                    cannot take it, so GitHub lists the delivery as failed and it can be redelivered
    GET  /healthz   liveness only: 200 {"status": "ok"} while the process answers (never fails
                    because Redis is down, so a liveness probe does not restart every pod)
    GET  /readyz    readiness: 200 when the queue is reachable and a worker is alive (this
                    process's, or with Redis any process's heartbeat); 503 saying which is not
    GET  /metrics   Prometheus text format (`bot.app.metrics`)
    GET  /reports/{token}
                    the report page of one review, the check run's details_url (`bot.app.report_pages`)

The lifespan builds the queue (in-process unless REDIS_URL is set, or the one passed in) and a
`Worker` running the handler, and hands them to the endpoints as `request.state.queue`,
`request.state.worker` and `request.state.settings`. No module-level state.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.app.evidence_store import MERGE, EvidenceStore, EvidenceStoreError
from bot.app.heads import records_head
from bot.app.job_queue import InProcessQueue, JobQueue, QueueClosed, QueueFull, RedisStreamQueue
from bot.app.jobs import ReviewJob
from bot.app.metrics import CONTENT_TYPE, Metrics, process_metrics
from bot.app.report_pages import ReportStore, valid_token
from bot.app.scaleout import attach, live_workers
from bot.app.settings import Settings
from bot.app.webhooks import BadPayload, Ignored, Merged, route, verify_signature
from bot.app.worker import Worker
from bot.engine import limits
from bot.report.evidence import merge_record
from bot.report.report_page import render_missing, render_report

__all__ = ["MAX_BODY_BYTES", "build_queue", "create_app", "json_depth", "nests_deeper_than"]

log = logging.getLogger(__name__)

MAX_BODY_BYTES = limits.WEBHOOK_BODY_BYTES  # GitHub caps payloads at 25 MB and drops larger deliveries
MAX_JSON_DEPTH = limits.WEBHOOK_JSON_DEPTH  # GitHub's payloads nest about 10 levels; 100k levels would exhaust the parser's stack
BODY_READ_SECONDS = limits.WEBHOOK_BODY_SECONDS  # GitHub sends a delivery in one go; a body trickling in holds a connection
MAX_HEADERS = limits.WEBHOOK_HEADERS  # GitHub sends about 20
MAX_HEADER_BYTES = limits.WEBHOOK_HEADER_BYTES  # per header line; 32 KiB for all of them
MAX_HEADERS_TOTAL_BYTES = limits.WEBHOOK_HEADERS_TOTAL_BYTES

Handler = Callable[[ReviewJob], Awaitable[None]]


def build_queue(settings: Settings) -> JobQueue:
    """Redis Streams when REDIS_URL is set, else the in-process queue."""
    if settings.redis_url:
        namespace = settings.redis_namespace
        return RedisStreamQueue.from_url(settings.redis_url, stream=f"{namespace}:jobs", group=namespace,
                                         claim_idle=settings.claim_idle)
    return InProcessQueue()


def create_app(
    settings: Settings,
    handler: Handler,
    queue: JobQueue | None = None,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    shutdown_timeout: float = 25.0,
    body_read_seconds: float = BODY_READ_SECONDS,
    evidence: EvidenceStore | None = None,
    run_worker: bool = True,
    metrics: Metrics | None = None,
    reports: ReportStore | None = None,
) -> Starlette:
    """The ASGI app. A `queue` passed in is used as is and left open at shutdown (its owner
    closes it); a queue built here from the settings is closed by the lifespan. `evidence`: where
    merges are recorded (None: merges are not recorded). `run_worker=False`: web only, the
    reviews run in `compliance-bot worker` processes on the same Redis. `metrics`: what /metrics
    shows (default: this process's). `reports`: where report pages are read (default: the
    handler's `reports`, the store its check runs' details_url point into; None: every page is 404)."""
    instruments = metrics or process_metrics()
    found = reports if reports is not None else getattr(handler, "reports", None)
    pages = found if isinstance(found, ReportStore) else None

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        owned = queue is None
        job_queue = build_queue(settings) if queue is None else queue
        where = settings.redis_url_redacted if owned and settings.redis_url else repr(job_queue)
        worker = Worker(job_queue, handler, settings.worker_concurrency, stop_timeout=shutdown_timeout,
                        heartbeat=settings.worker_heartbeat, metrics=instruments)
        if run_worker:
            await worker.start()
        attached = attach(handler, job_queue, worker, sweep_interval=settings.sweep_interval)
        log.info("compliance bot ready: app id %s, queue %s, check %r",
                 settings.app_id, where, settings.check_name)
        if not await job_queue.ping():
            log.error("queue %s is not reachable: webhooks get 503 until it is", where)
        try:
            yield {"settings": settings, "queue": job_queue, "worker": worker, "max_body_bytes": max_body_bytes,
                   "body_read_seconds": body_read_seconds, "evidence": evidence, "attached": attached,
                   "metrics": instruments, "reports": pages}
        finally:
            await worker.stop(shutdown_timeout)
            await attached.close()
            if owned:
                await job_queue.close()
            close = getattr(handler, "aclose", None)
            if close is not None:  # the handler's own connections (the Redis of its leases)
                await close()

    return Starlette(
        routes=[
            Route("/webhook", webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_page, methods=["GET"]),
            Route("/reports/{token}", report_page, methods=["GET"]),
        ],
        middleware=[Middleware(HeaderLimits)],
        lifespan=lifespan,
    )


class HeaderLimits:
    """431 for requests with more, or longer, headers than any GitHub delivery has. The HTTP
    server only bounds headers that arrive in pieces; a request sent whole passes it with 1,000
    headers or a 100 KB value, and every one of them would be held and parsed per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers: list[tuple[bytes, bytes]] = scope.get("headers") or []
            sizes = [len(name) + len(value) for name, value in headers]
            if len(headers) > MAX_HEADERS or max(sizes, default=0) > MAX_HEADER_BYTES \
                    or sum(sizes) > MAX_HEADERS_TOTAL_BYTES:
                log.warning("rejected: request headers too large (%d headers, %d bytes)", len(headers), sum(sizes))
                response = JSONResponse({"error": "request headers too large"}, status_code=431)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def healthz(request: Request) -> Response:
    """Liveness: the process answers. Nothing outside it is asked."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Readiness: the queue answers and some worker is alive to run what it queues."""
    queue: JobQueue = request.state.queue
    worker: Worker = request.state.worker
    try:
        reachable = await asyncio.wait_for(queue.ping(), 2.0)
    except Exception:  # noqa: BLE001
        reachable = False
    workers = 0
    if isinstance(queue, RedisStreamQueue):
        if reachable:
            try:
                workers = await asyncio.wait_for(live_workers(queue), 2.0)
            except Exception:  # noqa: BLE001
                reachable = False
    elif reachable and worker.started and not worker.stopping:
        workers = 1
    ready = reachable and workers > 0
    body = {
        "status": "ready" if ready else "unavailable",
        "queue": "ok" if reachable else "unreachable",
        "workers": workers,
    }
    return JSONResponse(body, status_code=200 if ready else 503)


async def metrics_page(request: Request) -> Response:
    """This process's metrics, the queue's depth read now."""
    metrics: Metrics = request.state.metrics
    return Response(await metrics.scrape(request.state.queue), media_type=CONTENT_TYPE)


async def report_page(request: Request) -> Response:
    """One review's report page; 404 with a page saying so for a token unknown or expired."""
    pages: ReportStore | None = request.state.reports
    token = request.path_params["token"]
    headers = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
               "Referrer-Policy": "no-referrer",
               "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"}
    data = None
    if pages is not None and valid_token(token):
        try:
            data = await pages.get(token)
        except Exception as exc:  # noqa: BLE001 - Redis away: say so, never a stack trace
            log.error("report page unavailable: %s: %s", type(exc).__name__, exc)
            return HTMLResponse(render_missing(), status_code=503, headers=headers)
    if data is None:
        return HTMLResponse(render_missing(), status_code=404, headers=headers)
    return HTMLResponse(render_report(data), headers=headers)


async def webhook(request: Request) -> Response:
    started = time.perf_counter()
    headers = request.headers  # case-insensitive
    event = _clean(headers.get("x-github-event"))
    delivery_id = _clean(headers.get("x-github-delivery"))
    note = _DeliveryLog(event=event or "-", delivery=delivery_id or "-", started=started,
                        metrics=request.state.metrics)

    # 1. Size: refuse before reading when Content-Length says too much, else count while reading.
    limit: int = request.state.max_body_bytes
    length = headers.get("content-length")
    if length is not None:
        if not length.strip().isdigit():
            return note.reply(400, {"error": "invalid Content-Length header"}, "rejected: bad Content-Length")
        if int(length) > limit:
            return note.reply(413, {"error": f"payload larger than {limit} bytes"}, "rejected: too large")
    try:
        async with asyncio.timeout(request.state.body_read_seconds):
            body = await _read_body(request, limit)
    except TimeoutError:
        return note.reply(408, {"error": "body not received in time"}, "rejected: body too slow")
    except _TooLarge:
        return note.reply(413, {"error": f"payload larger than {limit} bytes"}, "rejected: too large")
    except ClientDisconnect:
        return note.reply(400, {"error": "client disconnected"}, "rejected: client disconnected")

    # 2. Authenticity, over exactly the bytes received.
    settings: Settings = request.state.settings
    signature = headers.get("x-hub-signature-256")
    if not signature:
        return note.reply(401, {"error": "missing X-Hub-Signature-256 header"}, "rejected: no signature")
    if not verify_signature(settings.webhook_secret.get_secret_value(), body, signature):
        return note.reply(401, {"error": "signature does not match"}, "rejected: bad signature")

    # 3. Shape.
    if not event:
        return note.reply(400, {"error": "missing X-GitHub-Event header"}, "rejected: no event")
    if not delivery_id:
        return note.reply(400, {"error": "missing X-GitHub-Delivery header"}, "rejected: no delivery id")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return note.reply(400, {"error": "body is not valid JSON"}, "rejected: malformed JSON")
    except RecursionError:
        payload = None
    if payload is None or nests_deeper_than(body, MAX_JSON_DEPTH):
        return note.reply(400, {"error": f"body nests deeper than {MAX_JSON_DEPTH} levels"}, "rejected: too deep")
    note.describe(payload)
    try:
        outcome = route(event, delivery_id, payload)
    except BadPayload as exc:
        return note.reply(400, {"error": f"bad payload: {exc}"}, f"rejected: bad payload: {exc}")

    # 4. Outcome.
    if outcome is None:
        return note.reply(200, {"ok": True, "event": event}, "pong")
    if isinstance(outcome, Ignored):
        return note.reply(202, {"ignored": outcome.reason}, f"ignored: {outcome.reason}")
    if isinstance(outcome, Merged):
        return await _record_merge(request.state.evidence, outcome, note)
    queue: JobQueue = request.state.queue
    try:
        queued = await queue.put(outcome)
        # Only a delivery queued now names the latest head: a redelivery of an older push (the
        # queue drops it as a duplicate) must not wind the record back to that push's head.
        if queued and records_head(outcome):
            await request.state.attached.heads.record(outcome)
    except QueueFull as exc:
        log.error("delivery=%s cannot be queued: %s", delivery_id, exc)
        return note.reply(503, {"error": "queue full, try again later"}, "failed: queue full")
    except QueueClosed:
        return note.reply(503, {"error": "shutting down"}, "failed: queue closed")
    except Exception as exc:  # noqa: BLE001 - a queue outage must answer, not crash
        log.error("delivery=%s cannot be queued (%s: %s)", delivery_id, type(exc).__name__, exc)
        return note.reply(503, {"error": "queue unavailable"}, "failed: queue unavailable")
    if not queued:
        return note.reply(202, {"queued": False, "duplicate": True, "delivery": delivery_id},
                          "duplicate: already queued")
    return note.reply(202, {"queued": True, "delivery": delivery_id}, f"queued {outcome.trigger}")


async def _record_merge(store: EvidenceStore | None, merged: Merged, note: _DeliveryLog) -> JSONResponse:
    if store is None:
        return note.reply(202, {"ignored": "merged: no evidence store"}, "ignored: merged, no evidence store")
    record = merge_record(merged.repository, merged.pull_number, merged.head_sha, merged.base_sha, merged.base_ref,
                          merged.merged_at, merged.merge_commit_sha, merged.merged_by, merged.delivery_id,
                          dt.datetime.now(dt.UTC))
    try:
        entry = await asyncio.to_thread(store.append, MERGE, record)
    except EvidenceStoreError as exc:
        log.error("delivery=%s merge not recorded: %s", merged.delivery_id, exc)
        return note.reply(503, {"error": "evidence store unavailable; redeliver later"}, "failed: evidence store")
    return note.reply(202, {"recorded": "merge", "seq": entry.seq}, f"recorded merge of #{merged.pull_number}")


# -- helpers ---------------------------------------------------------------------------------------


class _TooLarge(Exception):
    """The body passed the size limit while streaming: answer 413 without reading the rest."""


async def _read_body(request: Request, limit: int) -> bytes:
    """The raw body, read once; stops (and raises `_TooLarge`) as soon as it passes `limit`."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENING = frozenset(b"[{")


def nests_deeper_than(body: bytes, limit: int) -> bool:
    """Whether a JSON text (one `json.loads` accepted) nests deeper than `limit`. A text with no
    more brackets than `limit` cannot (GitHub's payloads have a few dozen): two counts of bytes
    answer, where a walk of the parsed value took a third of the webhook's own CPU time."""
    return body.count(b"[") + body.count(b"{") > limit and json_depth(body) > limit


def json_depth(body: bytes) -> int:
    """How deep the containers of a valid JSON text nest (`{"a": [1]}` is 2), counted over its
    bytes. Escaped backslashes and then escaped quotes are dropped (left to right, as a parser
    reads escapes), so every quote left opens or closes a string; what lies between the quotes
    outside strings holds the structure."""
    plain = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(plain.split(b'"')[::2]).translate(None, _NOT_BRACKETS)
    return max(itertools.accumulate(1 if b in _OPENING else -1 for b in brackets), default=0)


_UNSAFE = re.compile(r"[^\x21-\x7e]")


def _clean(value: str | None, limit: int = 100) -> str:
    """A header value safe for a log line (unverified input: no control characters, bounded)."""
    if not value:
        return ""
    return _UNSAFE.sub("?", value.strip())[:limit]


class _DeliveryLog:
    """Collects what is known of one delivery and writes its one log line with the response."""

    def __init__(self, *, event: str, delivery: str, started: float, metrics: Metrics) -> None:
        self.metrics = metrics
        self.event = event
        self.delivery = delivery
        self.started = started
        self.action = "-"
        self.repo = "-"

    def describe(self, payload: Any) -> None:
        if not isinstance(payload, dict):
            return
        action = payload.get("action")
        if isinstance(action, str):
            self.action = _clean(action, 40)
        repository = payload.get("repository")
        if isinstance(repository, dict) and isinstance(repository.get("full_name"), str):
            self.repo = _clean(repository["full_name"])

    def reply(self, status: int, body: dict[str, Any], outcome: str) -> JSONResponse:
        level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
        log.log(
            level,
            "delivery=%s event=%s action=%s repo=%s status=%d outcome=%s (%.1f ms)",
            self.delivery, self.event, self.action, self.repo, status,
            outcome.replace("\n", " "), (time.perf_counter() - self.started) * 1000,
        )
        self.metrics.delivery(self.event, outcome)
        return JSONResponse(body, status_code=status)
