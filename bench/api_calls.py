"""GitHub API calls one review costs, as counted by the fake GitHub, for PRs of several sizes.

    python bench/api_calls.py [--files 3 100 ...]

Each PR changes N Terraform files spread over 10 modules, each with one unencrypted volume, so
every file yields a finding and an inline comment (up to the default cap of 30).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app.jobs import ReviewJob
from bot.app.runner import ReviewRunner
from bot.app.webhooks import route
from bot.github.client import GitHubApp
from tests.fakegithub import FakeGitHub

VOLUME = 'resource "aws_ebs_volume" "v{i}" {{\n  availability_zone = "eu-west-1a"\n  size = 1\n  encrypted = false\n}}\n'


def measure(fake: FakeGitHub, files: int) -> tuple[int, Counter[str], float]:
    repo = fake.create_repo("bench", f"pr{files}", files={"README.md": "x\n"})
    repo.commit("feature", {f"mod{i % 10}/f{i}.tf": VOLUME.format(i=i) for i in range(files)}, "change")
    number = repo.open_pull_request(head="feature")
    headers, body = fake.webhook("pull_request.opened", repo, number)
    job = route(headers["X-GitHub-Event"], headers["X-GitHub-Delivery"], json.loads(body))
    assert isinstance(job, ReviewJob)
    runner = ReviewRunner(GitHubApp(fake.app_id, fake.private_key_pem, fake.url, 10.0), "compliance")
    fake.reset_requests()
    started = time.perf_counter()
    asyncio.run(runner(job))
    elapsed = time.perf_counter() - started
    kinds = Counter(f"{r.method} {_shape(r.path)}" for r in fake.requests)
    return len(fake.requests), kinds, elapsed


def _shape(path: str) -> str:
    parts = path.split("?")[0].split("/")
    return "/".join("{n}" if p.isdigit() else p for p in parts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, nargs="+", default=[3, 100])
    args = parser.parse_args()
    with FakeGitHub() as fake:
        for files in args.files:
            total, kinds, elapsed = measure(fake, files)
            print(f"{files}-file PR: {total} API calls, review took {elapsed:.2f} s")
            for kind, count in sorted(kinds.items()):
                print(f"  {count:3d}  {kind}")


if __name__ == "__main__":
    main()
