"""What the shared cache (`bot.app.shared_cache`) saves a second process: GitHub requests and
time for a re-run of a review another process already made, with and without Redis.

    python bench/shared_cache_bench.py [--files 30] [--runs 3]      (REDIS_URL, default the local one)

Process A reviews a pull request of N Terraform files; then, `--runs` times, a fresh process B
(its own clients and caches, as another worker would have) re-runs the review: once sharing A's
cache in Redis, once with its own caches only. Printed: B's token mints, file reads (GraphQL
blob queries, blobs and contents API; not the listing of the organisation's custom rules folder,
which is not cached) and all requests, and the median wall time of B's review,
with the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.redis_keys import delete_namespace
from bot.app.jobs import ReviewJob
from bot.app.runner import ReviewRunner
from bot.app.shared_cache import RedisCache
from bot.app.webhooks import route
from bot.github.client import GitHubApp
from bot.github.tokens import InstallationTokens
from tests.fakegithub import FakeGitHub, Repository

VOLUME = 'resource "aws_ebs_volume" "v{i}" {{\n  availability_zone = "eu-west-1a"\n  size = 1\n  encrypted = false\n}}\n'


def job(fake: FakeGitHub, repo: Repository, number: int, event: str) -> ReviewJob:
    headers, body = fake.webhook(event, repo, number)
    found = route(headers["X-GitHub-Event"], headers["X-GitHub-Delivery"], json.loads(body))
    assert isinstance(found, ReviewJob)
    return found


async def review(fake: FakeGitHub, url: str | None, namespace: str, work: ReviewJob) -> float:
    """One review by a fresh process: with `url`, sharing the cache in that Redis."""
    cache = RedisCache.from_url(url, namespace) if url else None
    app = GitHubApp(fake.app_id, fake.private_key_pem, fake.url, 10.0,
                    tokens=InstallationTokens(cache, fake.private_key_pem) if cache else None)
    runner = ReviewRunner(app, "compliance", shared=cache)
    started = time.perf_counter()
    try:
        await runner(work)
    finally:
        await runner.aclose()
    return time.perf_counter() - started


def reads(fake: FakeGitHub) -> tuple[int, int, int]:
    mints = fake.count("POST", r"/access_tokens$")
    files = (sum(1 for r in fake.requests if r.path.endswith("/graphql") and "expression" in json.dumps(r.body))
             + fake.count("GET", r"/git/blobs/")
             + sum(1 for r in fake.requests if "/contents/" in r.path and not r.path.endswith("/compliance/rules")))
    return mints, files, len(fake.requests)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    namespace = f"bench:shared-cache:{uuid.uuid4().hex}"
    try:
        with FakeGitHub() as fake:
            repo = fake.create_repo("bench", "shared", files={".github/compliance.yml": "fail_on: high\n"})
            repo.commit("feature", {f"mod{i % 5}/f{i}.tf": VOLUME.format(i=i) for i in range(args.files)}, "change")
            number = repo.open_pull_request(head="feature")
            asyncio.run(review(fake, url, namespace, job(fake, repo, number, "pull_request.opened")))  # process A
            results: dict[str, tuple[list[float], tuple[int, int, int]]] = {}
            for mode, shared in (("own caches", None), ("shared Redis", url)):
                times = []
                for _ in range(args.runs):
                    work = job(fake, repo, number, "check_suite.rerequested")
                    fake.reset_requests()
                    times.append(asyncio.run(review(fake, shared, namespace, work)))
                    counts = reads(fake)
                results[mode] = (times, counts)
            print(f"re-run of a {args.files}-file review by a fresh process, median of {args.runs}:")
            for mode, (times, (mints, files, total)) in results.items():
                print(f"  {mode:12s}  {statistics.median(times):6.2f} s  {mints} token mint(s)  "
                      f"{files:3d} file read(s)  {total:3d} requests")
            own, shared_times = (statistics.median(results[m][0]) for m in ("own caches", "shared Redis"))
            print(f"  time ratio shared/own: {shared_times / own:.2f}; "
                  f"requests ratio: {results['shared Redis'][1][2] / results['own caches'][1][2]:.2f}")
    finally:
        delete_namespace(url, namespace)


if __name__ == "__main__":
    main()
