"""The check run's output for a review with tens of thousands of findings takes seconds of CPU to
build; the runner builds it off the event loop (`check_output_off_loop`), so the process's other
jobs, webhooks and heartbeats keep running meanwhile."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest

from bot.app.runner import check_output_off_loop
from bot.github.checks import check_output
from tests.github.review_test import finding

pytestmark = pytest.mark.anyio

FINDINGS = 48_000
MAX_GAP = 0.5  # seconds the loop may stall (generous: a shared 2-core machine)


@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"


async def test_a_huge_output_is_built_while_the_event_loop_keeps_ticking() -> None:
    many = [replace(finding(1 + i % 5000, resource=f"aws_ebs_volume.v{i}"), path=f"infra/m{i % 97}.tf")
            for i in range(FINDINGS)]
    blocks = {f.fingerprint: i % 3 == 0 for i, f in enumerate(many)}
    started = time.perf_counter()
    expected = check_output(many, [], [], blocks, None, "failure")
    on_loop = time.perf_counter() - started
    assert on_loop > MAX_GAP, "the output is too small to stall the loop: the test would prove nothing"

    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)  # the ticker runs before the build starts
    try:
        built = await check_output_off_loop(many, [], [], blocks, None, "failure")
    finally:
        done.set()
        await ticking
    assert built == expected
    assert built.title == f"{FINDINGS // 3} blocking finding(s)" and built.annotations
    assert len(gaps) > 10 and max(gaps) < MAX_GAP, f"the loop stalled {max(gaps):.2f}s (on the loop: {on_loop:.2f}s)"
