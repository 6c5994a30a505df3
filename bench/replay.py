"""Replay the latest commits of a real repository as pull requests against the fake GitHub, and
print what the App concluded and what it cost: the App path on real diffs, not on fixtures.

    python bench/replay.py PATH_TO_GIT_REPO [--commits 12]

For each commit C (first parent P) of the repository's HEAD history: a fake repository holding
P's files, a branch with C's changes, a pull request, one review. Prints per commit the check
run's conclusion, findings, errors, API calls, rejected requests (4xx from the fake) and
contract violations, then the totals.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app.jobs import ReviewJob
from bot.app.runner import ReviewRunner
from bot.app.webhooks import route
from bot.github.client import GitHubApp
from tests.fakegithub import FakeGitHub

MAX_FILE = 1024 * 1024


def git(repo: Path, *args: str) -> bytes:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=True).stdout


def files_at(repo: Path, commit: str) -> dict[str, str | bytes | None]:
    out: dict[str, str | bytes | None] = {}
    for entry in git(repo, "ls-tree", "-r", "-z", "-l", commit).split(b"\0"):
        if not entry:
            continue
        meta, _, name = entry.partition(b"\t")
        mode, kind, sha, size = meta.split()
        if kind == b"blob" and mode != b"120000" and size.isdigit() and int(size) <= MAX_FILE:
            out[name.decode()] = git(repo, "cat-file", "blob", sha.decode())
    return out


def changes(repo: Path, parent: str, commit: str) -> dict[str, str | bytes | None]:
    head = files_at(repo, commit)
    out: dict[str, str | bytes | None] = {}
    for line in git(repo, "diff", "--name-only", "-z", "--no-renames", parent, commit).split(b"\0"):
        if line:
            path = line.decode()
            out[path] = head.get(path)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--commits", type=int, default=12)
    args = parser.parse_args()
    commits = git(args.repo, "rev-list", "--first-parent", f"--max-count={args.commits}", "HEAD").decode().split()
    totals = {"reviews": 0, "calls": 0, "rejected": 0, "violations": 0}
    print(f"{'commit':<10} {'files':>5} {'conclusion':<10} {'findings':>8} {'errors':>6} {'calls':>5} "
          f"{'4xx':>4} {'contract':>8} {'seconds':>7}")
    with FakeGitHub() as fake:
        for index, commit in enumerate(commits):
            parents = git(args.repo, "rev-list", "--parents", "-n", "1", commit).decode().split()[1:]
            if not parents:
                continue
            changed = changes(args.repo, parents[0], commit)
            if not changed:
                continue
            repo = fake.create_repo("replay", f"r{index}", files=files_at(args.repo, parents[0]))
            repo.commit("feature", changed, "replayed commit")
            number = repo.open_pull_request(head="feature")
            headers, body = fake.webhook("pull_request.opened", repo, number)
            job = route(headers["X-GitHub-Event"], headers["X-GitHub-Delivery"], json.loads(body))
            assert isinstance(job, ReviewJob)
            fake.reset_requests()
            before = len(fake.contract_violations)
            started = time.perf_counter()
            asyncio.run(ReviewRunner(GitHubApp(fake.app_id, fake.private_key_pem, fake.url, 30.0), "compliance")(job))
            seconds = time.perf_counter() - started
            run = fake.check_runs(repo)[-1]
            errors = sum(1 for a in run["annotations"] if a["title"] == "File could not be reviewed")
            rejected = sum(1 for r in fake.requests if 400 <= r.status < 500 and not r.path.endswith("compliance.yml"))
            violations = len(fake.contract_violations) - before
            totals["reviews"] += 1
            totals["calls"] += len(fake.requests)
            totals["rejected"] += rejected
            totals["violations"] += violations
            print(f"{commit[:10]} {len(changed):>5} {run['conclusion']:<10} {len(run['annotations']) - errors:>8} "
                  f"{errors:>6} {len(fake.requests):>5} {rejected:>4} {violations:>8} {seconds:>7.2f}")
    print(f"{totals['reviews']} reviews, {totals['calls']} API calls, {totals['rejected']} rejected requests, "
          f"{totals['violations']} contract violations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
