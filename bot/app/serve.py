"""Run the App's two roles: the webhook server and the review worker.

    bot.app.serve.run("0.0.0.0", 3000, bot.app.runner.make_handler)          web (+ built-in worker)
    bot.app.serve.run(..., worker=False)                                     web only (REDIS_URL)
    bot.app.serve.run_worker(bot.app.runner.make_handler, concurrency=4)     worker only (REDIS_URL)

Without App credentials (no APP_ID, key or webhook secret in the environment or in the
credentials file, `bot.app.credentials_file`), `run` serves the setup pages instead
(`bot.app.setup`: register the App from its manifest, with the setup token it logs at
start-up, `bot.app.setup_token`), until restarted with them.

Without REDIS_URL the server keeps its built-in worker (one process, the in-process queue);
with it, web servers and workers scale apart, all on one Redis stream.

`handler_factory(settings)` returns the coroutine function the worker calls with each `ReviewJob`;
the caller chooses it, so tests (and other entry points) can pass a fake one.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NoReturn

from bot.app.credentials_file import CredentialsFileError, with_credentials
from bot.app.jobs import ReviewJob
from bot.app.logs import configure_logging
from bot.app.settings import Settings, SettingsError, load_settings

__all__ = ["run", "run_worker"]

log = logging.getLogger(__name__)

HandlerFactory = Callable[[Settings], Callable[[ReviewJob], Awaitable[None]]]
# Any of these given means the App exists: a partial set is an error to report, not a setup to run.
CREDENTIALS = ("APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH", "WEBHOOK_SECRET")


def run(
    host: str,
    port: int,
    handler_factory: HandlerFactory,
    *,
    env: Mapping[str, str] | None = None,
    worker: bool = True,
    **uvicorn_options: Any,
) -> None:
    """Load settings (exit 2 with one line on stderr if they are bad), set up logging, serve.

    `env` replaces os.environ (tests); `uvicorn_options` go to `uvicorn.run` (e.g. `proxy_headers`).
    `worker=False`: web only (verify, enqueue, answer); needs REDIS_URL, where workers read.
    Returns when the server has shut down (SIGINT/SIGTERM; jobs in hand are drained first).
    Without any App credentials it serves the setup pages (`bot.app.setup`) instead.
    """
    source = _environment(env)
    if not any(source.get(name, "").strip() for name in CREDENTIALS):
        _serve_setup(host, port, source, uvicorn_options)
        return
    settings = _settings(source)
    if not worker and not settings.redis_url:
        _exit("--no-worker needs REDIS_URL: without Redis the server's own worker is the only one")

    import uvicorn

    from bot.app.evidence_store import EvidenceStoreError, open_store
    from bot.app.server import create_app

    try:
        evidence = open_store(settings)
        handler = handler_factory(settings)
    except EvidenceStoreError as exc:
        print(f"compliance-bot: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    if worker:
        _prepare(handler)
    app = create_app(settings, handler, evidence=evidence, run_worker=worker,
                     shutdown_timeout=settings.shutdown_grace)
    freeze_startup_heap()
    uvicorn.run(app, host=host, port=port, **_uvicorn_options(uvicorn_options))


def _serve_setup(host: str, port: int, env: Mapping[str, str], uvicorn_options: Mapping[str, Any]) -> None:
    import uvicorn

    from bot.app.setup import create_setup_app
    from bot.app.setup_settings import load_manifest, load_setup_settings
    from bot.app.setup_token import open_gate

    try:
        settings = load_setup_settings(env)
        manifest = load_manifest(settings.manifest_path)
    except SettingsError as exc:
        _exit(str(exc))
    configure_logging(settings.log_level)
    # The setup token, logged once here with the address to open (and written beside the credentials file).
    gate = open_gate(settings, settings.public_url or f"http://{'localhost' if host in ('0.0.0.0', '::') else host}:{port}")
    uvicorn.run(create_setup_app(settings, manifest, gate), host=host, port=port, **_uvicorn_options(uvicorn_options))


def _prepare(handler: object) -> None:
    """Let a handler that reviews load what its first review needs (the rules) now, before the
    event loop runs: loaded at the first job, it would stall the loop's webhooks and heartbeats."""
    prepare = getattr(handler, "prepare", None)
    if prepare is not None:
        prepare()


def freeze_startup_heap() -> None:
    """Move what start-up made (modules, rules, settings: tens of thousands of objects that live as
    long as the process) out of the collector's reach: each full collection walked them all, and
    at a few hundred deliveries a second those 100-150 ms pauses were the webhook's slowest answers."""
    gc.collect()
    gc.freeze()


def _uvicorn_options(overrides: Mapping[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {
        "log_config": None,  # our root handler (with redaction) formats uvicorn's records too
        "access_log": False,  # the server logs one richer line per delivery
        "lifespan": "on",
        "server_header": False,
        "timeout_graceful_shutdown": 30,
        # Bounds for an endpoint anyone on the internet can reach: idle keep-alive connections
        # close after 5 s, a request's headers may not be buffered past 32 KiB while they trickle
        # in, and past 512 open connections new ones get 503 instead of piling up.
        "http": "h11",
        "timeout_keep_alive": 5,
        "h11_max_incomplete_event_size": 32 * 1024,
        "limit_concurrency": 512,
    }
    options.update(overrides)
    return options


def run_worker(handler_factory: HandlerFactory, concurrency: int | None = None, *,
               env: Mapping[str, str] | None = None, metrics: tuple[str, int] | None = None) -> None:
    """Review jobs from the Redis queue until SIGTERM/SIGINT, then stop taking jobs, let those in
    hand finish within SHUTDOWN_GRACE and hand back the rest (exit 2 on bad settings).
    `metrics`: (host, port) where this worker serves GET /metrics (its own counts, as each
    process's; Prometheus scrapes every worker and sums)."""
    source = _environment(env)
    if not any(source.get(name, "").strip() for name in CREDENTIALS):
        _exit("no GitHub App yet: start `compliance-bot serve` and register it at /setup "
              "(or set APP_ID, PRIVATE_KEY and WEBHOOK_SECRET)")
    settings = _settings(source)
    if not settings.redis_url:
        _exit("worker needs REDIS_URL: workers read the queue the web servers fill "
              "(without Redis, `compliance-bot serve` reviews in its own process)")
    from bot.app.evidence_store import EvidenceStoreError

    try:
        handler = handler_factory(settings)
    except EvidenceStoreError as exc:
        _exit(str(exc))
    _prepare(handler)
    freeze_startup_heap()
    asyncio.run(_work(settings, handler, concurrency or settings.worker_concurrency, metrics))


async def _work(settings: Settings, handler: Callable[[ReviewJob], Awaitable[None]], concurrency: int,
                metrics_address: tuple[str, int] | None = None) -> None:
    from bot.app.metrics import process_metrics, serve_metrics
    from bot.app.scaleout import attach
    from bot.app.server import build_queue
    from bot.app.worker import Worker

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    queue = build_queue(settings)
    worker = Worker(queue, handler, concurrency, heartbeat=settings.worker_heartbeat,
                    stop_timeout=settings.shutdown_grace, metrics=process_metrics())
    exporter = await serve_metrics(process_metrics(), queue, *metrics_address) if metrics_address else None
    await worker.start()
    attached = attach(handler, queue, worker, sweep_interval=settings.sweep_interval)  # retries, heads, liveness
    log.info("compliance bot worker ready: %d consumer(s) on %s, check %r", concurrency,
             settings.redis_url_redacted, settings.check_name)
    try:
        await stop.wait()
        log.info("stopping: no new jobs; jobs in hand get %.0f s to finish", settings.shutdown_grace)
    finally:
        await worker.stop(settings.shutdown_grace)
        if exporter is not None:
            await exporter.stop()
        await attached.close()
        await queue.close()
        close = getattr(handler, "aclose", None)
        if close is not None:
            await close()


def _environment(env: Mapping[str, str] | None) -> dict[str, str]:
    """`env` (default os.environ) with the credentials file's values where it has none."""
    try:
        return with_credentials(os.environ if env is None else env)
    except CredentialsFileError as exc:
        _exit(f"credentials file {exc}")


def _settings(env: Mapping[str, str]) -> Settings:
    try:
        settings = load_settings(env)
    except SettingsError as exc:
        _exit(str(exc))
    configure_logging(settings.log_level, secrets=[settings.webhook_secret.get_secret_value()],
                      fmt=settings.log_format)
    return settings


def _exit(message: str) -> NoReturn:
    print(f"compliance-bot: {message}", file=sys.stderr, flush=True)
    raise SystemExit(2)
