"""End to end, the App's two roles on one Redis: `compliance-bot serve --no-worker` answers
webhooks, `compliance-bot worker` processes review; a worker killed mid-job (SIGKILL) or stopped
(SIGTERM) leaves its job to another, which completes the same check run within seconds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.e2e.serving import REPO_ROOT, completed_run, serve, wait_for, work
from tests.fakegithub import FakeGitHub, Repository
from tests.fakegithub.messages import Response

OLD_VOLUME = 'resource "aws_ebs_volume" "old" {\n  availability_zone = "eu-west-1a"\n  size              = 10\n}\n'
UNENCRYPTED = '\nresource "aws_ebs_volume" "new" {\n  availability_zone = "eu-west-1a"\n  size              = 10\n  encrypted         = false\n}\n'
EBS_LINE = (OLD_VOLUME + UNENCRYPTED).splitlines().index("  encrypted         = false") + 1


class Gate:
    """Holds the first response of one GitHub operation until released (bounded), so a test knows
    a worker is mid-job. The fake answers nothing else meanwhile: release it promptly."""

    def __init__(self, operation: str) -> None:
        self.operation = operation
        self.entered = threading.Event()
        self.released = threading.Event()

    def __call__(self, operation_id: str | None, response: Response) -> None:
        if operation_id == self.operation and not self.entered.is_set():
            self.entered.set()
            self.released.wait(30)


@pytest.fixture()
def gate(fake: FakeGitHub) -> Iterator[list[Gate]]:
    gates: list[Gate] = []
    yield gates
    for g in gates:
        g.released.set()
    fake.response_hook = None


def env(redis_url: str, names: dict[str, str]) -> dict[str, str]:
    return {"REDIS_URL": redis_url, "REDIS_NAMESPACE": names["prefix"], "WORKER_HEARTBEAT": "1",
            "WORKER_CONCURRENCY": "1", "SHUTDOWN_GRACE": "0"}


def open_pr(fake: FakeGitHub, name: str) -> tuple[Repository, int, str]:
    repo = fake.create_repo("octo-org", name, files={"infra/main.tf": OLD_VOLUME})
    repo.commit("feature", {"infra/main.tf": OLD_VOLUME + UNENCRYPTED}, "change infrastructure")
    number = repo.open_pull_request(head="feature", title="Infra change")
    return repo, number, repo.branch_sha("feature")


def runs_on(fake: FakeGitHub, repo: Repository, sha: str) -> list[dict[str, Any]]:
    return [r for r in fake.check_runs(repo) if r["head_sha"] == sha]


def assert_one_completed_review(fake: FakeGitHub, repo: Repository, number: int, sha: str) -> None:
    run = completed_run(fake, repo, sha)
    assert [r["status"] for r in runs_on(fake, repo, sha)] == ["completed"]  # the same run, none left open
    assert run["conclusion"] == "failure"
    assert [(a["path"], a["start_line"]) for a in run["annotations"]] == [("infra/main.tf", EBS_LINE)]
    (review,) = fake.reviews(repo, number)
    assert review["commit_id"] == sha


def consumers(redis_url: str, names: dict[str, str]) -> list[str]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        return [c["name"] for c in client.xinfo_consumers(f"{names['prefix']}:jobs", names["prefix"])]
    finally:
        client.close()


@pytest.mark.parametrize("argv", [["worker"], ["serve", "--no-worker", "--port", "0"]])
def test_the_roles_that_need_redis_say_so_without_it(fake: FakeGitHub, argv: list[str]) -> None:
    environment = {**os.environ, **fake.app_env()}
    environment.pop("REDIS_URL", None)
    done = subprocess.run([sys.executable, "-m", "bot.cli.main", *argv], env=environment, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "needs REDIS_URL" in done.stderr and "Traceback" not in done.stderr


def test_a_web_only_server_queues_and_a_worker_reviews(fake: FakeGitHub, tmp_path: Path, redis_url: str,
                                                        redis_names: dict[str, str]) -> None:
    repo, number, sha = open_pr(fake, "roles-apart")
    settings = env(redis_url, redis_names)
    with serve(fake, tmp_path / "web.log", settings, ["--no-worker"]) as web:
        assert httpx.get(f"{web.url}/healthz", timeout=5).json() == {"status": "ok"}  # alive: it serves
        alone = httpx.get(f"{web.url}/readyz", timeout=5)
        assert alone.status_code == 503 and alone.json()["workers"] == 0  # nothing here reviews
        assert web.deliver(*fake.webhook("pull_request.opened", repo, number)).status_code == 202
        with work(fake, tmp_path / "worker.log", settings, ["--concurrency", "2"]) as worker:
            assert_one_completed_review(fake, repo, number, sha)
            wait_for(lambda: httpx.get(f"{web.url}/readyz", timeout=5).status_code == 200, 30,
                     "the web server to see the worker alive")
            assert "2 consumer(s)" in worker.log.read_text()
    assert "review started" not in (tmp_path / "web.log").read_text()  # the web process reviewed nothing


def test_a_worker_killed_mid_job_is_taken_over_within_seconds(fake: FakeGitHub, tmp_path: Path, redis_url: str,
                                                              redis_names: dict[str, str], gate: list[Gate]) -> None:
    repo, number, sha = open_pr(fake, "killed-worker")
    settings = env(redis_url, redis_names)
    held = Gate("checks/create")  # the check run exists, in progress; the worker never hears back
    gate.append(held)
    fake.response_hook = held
    with serve(fake, tmp_path / "web.log", settings, ["--no-worker"]) as web, \
            work(fake, tmp_path / "first.log", settings) as first:
        assert web.deliver(*fake.webhook("pull_request.opened", repo, number)).status_code == 202
        assert held.entered.wait(60), "the first worker never created the check run"
        with work(fake, tmp_path / "second.log", settings) as second:
            dead = [n for n in consumers(redis_url, redis_names) if f":{first.pid}:" in n]
            assert dead, "the first worker is not a consumer of the group"
            first.process.send_signal(signal.SIGKILL)
            first.process.wait(timeout=10)
            killed = time.monotonic()
            held.released.set()
            fake.response_hook = None
            assert_one_completed_review(fake, repo, number, sha)
            assert time.monotonic() - killed < 30
            assert "took over queue entry" in second.log.read_text()
            wait_for(lambda: dead[0] not in consumers(redis_url, redis_names), 30,
                     "the dead consumer to be removed from the group")


def test_a_worker_stopped_mid_job_hands_it_back(fake: FakeGitHub, tmp_path: Path, redis_url: str,
                                                redis_names: dict[str, str], gate: list[Gate]) -> None:
    repo, number, sha = open_pr(fake, "stopped-worker")
    settings = env(redis_url, redis_names)
    held = Gate("pulls/list-files")  # after the check run was created: the job is mid-way
    gate.append(held)
    fake.response_hook = held
    with serve(fake, tmp_path / "web.log", settings, ["--no-worker"]) as web:
        with work(fake, tmp_path / "first.log", settings) as first:
            assert web.deliver(*fake.webhook("pull_request.opened", repo, number)).status_code == 202
            assert held.entered.wait(60), "the first worker never listed the files"
            first.process.send_signal(signal.SIGTERM)
            held.released.set()
            fake.response_hook = None
            assert first.process.wait(timeout=30) == 0
        (run,) = runs_on(fake, repo, sha)
        assert run["status"] == "queued" and run["title"] == "Interrupted; re-queued"
        assert "handed back" in (tmp_path / "first.log").read_text()
        handed_back = time.monotonic()
        with work(fake, tmp_path / "second.log", settings):
            assert_one_completed_review(fake, repo, number, sha)
        assert time.monotonic() - handed_back < 30
