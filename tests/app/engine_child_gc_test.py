"""The engine process keeps the cyclic collector off what it loaded before its first review and
runs it less often (`engine_child.collect_less`): it had been a third of a big review's CPU."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.app.engine_child import YOUNG_COLLECTION

pytestmark = pytest.mark.timeout(60)


def test_what_the_process_loaded_is_frozen_and_young_collections_are_rarer() -> None:
    code = ("import gc\nfrom bot.app.engine_child import collect_less\nfrom rules.registry import default_rule_set\n"
            "rules = default_rule_set()\nbefore = gc.get_threshold()\ncollect_less()\n"
            "print(gc.get_freeze_count(), before, gc.get_threshold())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split(" ", 1)
    frozen, thresholds = int(out[0]), out[1].strip()
    assert frozen > 10_000  # the modules and the rules: never scanned again
    assert thresholds == f"(700, 10, 10) ({YOUNG_COLLECTION}, 10, 10)"
