"""Logging that cannot leak credentials, and that names the job on every line.

Every record passes `RedactingFormatter` (private keys, tokens, JWTs, Authorization values, URL
passwords and the webhook secret are replaced). While a job runs, `job_scope()` binds its
delivery id, repository, pull request and head to the task, and every line logged in that task,
from any module (the GitHub client included), carries them.

Two formats (LOG_FORMAT): `json` (the default), one JSON object per line with `time`, `level`,
`logger`, `message` (and `exception`), plus `delivery_id`, `repository`, `pull_number` and
`head_sha` on every line of a job, so a log pipeline can select one job's lines by field; and
`text`, the same as one human-readable line. Redaction runs over every string of either.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from typing import Any

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(job)s%(message)s"

LOG_FORMATS = ("json", "text")

_JOB: contextvars.ContextVar[str] = contextvars.ContextVar("compliance_bot_job", default="")
_JOB_FIELDS: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("compliance_bot_job_fields",
                                                                                    default=None)


@contextlib.contextmanager
def job_scope(delivery_id: str, repository: str, pull_number: int, head_sha: str) -> Iterator[None]:
    """Within this block (this task and what it awaits), log lines name the job."""
    token = _JOB.set(f"delivery={delivery_id} repo={repository} pr={pull_number} head={head_sha[:12]} ")
    fields = _JOB_FIELDS.set({"delivery_id": delivery_id, "repository": repository, "pull_number": pull_number,
                              "head_sha": head_sha})
    try:
        yield
    finally:
        _JOB_FIELDS.reset(fields)
        _JOB.reset(token)


def job_fields() -> dict[str, Any]:
    """The fields of the job this task runs ({} outside a job)."""
    return dict(_JOB_FIELDS.get() or {})


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
        if not hasattr(record, "job"):
            record.job = _JOB.get()
        return redact(super().format(record), self._secrets)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines in a message or traceback are escaped,
    so a hostile file name cannot forge a line); the job's fields when the record was made in one."""

    def __init__(self, *, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if s)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage(), self._secrets),
        }
        fields = getattr(record, "job_fields", None)
        entry.update(fields if isinstance(fields, dict) else job_fields())
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info), self._secrets)
        elif record.exc_text:
            entry["exception"] = redact(record.exc_text, self._secrets)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO", *, secrets: Iterable[str] = (), stream: Any = None,
                      fmt: str = "json") -> None:
    """One stderr handler on the root logger, at `level` (LOG_LEVEL), in `fmt` (LOG_FORMAT: json
    or text); both redact."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter(secrets=secrets) if fmt == "json" else RedactingFormatter(secrets=secrets))
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
