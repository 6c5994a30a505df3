"""Registration by manifest, end to end: `compliance-bot serve` without credentials serves /setup,
to whoever has the setup token it logged at start-up (a tokenless visit gets a 403 page saying
where the token is); a real Chromium clicks through it and the fake GitHub's own pages; the new App's credentials land
in a 0600 file; a server restarted on that file verifies deliveries signed with the new secret
and reviews as the new App (the fake accepts only that App's JWTs from then on)."""

from __future__ import annotations

import contextlib
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml
from playwright.sync_api import Page

from tests.e2e.serving import REPO_ROOT, App, free_port, wait_for
from tests.fakegithub import FakeGitHub
from tests.fakegithub.plugin import checked_fake

CREDENTIAL_VARIABLES = ("APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH", "WEBHOOK_SECRET", "GITHUB_API_URL",
                        "GITHUB_WEB_URL", "APP_CREDENTIALS_FILE", "PUBLIC_URL", "SETUP_CREDENTIALS", "SETUP_TOKEN",
                        "REDIS_URL")
VOLUME = 'resource "aws_ebs_volume" "v" {\n  availability_zone = "a"\n  size = 1\n  encrypted = false\n}\n'


STARTUP_SECONDS = 90  # a loaded CI machine takes tens of seconds to import and start a server


@contextlib.contextmanager
def setup_server(log: Path, env: Mapping[str, str], setup: bool = True) -> Iterator[App]:
    """`compliance-bot serve` with no App credentials in its environment, only `env`; waits until
    /healthz answers (in setup mode when `setup`)."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARIABLES}
    environment.update({"LOG_LEVEL": "DEBUG", **env})
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli.main", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=environment, stdout=out, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
        url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"setup server exited: {log.read_text()}")
            try:
                response = httpx.get(f"{url}/healthz", timeout=1)
            except httpx.HTTPError:
                return False
            return response.status_code == 200 and response.json().get("setup", False) is setup

        try:
            wait_for(healthy, STARTUP_SECONDS, "the server to start")
            yield App(url, log)
        finally:
            process.terminate()
            process.wait(timeout=30)


def setup_address(log: Path) -> str:
    """The address with the setup token that the server's start-up log gives (one line, once)."""
    (address,) = re.findall(r"open (\S+/setup\?token=[A-Za-z0-9_-]+) to register the App", log.read_text())
    return str(address)


def stored(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with checked_fake() as running:
        yield running
        running.assert_contract_ok(include_requests=True)


@pytest.mark.timeout(300)  # two server starts, a browser and a review, on a machine shared by many
def test_register_in_a_browser_then_review_as_the_new_app(fake: FakeGitHub, browser_page: Page,
                                                         tmp_path: Path) -> None:
    data = tmp_path / "data"
    old_id, old_secret = fake.app_id, fake.webhook_secret
    env = {"DATA_DIR": str(data), "GITHUB_API_URL": fake.url, "GITHUB_WEB_URL": fake.root_url}
    with setup_server(tmp_path / "setup.log", env) as setup:
        address = setup_address(tmp_path / "setup.log")
        token = parse_qs(urlsplit(address).query)["token"][0]
        assert address == f"{setup.url}/setup?token={token}" and len(token) >= 43
        token_file = data / "setup-token"
        assert token_file.read_text() == token + "\n" and stat.S_IMODE(token_file.stat().st_mode) == 0o600
        page = browser_page
        refused = page.goto(f"{setup.url}/setup")  # whoever reaches the port first, without the token
        assert refused is not None and refused.status == 403
        assert "needs the one-time setup token" in page.locator("#error").inner_text()
        where = page.locator("#where").inner_text()
        assert "in the server's start-up log" in where and f"also in the file {token_file}" in where
        assert page.locator("form").count() == 0
        page.goto(address)
        assert page.locator("#webhook-url").inner_text() == f"{setup.url}/webhook"
        page.fill("#org", "octo-org")
        page.click("#register")
        page.wait_for_selector("#continue")
        page.click("#continue")  # the browser posts the manifest to the fake GitHub's page
        page.wait_for_selector("#create")
        assert page.url.startswith(f"{fake.root_url}/organizations/octo-org/settings/apps/new?state=")
        assert page.locator("#app-name").inner_text() == "Compliance Bot"
        assert page.locator("#hook-url").inner_text() == f"{setup.url}/webhook"
        page.click("#create")  # GitHub redirects back to /setup?code=...&state=...
        page.wait_for_selector("#stored-path")
        assert page.url.startswith(f"{setup.url}/setup?code=")
        assert page.locator("#slug").inner_text() == "compliance-bot"
        assert page.get_attribute("#install", "href") == "https://github.com/apps/compliance-bot/installations/new"
        shot = tmp_path / "registered.png"
        page.screenshot(path=str(shot), full_page=True)
        stored_path = page.locator("#stored-path").inner_text()
        assert not token_file.exists()  # the token is spent with the registration
        spent = page.goto(address)
        assert spent is not None and spent.status == 403
        assert "the setup token no longer opens anything" in page.locator("#error").inner_text()
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and shot.stat().st_size > 1000

    path = data / "app.env"
    assert stored_path == str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    values = stored(path)
    assert set(values) == {"APP_ID", "PRIVATE_KEY", "WEBHOOK_SECRET", "GITHUB_API_URL"}
    assert int(values["APP_ID"]) == fake.app_id != old_id  # a new App, not the fake's first one
    assert values["WEBHOOK_SECRET"] == fake.webhook_secret != old_secret
    assert values["PRIVATE_KEY"].replace("\\n", "\n") + "\n" == fake.private_key_pem
    assert values["GITHUB_API_URL"] == fake.url
    assert fake.app.permissions == {"checks": "write", "contents": "read", "members": "read", "merge_queues": "read",
                                    "metadata": "read", "pull_requests": "write"}
    assert fake.webhook_url == f"{setup.url}/webhook"
    log = (tmp_path / "setup.log").read_text()
    assert fake.webhook_secret not in log and "PRIVATE KEY" not in log and values["PRIVATE_KEY"][40:80] not in log
    assert "registered GitHub App compliance-bot" in log
    assert log.count(token) == 1  # logged once, at start-up, and never again

    # Restarted with nothing but DATA_DIR: the server reads the file and is the new App.
    repo = fake.create_repo("octo-org", "infra")
    repo.commit("feature", {"main.tf": VOLUME}, "volume")
    number = repo.open_pull_request(head="feature")
    with setup_server(tmp_path / "server.log", {"DATA_DIR": str(data)}, setup=False) as app:
        forged = app.deliver(*fake.webhook("pull_request.opened", repo, number, secret=old_secret))
        assert forged.status_code == 401  # the first App's secret no longer verifies
        delivered = app.deliver(*fake.webhook("pull_request.opened", repo, number))
        assert delivered.status_code == 202 and delivered.json()["queued"] is True
        wait_for(lambda: fake.reviews(repo, number), 120, "the review")
    (review,) = fake.reviews(repo, number)
    assert review["user"] == "compliance-bot[bot]" and [c["line"] for c in review["comments"]] == [4]
    server_log = (tmp_path / "server.log").read_text()
    assert fake.webhook_secret not in server_log and "PRIVATE KEY" not in server_log and "ghs_" not in server_log
    assert "setup?token=" not in server_log  # a server with its App has no setup token
    jwt_calls = [r for r in fake.requests if r.auth == "jwt"]
    assert jwt_calls and all(r.status < 400 for r in jwt_calls)  # the new App's JWTs were accepted


@pytest.mark.timeout(180)  # a server start on a machine shared by many
def test_ghes_registration_over_http(tmp_path: Path) -> None:
    """The GHES choice: forms on the GHES host, the exchange under its /api/v3 (its own description).
    GHES 3.19's description has no `merge_group` webhook, so its fake refuses app.yml as it is; the
    admin registers a manifest without it (APP_MANIFEST)."""
    manifest = yaml.safe_load((REPO_ROOT / "app.yml").read_text())
    manifest["default_events"].remove("merge_group")
    (tmp_path / "ghes-app.yml").write_text(yaml.safe_dump(manifest))
    with checked_fake(flavor="ghes-3.19") as ghes:
        data = tmp_path / "data"
        public = "https://bot.example.com"
        token = "operator-chosen-setup-token-from-a-vault"  # SETUP_TOKEN: neither logged nor written
        env = {"DATA_DIR": str(data), "PUBLIC_URL": public, "APP_MANIFEST": str(tmp_path / "ghes-app.yml"),
               "SETUP_TOKEN": token}
        with setup_server(tmp_path / "setup.log", env) as setup, \
                httpx.Client(timeout=10) as client:
            form = {"target": "ghes", "ghes_url": ghes.root_url, "org": "", "name": "Compliance Bot GHES"}
            refused = client.post(f"{setup.url}/setup", data=form)
            assert refused.status_code == 403 and "the SETUP_TOKEN this server was started with" in refused.text
            handoff = client.post(f"{setup.url}/setup", data={**form, "token": token})
            assert handoff.status_code == 200
            assert f"form-action 'self' {ghes.root_url}" in handoff.headers["content-security-policy"]
            action, posted = _form(handoff.text)
            assert action.startswith(f"{ghes.root_url}/settings/apps/new?state=")
            confirm = client.post(action, data={"manifest": posted})
            assert confirm.status_code == 200 and "Compliance Bot GHES" in confirm.text
            pending = confirm.text.split("name='pending' value='")[1].split("'")[0]
            back = client.post(f"{ghes.root_url}/settings/apps/new/confirm", data={"pending": pending})
            assert back.status_code == 302
            location = back.headers["location"]
            assert location.startswith(f"{public}/setup?code=")  # GitHub sends the browser to PUBLIC_URL
            query = parse_qs(urlsplit(location).query)
            assert query["state"] == [parse_qs(urlsplit(action).query)["state"][0]]
            done = client.get(f"{setup.url}/setup", params={"code": query["code"][0], "state": query["state"][0]})
            assert done.status_code == 200, done.text
            again = client.get(f"{setup.url}/setup", params={"code": query["code"][0], "state": query["state"][0]})
            assert again.status_code == 400 and "not recognised" in again.text  # a state is good once
        values = stored(data / "app.env")
        assert sorted(p.name for p in data.iterdir()) == ["app.env"]  # no token file for a chosen token
        log = (tmp_path / "setup.log").read_text()
        assert token not in log and f"open {public}/setup?token=<SETUP_TOKEN> to register the App" in log
        assert values["GITHUB_API_URL"] == ghes.url and int(values["APP_ID"]) == ghes.app_id
        assert ghes.app.name == "Compliance Bot GHES" and ghes.app.owner.login == "octocat"
        assert ghes.webhook_url == f"{public}/webhook"
        ghes.assert_contract_ok(include_requests=True)


def _form(page: str) -> tuple[str, str]:
    """The handoff page's form: its action and the manifest it carries (unescaped)."""
    import html

    action = html.unescape(page.split("action='")[1].split("'")[0])
    manifest = html.unescape(page.split("name='manifest' value='")[1].split("'")[0])
    return action, manifest
