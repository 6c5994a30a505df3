"""Reading an organisation's `.github` repository at its default branch's head: absent, not
installed, present, moved on, and a GitHub failure that must not read as "no policy"."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from bot.github.client import GitHubApp, GitHubError, InstallationClient
from bot.github.org_config import OrgConfigHead, org_config_file, org_config_head
from tests.fakegithub import FakeGitHub

T = TypeVar("T")


def call(fake: FakeGitHub, owner: str, action: Callable[[InstallationClient], Awaitable[T]]) -> T:
    async def run() -> T:
        app = GitHubApp(fake.app_id, fake.private_key_pem, fake.url, 10.0)
        async with app.installation(fake.installation_for(owner).id) as gh:
            return await action(gh)

    return asyncio.run(run())


def test_no_github_repository_means_no_head(fake_github: FakeGitHub) -> None:
    fake_github.create_repo("plain-org", "infra")
    assert call(fake_github, "plain-org", lambda gh: org_config_head(gh, "plain-org")) is None


def test_a_github_repository_the_app_is_not_installed_on_is_not_seen(fake_github: FakeGitHub) -> None:
    fake_github.create_repo("private-org", "infra")
    fake_github.create_repo("private-org", ".github", installed=False, files={".github/compliance.yml": "x: 1\n"})
    assert call(fake_github, "private-org", lambda gh: org_config_head(gh, "private-org")) is None


def test_files_are_read_at_the_head_found(fake_github: FakeGitHub) -> None:
    org = fake_github.create_repo("config-org", ".github", default_branch="trunk",
                                  files={".github/compliance.yml": "fail_on: high\n"})
    head = call(fake_github, "config-org", lambda gh: org_config_head(gh, "config-org"))
    assert head == OrgConfigHead("config-org", "trunk", org.branch_sha("trunk"))
    assert head.full_name == "config-org/.github"
    org.commit("trunk", {".github/compliance.yml": "fail_on: low\n"}, "moved on")
    assert head is not None
    old = call(fake_github, "config-org", lambda gh: org_config_file(gh, head, ".github/compliance.yml"))
    assert old is not None and old.text == "fail_on: high\n"  # the commit found, not the branch now
    assert call(fake_github, "config-org", lambda gh: org_config_file(gh, head, ".github/compliance/rules/a.yml")) is None


def test_a_failing_github_is_an_error_not_an_absent_policy(fake_github: FakeGitHub) -> None:
    fake_github.create_repo("flaky-org", ".github")
    fake_github.inject("GET", r"/repos/flaky-org/\.github$", status=403, times=1,
                       body={"message": "Resource not accessible by integration"})
    with pytest.raises(GitHubError) as raised:
        call(fake_github, "flaky-org", lambda gh: org_config_head(gh, "flaky-org"))
    assert raised.value.status == 403 and "Resource not accessible by integration" in str(raised.value)
