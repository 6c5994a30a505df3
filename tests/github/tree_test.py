"""GitHubTree: what the engine reads of one commit on GitHub, batched, by verified blob id, and
never mixed with a listing of another head."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from bot.github.blobs import BlobCache, git_blob_id
from bot.github.client import GitHubApp, InstallationClient
from bot.github.tree import GitHubTree, StaleListing
from tests.fakegithub import FakeGitHub, Repository

T = TypeVar("T")
ENCRYPTED = 'resource "aws_ebs_volume" "v" {\n  encrypted = true\n}\n'
UNENCRYPTED = ENCRYPTED.replace("true", "false")


def blob(text: str) -> str:
    return git_blob_id(text.encode())


def with_client(fake: FakeGitHub, repo: Repository, work: Callable[[InstallationClient], Awaitable[T]]) -> T:
    async def run() -> T:
        app = GitHubApp(fake.app_id, fake.private_key_pem, fake.url, 10.0)
        assert repo.installation_id is not None
        async with app.installation(repo.installation_id) as gh:
            return await work(gh)

    return asyncio.run(run())


def tree(gh: InstallationClient, repo: Repository, commit: str, listed: dict[str, str], cache: BlobCache) -> GitHubTree:
    return GitHubTree(gh, repo.owner.login, repo.name, commit, listed=listed, cache=cache,
                      loop=asyncio.get_running_loop())


def test_texts_are_read_at_the_commit_and_cached_by_their_verified_id(fake_github: FakeGitHub) -> None:
    repo = fake_github.create_repo("octo-org", "tree-read", files={"m/main.tf": ENCRYPTED, "m/vars.tf": "x\n"})
    commit = repo.branch_sha("main")
    cache = BlobCache()

    async def work(gh: InstallationClient) -> tuple[dict[str, str | None], tuple[list[str], bool]]:
        first = tree(gh, repo, commit, {"m/main.tf": blob(ENCRYPTED)}, cache)
        listing = await asyncio.to_thread(first.list_all)  # the engine calls from its thread
        texts = await asyncio.to_thread(first.read_many, ["m/main.tf", "m/vars.tf", "m/gone.tf"])
        return texts, listing

    texts, listing = with_client(fake_github, repo, work)
    assert listing == (["m/main.tf", "m/vars.tf"], True)
    assert texts == {"m/main.tf": ENCRYPTED, "m/vars.tf": "x\n", "m/gone.tf": None}
    assert cache.get(blob(ENCRYPTED)) == ENCRYPTED

    fake_github.reset_requests()

    async def again(gh: InstallationClient) -> dict[str, str | None]:
        return await tree(gh, repo, commit, {"m/main.tf": blob(ENCRYPTED)}, cache).aread_many(["m/main.tf"])

    assert with_client(fake_github, repo, again) == {"m/main.tf": ENCRYPTED}
    assert fake_github.count("POST", r"/graphql$") == 0  # the same blob, from the cache


def test_a_listing_of_another_head_stops_the_read(fake_github: FakeGitHub) -> None:
    repo = fake_github.create_repo("octo-org", "tree-stale", files={"main.tf": ENCRYPTED})
    older = repo.branch_sha("main")
    cache = BlobCache()

    async def work(gh: InstallationClient) -> None:
        # The pull request's listing already describes the next head (the unencrypted blob).
        stale = tree(gh, repo, older, {"main.tf": blob(UNENCRYPTED)}, cache)
        with pytest.raises(StaleListing, match="main.tf"):
            await stale.aread_many(["main.tf"])

    with_client(fake_github, repo, work)
    assert cache.get(blob(UNENCRYPTED)) is None  # the older text never stands for the newer blob


def test_a_tree_listing_that_disagrees_with_the_changed_files_is_stale(fake_github: FakeGitHub) -> None:
    repo = fake_github.create_repo("octo-org", "tree-dir", files={"m/main.tf": ENCRYPTED})
    commit = repo.branch_sha("main")

    async def work(gh: InstallationClient) -> None:
        with pytest.raises(StaleListing):
            await tree(gh, repo, commit, {"m/main.tf": blob(UNENCRYPTED)}, BlobCache()).alist_all()

    with_client(fake_github, repo, work)


def test_a_listed_file_missing_at_the_commit_is_stale(fake_github: FakeGitHub) -> None:
    repo = fake_github.create_repo("octo-org", "tree-missing", files={"README.md": "x\n"})
    commit = repo.branch_sha("main")

    async def work(gh: InstallationClient) -> None:
        with pytest.raises(StaleListing, match="new.tf"):
            await tree(gh, repo, commit, {"new.tf": blob(UNENCRYPTED)}, BlobCache()).aread_many(["new.tf"])

    with_client(fake_github, repo, work)


def test_blocking_reads_refuse_to_run_on_the_event_loop(fake_github: FakeGitHub) -> None:
    repo = fake_github.create_repo("octo-org", "tree-loop", files={"main.tf": ENCRYPTED})

    async def work(gh: InstallationClient) -> None:
        with pytest.raises(RuntimeError, match="engine's thread"):
            tree(gh, repo, repo.branch_sha("main"), {}, BlobCache()).read_many(["main.tf"])

    with_client(fake_github, repo, work)
