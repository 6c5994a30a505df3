"""The policy source's cache: bounded, least recently used first out; a file's verdict (parsed,
absent or invalid) is kept per commit; the review key stays the policy blob's id when nothing
else went into the policy."""

from __future__ import annotations

import asyncio

from bot.app.policy_source import LoadedPolicy, LruCache, PolicySource
from bot.app.review_key import NO_POLICY
from bot.github.client import GitHubApp
from tests.fakegithub import FakeGitHub

POLICY = ".github/compliance.yml"


def test_the_cache_is_bounded_and_drops_the_least_recently_used() -> None:
    cache: LruCache[str, int] = LruCache(entries=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # now "b" is the least recently used
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == (1, None, 3, 2)


def load(fake: FakeGitHub, source: PolicySource, owner: str, repo: str) -> LoadedPolicy:
    async def run() -> LoadedPolicy:
        app = GitHubApp(fake.app_id, fake.private_key_pem, fake.url, 10.0)
        async with app.installation(fake.installation_for(owner).id) as gh:
            return await source.load(gh, owner, repo, "main")

    return asyncio.run(run())


def test_an_invalid_policy_is_parsed_once_per_commit_and_reported_each_time(fake_github: FakeGitHub) -> None:
    fake_github.create_repo("src-bad", "infra", files={POLICY: "fail_on: sometimes\n"})
    source = PolicySource()
    first, second = load(fake_github, source, "src-bad", "infra"), load(fake_github, source, "src-bad", "infra")
    assert first.problems == second.problems and len(first.problems) == 1
    assert str(first.problems[0]).startswith(".github/compliance.yml: line 1: 'fail_on' must be one of")
    assert fake_github.count("GET", r"/repos/src-bad/infra/contents/") == 1


def test_without_an_organisation_policy_the_key_is_the_policy_blob(fake_github: FakeGitHub) -> None:
    repo = fake_github.create_repo("src-key", "infra", files={POLICY: "fail_on: high\n"})
    loaded = load(fake_github, PolicySource(), "src-key", "infra")
    blob = repo.git.read(f"{repo.branch_sha('main')}:{POLICY}")
    assert blob is not None and loaded.key == blob.sha and loaded.problems == ()
    fake_github.create_repo("src-none", "infra")
    assert load(fake_github, PolicySource(), "src-none", "infra").key == NO_POLICY


def test_topics_are_read_only_when_a_policy_asks(fake_github: FakeGitHub) -> None:
    fake_github.create_repo("src-facts", "plain", files={POLICY: "frameworks: [hipaa]\n"})
    asks = fake_github.create_repo("src-facts", "asks", files={POLICY: "frameworks: [{name: hipaa, when: {topics: [phi]}}]\n"})
    asks.set_topics(["phi"])
    source = PolicySource()
    plain = load(fake_github, source, "src-facts", "plain")
    assert plain.policy.active_frameworks == frozenset({"hipaa"})
    assert fake_github.count("GET", r"/repos/src-facts/plain$") == 0
    asked = load(fake_github, source, "src-facts", "asks")
    assert asked.policy.active_frameworks == frozenset({"hipaa"}) and asked.policy.facts.topics == {"phi"}
    assert fake_github.count("GET", r"/repos/src-facts/asks$") == 1
    assert fake_github.count("GET", r"/properties/values$") == 0


def test_the_github_repository_is_reviewed_under_its_own_policy_alone(fake_github: FakeGitHub) -> None:
    """Its policy is the organisation's: merged with itself, `exceptions` would be refused."""
    fake_github.create_repo("src-org", ".github", files={POLICY: "fail_on: high\nexceptions: {allow_repository: true}\n"})
    loaded = load(fake_github, PolicySource(), "src-org", ".github")
    assert loaded.problems == () and loaded.resolved.problems == () and loaded.resolved.notes == ()
    assert loaded.policy.allows_repository_exceptions
