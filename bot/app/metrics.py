"""What `GET /metrics` shows, in Prometheus' text format: one `Metrics` per process.

Each process counts what it did itself: a web server its deliveries, a worker (the server's own,
or `compliance-bot worker --metrics-port`) its jobs, reviews, findings and GitHub calls. Prometheus
scrapes each process and sums across them; no shared files, no multiprocess mode. The queue's
depth is read at scrape time from where it lives (Redis, shared by all; or this process's queue),
so every process reports the same figure for a shared queue: aggregate it with `max`, not `sum`.

Labels are bounded by construction: events by a fixed list (a forged header cannot add series),
delivery outcomes by the server's few words, GitHub calls by route template
(`bot.github.routes`), findings by rule id and severity. No repository, pull request, path or
token is ever a label.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol, runtime_checkable

import uvicorn
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.app.job_queue import QueueStats
from bot.engine.model import Finding

__all__ = ["CONTENT_TYPE", "EVENTS", "Exporter", "Metrics", "process_metrics", "serve_metrics"]

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
PREFIX = "compliance_bot"
# The events the App subscribes to (app.yml) and routes; any other header value counts as "other".
EVENTS = frozenset({"ping", "pull_request", "pull_request_review", "check_suite", "check_run", "merge_group",
                    "installation", "installation_repositories"})
OUTCOMES = frozenset({"queued", "duplicate", "ignored", "rejected", "failed", "pong", "recorded"})
_RATE_RESOURCES = frozenset({"core", "graphql", "search", "integration_manifest", "code_scanning_upload",
                             "actions_runner_registration", "scim", "dependency_snapshots", "code_search"})
# Seconds: a review of a small change takes well under a second; a large one, minutes.
REVIEW_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)


@runtime_checkable
class MeasuredQueue(Protocol):
    """A queue that can say how deep it is (both `bot.app.job_queue` queues can)."""

    async def stats(self) -> QueueStats: ...


class Metrics:
    """The App's instruments on their own registry (a test makes its own; the App one per process)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.deliveries = Counter(f"{PREFIX}_webhook_deliveries", "Webhook deliveries answered, by event and outcome.",
                                  ["event", "outcome"], registry=r)
        self.jobs = Counter(f"{PREFIX}_jobs", "Review jobs the worker finished, by outcome (done, failed, timed_out, "
                            "cancelled).", ["outcome"], registry=r)
        self.check_runs = Counter(f"{PREFIX}_check_runs_completed", "Check runs completed, by conclusion.",
                                  ["conclusion"], registry=r)
        self.review_seconds = Histogram(f"{PREFIX}_review_duration_seconds", "From a job's start to its check run "
                                        "completed.", buckets=REVIEW_BUCKETS, registry=r)
        self.findings = Counter(f"{PREFIX}_findings", "Findings reported in check runs (suppressed ones not counted), "
                                "by rule and severity.", ["rule", "severity"], registry=r)
        self.github_requests = Counter(f"{PREFIX}_github_requests", "GitHub API responses, by method, route template "
                                       "and HTTP status.", ["method", "route", "status"], registry=r)
        self.rate_limit = Gauge(f"{PREFIX}_github_rate_limit_remaining", "x-ratelimit-remaining of the latest GitHub "
                                "response, by rate-limit resource.", ["resource"], registry=r)
        self.queue_jobs = Gauge(f"{PREFIX}_queue_jobs", "Jobs in the queue: waiting to be handed out, or in progress.",
                                ["state"], registry=r)
        self.queue_oldest = Gauge(f"{PREFIX}_queue_oldest_job_age_seconds", "Age of the oldest job waiting or in "
                                  "progress (0 when the queue is empty).", registry=r)
        self.queue_up = Gauge(f"{PREFIX}_queue_up", "1 when the queue's depth could be read at this scrape, else 0.",
                              registry=r)

    # -- recording -----------------------------------------------------------------------------

    def delivery(self, event: str, outcome: str) -> None:
        """One webhook answered; `outcome` is the server's own word for it (first word counts)."""
        word = outcome.split(":", 1)[0].split(" ", 1)[0].strip().lower()
        self.deliveries.labels(event if event in EVENTS else "other", word if word in OUTCOMES else "other").inc()

    def job(self, outcome: str) -> None:
        self.jobs.labels(outcome).inc()

    def completed(self, conclusion: str, seconds: float, findings: Iterable[Finding] = ()) -> None:
        """A check run completed after `seconds`, reporting `findings`."""
        self.check_runs.labels(conclusion).inc()
        self.review_seconds.observe(seconds)
        for finding in findings:
            if not finding.suppressed:
                self.findings.labels(finding.rule_id, finding.severity.value).inc()

    def github_response(self, method: str, route: str, status: int, headers: Mapping[str, str]) -> None:
        """`bot.github.routes.RequestObserver`: one GitHub response."""
        self.github_requests.labels(method.upper(), route, str(status)).inc()
        remaining = headers.get("x-ratelimit-remaining")
        if remaining is not None and remaining.strip().isdigit():
            resource = headers.get("x-ratelimit-resource", "core")
            self.rate_limit.labels(resource if resource in _RATE_RESOURCES else "other").set(int(remaining))

    # -- scraping ------------------------------------------------------------------------------

    async def scrape(self, queue: object | None = None) -> bytes:
        """The text exposition, with the queue's depth read now."""
        if isinstance(queue, MeasuredQueue):
            try:
                stats = await queue.stats()
            except Exception as exc:  # noqa: BLE001 - a scrape answers even when Redis does not
                log.warning("queue depth unavailable for /metrics: %s", exc)
                self.queue_up.set(0)
            else:
                self.queue_up.set(1)
                self.queue_jobs.labels("waiting").set(stats.waiting)
                self.queue_jobs.labels("in_progress").set(stats.in_progress)
                self.queue_oldest.set(stats.oldest_age)
        return generate_latest(self.registry)


class Exporter:
    """A worker's own GET /metrics: a small uvicorn server in the worker's event loop, so the
    queue's depth is read with the same async client as everything else."""

    def __init__(self, server: Any, task: asyncio.Task[None]) -> None:
        self._server = server
        self._task = task

    async def stop(self) -> None:
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):  # bounded: never holds up the stop
            await asyncio.wait_for(self._task, 10)


class _SignalFreeServer(uvicorn.Server):
    """uvicorn's server without its signal handlers: the worker owns SIGTERM and SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_metrics(metrics: Metrics, queue: object, host: str, port: int) -> Exporter:
    """Serve `metrics` (and `queue`'s depth) at http://host:port/metrics until `stop()`."""
    async def page(request: Request) -> Response:
        return Response(await metrics.scrape(queue), media_type=CONTENT_TYPE)

    app = Starlette(routes=[Route("/metrics", page, methods=["GET"])])
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="off",
                            server_header=False, http="h11", timeout_keep_alive=5, limit_concurrency=64)
    server = _SignalFreeServer(config)
    task = asyncio.create_task(server.serve(), name="metrics-exporter")
    deadline = time.monotonic() + 10
    while not server.started:
        if task.done():
            task.result()  # a port in use: its error, raised here
            raise OSError(f"metrics server on {host}:{port} stopped at start")
        if time.monotonic() > deadline:
            raise OSError(f"metrics server on {host}:{port} did not start")
        await asyncio.sleep(0.02)
    log.info("metrics at http://%s:%d/metrics", host, port)
    return Exporter(server, task)


_PROCESS: list[Metrics] = []


def process_metrics() -> Metrics:
    """This process's instruments, made on first use: the server, its worker, the runner and the
    GitHub client of one process count into the same ones."""
    if not _PROCESS:
        _PROCESS.append(Metrics())
    return _PROCESS[0]
