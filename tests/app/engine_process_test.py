"""The engine pool: reviews in engine processes, the same verdict as in this process, killed at
their time budget, stopped at their memory cap, and never left running when the job is stopped."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Collection, Iterator
from pathlib import Path

import pytest

from bot.app.engine_process import EngineCrashed, EnginePool, EngineWork, OverBudget
from bot.engine.diff import FileDiff, FileStatus, whole_file_added
from bot.engine.policy import Policy
from bot.engine.review import Engine
from bot.engine.tree import BinaryText, MemoryTree
from bot.github.tree import StaleListing
from rules.registry import default_rule_set
from tests.app.redis_fixtures import eventually
from tests.e2e.serving import wait_for

UNENCRYPTED = 'resource "aws_ebs_volume" "v{i}" {{\n  availability_zone = "eu-west-1a"\n  size = 10\n  encrypted = false\n}}\n'
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api{i}
spec:
  template:
    spec:
      containers:
        - name: api
          image: example/api:1.0
          securityContext:
            privileged: true
---
"""
SLOW = "".join(DEPLOYMENT.format(i=i) for i in range(6000))  # about 10 s of engine work
AWS_KEY = "AKIA" + "Z7Q3R5T2W8X4Y6V1"

pytestmark = pytest.mark.anyio


@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"


class Head:
    """The head as the pool asks for it (GitHubTree's a* methods), from memory; `reading` is set
    at the first read, `fail` is raised by every read."""

    def __init__(self, files: dict[str, str | None], fail: Exception | None = None) -> None:
        self.files = files
        self.fail = fail
        self.reading = asyncio.Event()

    async def alist_all(self) -> tuple[list[str], bool]:
        return sorted(self.files), True

    async def aread_many(self, paths: Collection[str]) -> dict[str, str | None]:
        self.reading.set()
        if self.fail is not None:
            raise self.fail
        return {p: self.files.get(p) for p in paths}

    def size_of(self, path: str) -> int | None:
        return None

    def unread_reason(self, path: str) -> str | None:
        return None


def work(files: dict[str, str | None]) -> EngineWork:
    """Infrastructure files wholly added; any other file without a patch (the engine reads it whole)."""
    return EngineWork(tuple(whole_file_added(p, t) if p.endswith((".tf", ".yaml")) else
                            FileDiff(path=p, old_path=None, status=FileStatus.ADDED, complete=False)
                            for p, t in files.items() if t is not None), Policy())


@pytest.fixture()
def pool() -> Iterator[EnginePool]:
    engines = EnginePool(1, seconds=60, memory_mb=2048)
    yield engines
    engines.close()


async def test_a_review_in_an_engine_process_is_the_review_in_this_one(pool: EnginePool) -> None:
    files: dict[str, str | None] = {"main.tf": "".join(UNENCRYPTED.format(i=i) for i in range(3)),
                                    "k8s/deploy.yaml": DEPLOYMENT.format(i=1),
                                    "notes.bin": BinaryText(f"key {AWS_KEY}\n", looks_like_text=True)}
    expected = Engine(default_rule_set(), Policy()).review_change(list(work(files).diffs), MemoryTree(files))
    review = await asyncio.wait_for(pool.review(work(files), Head(files)), 120)
    assert review.findings == expected.findings and review.errors == expected.errors
    assert {f.path for f in review.findings} == {"main.tf", "k8s/deploy.yaml", "notes.bin"}
    again = await asyncio.wait_for(pool.review(work(files), Head(files)), 120)  # the same process, reused
    assert again.findings == expected.findings and len(pool.live_pids()) == 1


async def test_engine_processes_run_at_the_niceness_asked_below_the_server() -> None:
    files: dict[str, str | None] = {"main.tf": UNENCRYPTED.format(i=1)}
    engines = EnginePool(1, seconds=60, memory_mb=2048, niceness=7)
    try:
        review = await asyncio.wait_for(engines.review(work(files), Head(files)), 120)
        (pid,) = engines.live_pids()
        assert [f.rule_id for f in review.findings]  # it reviews as before
        assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + 7)
    finally:
        engines.close()


async def test_a_review_past_its_time_budget_is_killed_and_names_its_file() -> None:
    pool = EnginePool(1, seconds=2, memory_mb=2048)
    try:
        files: dict[str, str | None] = {"k8s/big.yaml": SLOW}
        with pytest.raises(OverBudget) as caught:
            await asyncio.wait_for(pool.review(work(files), Head(files)), 120)
        assert str(caught.value) == "review exceeded its time budget (2 s): k8s/big.yaml"
        assert pool.killed and pool.killed[0] not in pool.live_pids()
        small: dict[str, str | None] = {"main.tf": UNENCRYPTED.format(i=1)}
        review = await asyncio.wait_for(pool.review(work(small), Head(small)), 120)  # a fresh process
        assert [f.path for f in review.findings] == ["main.tf"]
    finally:
        pool.close()


async def test_a_review_past_its_memory_cap_is_stopped_and_names_its_file() -> None:
    pool = EnginePool(1, seconds=120, memory_mb=256)  # the process itself needs about 95 MB
    try:
        # 120 MB of text to scan for secrets: twice that while it arrives (the bytes, then the texts).
        files: dict[str, str | None] = {f"dumps/{n}.txt": "a line of a log dump\n" * 750_000 for n in range(8)}
        with pytest.raises(OverBudget) as caught:
            await asyncio.wait_for(pool.review(work(files), Head(files)), 120)
        assert caught.value.what == "memory" and str(caught.value).startswith(
            "review exceeded its memory budget (256 MB): dumps/")
        assert not pool.live_pids()
    finally:
        pool.close()


async def test_a_stopped_job_leaves_no_engine_process_running(pool: EnginePool) -> None:
    files: dict[str, str | None] = {"k8s/big.yaml": SLOW}
    head = Head(files)
    task = asyncio.create_task(pool.review(work(files), head))
    await asyncio.wait_for(head.reading.wait(), 120)
    (pid,) = pool.live_pids()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await eventually(lambda: pid not in pool.live_pids(), what="the engine process to be killed", timeout=30)


async def test_a_failed_read_reaches_the_job_as_it_was_raised(pool: EnginePool) -> None:
    files: dict[str, str | None] = {"main.tf": UNENCRYPTED.format(i=1)}
    stale = StaleListing("main.tf", "a" * 40, "b" * 40)
    with pytest.raises(StaleListing):
        await asyncio.wait_for(pool.review(work(files), Head(files, fail=stale)), 120)
    review = await asyncio.wait_for(pool.review(work(files), Head(files)), 120)
    assert [f.path for f in review.findings] == ["main.tf"]


async def test_a_closed_pool_refuses_work(pool: EnginePool) -> None:
    pool.close()
    with pytest.raises(EngineCrashed):
        await pool.review(work({}), Head({}))


ORPHAN_SCRIPT = """
import asyncio, sys
from tests.app.engine_process_test import SLOW, Head, work
from bot.app.engine_process import EnginePool

async def main():
    pool = EnginePool(1, seconds=600)
    files = {"k8s/big.yaml": SLOW}
    head = Head(files)
    task = asyncio.create_task(pool.review(work(files), head))
    await head.reading.wait()
    print(pool.live_pids()[0], flush=True)
    await task

if __name__ == "__main__":
    asyncio.run(main())
"""


def test_an_engine_process_dies_with_a_worker_killed_mid_review(tmp_path: Path) -> None:
    script = tmp_path / "orphan.py"
    script.write_text(ORPHAN_SCRIPT)
    root = Path(__file__).resolve().parents[2]
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=root,
                              env={**os.environ, "PYTHONPATH": str(root)})
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
    finally:
        parent.kill()  # SIGKILL: no clean-up of the parent runs
        parent.wait(timeout=30)
    # Within 3 s: left alone it would work on for about 10 s before finding its parent gone.
    wait_for(lambda: "\nState:\tZ" in _status(pid), 3, "the engine process to die with its killed parent")


def _status(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return "\nState:\tZ"
