"""The metrics' parts in process: route templates that never carry a name, bounded labels, the
queue's depth from both queues, and the exposition Prometheus' own parser reads."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from prometheus_client.parser import text_string_to_metric_families

from bot.app.job_queue import InProcessQueue, QueueStats, RedisStreamQueue
from bot.app.jobs import ReviewJob
from bot.app.metrics import Metrics
from bot.github.routes import OTHER, ROUTES, route_template


def job(delivery: str, number: int = 1) -> ReviewJob:
    return ReviewJob(delivery_id=delivery, installation_id=1, owner="octo-org", repo="infra", pull_number=number,
                     head_sha="a" * 40, base_ref="main", base_sha="b" * 40, default_branch="main", trigger="opened")


def samples(text: bytes, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """{sorted labels: value} of the samples called `name` in an exposition."""
    return {tuple(sorted(s.labels.items())): s.value
            for family in text_string_to_metric_families(text.decode()) for s in family.samples if s.name == name}


def test_paths_become_templates_without_owner_repo_or_ids() -> None:
    cases = {
        "/repos/octo-org/infra/check-runs": "/repos/{owner}/{repo}/check-runs",
        "/repos/octo-org/infra/check-runs/42": "/repos/{owner}/{repo}/check-runs/{check_run_id}",
        "/repos/octo-org/infra/commits/" + "a" * 40 + "/check-runs": "/repos/{owner}/{repo}/commits/{ref}/check-runs",
        "/repos/octo-org/infra/contents/infra/modules/main.tf": "/repos/{owner}/{repo}/contents/{path}",
        "/repos/octo-org/infra/git/ref/heads/feature/x": "/repos/{owner}/{repo}/git/ref/{ref}",
        "/repos/octo-org/infra/pulls/7/files": "/repos/{owner}/{repo}/pulls/{pull_number}/files",
        "/repos/octo-org/infra/compare/main...feature": "/repos/{owner}/{repo}/compare/{basehead}",
        "/repos/octo-org/infra": "/repos/{owner}/{repo}",
        "/app/installations/12/access_tokens": "/app/installations/{installation_id}/access_tokens",
        "/graphql": "/graphql",
        "/repos/octo-org/infra/issues/3": OTHER,
        "/totally/unknown": OTHER,
    }
    assert {path: route_template(path) for path in cases} == cases
    # GitHub Enterprise Server: the API root's own path is not part of the route
    assert route_template("/api/v3/repos/o/r/pulls/1", "/api/v3") == "/repos/{owner}/{repo}/pulls/{pull_number}"
    assert all("octo" not in t for t in ROUTES)


def test_labels_are_bounded_whatever_the_input() -> None:
    metrics = Metrics()
    metrics.delivery("pull_request", "queued opened")
    metrics.delivery("x" * 90, "rejected: bad signature")  # a forged event header
    metrics.delivery("<script>", "something new: odd")
    metrics.github_response("get", "/repos/{owner}/{repo}", 200, {"x-ratelimit-remaining": "4999",
                                                                  "x-ratelimit-resource": "core"})
    metrics.github_response("POST", "/graphql", 502, {"x-ratelimit-remaining": "bogus"})
    metrics.github_response("POST", "/graphql", 200, {"x-ratelimit-remaining": "12", "x-ratelimit-resource": "???"})
    text = asyncio.run(metrics.scrape())
    assert samples(text, "compliance_bot_webhook_deliveries_total") == {
        (("event", "pull_request"), ("outcome", "queued")): 1.0,
        (("event", "other"), ("outcome", "rejected")): 1.0,
        (("event", "other"), ("outcome", "other")): 1.0,
    }
    assert samples(text, "compliance_bot_github_requests_total") == {
        (("method", "GET"), ("route", "/repos/{owner}/{repo}"), ("status", "200")): 1.0,
        (("method", "POST"), ("route", "/graphql"), ("status", "502")): 1.0,
        (("method", "POST"), ("route", "/graphql"), ("status", "200")): 1.0,
    }
    assert samples(text, "compliance_bot_github_rate_limit_remaining") == {
        (("resource", "core"),): 4999.0, (("resource", "other"),): 12.0}


async def _in_process_depth() -> tuple[QueueStats, QueueStats, QueueStats, bytes]:
    queue = InProcessQueue()
    empty = await queue.stats()
    await queue.put(job("d-1", 1))
    await queue.put(job("d-2", 2))
    taken = await queue.get()
    two = await queue.stats()
    await queue.ack(taken)
    one = await queue.stats()
    text = await Metrics().scrape(queue)
    await queue.close()
    return empty, two, one, text


def test_in_process_queue_depth_and_oldest_age() -> None:
    started = time.time()
    empty, two, one, text = asyncio.run(_in_process_depth())
    assert empty == QueueStats(0, 0, 0.0)
    assert (two.waiting, two.in_progress) == (1, 1) and 0 <= two.oldest_age <= time.time() - started
    assert (one.waiting, one.in_progress) == (1, 0)
    assert samples(text, "compliance_bot_queue_jobs") == {(("state", "waiting"),): 1.0,
                                                          (("state", "in_progress"),): 0.0}
    assert samples(text, "compliance_bot_queue_up") == {(): 1.0}


def test_redis_queue_depth_is_read_from_the_group(redis_url: str, redis_names: dict[str, str]) -> None:
    async def scenario() -> list[QueueStats]:
        producer = RedisStreamQueue.from_url(redis_url, stream=redis_names["stream"], group=redis_names["group"])
        consumer = RedisStreamQueue.from_url(redis_url, stream=redis_names["stream"], group=redis_names["group"])
        try:
            seen = [await producer.stats()]  # no stream yet
            for i in range(3):
                await producer.put(job(f"{redis_names['prefix']}-{i}", i + 1))
            seen.append(await producer.stats())
            first = await consumer.get()
            seen.append(await producer.stats())
            await consumer.ack(first)
            seen.append(await consumer.stats())
            return seen
        finally:
            await producer.close()
            await consumer.close()

    started = time.time()
    before, queued, handed, acked = asyncio.run(scenario())
    assert before == QueueStats(0, 0, 0.0)
    assert (queued.waiting, queued.in_progress) == (3, 0)
    assert (handed.waiting, handed.in_progress) == (2, 1)
    assert (acked.waiting, acked.in_progress) == (2, 0)
    assert all(0 <= s.oldest_age <= time.time() - started + 0.01 for s in (queued, handed, acked))


def test_an_unreachable_queue_still_answers_the_scrape() -> None:
    class Broken:
        async def stats(self) -> QueueStats:
            raise ConnectionError("redis is away")

    text = asyncio.run(Metrics().scrape(Broken()))
    assert samples(text, "compliance_bot_queue_up") == {(): 0.0}


def _names(texts: Iterable[bytes]) -> set[str]:
    return {f.name for text in texts for f in text_string_to_metric_families(text.decode())}


def test_every_documented_metric_is_exposed() -> None:
    names = _names([asyncio.run(Metrics().scrape(InProcessQueue()))])
    assert {"compliance_bot_webhook_deliveries", "compliance_bot_jobs", "compliance_bot_check_runs_completed",
            "compliance_bot_review_duration_seconds", "compliance_bot_findings", "compliance_bot_github_requests",
            "compliance_bot_github_rate_limit_remaining", "compliance_bot_queue_jobs",
            "compliance_bot_queue_oldest_job_age_seconds", "compliance_bot_queue_up"} <= names


def test_the_worker_counts_jobs_by_outcome() -> None:
    async def handler(review: ReviewJob) -> None:
        if review.delivery_id == "fails":
            raise RuntimeError("a bug")
        if review.delivery_id == "slow":
            await asyncio.Event().wait()  # never ends: the job timeout stops it

    async def scenario() -> bytes:
        from bot.app.worker import Worker

        metrics, queue = Metrics(), InProcessQueue()
        for number, delivery in enumerate(("ok", "fails", "slow"), start=1):
            await queue.put(job(delivery, number))
        async with Worker(queue, handler, 3, job_timeout=0.5, metrics=metrics) as worker:
            deadline = time.monotonic() + 30
            while worker.processed + worker.failed < 3 and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        await queue.close()
        return await metrics.scrape()

    assert samples(asyncio.run(scenario()), "compliance_bot_jobs_total") == {
        (("outcome", "done"),): 1.0, (("outcome", "failed"),): 1.0, (("outcome", "timed_out"),): 1.0}
