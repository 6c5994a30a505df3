"""The setup server: what `compliance-bot serve` runs while it has no App credentials.

    GET  /setup?token=T      a form: github.com or a GitHub Enterprise Server, an organisation or
                             the admin's own account, the App's name
    POST /setup              the manifest (app.yml with this server's webhook and redirect URLs)
                             in a form the admin's browser posts to GitHub, with a fresh `state`
    GET  /setup?code=&state= GitHub's redirect back: the state is checked (constant time, once,
                             within STATE_LIFETIME), the code exchanged for the App's id, key and
                             webhook secret, which are stored (mode 0600) or shown once
    GET  /healthz            200: the process answers (a container's health check passes)
    GET  /readyz, POST /webhook   503: nothing to review with until the App exists

Whoever registers the App owns this server's bot, so the form and its post need the setup token
(`bot.app.setup_token`: made at start-up and shown only in the start-up log and a 0600 file, or
SETUP_TOKEN). The first GET brings it as `?token=`; the form carries it back in a hidden field,
and a cookie (HttpOnly, SameSite=Strict, path /setup) keeps it for this browser's later pages.
Without it, or with a wrong one, /setup answers 403 with a page saying where the token is.
GitHub's redirect back needs no token (a cross-site navigation carries no SameSite=Strict
cookie): its `state` is handed out only by a post that had the token, and is good once. Once an
App is registered the token is retired, with every state still out, for the life of the process.

GitHub's manifest flow: https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.app import setup_pages
from bot.app.credentials_file import CredentialsFileError, write_credentials
from bot.app.server import HeaderLimits
from bot.app.setup_settings import SetupSettings
from bot.app.setup_token import COOKIE, SetupGate
from bot.github.client import GitHubError
from bot.github.manifest import RegisteredApp, convert_manifest_code

__all__ = ["STATE_LIFETIME", "PendingRegistrations", "create_setup_app"]

log = logging.getLogger(__name__)

STATE_LIFETIME = 900.0  # seconds from "Register" to GitHub's redirect back (confirming takes a minute)
MAX_PENDING = 64  # registrations in flight at once; the oldest are dropped past it
NAME_MAX = 34  # GitHub's limit on App names
MAX_FORM_BYTES = 16 * 1024
_ORG = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_HOST_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
# No script anywhere; forms may post to this server and to the GitHub chosen (added per page).
_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"


@dataclass(frozen=True)
class Target:
    """Where the App is registered: GitHub's web side (the forms) and its API (the exchange)."""

    web_url: str
    api_url: str
    label: str


@dataclass(frozen=True)
class _Pending:
    state: str
    target: Target
    expires_at: float


class PendingRegistrations:
    """The states handed out and not yet come back. A state is found by comparing it with each
    one in constant time (a dict lookup would leak by timing how much of it matched), and is
    good once, until it expires."""

    def __init__(self, lifetime: float = STATE_LIFETIME, clock: Callable[[], float] = time.monotonic) -> None:
        self.lifetime = lifetime
        self.clock = clock
        self._pending: list[_Pending] = []

    def new(self, target: Target) -> str:
        self._expire()
        state = secrets.token_urlsafe(32)
        self._pending.append(_Pending(state, target, self.clock() + self.lifetime))
        del self._pending[:-MAX_PENDING]
        return state

    def take(self, state: str) -> Target | None:
        """The target `state` was made for, removing it; None if unknown, used or expired."""
        self._expire()
        given = state.encode()
        found: _Pending | None = None
        for pending in self._pending:
            if hmac.compare_digest(pending.state.encode(), given):
                found = pending
        if found is None:
            return None
        self._pending.remove(found)
        return found.target

    def __len__(self) -> int:
        """How many are out, unexpired."""
        self._expire()
        return len(self._pending)

    def clear(self) -> None:
        """Forget every state handed out (the App is registered: none may finish any more)."""
        self._pending.clear()

    def _expire(self) -> None:
        now = self.clock()
        self._pending = [p for p in self._pending if p.expires_at > now]


Exchange = Callable[[str, str], Awaitable[RegisteredApp]]


def create_setup_app(settings: SetupSettings, manifest: dict[str, Any], gate: SetupGate, *,
                     exchange: Exchange | None = None,
                     pending: PendingRegistrations | None = None) -> Starlette:
    """The ASGI app; /setup's form and post need `gate`'s token. `exchange(api_url, code)`
    defaults to GitHub's conversion call."""
    registrations = pending if pending is not None else PendingRegistrations()

    async def default_exchange(api_url: str, code: str) -> RegisteredApp:
        return await convert_manifest_code(api_url, code)

    convert = exchange or default_exchange

    async def setup(request: Request) -> Response:
        if request.method == "POST":
            return await _start(request, settings, manifest, registrations, gate)
        if "code" in request.query_params or "state" in request.query_params:
            return await _finish(request, settings, registrations, convert, gate)
        token = request.query_params.get("token") or request.cookies.get(COOKIE) or ""
        if not gate.accepts(token):
            return _refused(gate, "the form")
        response = _html(setup_pages.form_page(str(manifest["name"]), _public_url(request, settings), token))
        response.set_cookie(COOKIE, token, path="/setup", httponly=True, samesite="strict",
                            secure=_secure(request, settings))
        return response

    return Starlette(
        routes=[
            Route("/", lambda request: RedirectResponse("/setup", status_code=303), methods=["GET"]),
            Route("/setup", setup, methods=["GET", "POST"]),
            Route("/healthz", lambda request: JSONResponse({"status": "ok", "setup": True}), methods=["GET"]),
            Route("/readyz", lambda request: JSONResponse(
                {"status": "unavailable", "reason": "no GitHub App yet: register it at /setup"}, status_code=503),
                methods=["GET"]),
            Route("/webhook", lambda request: JSONResponse(
                {"error": "no GitHub App yet: register it at /setup"}, status_code=503), methods=["POST"]),
        ],
        middleware=[Middleware(HeaderLimits)],
    )


async def _start(request: Request, settings: SetupSettings, manifest: dict[str, Any],
                 registrations: PendingRegistrations, gate: SetupGate) -> Response:
    public_url = _public_url(request, settings)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return _html(setup_pages.error_page("Form too large", "The form is too large."), 413)
    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    token = str(form.get("token") or "") or request.cookies.get(COOKIE) or ""
    if not gate.accepts(token):
        return _refused(gate, "a registration")
    try:
        target = _target(settings, str(form.get("target") or ""), str(form.get("ghes_url") or ""))
        org = str(form.get("org") or "").strip()
        if org and not _ORG.match(org):
            raise ValueError("The organisation is a GitHub login: letters, digits and -, at most 39.")
        name = str(form.get("name") or "").strip() or str(manifest["name"])
        if len(name) > NAME_MAX:
            raise ValueError(f"GitHub App names are at most {NAME_MAX} characters.")
    except ValueError as exc:
        return _html(setup_pages.form_page(str(manifest["name"]), public_url, token, str(exc)), 400)
    registration = {**manifest, "name": name, "redirect_url": f"{public_url}/setup",
                    "hook_attributes": {**dict(manifest.get("hook_attributes") or {}), "url": f"{public_url}/webhook"}}
    state = registrations.new(target)
    where = f"/organizations/{org}/settings/apps/new" if org else "/settings/apps/new"
    action = f"{target.web_url}{where}?{urlencode({'state': state})}"
    csp = f"{_CSP} {target.web_url}"
    log.info("setup: registration of %r on %s started (%s)", name, target.label, f"organisation {org}" if org
             else "personal account")
    return _html(setup_pages.handoff_page(action, registration, target.label), csp=csp)


async def _finish(request: Request, settings: SetupSettings, registrations: PendingRegistrations,
                  convert: Exchange, gate: SetupGate) -> Response:
    code = request.query_params.get("code", "")
    state = request.query_params.get("state", "")
    target = registrations.take(state) if state else None
    if target is None:
        log.warning("setup: GitHub's redirect came back with an unknown, used or expired state")
        return _html(setup_pages.error_page("Registration not recognised", "This link is not from a registration "
                     "started here, was used already, or is older than 15 minutes. Start again."), 400)
    if not _CODE.match(code):
        return _html(setup_pages.error_page("Registration failed", "GitHub's redirect has no valid code."), 400)
    try:
        app = await convert(target.api_url, code)
    except GitHubError as exc:
        log.error("setup: exchanging the code failed: %s", exc)
        return _html(setup_pages.error_page("Registration failed", str(exc)), 502)
    log.info("setup: registered GitHub App %s (id %d) on %s", app.slug, app.id, target.label)
    if settings.show_credentials:
        shown = {"APP_ID": str(app.id), "PRIVATE_KEY": app.pem, "WEBHOOK_SECRET": app.webhook_secret,
                 "GITHUB_API_URL": target.api_url}
        _registered(gate, registrations)
        return _spent(_html(setup_pages.shown_page(app.slug, app.install_url, shown)))
    values = {"APP_ID": str(app.id), "PRIVATE_KEY": app.pem.strip().replace("\r\n", "\n").replace("\n", "\\n"),
              "WEBHOOK_SECRET": app.webhook_secret, "GITHUB_API_URL": target.api_url}
    try:
        write_credentials(settings.credentials_file, values,
                          f"GitHub App {app.slug} (id {app.id}), registered by compliance-bot serve's /setup\n"
                          f"{app.html_url}")
    except CredentialsFileError as exc:
        log.error("setup: the App's credentials cannot be stored: %s", exc)
        return _html(setup_pages.error_page("Credentials not stored", f"{exc}. The App {app.slug} exists on "
                     "GitHub: delete it there (its settings page) and register again."), 500)
    log.info("setup: credentials stored in %s; restart compliance-bot serve to use them", settings.credentials_file)
    _registered(gate, registrations)
    return _spent(_html(setup_pages.stored_page(app.slug, app.install_url, str(settings.credentials_file))))


def _registered(gate: SetupGate, registrations: PendingRegistrations) -> None:
    """The App exists: the token and every state still out stop working (a failed store keeps
    them, so the admin can delete the App on GitHub and register again)."""
    gate.retire()
    registrations.clear()
    log.info("setup: the setup token is retired; /setup registers nothing more until a restart")


def _refused(gate: SetupGate, what: str) -> Response:
    if gate.retired:
        return _html(setup_pages.closed_page(), 403)
    log.info("setup: %s without the setup token was refused", what)
    return _html(setup_pages.token_needed_page(gate.where()), 403)


def _spent(response: Response) -> Response:
    response.delete_cookie(COOKIE, path="/setup", httponly=True, samesite="strict")
    return response


def _secure(request: Request, settings: SetupSettings) -> bool:
    """Secure cookie where the browser speaks https (here, or at PUBLIC_URL's proxy)."""
    return request.url.scheme == "https" or (settings.public_url or "").startswith("https://")


def _target(settings: SetupSettings, choice: str, ghes_url: str) -> Target:
    if choice == "github.com":
        return Target(settings.github_web_url, settings.github_api_url, "github.com")
    if choice != "ghes":
        raise ValueError("Choose github.com or GitHub Enterprise Server.")
    url = ghes_url.strip().rstrip("/")
    if not _HOST_URL.match(url):
        raise ValueError("The GitHub Enterprise Server address is its https:// URL, such as "
                         "https://github.example.com (no path).")
    parts = urlsplit(url)
    if parts.scheme != "https" and not _loopback(parts.hostname or ""):
        raise ValueError("The GitHub Enterprise Server address must be https:// (the private key travels back over it).")
    return Target(url, f"{url}/api/v3", parts.netloc)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _public_url(request: Request, settings: SetupSettings) -> str:
    return settings.public_url or str(request.base_url).rstrip("/")


def _html(text: str, status: int = 200, csp: str = _CSP) -> HTMLResponse:
    # no-store: a page that may show a private key must not stay in a cache
    return HTMLResponse(text, status_code=status, headers={"Cache-Control": "no-store", "Content-Security-Policy": csp,
                                                           "X-Content-Type-Options": "nosniff",
                                                           "Referrer-Policy": "no-referrer"})

