"""The last step of GitHub's App manifest flow: trade the code GitHub handed back to the
redirect URL for the new App's credentials (`POST /app-manifests/{code}/conversions`).

The call needs no authentication (the code is the credential, good once, for an hour), so it
does not go through `GitHubApp`, which signs every request with a key this step is about to get.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from bot.github.client import API_HEADERS, GitHubError

__all__ = ["RegisteredApp", "convert_manifest_code"]


@dataclass(frozen=True)
class RegisteredApp:
    """What GitHub returns for a new App. `repr` hides the key and the secrets."""

    id: int
    slug: str
    html_url: str
    client_id: str
    pem: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    client_secret: str = field(repr=False)

    @property
    def install_url(self) -> str:
        """Where the admin installs the App on accounts and repositories."""
        return self.html_url.rstrip("/") + "/installations/new"


async def convert_manifest_code(api_url: str, code: str, timeout: float = 10.0) -> RegisteredApp:
    """Exchange `code` at `api_url` (https://api.github.com, or https://HOST/api/v3); raise
    `GitHubError` with GitHub's message when it refuses (404: unknown, used or expired code)."""
    url = f"{api_url.rstrip('/')}/app-manifests/{quote(code, safe='')}/conversions"
    headers = {**API_HEADERS, "Accept": "application/vnd.github+json"}
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.post(url, headers=headers)
    except httpx.HTTPError as exc:
        host = httpx.URL(api_url).host
        raise GitHubError(f"GitHub at {host} cannot be reached: {exc}", unreachable=host) from None
    if response.status_code != 201:
        raise GitHubError(f"GitHub refused the registration code ({response.status_code}: "
                          f"{_message(response)})", status=response.status_code)
    try:
        body = response.json()
    except ValueError:
        raise GitHubError("GitHub answered the registration with something that is not JSON") from None
    return _registered(body)


def _registered(body: Any) -> RegisteredApp:
    if not isinstance(body, dict):
        raise GitHubError("GitHub's answer to the registration is not an object")
    strings = ("slug", "html_url", "client_id", "pem", "webhook_secret", "client_secret")
    missing = [name for name in strings if not isinstance(body.get(name), str) or not body[name]]
    app_id = body.get("id")
    if not isinstance(app_id, int) or isinstance(app_id, bool) or app_id <= 0:
        missing.insert(0, "id")
        app_id = 0
    if missing:
        # webhook_secret is null when the manifest had no webhook: the bot cannot verify deliveries.
        raise GitHubError(f"GitHub's answer to the registration lacks {', '.join(missing)}")
    return RegisteredApp(id=app_id, slug=body["slug"], html_url=body["html_url"], client_id=body["client_id"],
                         pem=body["pem"], webhook_secret=body["webhook_secret"],
                         client_secret=body["client_secret"])


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "no message"
    message = body.get("message") if isinstance(body, dict) else None
    return str(message)[:200] if message else response.reason_phrase or "no message"
