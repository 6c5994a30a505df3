"""Injected failures for retry/back-off tests: server errors and GitHub's two kinds of rate limit.

A fault matches on method and a regex searched in the request path, fires `times` times, then
disappears. Fault responses bypass contract checks: they are deliberate, not bugs.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Fault:
    """One planned failure."""

    method: str | None
    path_regex: re.Pattern[str]
    status: int
    times: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    kind: str = "error"
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and bool(self.path_regex.search(path))


class Faults:
    """The queue of planned failures (first matching fault wins)."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The fault to apply to this request, consuming one of its `times`."""
        with self._lock:
            for fault in self._faults:
                if fault.fired < fault.times and fault.matches(method, path):
                    fault.fired += 1
                    return fault
        return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return [f for f in self._faults if f.fired < f.times]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


def _json(obj: object) -> bytes:
    return json.dumps(obj).encode()


def server_error(method: str | None, path_regex: str, status: int, times: int, body: object | None) -> Fault:
    messages = {500: "Server Error", 502: "Server Error", 503: "Service Unavailable", 504: "Gateway Timeout"}
    payload = body if body is not None else {"message": messages.get(status, "Server Error"), "documentation_url": "https://docs.github.com/rest"}
    return Fault(method, re.compile(path_regex), status, times, _json(payload))


def secondary_rate_limit(method: str | None, path_regex: str, times: int, retry_after: int) -> Fault:
    """GitHub's abuse/secondary limit: 403 with `retry-after`."""
    body = {
        "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
        "If you reach out to GitHub Support for help, please include the request ID.",
        "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
        "status": "403",
    }
    return Fault(
        method, re.compile(path_regex), 403, times, _json(body), {"retry-after": str(retry_after)}, kind="secondary_rate_limit"
    )


def primary_rate_limit(method: str | None, path_regex: str, times: int, status: int, reset_in: int) -> Fault:
    """The hourly limit: 403 (or 429) with `x-ratelimit-remaining: 0` and the reset epoch."""
    reset = int(time.time()) + reset_in
    body = {
        "message": "API rate limit exceeded for installation ID 1. If you reach out to GitHub Support for help, "
        "please include the request ID.",
        "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
        "status": str(status),
    }
    headers = {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-used": "5000",
        "x-ratelimit-reset": str(reset),
        "x-ratelimit-resource": "core",
    }
    return Fault(method, re.compile(path_regex), status, times, _json(body), headers, kind="primary_rate_limit")
