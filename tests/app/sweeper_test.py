"""The sweeper against the fake GitHub's deliveries API and a real Redis: failed deliveries never
queued are redelivered once, processed ones are not, pages are followed, one leader at a time."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.app.sweeper import Sweeper
from bot.github.client import GitHubApp
from tests.fakegithub import FakeGitHub

pytestmark = pytest.mark.anyio


@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"


async def test_failed_deliveries_never_queued_are_redelivered_once(fake_github: FakeGitHub, redis_url: str,
                                                                  redis_names: dict[str, str]) -> None:
    repo = fake_github.create_repo("octo-org", "swept", files={"README.md": "x\n"})
    repo.commit("feature", {"a.txt": "a\n"}, "change")
    number = repo.open_pull_request(head="feature")
    guids = []
    for _ in range(105):  # more than one page of 100
        headers, _body = fake_github.webhook("pull_request.synchronize", repo, number)
        fake_github.answered(headers, 503)
        guids.append(headers["X-GitHub-Delivery"])
    fine, _ = fake_github.webhook("pull_request.synchronize", repo, number)
    fake_github.answered(fine, 202)
    unsigned, _ = fake_github.webhook("pull_request.synchronize", repo, number)
    fake_github.answered(unsigned, 401)  # would fail the same way again
    client: Any = aioredis.from_url(redis_url, decode_responses=True)
    dedup = f"{redis_names['stream']}:delivery:"
    try:
        for guid in guids[:3]:  # queued by a redelivery GitHub made of its own accord
            await client.set(dedup + guid, "1")
        app = GitHubApp(fake_github.app_id, fake_github.private_key_pem, fake_github.url, 10.0)
        sweeper = Sweeper(app, client, stream=redis_names["stream"], dedup_prefix=dedup)
        other = Sweeper(app, client, stream=redis_names["stream"], dedup_prefix=dedup)
        asked = await sweeper.sweep()
        assert asked == guids[3:]  # oldest first; the processed and the successful ones left alone
        by_id = {d.id: d.guid for d in fake_github.world.deliveries}
        assert [by_id[i] for i in fake_github.redelivery_requests] == guids[3:]
        assert fake_github.count("GET", r"^/app/hook/deliveries$") == 2  # the Link header's cursor followed
        assert all(r.auth == "jwt" for r in fake_github.requests if r.path.startswith("/app/hook/"))
        assert await other.sweep() == []  # asked for a moment ago: not again
        await client.set(sweeper.lock_key, "someone-else", px=10_000)
        assert await sweeper.sweep() is None  # another process leads
        assert await client.get(sweeper.lock_key) == "someone-else"  # and its lock is left alone
    finally:
        await client.aclose()


async def test_a_guid_that_keeps_failing_is_asked_for_a_bounded_number_of_times(
        fake_github: FakeGitHub, redis_url: str, redis_names: dict[str, str]) -> None:
    repo = fake_github.create_repo("octo-org", "stubborn", files={"README.md": "x\n"})
    repo.commit("feature", {"a.txt": "a\n"}, "change")
    number = repo.open_pull_request(head="feature")
    headers, _ = fake_github.webhook("pull_request.synchronize", repo, number)
    fake_github.answered(headers, 503)
    original = fake_github.world.deliveries[-1]
    for _ in range(3):  # three redeliveries GitHub made, each answered 503 again
        fake_github.world.deliveries.append(dataclasses.replace(original, id=fake_github.world.ids.next("delivery"),
                                                                redelivery=True))
    client: Any = aioredis.from_url(redis_url, decode_responses=True)
    try:
        app = GitHubApp(fake_github.app_id, fake_github.private_key_pem, fake_github.url, 10.0)
        sweeper = Sweeper(app, client, stream=redis_names["stream"], dedup_prefix=f"{redis_names['stream']}:d:")
        assert await sweeper.sweep() == []
        assert fake_github.redelivery_requests == []
    finally:
        await client.aclose()
