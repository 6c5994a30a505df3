"""The request and response records passed between the HTTP layer and the handlers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .openapi import Operation
from .state import Installation, Token

JSON = "application/json"


class Headers(dict[str, str]):
    """Case-insensitive header lookup (keys stored lower-case)."""

    def __init__(self, items: list[tuple[str, str]] | None = None) -> None:
        super().__init__()
        for k, v in items or []:
            self[k.lower()] = v

    def get_ci(self, key: str, default: str = "") -> str:
        return self.get(key.lower(), default)


@dataclass
class Auth:
    """Who is calling: an app JWT, an installation token, nobody, or something rejected."""

    kind: str  # "none", "jwt", "installation", "invalid"
    token: Token | None = None
    installation: Installation | None = None
    error: str | None = None


@dataclass
class Request:
    """One parsed HTTP request, matched to an operation of the spec."""

    method: str
    path: str
    query: dict[str, str]
    headers: Headers
    raw_body: bytes
    json: Any = None
    op: Operation | None = None
    params: dict[str, str] = field(default_factory=dict)
    auth: Auth = field(default_factory=lambda: Auth("none"))
    path_for_links: str = ""
    spec: Any = None  # the OpenAPI view for the request's X-GitHub-Api-Version
    misrouted: str | None = None  # why the path is outside this flavor's API roots

    def int_param(self, name: str) -> int:
        return int(self.params[name])


@dataclass
class Response:
    """What a handler answers; `body` is JSON-able, or bytes/str for text media types."""

    status: int
    body: Any = None
    media_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str) and self.media_type != JSON:
            return self.body.encode()
        return json.dumps(self.body, separators=(",", ":")).encode()


def error(status: int, message: str, docs: str = "https://docs.github.com/rest", **extra: Any) -> Response:
    """GitHub's error body: message, documentation_url, status (as a string)."""
    body: dict[str, Any] = {"message": message, "documentation_url": docs}
    body.update(extra)
    body["status"] = str(status)
    return Response(status, body)


def not_found() -> Response:
    return error(404, "Not Found")
