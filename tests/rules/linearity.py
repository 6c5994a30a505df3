"""Work that must grow linearly with its input: 1x, 4x and 16x inputs of one shape, and the work
at 16x at most 24x the work at 1x: linear, or n log n (a quadratic step shows 256x; the bound is
tests/fuzz/linearity_test.py's, which says why). Work is CPU time
(`time.process_time`) within one run, the least of a few repetitions, with the garbage
collector paused while it is measured: a loaded machine slows every size alike, so the ratio
holds where a wall-clock threshold would not."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

MAX_RATIO = 24.0
FACTORS = (1, 4, 16)


def works(make: Callable[[int], T], run: Callable[[T], object], base: int, repeats: int = 5) -> list[float]:
    """Least CPU seconds of `repeats` runs of `run(make(base * factor))` for each factor; the sizes
    are taken in turn so a change in load touches them all, and inputs are built off the clock."""
    inputs = [make(base * factor) for factor in FACTORS]
    best = [float("inf")] * len(FACTORS)
    for _ in range(repeats):
        for index, data in enumerate(inputs):
            gc.collect()
            gc.disable()
            try:
                start = time.process_time()
                run(data)
                best[index] = min(best[index], time.process_time() - start)
            finally:
                gc.enable()
    return [max(value, 1e-6) for value in best]


SECOND_LOOK_REPEATS = 10


def assert_linear(name: str, make: Callable[[int], T], run: Callable[[T], object], base: int) -> None:
    """A ratio past the bound is measured again with more repetitions before it fails: the least
    of more runs is a better estimate of the work, and another process's burst on a shared
    machine lands on one size more than on the others. Quadratic work stays near 256x however
    often it is measured."""
    one, four, sixteen = works(make, run, base)
    if sixteen / one > MAX_RATIO:
        again = works(make, run, base, repeats=SECOND_LOOK_REPEATS)
        one, four, sixteen = (min(a, b) for a, b in zip((one, four, sixteen), again, strict=True))
    assert one >= 0.0005, f"{name}: 1x is {one * 1000:.2f} ms, too small to tell fixed cost from growth"
    assert sixteen / one <= MAX_RATIO, (f"{name}: 16x input took {sixteen / one:.1f}x the work of 1x "
                                        f"(4x took {four / one:.1f}x; 1x {one * 1000:.1f} ms)")
