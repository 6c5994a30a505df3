"""The setup server in-process (httpx's ASGI transport): the states it hands out, the forms it
refuses, what it does with GitHub's answer. The browser flow against the fake GitHub is
tests/e2e/setup_flow_test.py."""

from __future__ import annotations

import asyncio
import html
import json
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bot.app.serve import run_worker
from bot.app.settings import SettingsError
from bot.app.setup import STATE_LIFETIME, PendingRegistrations, Target, create_setup_app
from bot.app.setup_settings import load_manifest, load_setup_settings
from bot.app.setup_token import SetupGate
from bot.github.client import GitHubError
from bot.github.manifest import RegisteredApp

REPO_ROOT = Path(__file__).resolve().parents[2]
MANIFEST = load_manifest(REPO_ROOT / "app.yml")
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\nAAAA\n-----END RSA PRIVATE KEY-----\n"
APP = RegisteredApp(id=99, slug="my-bot", html_url="https://github.com/apps/my-bot", client_id="Iv1.x",
                    pem=PEM, webhook_secret="whsec-new", client_secret="cs-new")
TOKEN = "setup-token-for-the-tests-0123456789"  # the setup token of `call`'s server (setup_token_test.py: the gate)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def call(env: dict[str, str], requests: Callable[[httpx.AsyncClient], Awaitable[Any]],
         exchange: Callable[[str, str], Awaitable[RegisteredApp]] | None = None,
         pending: PendingRegistrations | None = None, gate: SetupGate | None = None) -> Any:
    app = create_setup_app(load_setup_settings(env), MANIFEST, gate or SetupGate(TOKEN), exchange=exchange,
                           pending=pending)

    async def go() -> Any:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot.test:3000") as c:
            return await requests(c)

    return asyncio.run(go())


def handoff(text: str) -> tuple[str, dict[str, Any]]:
    action = html.unescape(text.split("action='")[1].split("'")[0])
    manifest = json.loads(html.unescape(text.split("name='manifest' value='")[1].split("'")[0]))
    return action, manifest


def test_states_are_unguessable_single_use_and_expire() -> None:
    clock = Clock()
    pending = PendingRegistrations(clock=clock)
    target = Target("https://github.com", "https://api.github.com", "github.com")
    first, second = pending.new(target), pending.new(target)
    assert first != second and len(first) >= 43  # 32 random bytes, url-safe base64
    assert pending.take(first[:-1] + ("A" if first[-1] != "A" else "B")) is None
    assert pending.take(first) == target
    assert pending.take(first) is None  # once
    clock.now += STATE_LIFETIME + 1
    assert pending.take(second) is None  # expired


def test_the_manifest_points_at_this_server(tmp_path: Path) -> None:
    async def go(c: httpx.AsyncClient) -> tuple[httpx.Response, httpx.Response]:
        return (await c.get("/setup", params={"token": TOKEN}),
                await c.post("/setup", data={"token": TOKEN, "target": "github.com", "org": "octo-org"}))

    form, started = call({"DATA_DIR": str(tmp_path)}, go)
    assert form.status_code == 200 and "http://bot.test:3000/webhook" in form.text
    assert form.headers["cache-control"] == "no-store" and "script-src" not in form.headers["content-security-policy"]
    action, manifest = handoff(started.text)
    assert action.startswith("https://github.com/organizations/octo-org/settings/apps/new?state=")
    assert manifest["hook_attributes"] == {"url": "http://bot.test:3000/webhook", "active": True}
    assert manifest["redirect_url"] == "http://bot.test:3000/setup"
    assert manifest["default_permissions"] == MANIFEST["default_permissions"]
    assert manifest["default_events"] == MANIFEST["default_events"]
    assert TOKEN not in started.text  # the page whose form goes to GitHub does not carry the setup token
    assert "form-action 'self' https://github.com" in started.headers["content-security-policy"]


def test_public_url_wins_over_the_request_address(tmp_path: Path) -> None:
    async def go(c: httpx.AsyncClient) -> httpx.Response:
        return await c.post("/setup", data={"token": TOKEN, "target": "ghes", "ghes_url": "https://ghe.example.com/"})

    action, manifest = handoff(call({"DATA_DIR": str(tmp_path), "PUBLIC_URL": "https://bot.example.com/"}, go).text)
    assert action.startswith("https://ghe.example.com/settings/apps/new?state=")
    assert manifest["hook_attributes"]["url"] == "https://bot.example.com/webhook"


@pytest.mark.parametrize(("form", "message"), [
    ({"target": "gitlab"}, "Choose github.com or GitHub Enterprise Server."),
    ({"target": "ghes", "ghes_url": "http://ghe.example.com"}, "must be https://"),
    ({"target": "ghes", "ghes_url": "https://ghe.example.com/path"}, "no path"),
    ({"target": "github.com", "org": "no spaces"}, "The organisation is a GitHub login"),
    ({"target": "github.com", "name": "x" * 35}, "at most 34 characters"),
])
def test_bad_forms_are_refused_in_words(tmp_path: Path, form: dict[str, str], message: str) -> None:
    async def go(c: httpx.AsyncClient) -> httpx.Response:
        return await c.post("/setup", data={"token": TOKEN, **form})

    response = call({"DATA_DIR": str(tmp_path)}, go)
    assert response.status_code == 400 and message in html.unescape(response.text)
    assert f"name='token' value='{TOKEN}'" in response.text  # the form shown again can be posted again


def test_a_callback_without_a_state_from_here_is_refused_and_nothing_is_exchanged(tmp_path: Path) -> None:
    exchanged: list[str] = []

    async def exchange(api: str, code: str) -> RegisteredApp:
        exchanged.append(code)
        return APP

    async def go(c: httpx.AsyncClient) -> list[httpx.Response]:
        return [await c.get("/setup", params={"code": "abc", "state": "forged"}), await c.get("/setup?code=abc")]

    for response in call({"DATA_DIR": str(tmp_path)}, go, exchange):
        assert response.status_code == 400 and "not recognised" in response.text
    assert exchanged == [] and not (tmp_path / "app.env").exists()


def flow(env: dict[str, str], exchange: Callable[[str, str], Awaitable[RegisteredApp]]) -> httpx.Response:
    async def go(c: httpx.AsyncClient) -> httpx.Response:
        action, _ = handoff((await c.post("/setup", data={"token": TOKEN, "target": "github.com"})).text)
        state = parse_qs(urlsplit(action).query)["state"][0]
        return await c.get("/setup", params={"code": "c0de", "state": state})

    response: httpx.Response = call(env, go, exchange)
    return response


async def ok(api: str, code: str) -> RegisteredApp:
    assert (api, code) == ("https://api.github.com", "c0de")
    return APP


def test_credentials_are_stored_0600_in_the_data_folder(tmp_path: Path) -> None:
    response = flow({"DATA_DIR": str(tmp_path / "data")}, ok)
    assert response.status_code == 200 and "https://github.com/apps/my-bot/installations/new" in response.text
    path = tmp_path / "data" / "app.env"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    assert lines == ["APP_ID=99", "PRIVATE_KEY=" + PEM.strip().replace("\n", "\\n"), "WEBHOOK_SECRET=whsec-new",
                     "GITHUB_API_URL=https://api.github.com"]
    assert "whsec-new" not in response.text and "cs-new" not in path.read_text()


def test_stored_credentials_are_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "app.env"
    path.write_text("APP_ID=1\n")
    response = flow({"APP_CREDENTIALS_FILE": str(path)}, ok)
    assert response.status_code == 500 and "already exists" in response.text and "my-bot" in response.text
    assert path.read_text() == "APP_ID=1\n"


def test_page_mode_shows_them_once_and_stores_nothing(tmp_path: Path) -> None:
    response = flow({"DATA_DIR": str(tmp_path), "SETUP_CREDENTIALS": "page"}, ok)
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    assert "whsec-new" in response.text and html.escape(PEM) in response.text
    assert list(tmp_path.iterdir()) == []


def test_github_refusing_the_code_is_a_502_in_words(tmp_path: Path) -> None:
    async def refused(api: str, code: str) -> RegisteredApp:
        raise GitHubError("GitHub refused the registration code (404: Not Found)", status=404)

    response = flow({"DATA_DIR": str(tmp_path)}, refused)
    assert response.status_code == 502 and "GitHub refused the registration code (404: Not Found)" in response.text
    assert list(tmp_path.iterdir()) == []


def test_bad_setup_settings_are_named() -> None:
    with pytest.raises(SettingsError, match="PUBLIC_URL: must be an http.s. URL such as https://bot.example.com; SETUP_CREDENTIALS: must be file or page"):
        load_setup_settings({"PUBLIC_URL": "bot.example.com", "SETUP_CREDENTIALS": "stdout"})
    with pytest.raises(SettingsError, match="APP_MANIFEST: file not found: /nonexistent/app.yml"):
        load_manifest(Path("/nonexistent/app.yml"))


def test_the_other_endpoints_say_there_is_no_app_yet(tmp_path: Path) -> None:
    async def go(c: httpx.AsyncClient) -> list[httpx.Response]:
        return [await c.get("/healthz"), await c.get("/readyz"), await c.post("/webhook", content=b"{}"),
                await c.get("/")]

    health, ready, webhook, root = call({"DATA_DIR": str(tmp_path)}, go)
    assert health.status_code == 200 and ready.status_code == 503 and webhook.status_code == 503
    assert "register it at /setup" in webhook.json()["error"]
    assert root.status_code == 303 and root.headers["location"] == "/setup"


def test_a_worker_without_an_app_says_where_to_register(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run_worker(lambda settings: ok_handler, env={"DATA_DIR": str(tmp_path)})
    assert exited.value.code == 2
    assert "no GitHub App yet: start `compliance-bot serve` and register it at /setup" in capsys.readouterr().err


async def ok_handler(job: Any) -> None:
    return None
