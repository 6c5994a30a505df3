"""An organisation's custom rules as the App loads them (bot/app/custom_rules.py), against the fake
GitHub in process: none without a `.github` repository, read once per version of the rules
folder, and a review keyed by them (a fixed rule is a new check run on the same head)."""

from __future__ import annotations

import asyncio

from bot.app.custom_rules import OrgRules, OrgRulesCache
from bot.app.runner import ReviewRunner
from bot.github.client import GitHubApp
from tests.app.runner_test import job_for, pr
from tests.fakegithub import FakeGitHub
from tests.rules.spec.custom_samples import OWNER_TAG, UNTAGGED_BUCKET, line_of

RULES = ".github/compliance/rules"
BLOB_READS = r"/repos/octo-org/\.github/git/blobs/"


def load(fake: FakeGitHub, cache: OrgRulesCache, owner: str = "octo-org") -> OrgRules:
    async def go() -> OrgRules:
        app = GitHubApp(fake.app_id, fake.private_key_pem, fake.url, 10.0)
        async with app.installation(fake.installation_for(owner).id) as gh:
            return await cache.load(gh, owner)

    return asyncio.run(go())


def test_no_dotgithub_repository_means_no_custom_rules(fake_github: FakeGitHub) -> None:
    fake_github.create_repo("octo-org", "infra")
    loaded = load(fake_github, OrgRulesCache())
    assert (loaded.repository, loaded.rules.rules, loaded.errors, loaded.rules.digest) == ("octo-org/.github", (), [], "")


def test_a_dotgithub_repository_without_the_folder_means_no_custom_rules(fake_github: FakeGitHub) -> None:
    fake_github.create_repo("octo-org", ".github", files={".github/compliance.yml": "fail_on: high\n"})
    loaded = load(fake_github, OrgRulesCache())
    assert loaded.rules.rules == () and loaded.errors == []


def test_rules_are_read_once_per_version_of_the_folder(fake_github: FakeGitHub) -> None:
    dotgithub = fake_github.create_repo("octo-org", ".github", files={f"{RULES}/owner-tag.yml": OWNER_TAG})
    cache = OrgRulesCache()
    first = load(fake_github, cache)
    assert [r.id for r in first.rules.rules] == ["ACME-S3-001"] and first.errors == []
    assert load(fake_github, cache).rules is first.rules
    assert fake_github.count("GET", BLOB_READS) == 1

    dotgithub.commit("main", {"README.md": "Shared settings.\n"}, "a commit that leaves the rules alone")
    assert load(fake_github, cache).rules is first.rules
    assert fake_github.count("GET", BLOB_READS) == 1

    broken = OWNER_TAG.replace("lines: [1, 7]", "lines: [1]")
    dotgithub.commit("main", {f"{RULES}/owner-tag.yml": broken}, "break the rule")
    second = load(fake_github, cache)
    assert second.rules.rules == () and fake_github.count("GET", BLOB_READS) == 2
    (error,) = second.errors
    assert (error.path, error.line) == (f"{RULES}/owner-tag.yml", line_of(broken, "- path: main.tf"))
    assert error.message.startswith("tests.flag[0] (main.tf) must be flagged on line 1, but the rule flagged lines 1, 7")
    assert second.rules.digest != first.rules.digest and len(cache) == 1


def test_the_cache_keeps_a_bounded_number_of_organisations(fake_github: FakeGitHub) -> None:
    for org in ("org-a", "org-b"):
        fake_github.create_repo(org, ".github", files={f"{RULES}/owner-tag.yml": OWNER_TAG})
    cache = OrgRulesCache(max_orgs=1)
    load(fake_github, cache, "org-a")
    load(fake_github, cache, "org-b")
    assert len(cache) == 1
    load(fake_github, cache, "org-a")  # evicted: read again
    assert fake_github.count("GET", r"/repos/org-a/\.github/git/blobs/") == 2


def test_a_fixed_rule_is_a_new_review_of_the_same_head(fake_github: FakeGitHub) -> None:
    broken = OWNER_TAG.replace("lines: [1, 7]", "lines: [1]")
    dotgithub = fake_github.create_repo("octo-org", ".github", files={f"{RULES}/owner-tag.yml": broken})
    repo, number = pr(fake_github, "keyed", {"README.md": "x\n"}, {"main.tf": UNTAGGED_BUCKET})
    runner = ReviewRunner(GitHubApp(fake_github.app_id, fake_github.private_key_pem, fake_github.url, 10.0),
                          "compliance")
    job = job_for(fake_github, repo, number)
    asyncio.run(runner(job))
    (first,) = fake_github.check_runs(repo)
    assert first["conclusion"] == "failure" and "1 custom rule error(s)" in first["title"]

    asyncio.run(runner(job))  # the same inputs: the review is done, nothing new
    assert len(fake_github.check_runs(repo)) == 1

    dotgithub.commit("main", {f"{RULES}/owner-tag.yml": OWNER_TAG}, "fix the rule")
    asyncio.run(runner(job))
    first_again, second = fake_github.check_runs(repo)
    assert first_again["id"] == first["id"] and second["external_id"] != first["external_id"]
    assert "custom rule error" not in second["title"]
    assert [(a["path"], a["start_line"]) for a in second["annotations"] if a["title"].startswith("ACME-S3-001:")] == [
        ("main.tf", 1)]
