"""The cache shared by processes (`bot.app.shared_cache`), against the real local Redis and the
fake GitHub: two "processes" (two clients, two caches, one namespace) share one token mint, one
policy read per default-branch commit and one read per blob; keys are hash-tagged and expire; a
refused token is minted again; a Redis that stops mid-way costs GitHub requests, never a review."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest
import redis

from bot.app.policy_source import SHARED_TTL_SECONDS, PolicySource
from bot.app.runner import ReviewRunner
from bot.app.settings import load_settings
from bot.app.shared_cache import LocalCache, RedisCache, cache_for, cache_key
from bot.github.blobs import SharedBlobs, git_blob_id
from bot.github.client import GitHubApp
from bot.github.tokens import MARGIN, InstallationTokens
from tests.app.redis_fixtures import RedisServer
from tests.app.runner_test import UNENCRYPTED, job_for, pr
from tests.fakegithub import FakeGitHub, Repository

POLICY = ".github/compliance.yml"
MINTS = r"^/app/installations/\d+/access_tokens$"
T = TypeVar("T")


def run(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(work())


class Process:
    """What one web server or worker holds: its own Redis client, cache, App and runner."""

    def __init__(self, fake: FakeGitHub, url: str, namespace: str) -> None:
        self.cache = RedisCache.from_url(url, namespace)
        self.app = GitHubApp(fake.app_id, fake.private_key_pem, fake.url, 10.0,
                             tokens=InstallationTokens(self.cache, fake.private_key_pem))
        self.runner = ReviewRunner(self.app, "compliance", shared=self.cache)

    async def review(self, fake: FakeGitHub, repo: Repository, number: int, event: str) -> None:
        await self.runner(job_for(fake, repo, number, event))

    async def read_pull(self, repo: Repository, number: int) -> str:
        assert repo.installation_id is not None
        async with self.app.installation(repo.installation_id) as gh:
            return (await gh.get_pull(repo.owner.login, repo.name, number)).head_sha

    async def aclose(self) -> None:
        await self.runner.aclose()


def blob_reads(fake: FakeGitHub) -> int:
    """Requests that read a file's text: GraphQL `object(expression:)`, the blobs or contents API
    (not the listing of the organisation's custom rules folder, which is no file and not cached here)."""
    graphql = sum(1 for r in fake.requests if r.path.endswith("/graphql") and "expression" in json.dumps(r.body))
    contents = sum(1 for r in fake.requests if "/contents/" in r.path and not r.path.endswith("/compliance/rules"))
    return graphql + fake.count("GET", r"/git/blobs/") + contents


def sync_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5)


def test_keys_are_hash_tagged_per_family_member() -> None:
    assert cache_key("ns", "installation", "123", "token") == "{ns:installation:123}:token"
    assert cache_key("ns", "policy", "o/r", "abc") == "{ns:policy:o/r}:abc"
    assert cache_key("ns", "x", "a{b}c", "v") == "{ns:x:a%7Bb%7Dc}:v"  # the tag stays the whole ident


def test_redis_url_chooses_the_shared_kind_and_the_namespace_prefixes_every_key(fake_github: FakeGitHub,
                                                                                redis_url: str) -> None:
    env = {**fake_github.app_env(), "REDIS_NAMESPACE": "team-a"}
    local, shared = cache_for(load_settings(env)), cache_for(load_settings({**env, "REDIS_URL": redis_url}))
    try:
        assert isinstance(local, LocalCache) and isinstance(shared, RedisCache)
        assert local.key("blob", "ab", "text") == shared.key("blob", "ab", "text") == "{team-a:blob:ab}:text"
    finally:
        run(shared.aclose)


def test_the_local_cache_is_bounded_expires_and_skips_large_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr("bot.app.shared_cache.time.monotonic", lambda: clock[0])
    cache = LocalCache("ns", entries=2, max_bytes=10, max_entry_bytes=6)

    async def work() -> None:
        assert await cache.set("a", b"1", 5) and await cache.set("b", b"22", 50)
        assert await cache.get("a") == b"1"  # "b" is now the least recently used
        assert await cache.set("c", b"333", 50)
        assert await cache.get_many(["a", "b", "c"]) == [b"1", None, b"333"]
        assert not await cache.set("big", b"7777777", 50)  # above the per-entry cap
        assert await cache.set("d", b"666666", 50)  # 3 + 6 + 1 > 10 bytes: "a" goes (least recent)
        assert (await cache.get("a"), len(cache)) == (None, 2)
        clock[0] += 51
        assert await cache.get("c") is None and await cache.get("d") is None  # expired

    run(work)


def test_two_processes_share_one_token_mint_kept_sealed_with_a_ttl(fake_github: FakeGitHub, redis_url: str,
                                                                   redis_names: dict[str, str]) -> None:
    repo, number = pr(fake_github, "tokens", {"README.md": "x\n"}, {"main.tf": UNENCRYPTED.format(i=1)})
    first, second = Process(fake_github, redis_url, redis_names["prefix"]), Process(fake_github, redis_url,
                                                                                    redis_names["prefix"])

    async def work() -> tuple[str, str]:
        try:
            return await first.read_pull(repo, number), await second.read_pull(repo, number)
        finally:
            await first.aclose()
            await second.aclose()

    heads = run(work)
    assert heads[0] == heads[1] == repo.branch_sha("feature")
    assert fake_github.count("POST", MINTS) == 1
    (minted,) = [r.response["token"] for r in fake_github.requests if r.method == "POST" and r.path.endswith("/access_tokens")]
    key = f"{{{redis_names['prefix']}:installation:{repo.installation_id}}}:token"
    client = sync_client(redis_url)
    try:
        assert client.keys(f"*{redis_names['prefix']}*installation*") == [key.encode()]
        stored = client.get(key)
        ttl = client.ttl(key)
    finally:
        client.close()
    assert stored is not None and minted.encode() not in stored  # sealed: a dump does not show it
    assert 0 < ttl <= 3600 - MARGIN.total_seconds()  # kept until five minutes before GitHub's expiry


def test_jobs_starting_at_once_in_one_process_wait_for_one_mint(fake_github: FakeGitHub, redis_url: str,
                                                                 redis_names: dict[str, str]) -> None:
    repo, number = pr(fake_github, "at-once", {"README.md": "x\n"}, {"main.tf": UNENCRYPTED.format(i=1)})
    process = Process(fake_github, redis_url, redis_names["prefix"])

    async def work() -> list[str]:
        try:
            return list(await asyncio.gather(*(process.read_pull(repo, number) for _ in range(5))))
        finally:
            await process.aclose()

    assert run(work) == [repo.branch_sha("feature")] * 5
    assert fake_github.count("POST", MINTS) == 1


def test_a_token_sealed_under_another_key_does_not_open(fake_github: FakeGitHub) -> None:
    cache = LocalCache("ns")
    tokens = InstallationTokens(cache, fake_github.private_key_pem)
    other = InstallationTokens(cache, "another App's key")

    async def work() -> tuple[str | None, str | None, str | None]:
        import datetime as dt

        await tokens.put(1, "ghs_secret", dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
        sealed = await cache.get(tokens.key(1))
        assert sealed is not None
        await cache.set(tokens.key(2), sealed, 60)  # copied under another installation's key
        return await tokens.get(1), await other.get(1), await tokens.get(2)

    assert run(work) == ("ghs_secret", None, None)


def test_a_refused_kept_token_is_dropped_and_minted_once_again(fake_github: FakeGitHub, redis_url: str,
                                                               redis_names: dict[str, str]) -> None:
    repo, number = pr(fake_github, "refused", {"README.md": "x\n"}, {"main.tf": UNENCRYPTED.format(i=1)})
    first, second = Process(fake_github, redis_url, redis_names["prefix"]), Process(fake_github, redis_url,
                                                                                    redis_names["prefix"])

    async def work() -> str:
        try:
            await first.read_pull(repo, number)
            fake_github.expire_tokens()  # GitHub now refuses the token every process keeps
            return await second.read_pull(repo, number)
        finally:
            await first.aclose()
            await second.aclose()

    assert run(work) == repo.branch_sha("feature")
    assert fake_github.count("POST", MINTS) == 2
    assert fake_github.count("GET", r"/pulls/\d+$", status=401) == 1  # refused once, then answered


def test_a_second_review_of_the_same_default_branch_commit_reads_no_policy_file(
        fake_github: FakeGitHub, redis_url: str, redis_names: dict[str, str]) -> None:
    repo = fake_github.create_repo("shared-policy", "infra", files={POLICY: "fail_on: critical\n"})
    caches = [RedisCache.from_url(redis_url, redis_names["prefix"]) for _ in range(3)]

    async def load(cache: RedisCache) -> str:
        app = GitHubApp(fake_github.app_id, fake_github.private_key_pem, fake_github.url, 10.0)
        assert repo.installation_id is not None
        try:
            async with app.installation(repo.installation_id) as gh:
                loaded = await PolicySource(shared=cache).load(gh, repo.owner.login, repo.name, "main")
        finally:
            await cache.aclose()
        return loaded.policy.fail_on

    assert [run(lambda: load(caches[0])), run(lambda: load(caches[1]))] == ["critical", "critical"]
    assert fake_github.count("GET", r"/repos/shared-policy/infra/contents/") == 1
    sha = repo.branch_sha("main")
    key = f"{{{redis_names['prefix']}:policy:shared-policy/infra}}:{sha}:{POLICY}"
    client = sync_client(redis_url)
    try:
        assert 0 < client.ttl(key) <= SHARED_TTL_SECONDS
    finally:
        client.close()
    repo.commit("main", {POLICY: "fail_on: high\n"}, "stricter")  # a new default-branch commit: read again
    assert run(lambda: load(caches[2])) == "high"
    assert fake_github.count("GET", r"/repos/shared-policy/infra/contents/") == 2


def test_a_re_review_in_another_process_reads_no_blob_and_no_policy_from_github(
        fake_github: FakeGitHub, redis_url: str, redis_names: dict[str, str]) -> None:
    repo, number = pr(fake_github, "shared-blobs", {POLICY: "fail_on: high\n", "base.tf": UNENCRYPTED.format(i=0)},
                      {"main.tf": UNENCRYPTED.format(i=1), "more.tf": UNENCRYPTED.format(i=2)})
    first, second = Process(fake_github, redis_url, redis_names["prefix"]), Process(fake_github, redis_url,
                                                                                    redis_names["prefix"])

    async def work() -> None:
        try:
            await first.review(fake_github, repo, number, "pull_request.opened")
            fake_github.reset_requests()
            await second.review(fake_github, repo, number, "check_suite.rerequested")  # a re-run: a new review
        finally:
            await first.aclose()
            await second.aclose()

    run(work)
    runs = fake_github.check_runs(repo)
    assert [r["conclusion"] for r in runs] == ["failure", "failure"] and runs[0]["annotations"] == runs[1]["annotations"]
    assert blob_reads(fake_github) == 0  # the policy file and every blob came from Redis
    assert fake_github.count("POST", MINTS) == 0
    client = sync_client(redis_url)
    try:
        blob_keys = [k.decode() if isinstance(k, bytes) else k for k in client.keys(f"{{{redis_names['prefix']}:blob:*")]
        assert len(blob_keys) >= 3 and all(k.endswith("}:text") and client.ttl(k) > 0 for k in blob_keys)
    finally:
        client.close()


def test_a_shared_text_that_is_not_its_blob_is_never_used() -> None:
    cache = LocalCache("ns")
    blobs = SharedBlobs(cache)
    good, oid = "real\n", git_blob_id(b"real\n")

    async def work() -> dict[str, str]:
        await cache.set(blobs.key(oid), b"forged\n", 60)
        return await blobs.get_many([oid])

    assert run(work) == {}
    assert run(lambda: _put_then_get(blobs, oid, good)) == {oid: good}


async def _put_then_get(blobs: SharedBlobs, oid: str, text: str) -> dict[str, str]:
    assert await blobs.put_many({oid: text}) == 1
    return await blobs.get_many([oid])


def test_redis_entries_above_the_cap_are_not_stored(redis_url: str, redis_names: dict[str, str]) -> None:
    async def work() -> tuple[bool, bool, list[bytes | None]]:
        cache = RedisCache.from_url(redis_url, redis_names["prefix"], max_entry_bytes=4)
        try:
            small, big = cache.key("t", "1", "small"), cache.key("t", "1", "big")
            return await cache.set(small, b"1234", 60), await cache.set(big, b"12345", 60), \
                await cache.get_many([small, big])
        finally:
            await cache.aclose()

    assert run(work) == (True, False, [b"1234", None])


def test_a_redis_stopped_mid_way_costs_github_requests_never_a_review(
        fake_github: FakeGitHub, redis_server: RedisServer, redis_names: dict[str, str],
        caplog: pytest.LogCaptureFixture) -> None:
    repo, number = pr(fake_github, "redis-stops", {POLICY: "fail_on: high\n"}, {"main.tf": UNENCRYPTED.format(i=1)})
    first = Process(fake_github, redis_server.url, redis_names["prefix"])
    second = Process(fake_github, redis_server.url, redis_names["prefix"])

    async def work() -> None:
        try:
            await first.review(fake_github, repo, number, "pull_request.opened")
            redis_server.kill()
            fake_github.reset_requests()
            with caplog.at_level(logging.WARNING, logger="bot.app.shared_cache"):
                await second.review(fake_github, repo, number, "check_suite.rerequested")
        finally:
            await first.aclose()
            await second.aclose()

    run(work)
    assert [r["conclusion"] for r in fake_github.check_runs(repo)] == ["failure", "failure"]
    assert fake_github.count("POST", MINTS) == 1  # the second process minted its own
    assert fake_github.count("GET", r"/contents/\.github/compliance\.yml") == 1 and blob_reads(fake_github) >= 2
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.app.shared_cache"]
    assert warnings and all("reading from GitHub instead" in w for w in warnings)
    assert len(warnings) == 1  # at most one warning per WARN_EVERY seconds, however many reads failed
    minted = [r.response["token"] for r in fake_github.requests if r.path.endswith("/access_tokens")]
    assert not any(token in message for token in minted for message in caplog.messages)
