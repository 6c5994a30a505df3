"""The engine process (a multiprocessing daemon) parses a big review in a pool of workers of its
own (`bot.engine.parse_pool`), with the review it would make in one thread; killed, it takes
its workers along."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from bot.app.engine_process import EngineCrashed, EnginePool, OverBudget
from bot.engine.parse_pool import MIN_BYTES, MIN_FILE_BYTES, Parsing
from bot.engine.policy import Policy
from bot.engine.review import Engine
from bot.engine.tree import MemoryTree
from rules.registry import default_rule_set
from tests.app.engine_process_test import UNENCRYPTED, Head, work
from tests.e2e.serving import wait_for

pytestmark = pytest.mark.anyio

SLOW_TF = "".join(UNENCRYPTED.format(i=i) for i in range(1500))  # a few seconds of parsing each
ENCRYPTED = 'resource "aws_ebs_volume" "ok{i}" {{\n  availability_zone = "eu-west-1a"\n  size = 10\n  encrypted = true\n}}\n'
# Files big enough, and enough of them, for the engine to parse them in a pool (parse_pool.MIN_BYTES).
BIG_FILES = max(8, MIN_BYTES // (2 * MIN_FILE_BYTES) + 1)
PADDING = "".join(ENCRYPTED.format(i=i) for i in range(2 * MIN_FILE_BYTES // len(ENCRYPTED.format(i=0)) + 1))


@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"


async def test_a_big_review_in_the_engine_process_is_the_review_in_one_thread() -> None:
    files: dict[str, str | None] = {f"m{i % 6}/f{i}.tf": UNENCRYPTED.format(i=i) + PADDING.replace('"ok', f'"ok{i}_')
                                    for i in range(BIG_FILES)}
    assert Parsing().pool_size(len(files), sum(len(t or "") for t in files.values())) > 1  # what is tested
    expected = Engine(default_rule_set(), Policy(), parsing=Parsing(workers=1)).review_change(
        list(work(files).diffs), MemoryTree(files))
    pool = EnginePool(1, seconds=300, memory_mb=2048)
    try:
        review = await asyncio.wait_for(pool.review(work(files), Head(files)), 300)
    finally:
        pool.close()
    assert len(expected.findings) == len(files)
    assert review.findings == expected.findings and review.errors == expected.errors == ()


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found.update(int(c) for c in (task / "children").read_text().split())
    except OSError:
        pass
    return found


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.mark.timeout(300)
async def test_parse_workers_die_with_a_killed_engine_process() -> None:
    files: dict[str, str | None] = {f"m{i % 6}/f{i}.tf": SLOW_TF for i in range(BIG_FILES)}
    pool = EnginePool(1, seconds=300, memory_mb=2048)
    try:
        review = asyncio.ensure_future(pool.review(work(files), Head(files)))
        engine = await asyncio.to_thread(wait_for, lambda: pool.live_pids(), 240)
        workers = await asyncio.to_thread(wait_for, lambda: _children(engine[0]), 240)
        os.kill(engine[0], signal.SIGKILL)  # as the pool does at a deadline: no clean-up runs
        assert await asyncio.to_thread(wait_for, lambda: all(_gone(w) for w in workers), 60)
        with pytest.raises((EngineCrashed, OverBudget)):  # how it is told: engine_process_test's concern
            await asyncio.wait_for(review, 120)
    finally:
        pool.close()
