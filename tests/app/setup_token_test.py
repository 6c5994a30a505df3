"""The setup token (bot.app.setup_token): /setup opens only for whoever can read the server's
start-up log or its token file, or was given SETUP_TOKEN; nothing for anyone once the App is
registered. The in-process flow itself is tests/app/setup_test.py; the browser's, tests/e2e."""

from __future__ import annotations

import asyncio
import html
import logging
import re
import stat
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bot.app import serve
from bot.app.settings import SettingsError
from bot.app.setup import PendingRegistrations, create_setup_app
from bot.app.setup_settings import load_setup_settings
from bot.app.setup_token import TOKEN_FILE_NAME, SetupGate, new_token, open_gate
from bot.github.manifest import RegisteredApp
from tests.app.root_logger import root_logger_restored
from tests.app.setup_test import APP, MANIFEST, handoff

TOKEN = "the-operators-setup-token-0123456789abcdef"
TOKEN_IN_LOG = re.compile(r"/setup\?token=([A-Za-z0-9_-]+)")


def client_of(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot.test:3000")


def run(app: Any, requests: Callable[[httpx.AsyncClient], Awaitable[Any]]) -> Any:
    async def go() -> Any:
        async with client_of(app) as c:
            return await requests(c)

    return asyncio.run(go())


def setup_app(tmp_path: Path, gate: SetupGate, env: dict[str, str] | None = None,
              pending: PendingRegistrations | None = None) -> Any:
    async def exchange(api: str, code: str) -> RegisteredApp:
        return APP

    settings = load_setup_settings({"DATA_DIR": str(tmp_path / "data"), **(env or {})})
    return create_setup_app(settings, MANIFEST, gate, exchange=exchange, pending=pending)


def text(response: httpx.Response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


@pytest.fixture
def root_logging() -> Iterator[None]:
    """serve.run installs its own root handler: put the test run's back afterwards."""
    with root_logger_restored():
        yield


@pytest.mark.timeout(30)
def test_no_token_is_403_with_where_to_find_it(tmp_path: Path) -> None:
    token_file = tmp_path / "data" / TOKEN_FILE_NAME
    app = setup_app(tmp_path, SetupGate(TOKEN, file=token_file))

    async def go(c: httpx.AsyncClient) -> list[httpx.Response]:
        return [await c.get("/setup"), await c.get("/setup", params={"token": ""}), await c.get("/", follow_redirects=True)]

    for response in run(app, go):
        assert response.status_code == 403 and response.headers["cache-control"] == "no-store"
        words = text(response)
        assert "needs the one-time setup token" in words
        assert "in the server's start-up log" in words and "/setup?token=" in words
        assert f"also in the file {token_file} on the server (readable only by the server's user)" in words
        assert "<form" not in response.text and TOKEN not in response.text and "set-cookie" not in response.headers


@pytest.mark.timeout(30)
def test_a_wrong_token_is_403(tmp_path: Path) -> None:
    app = setup_app(tmp_path, SetupGate(TOKEN))
    wrong = [TOKEN[:-1] + "X", TOKEN[:-1], TOKEN + "x", TOKEN.upper(), "x"]

    async def go(c: httpx.AsyncClient) -> list[httpx.Response]:
        got = [await c.get("/setup", params={"token": token}) for token in wrong]
        c.cookies.set("setup_token", TOKEN[::-1], domain="bot.test", path="/setup")
        return [*got, await c.get("/setup")]

    for response in run(app, go):
        assert response.status_code == 403 and "needs the one-time setup token" in text(response)
        assert "<form" not in response.text
        assert "also in the file" not in text(response)  # no file was written: the log is the place


@pytest.mark.timeout(30)
def test_the_right_token_opens_the_form_and_is_kept_in_a_strict_cookie(tmp_path: Path) -> None:
    app = setup_app(tmp_path, SetupGate(TOKEN))

    async def go(c: httpx.AsyncClient) -> tuple[httpx.Response, httpx.Response]:
        return await c.get("/setup", params={"token": TOKEN}), await c.get("/setup")  # the 2nd: cookie only

    first, again = run(app, go)
    assert first.status_code == 200 and "Register the GitHub App" in first.text
    assert f"<input type='hidden' name='token' value='{TOKEN}'>" in first.text
    cookie = first.headers["set-cookie"]
    assert cookie.startswith(f"setup_token={TOKEN};")
    assert {"httponly", "samesite=strict", "path=/setup"} <= {part.strip().lower() for part in cookie.split(";")}
    assert "secure" not in cookie.lower()  # plain http here: a browser would drop a Secure cookie
    assert again.status_code == 200 and "Register the GitHub App" in again.text


@pytest.mark.timeout(30)
def test_the_cookie_is_secure_behind_an_https_public_url(tmp_path: Path) -> None:
    app = setup_app(tmp_path, SetupGate(TOKEN), {"PUBLIC_URL": "https://bot.example.com"})
    response = run(app, lambda c: c.get("/setup", params={"token": TOKEN}))
    assert response.status_code == 200 and "secure" in response.headers["set-cookie"].lower()


@pytest.mark.timeout(30)
def test_the_form_post_needs_the_token_and_hands_out_no_state_without_it(tmp_path: Path) -> None:
    pending = PendingRegistrations()
    app = setup_app(tmp_path, SetupGate(TOKEN), pending=pending)
    form = {"target": "github.com", "org": "octo-org"}

    async def refused(c: httpx.AsyncClient) -> list[httpx.Response]:
        return [await c.post("/setup", data=form), await c.post("/setup", data={**form, "token": "guess"})]

    for response in run(app, refused):
        assert response.status_code == 403 and "needs the one-time setup token" in text(response)
        assert "state=" not in response.text and "manifest" not in response.text
    huge = run(app, lambda c: c.post("/setup", content=b"org=" + b"x" * 20_000,
                                     headers={"content-type": "application/x-www-form-urlencoded"}))
    assert huge.status_code == 413 and "The form is too large." in huge.text and "<form" not in huge.text
    assert len(pending) == 0

    async def allowed(c: httpx.AsyncClient) -> list[httpx.Response]:
        by_field = await c.post("/setup", data={**form, "token": TOKEN})
        await c.get("/setup", params={"token": TOKEN})  # sets the cookie
        return [by_field, await c.post("/setup", data=form)]  # the cookie alone will do

    for response in run(app, allowed):
        assert response.status_code == 200
        action, _ = handoff(response.text)
        assert action.startswith("https://github.com/organizations/octo-org/settings/apps/new?state=")
        assert TOKEN not in response.text and TOKEN not in action  # GitHub never sees the token
    assert len(pending) == 2


@pytest.mark.timeout(30)
def test_setup_token_setting_is_honoured_and_neither_logged_nor_written(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = load_setup_settings({"DATA_DIR": str(tmp_path / "data"), "SETUP_TOKEN": f"  {TOKEN} "})
    assert settings.setup_token == TOKEN and TOKEN not in repr(settings)
    with caplog.at_level(logging.INFO):
        gate = open_gate(settings, "https://bot.example.com")
    assert gate.accepts(TOKEN) and not gate.accepts(new_token()) and gate.chosen and gate.file is None
    assert TOKEN not in caplog.text and "https://bot.example.com/setup?token=<SETUP_TOKEN>" in caplog.text
    assert not (tmp_path / "data").exists()  # a secrets manager's value is not copied to disk
    app = create_setup_app(settings, MANIFEST, gate)
    refused, opened = run(app, lambda c: asyncio.gather(c.get("/setup"), c.get("/setup", params={"token": TOKEN})))
    assert refused.status_code == 403 and "the SETUP_TOKEN this server was started with" in text(refused)
    assert opened.status_code == 200 and "Register the GitHub App" in opened.text


@pytest.mark.parametrize("value", ["short-token", "has spaces in it but is long enough", "x" * 257, "tok/en" * 5])
@pytest.mark.timeout(30)
def test_a_weak_or_unusable_setup_token_setting_is_refused_in_words(value: str) -> None:
    with pytest.raises(SettingsError, match=r"SETUP_TOKEN: must be 22 to 256 letters, digits or - _ \. ~"):
        load_setup_settings({"SETUP_TOKEN": value})


@pytest.mark.timeout(30)
def test_a_made_token_is_long_random_and_written_0600_beside_the_credentials_file(tmp_path: Path) -> None:
    credentials = tmp_path / "secrets" / "app.env"
    settings = load_setup_settings({"APP_CREDENTIALS_FILE": str(credentials)})
    first = open_gate(settings, "http://localhost:3000")
    path = tmp_path / "secrets" / TOKEN_FILE_NAME
    assert first.file == path and not first.chosen
    token = path.read_text().strip()
    assert first.accepts(token) and len(token) >= 43  # 32 random bytes, url-safe base64: 256 bits
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert sorted(p.name for p in path.parent.iterdir()) == [TOKEN_FILE_NAME]  # no temporary file left
    second = open_gate(settings, "http://localhost:3000")  # the next start: a new token replaces it
    assert path.read_text().strip() != token and not second.accepts(token)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.timeout(30)
def test_an_unwritable_token_file_leaves_the_log_as_the_only_copy(tmp_path: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings = load_setup_settings({"APP_CREDENTIALS_FILE": str(blocker / "app.env")})
    with caplog.at_level(logging.INFO):
        gate = open_gate(settings, "http://localhost:3000")
    assert gate.file is None
    assert "the setup token file cannot be written" in caplog.text and "the address below is the only copy" in caplog.text
    (token,) = TOKEN_IN_LOG.findall(caplog.text)
    assert gate.accepts(token)


@pytest.mark.timeout(30)
def test_serve_logs_the_setup_address_once_and_that_token_opens_the_form(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        root_logging: None) -> None:
    import uvicorn

    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.append(app))
    data = tmp_path / "data"
    serve.run("0.0.0.0", 3000, lambda settings: None, env={"DATA_DIR": str(data), "LOG_FORMAT": "text"})  # type: ignore[arg-type, return-value]
    err = capsys.readouterr().err
    (token,) = TOKEN_IN_LOG.findall(err)  # once, on one line
    (line,) = [line for line in err.splitlines() if token in line]
    assert f"open http://localhost:3000/setup?token={token} to register the App from" in line
    assert f"(the token is also in {data / TOKEN_FILE_NAME})" in line
    assert (data / TOKEN_FILE_NAME).read_text() == token + "\n"
    (app,) = served
    response = run(app, lambda c: c.get("/setup", params={"token": token}))
    assert response.status_code == 200 and "Register the GitHub App" in response.text


def register(c: httpx.AsyncClient, token: str) -> Awaitable[httpx.Response]:
    async def go() -> httpx.Response:
        action, _ = handoff((await c.post("/setup", data={"token": token, "target": "github.com"})).text)
        state = parse_qs(urlsplit(action).query)["state"][0]
        c.cookies.clear()  # GitHub's redirect is a cross-site navigation: no SameSite=Strict cookie
        return await c.get("/setup", params={"code": "c0de", "state": state})

    return go()


@pytest.mark.parametrize("mode", ["file", "page"])
@pytest.mark.timeout(30)
def test_the_token_is_refused_once_the_app_is_registered(tmp_path: Path, mode: str) -> None:
    settings = load_setup_settings({"DATA_DIR": str(tmp_path / "data"), "SETUP_CREDENTIALS": mode})
    gate = open_gate(settings, "http://bot.test:3000")
    token_file = tmp_path / "data" / TOKEN_FILE_NAME
    token = token_file.read_text().strip()

    async def exchange(api: str, code: str) -> RegisteredApp:
        return APP

    app = create_setup_app(settings, MANIFEST, gate, exchange=exchange)

    async def go(c: httpx.AsyncClient) -> list[httpx.Response]:
        await c.get("/setup", params={"token": token})
        action, _ = handoff((await c.post("/setup", data={"token": token, "target": "github.com"})).text)
        other_state = parse_qs(urlsplit(action).query)["state"][0]  # a second registration, started
        done = await register(c, token)
        return [done, await c.get("/setup", params={"token": token}),
                await c.post("/setup", data={"token": token, "target": "github.com"}),
                await c.get("/setup", params={"code": "c0de", "state": other_state})]

    done, form, post, other = run(app, go)
    assert done.status_code == 200 and "GitHub App registered" in done.text
    assert 'setup_token=""' in done.headers["set-cookie"] and "max-age=0" in done.headers["set-cookie"].lower()
    for response in (form, post):
        assert response.status_code == 403 and "the setup token no longer opens anything" in text(response)
        assert "<form" not in response.text
    assert other.status_code == 400 and "not recognised" in other.text  # states still out died with it
    assert gate.retired and not token_file.exists()


@pytest.mark.timeout(30)
def test_a_failed_store_keeps_the_token_so_the_admin_can_register_again(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "app.env").write_text("APP_ID=1\n")
    gate = SetupGate(TOKEN)
    app = setup_app(tmp_path, gate)

    async def go(c: httpx.AsyncClient) -> list[httpx.Response]:
        return [await register(c, TOKEN), await c.get("/setup", params={"token": TOKEN})]

    failed, form = run(app, go)
    assert failed.status_code == 500 and "already exists" in failed.text
    assert form.status_code == 200 and not gate.retired
