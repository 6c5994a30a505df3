"""The engine's own process: one review at a time, files asked of the parent over a pipe.

Why a process: the engine is pure CPU in Python; in the web process it shares the GIL with the
event loop that answers webhooks, and a thread cannot be stopped at a deadline. A process can
be killed, and its memory capped (`RLIMIT_AS`), so a review never outlives its budget.

The conversation (tuples over a `multiprocessing` connection; the parent is
`bot.app.engine_process`):

    child -> parent  ("ready",)                            started, rules loaded
    parent -> child  ("review", EngineWork)
    child -> parent  ("list",)                             the head's file list, please
    parent -> child  ("listing", paths, complete, sizes)
    child -> parent  ("read", paths)                       these texts at head, please
    parent -> child  ("texts", texts, reasons)             reasons: why a text is missing
    child -> parent  ("file", path)                        the review works on `path` now
    child -> parent  ("done", Review) | ("memory",) | ("error", message)

This module imports only the engine and the rules: nothing of GitHub, HTTP or Redis.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import resource
import signal
import traceback
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.engine.diff import FileDiff
from bot.engine.exceptions import Approval
from bot.engine.policy import Policy
from bot.engine.processes import die_with_parent
from bot.engine.review import Engine, Review, RuleSet
from bot.engine.tree import PatchedBase

__all__ = ["EngineWork", "child_main"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineWork:
    """Everything the engine needs besides file texts, as plain data (compiled rules do not pickle):
    the organisation's custom rules travel as the texts they were loaded from."""

    diffs: tuple[FileDiff, ...]
    policy: Policy
    custom_rules: Mapping[str, str | None] = field(default_factory=dict)
    custom_digest: str = ""
    approvals: tuple[Approval, ...] = ()  # approving reviews at the head: they make exceptions count


class _ParentTree:
    """The head as the engine reads it (`bot.engine.tree.Tree`), each question put to the parent."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._sizes: dict[str, int] = {}
        self._reasons: dict[str, str] = {}

    def list_all(self) -> tuple[list[str], bool]:
        self._conn.send(("list",))
        _, paths, complete, sizes = self._conn.recv()
        self._sizes.update(sizes)
        return list(paths), bool(complete)

    def read_many(self, paths: Collection[str]) -> dict[str, str | None]:
        self._conn.send(("read", list(paths)))
        _, texts, reasons = self._conn.recv()
        self._reasons.update(reasons)
        return dict(texts)

    def size_of(self, path: str) -> int | None:
        return self._sizes.get(path)

    def unread_reason(self, path: str) -> str | None:
        return self._reasons.get(path)


class _RuleSets:
    """The shipped rule set, loaded once per process, and the last few with custom rules added."""

    def __init__(self) -> None:
        from rules.registry import prepared_rule_set

        self.default = prepared_rule_set()
        self._custom: dict[str, RuleSet] = {}

    def for_work(self, work: EngineWork) -> RuleSet:
        if not work.custom_rules:
            return self.default
        found = self._custom.get(work.custom_digest)
        if found is None:
            from rules.registry import with_custom_rules
            from rules.spec.custom import load_custom_rules

            found = with_custom_rules(self.default, load_custom_rules(work.custom_rules).rules)
            if len(self._custom) >= 8:
                self._custom.pop(next(iter(self._custom)))
            self._custom[work.custom_digest] = found
        return found


def child_main(conn: Any, memory_mb: int, niceness: int = 0) -> None:
    """The child's whole life: cap its memory, lower its priority, load the rules, review until
    the pipe closes. Ctrl-C reaches the whole process group: the parent decides when a review
    ends, not the terminal."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if niceness > 0:
        # A review is batch work: on a machine it shares with a web server, the webhook answers
        # (GitHub waits 10 s, a p99 of 25 ms is the aim) come first. Parse workers inherit it.
        os.nice(niceness)
    die_with_parent()  # a worker killed with SIGKILL runs no clean-up: no orphaned review burns CPU
    # Started as a daemon (the App's exit never waits for it), it may still start parse workers
    # (`bot.engine.parse_pool`): multiprocessing forbids a daemon children lest they be orphaned,
    # and these are not: each dies with this process (PR_SET_PDEATHSIG).
    multiprocessing.current_process().daemon = False
    if memory_mb > 0:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    rule_sets = _RuleSets()
    collect_less()
    conn.send(("ready",))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the parent went away
        work: EngineWork = message[1]
        try:
            review = _review(conn, work, rule_sets)
        except MemoryError:
            _send(conn, ("memory",))
            return  # the heap may be in any state: the parent starts a fresh process
        except (EOFError, OSError):
            return
        except Exception as exc:  # noqa: BLE001 - a bug is reported to the parent, which fails the check
            _send(conn, ("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
            continue
        _send(conn, ("done", review))


YOUNG_COLLECTION = 20_000  # allocations between two collections of the youngest generation (Python's default: 700)


def collect_less() -> None:
    """Keep the cyclic garbage collector from scanning the same objects over and over.

    A review of a module that hundreds of stacks call builds tens of thousands of resources and
    values, all alive until it ends; the collector, run every 700 allocations and on the whole
    heap whenever it grew by a quarter, took a third of the engine's CPU (the review bench's
    5,000-file shared change, in process: 1.24 s -> 0.80 s with it off). What the process loaded
    before its first review (modules, the rules) is frozen out of its scans, and it runs less
    often. Reference counting still frees what a review drops at once: only garbage in cycles
    waits a little longer. It never changes what a review finds, only when memory is reclaimed."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION, middle, old)


def _review(conn: Any, work: EngineWork, rule_sets: _RuleSets) -> Review:
    tree = _ParentTree(conn)
    engine = Engine(rule_sets.for_work(work), work.policy, approvals=work.approvals,
                    progress=lambda path: conn.send(("file", path)))
    return engine.review_change(list(work.diffs), tree, PatchedBase(tree, work.diffs))


def _send(conn: Any, message: tuple[Any, ...]) -> None:
    try:
        conn.send(message)
    except (OSError, ValueError, MemoryError):
        log.debug("could not answer the parent (it went away, or the answer does not fit)")
