"""The web side of GitHub's App manifest flow, which is not part of the REST API (so not of the
OpenAPI description): the pages a browser is sent to, and the codes they hand back.

    POST /settings/apps/new?state=S                  (github.com; GHES: the same path on its host)
    POST /organizations/{org}/settings/apps/new?state=S
         form field `manifest`: the App's manifest as JSON. Checked against what GitHub documents
         (https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest):
         422 page listing every problem, recorded as a "request" violation; else a confirmation
         page with GitHub's "Create GitHub App" button
    POST /settings/apps/new/confirm                  the button: 302 to the manifest's
                                                     redirect_url?code=C&state=S

`POST /app-manifests/{code}/conversions` (rest.py) then turns the code, once and within an hour,
into a new App: its own id, RSA key and webhook secret, the manifest's name, permissions and
events. The fake adopts it (`FakeGitHub.adopt_app`), so it accepts that App's JWTs from then on.
"""

from __future__ import annotations

import html
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .messages import Request, Response

if TYPE_CHECKING:
    from .fake import FakeGitHub

CODE_LIFETIME = 3600  # "You must complete this step of the GitHub App Manifest flow within one hour"
NAME_MAX = 34  # GitHub refuses App names longer than 34 characters
HTML_MEDIA = "text/html"

NEW_APP = re.compile(r"^(?:/organizations/(?P<org>[A-Za-z0-9][A-Za-z0-9-]{0,38}))?/settings/apps/new$")
CONFIRM = "/settings/apps/new/confirm"

# The manifest's parameters as GitHub documents them (name, type); `url` is the one GitHub requires.
# The bot's flow relies on the others too (a webhook, a redirect back, its permissions and events),
# so the fake requires them: a manifest without them would register an App the bot cannot use.
_URL = {"type": "string", "pattern": r"^https?://[^\s/]+"}
MANIFEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "url", "hook_attributes", "redirect_url", "public", "default_permissions", "default_events"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": NAME_MAX},
        "url": _URL,
        "hook_attributes": {
            "type": "object",
            "additionalProperties": False,
            "required": ["url"],
            "properties": {"url": _URL, "active": {"type": "boolean"}},
        },
        "redirect_url": _URL,
        "callback_urls": {"type": "array", "maxItems": 10, "items": _URL},
        "setup_url": _URL,
        "description": {"type": "string"},
        "public": {"type": "boolean"},
        "default_events": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        "default_permissions": {"type": "object", "additionalProperties": {"type": "string"}},
        "request_oauth_on_install": {"type": "boolean"},
        "setup_on_update": {"type": "boolean"},
    },
}


@dataclass
class ManifestCode:
    """A code GitHub handed back to the redirect URL: which manifest, for whom, until when."""

    manifest: dict[str, Any]
    owner: str
    owner_type: str
    expires_at: float


@dataclass
class _Pending:
    manifest: dict[str, Any]
    owner: str
    owner_type: str
    state: str | None


def is_web_path(path: str) -> bool:
    return path == CONFIRM or NEW_APP.match(path) is not None


def manifest_problems(fake: FakeGitHub, manifest: Any) -> list[str]:
    """Every way `manifest` breaks GitHub's documented parameters, permissions and events."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(MANIFEST_SCHEMA)
    problems = [f"{'/'.join(map(str, e.absolute_path)) or 'manifest'}: {e.message}"
                for e in sorted(validator.iter_errors(manifest), key=lambda e: list(map(str, e.absolute_path)))]
    if problems or not isinstance(manifest, dict):
        return problems
    document = fake.spec.document
    permissions = document["components"]["schemas"]["app-permissions"]["properties"]
    for name, level in manifest["default_permissions"].items():
        if name not in permissions:
            problems.append(f"default_permissions: {name!r} is not a permission GitHub Apps can ask for")
        elif level not in permissions[name].get("enum", []):
            problems.append(f"default_permissions: {name} can be {' or '.join(permissions[name]['enum'])}, "
                            f"not {level!r}")
    events = {hook["post"]["x-github"]["subcategory"] for hook in document.get("x-webhooks", {}).values()
              if "app" in hook["post"]["x-github"].get("supported-webhook-types", [])}
    for event in manifest["default_events"]:
        if event not in events:
            problems.append(f"default_events: {event!r} is not an event GitHub delivers to Apps")
    return problems


def handle(fake: FakeGitHub, req: Request) -> Response:
    """Answer one request to a web path (`is_web_path`), under the fake's lock."""
    if req.method != "POST":
        return _page(405, "Method not allowed", "<p>The manifest flow POSTs a form here.</p>", {"Allow": "POST"})
    if not req.headers.get_ci("content-type").lower().startswith("application/x-www-form-urlencoded"):
        fake._violation("request", req, "the manifest flow posts an application/x-www-form-urlencoded form")
        return _page(415, "Unsupported form", "<p>Expected an HTML form (application/x-www-form-urlencoded).</p>")
    form = dict(parse_qsl(req.raw_body.decode("utf-8", "replace"), keep_blank_values=True))
    if req.path == CONFIRM:
        return _confirm(fake, req, form)
    match = NEW_APP.match(req.path)
    assert match is not None
    org = match.group("org")
    raw = form.get("manifest")
    if raw is None:
        fake._violation("request", req, "form field `manifest` missing")
        return _page(422, "Invalid GitHub App manifest", "<p>The form has no <code>manifest</code> field.</p>")
    try:
        manifest = json.loads(raw)
    except ValueError:
        fake._violation("request", req, "form field `manifest` is not JSON")
        return _page(422, "Invalid GitHub App manifest", "<p>The manifest is not valid JSON.</p>")
    problems = manifest_problems(fake, manifest)
    if problems:
        fake._violation("request", req, "manifest: " + "; ".join(problems))
        items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
        return _page(422, "Invalid GitHub App manifest", f"<ul class='problems'>{items}</ul>")
    owner, owner_type = (org, "Organization") if org else ("octocat", "User")
    key = secrets.token_urlsafe(16)
    fake.manifest_pending[key] = _Pending(manifest, owner, owner_type, req.query.get("state"))
    permissions = "".join(f"<li>{html.escape(k)}: {html.escape(v)}</li>"
                          for k, v in sorted(manifest["default_permissions"].items()))
    body = (f"<p>Create <strong id='app-name'>{html.escape(manifest['name'])}</strong> "
            f"owned by <strong id='owner'>{html.escape(owner)}</strong>.</p>"
            f"<p>Webhook: <code id='hook-url'>{html.escape(manifest['hook_attributes']['url'])}</code></p>"
            f"<ul id='permissions'>{permissions}</ul>"
            f"<form method='post' action='{CONFIRM}'><input type='hidden' name='pending' value='{key}'>"
            f"<button type='submit' id='create'>Create GitHub App for {html.escape(owner)}</button></form>")
    return _page(200, "Create GitHub App", body)


def _confirm(fake: FakeGitHub, req: Request, form: dict[str, str]) -> Response:
    pending = fake.manifest_pending.pop(form.get("pending", ""), None)
    if pending is None:
        fake._violation("request", req, "confirmation of a manifest that was not posted (or already confirmed)")
        return _page(404, "Not Found", "<p>That App registration has expired; start again.</p>")
    code = secrets.token_hex(10)
    fake.manifest_codes[code] = ManifestCode(pending.manifest, pending.owner, pending.owner_type,
                                             time.time() + CODE_LIFETIME)
    query = {"code": code, **({"state": pending.state} if pending.state is not None else {})}
    target = urlsplit(pending.manifest["redirect_url"])
    joined = "&".join(part for part in (target.query, urlencode(query)) if part)
    location = urlunsplit((target.scheme, target.netloc, target.path, joined, ""))
    return Response(302, b"", HTML_MEDIA, {"Location": location})


def _page(status: int, title: str, body: str, headers: dict[str, str] | None = None) -> Response:
    text = (f"<!doctype html><html><head><meta charset='utf-8'><link rel='icon' href='data:,'><title>{html.escape(title)} · GitHub</title>"
            f"</head><body><h1>{html.escape(title)}</h1>{body}</body></html>")
    return Response(status, text, HTML_MEDIA, dict(headers or {}))

