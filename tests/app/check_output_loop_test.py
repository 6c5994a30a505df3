"""The check run's output for a review with tens of thousands of findings takes seconds of CPU to
build; the runner builds it off the event loop (`check_output_off_loop`), so the process's other
jobs, webhooks and heartbeats keep running meanwhile."""

from __future__ import annotations

import asyncio
import gc
import time
from dataclasses import replace

import pytest

from bot.app.runner import check_output_off_loop
from bot.github.checks import check_output
from tests.github.review_test import finding

pytestmark = pytest.mark.anyio

FINDINGS = 96_000
MIN_STALL = 0.15  # seconds the inline build must take for the test to prove anything
# Off the loop, the loop's largest gap is a small part of the stall the inline build causes: a
# share, not seconds, so a loaded machine (which slows both alike) does not decide the outcome.
MAX_GAP_SHARE = 0.25


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
    assert on_loop > MIN_STALL, f"the output took {on_loop:.2f}s: too little to stall the loop, the test would prove nothing"

    gaps: list[float] = []
    done = asyncio.Event()
    # The collector's full pass over this heap stalls any thread, on the loop or off it; frozen,
    # the findings are not scanned, and what the loop's gaps show is the build alone.
    gc.collect()
    gc.freeze()

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
        gc.unfreeze()
    assert built == expected
    assert built.title == f"{FINDINGS // 3} blocking finding(s)" and built.annotations
    assert len(gaps) > 10 and max(gaps) < on_loop * MAX_GAP_SHARE, (
        f"the loop stalled {max(gaps):.2f}s (built on the loop, it stalls {on_loop:.2f}s)")
