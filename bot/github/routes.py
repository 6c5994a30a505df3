"""Every GitHub API call the App makes, named by its route template, and a hook that reports each.

A metric labelled with the real path (`/repos/octo-org/infra/check-runs/42`) would grow one
series per repository, pull request and check run; the template (`/repos/{owner}/{repo}/check-runs/
{check_run_id}`) keeps the count of series fixed, and never puts a customer's names in a metric.
A path this table does not know is "other", never itself.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import urlsplit

import httpx

log = logging.getLogger(__name__)

__all__ = ["OTHER", "ROUTES", "RequestObserver", "response_hook", "route_template"]

OTHER = "other"

# GitHub's own template names (its OpenAPI description's paths), as `bot.github.client` calls them.
ROUTES = (
    "/app/installations/{installation_id}/access_tokens",
    "/app/hook/deliveries",
    "/app/hook/deliveries/{delivery_id}/attempts",
    "/graphql",
    "/orgs/{org}/teams/{team_slug}/memberships/{username}",
    "/repos/{owner}/{repo}",
    "/repos/{owner}/{repo}/installation",
    "/repos/{owner}/{repo}/properties/values",
    "/repos/{owner}/{repo}/git/ref/{ref}",
    "/repos/{owner}/{repo}/git/trees/{tree_sha}",
    "/repos/{owner}/{repo}/git/blobs/{file_sha}",
    "/repos/{owner}/{repo}/contents/{path}",
    "/repos/{owner}/{repo}/compare/{basehead}",
    "/repos/{owner}/{repo}/commits/{ref}/check-runs",
    "/repos/{owner}/{repo}/check-runs",
    "/repos/{owner}/{repo}/check-runs/{check_run_id}",
    "/repos/{owner}/{repo}/pulls",
    "/repos/{owner}/{repo}/pulls/{pull_number}",
    "/repos/{owner}/{repo}/pulls/{pull_number}/files",
    "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
    "/repos/{owner}/{repo}/pulls/{pull_number}/comments",
)
_SLASHED = {"ref", "path"}  # parameters that may hold slashes (a branch `feature/x`, a file path)


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[a-z_]+\})", template)
    regex = "".join((".+" if part[1:-1] in _SLASHED else "[^/]+") if part.startswith("{") else re.escape(part)
                    for part in parts if part)
    return re.compile(f"^{regex}$")


_COMPILED = tuple((_pattern(t), t) for t in ROUTES)


def route_template(path: str, base_path: str = "") -> str:
    """The template of an API path (`base_path`: the API root's own path, `/api/v3` on GHES)."""
    if base_path and path.startswith(base_path.rstrip("/") + "/"):
        path = path[len(base_path.rstrip("/")):]
    path = path.rstrip("/") or "/"
    for pattern, template in _COMPILED:
        if pattern.match(path):
            return template
    return OTHER


# (method, route template, HTTP status, response headers): called once per response GitHub sent.
RequestObserver = Callable[[str, str, int, Mapping[str, str]], None]


def response_hook(observe: RequestObserver, api_url: str) -> Callable[[httpx.Response], Awaitable[None]]:
    """An httpx response hook reporting every answered request, retries and token requests included.
    A request that got no answer (refused, timed out) has no status and is not reported here."""
    base_path = urlsplit(api_url).path

    async def hook(response: httpx.Response) -> None:
        request = response.request
        try:
            observe(request.method, route_template(request.url.path, base_path), response.status_code,
                    response.headers)
        except Exception:  # counting a call must never fail the call
            log.exception("could not record a GitHub API call")

    return hook
