"""Run the webhook server: settings -> logging -> handler -> app -> uvicorn.

    bot.app.serve.run("0.0.0.0", 3000, bot.app.runner.make_handler)

`handler_factory(settings)` returns the coroutine function the worker calls with each `ReviewJob`;
the caller chooses it, so tests (and other entry points) can pass a fake one.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from bot.app.jobs import ReviewJob
from bot.app.settings import Settings, SettingsError, load_settings

__all__ = ["RedactingFormatter", "configure_logging", "redact", "run"]

HandlerFactory = Callable[[Settings], Callable[[ReviewJob], Awaitable[None]]]

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


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

    from bot.app.server import create_app

    app = create_app(settings, handler_factory(settings))
    options: dict[str, Any] = {
        "log_config": None,  # our root handler (with redaction) formats uvicorn's records too
        "access_log": False,  # the server logs one richer line per delivery
        "lifespan": "on",
        "server_header": False,
        "timeout_graceful_shutdown": 30,
    }
    options.update(uvicorn_options)
    uvicorn.run(app, host=host, port=port, **options)


# -- logging that cannot leak credentials -------------------------------------------------------------

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.DOTALL),
     "[private key redacted]"),
    (re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{20,}|v1\.[0-9a-f]{40})\b"),
     "[token redacted]"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"), "[jwt redacted]"),
    (re.compile(r"(?i)\b(authorization['\"]?\s*[:=]\s*['\"]?)(bearer|token|basic)\s+[^\s'\",}]+"),
     r"\1\2 [redacted]"),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*):[^/\s@]+@"), r"\1:***@"),
]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with private keys, GitHub tokens, JWTs, Authorization values, URL passwords and the
    given literal `secrets` (8 characters or longer) replaced."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    for secret in secrets:
        if secret and len(secret) >= 8:
            text = text.replace(secret, "[secret redacted]")
    return text


class RedactingFormatter(logging.Formatter):
    """A formatter that runs `redact` over the whole formatted record, traceback included."""

    def __init__(self, fmt: str | None = LOG_FORMAT, *, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt)
        self._secrets = tuple(s for s in secrets if s)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self._secrets)


def configure_logging(level: str = "INFO", *, secrets: Iterable[str] = (), stream: Any = None) -> None:
    """One stderr handler on the root logger with `RedactingFormatter`, at `level` (LOG_LEVEL)."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(RedactingFormatter(secrets=secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # httpx logs every request URL at INFO; keep it for DEBUG runs only.
    logging.getLogger("httpx").setLevel(logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING)
