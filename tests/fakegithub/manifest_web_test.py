"""The fake's web side of the App manifest flow: it refuses manifests GitHub would, hands a code
back once, and the conversion makes a new App whose JWTs (and only those) it then accepts."""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml

from bot.github.client import GitHubError
from bot.github.manifest import convert_manifest_code
from tests.fakegithub import FakeGitHub
from tests.fakegithub.auth import make_jwt
from tests.fakegithub.plugin import checked_fake

MANIFEST: dict[str, Any] = {**yaml.safe_load((Path(__file__).resolve().parents[2] / "app.yml").read_text()),
                            "redirect_url": "https://bot.example.com/setup"}


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with checked_fake() as running:
        yield running


def post_manifest(fake: FakeGitHub, manifest: Any, path: str = "/settings/apps/new?state=s1") -> httpx.Response:
    raw = manifest if isinstance(manifest, str) else json.dumps(manifest)
    return httpx.post(fake.root_url + path, data={"manifest": raw}, timeout=10)


def code_for(fake: FakeGitHub, manifest: dict[str, Any], path: str = "/settings/apps/new?state=s1") -> str:
    page = post_manifest(fake, manifest, path)
    assert page.status_code == 200, page.text
    pending = page.text.split("name='pending' value='")[1].split("'")[0]
    back = httpx.post(f"{fake.root_url}/settings/apps/new/confirm", data={"pending": pending}, timeout=10)
    assert back.status_code == 302
    location = urlsplit(back.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == "https://bot.example.com/setup"
    query = parse_qs(location.query)
    assert query["state"] == ["s1"]
    return query["code"][0]


def changed(**fields: Any) -> dict[str, Any]:
    manifest = copy.deepcopy(MANIFEST)
    for name, value in fields.items():
        if value is None:
            del manifest[name]
        else:
            manifest[name] = value
    return manifest


@pytest.mark.parametrize(("manifest", "problem"), [
    ("{not json", "not valid JSON"),
    (changed(hook_attributes=None), "&#x27;hook_attributes&#x27; is a required property"),
    (changed(name="x" * 35), "is too long"),
    (changed(default_permissions={"checks": "admin"}), "checks can be read or write, not &#x27;admin&#x27;"),
    (changed(default_permissions={"teleport": "read"}), "&#x27;teleport&#x27; is not a permission"),
    (changed(default_events=["pull_request", "pull_requests"]), "&#x27;pull_requests&#x27; is not an event"),
    (changed(public="no"), "public: &#x27;no&#x27; is not of type &#x27;boolean&#x27;"),
    (changed(homepage="https://x"), "Additional properties are not allowed"),
])
def test_manifests_github_would_refuse_get_422(fake: FakeGitHub, manifest: Any, problem: str) -> None:
    response = post_manifest(fake, manifest)
    assert response.status_code == 422 and problem in response.text
    assert [v.kind for v in fake.contract_violations] == ["request"]
    fake.contract_violations.clear()


def test_the_flow_makes_a_new_app_whose_jwt_the_fake_accepts(fake: FakeGitHub) -> None:
    old_key, old_id = fake.private_key_pem, fake.app_id
    code = code_for(fake, changed(name="My Compliance"), "/organizations/octo-org/settings/apps/new?state=s1")
    app = asyncio.run(convert_manifest_code(fake.url, code))  # the response is checked against the description
    assert app.id == fake.app_id != old_id and app.slug == "my-compliance" and app.pem == fake.private_key_pem
    assert app.webhook_secret == fake.webhook_secret and app.install_url.endswith("/apps/my-compliance/installations/new")
    assert fake.app.owner.login == "octo-org" and fake.app.events == MANIFEST["default_events"]
    me = httpx.get(f"{fake.url}/app", headers={"Authorization": f"Bearer {make_jwt(app.pem, app.id)}"}, timeout=10)
    assert me.status_code == 200 and me.json()["slug"] == "my-compliance"
    stale = httpx.get(f"{fake.url}/app", headers={"Authorization": f"Bearer {make_jwt(old_key, old_id)}"}, timeout=10)
    assert stale.status_code == 401
    with pytest.raises(GitHubError, match=r"refused the registration code \(404: Not Found\)"):
        asyncio.run(convert_manifest_code(fake.url, code))  # once
    fake.assert_contract_ok(include_requests=True)


def test_a_code_expires_after_an_hour(fake: FakeGitHub) -> None:
    code = code_for(fake, MANIFEST)
    fake.manifest_codes[code].expires_at = time.time() - 1  # type: ignore[union-attr]
    with pytest.raises(GitHubError) as refused:
        asyncio.run(convert_manifest_code(fake.url, code))
    assert refused.value.status == 404


def test_a_confirmation_of_nothing_is_404(fake: FakeGitHub) -> None:
    response = httpx.post(f"{fake.root_url}/settings/apps/new/confirm", data={"pending": "nope"}, timeout=10)
    assert response.status_code == 404
    assert [v.kind for v in fake.contract_violations] == ["request"]
    fake.contract_violations.clear()


def test_only_a_posted_form_is_taken(fake: FakeGitHub) -> None:
    page = httpx.get(f"{fake.root_url}/settings/apps/new", timeout=10)
    assert page.status_code == 405 and page.headers["allow"] == "POST"
    as_json = httpx.post(f"{fake.root_url}/settings/apps/new", json={"manifest": MANIFEST}, timeout=10)
    assert as_json.status_code == 415
    assert [v.kind for v in fake.contract_violations] == ["request"]
    fake.contract_violations.clear()


def test_ghes_319_refuses_the_merge_group_event_its_description_lacks() -> None:
    with checked_fake(flavor="ghes-3.19") as ghes:
        response = post_manifest(ghes, MANIFEST)
        assert response.status_code == 422 and "&#x27;merge_group&#x27; is not an event" in response.text
        ghes.contract_violations.clear()
        without = changed(default_events=[e for e in MANIFEST["default_events"] if e != "merge_group"])
        assert post_manifest(ghes, without).status_code == 200
