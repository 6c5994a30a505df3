"""Run the webhook server: settings -> logging -> handler -> app -> uvicorn.

    bot.app.serve.run("0.0.0.0", 3000, bot.app.runner.make_handler)

`handler_factory(settings)` returns the coroutine function the worker calls with each `ReviewJob`;
the caller chooses it, so tests (and other entry points) can pass a fake one.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.app.jobs import ReviewJob
from bot.app.logs import configure_logging
from bot.app.settings import Settings, SettingsError, load_settings

__all__ = ["run"]

HandlerFactory = Callable[[Settings], Callable[[ReviewJob], Awaitable[None]]]



def run(
    host: str,
    port: int,
    handler_factory: HandlerFactory,
    *,
    env: Mapping[str, str] | None = None,
    **uvicorn_options: Any,
) -> None:
    """Load settings (exit 2 with one line on stderr if they are bad), set up logging, serve.

    `env` replaces os.environ (tests); `uvicorn_options` go to `uvicorn.run` (e.g. `proxy_headers`).
    Returns when the server has shut down (SIGINT/SIGTERM; jobs in hand are drained first).
    """
    try:
        settings = load_settings(env)
    except SettingsError as exc:
        print(f"compliance-bot: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    configure_logging(settings.log_level, secrets=[settings.webhook_secret.get_secret_value()])

    import uvicorn

    from bot.app.evidence_store import EvidenceStoreError, open_store
    from bot.app.server import create_app

    try:
        evidence = open_store(settings)
        handler = handler_factory(settings)
    except EvidenceStoreError as exc:
        print(f"compliance-bot: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    app = create_app(settings, handler, evidence=evidence)
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
    options.update(uvicorn_options)
    uvicorn.run(app, host=host, port=port, **options)
