"""Parsing a review's files on every core: a whole-tree scan or a big pull request parses its
files in a pool of processes, a small change in the review's own thread.

Why processes: walking a syntax tree into values is pure Python, so threads would share one
core. Why only past `MIN_BYTES` of files averaging `MIN_FILE_BYTES`: starting the workers and
sending each file's values back costs more than its parse unless the files are big. Since `.tf`
files are read by tree-sitter, measured on 2 cores: 1,600 small files took 2.1x as long in a pool
of 2 as in one thread, 400 files of 8 KB 1.4x, 40 files of 43 KB 1.1x, 40 of 86 KB 0.96x, 8 of
483 KB 0.64x (`bench/parse_pool_bench.py` for the small ones).

What stays as in one thread:
- the results: each file's outcome is what `load` gives in the review's thread, handed back in
  the order asked for, so findings and their order do not depend on the pool;
- the per-file budget: each worker measures the CPU time of each parse and the review's
  `FileClock` is charged with it; a parse is also interrupted at the clock's limit (a signal
  on the worker's CPU timer), so one crafted file cannot hold a worker;
- fail closed: a worker that dies (a crash, the kernel's OOM killer) or stalls is an error
  naming the file it was parsing, found by parsing each file that was in flight again on its
  own; every other file is still parsed. Nothing waits without a deadline.
Workers are forked from the review's thread (warm: rules and grammar already loaded), ignore
Ctrl-C (the parent decides), and die with the review's process (`die_with_parent`): the App's
engine process is killed at its deadline and takes them along.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import sys
import time
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from bot.engine import limits
from bot.engine.budget import FileClock
from bot.engine.model import FileError, ParsedFile
from bot.engine.parsers import DOCKERFILE, JSON, TERRAFORM, YAML, classify, parse_one

if TYPE_CHECKING:  # the Terraform parser is imported only when a review reads Terraform
    from concurrent.futures import Future, ProcessPoolExecutor

    from bot.engine.parsers.terraform.module import LoadedFile

# multiprocessing and concurrent.futures (some 20 ms of imports: logging, ctypes, pickle, sockets)
# are imported only by a review big enough for a pool, never by a small change's CLI check.

__all__ = ["MIN_BYTES", "MIN_FILES", "MIN_FILE_BYTES", "Loaded", "Parsing", "crash_message", "load", "load_all", "parseable"]

Loaded: TypeAlias = "LoadedFile | FileError | ParsedFile"
"""A Terraform file read (or why not), ready for its module; any other file parsed."""

MIN_FILES = 2
"""Files to parse before a pool can pay at all."""
MIN_BYTES = 4 * 1024 * 1024
"""Characters to parse before a pool pays (see the module docstring for the measurements)."""
MIN_FILE_BYTES = 32 * 1024
"""The average file size past which a pool pays: smaller files cost more to send back than to parse."""
MAX_WORKERS = 4
"""Each worker may hold one large parse (python-hcl2 peaks near 400 MB on a 2 MiB file)."""
STALL_SECONDS = 4 * limits.FILE_SECONDS
"""Wall-clock seconds one file may wait for its worker: the worker's CPU timer stops a parse at
FILE_SECONDS of CPU, so only a worker that makes no progress at all (or a machine crushed by
other work) gets here; the file is then parsed again on its own, and an error if it stalls again."""


def crash_message(reason: str) -> str:
    return f"could not parse: {reason}, a bug in Compliance Bot (please report it); the file is not reviewed"


@dataclass(frozen=True)
class Parsing:
    """How a review parses: `workers` processes (1: in the review's thread) once there are
    `min_files` files of `min_bytes` characters together, `min_file_bytes` on average. The default
    uses every core, up to MAX_WORKERS."""

    workers: int = 0  # 0: as many as the machine has cores (at most MAX_WORKERS)
    min_files: int = MIN_FILES
    stall_seconds: float = STALL_SECONDS
    min_bytes: int = MIN_BYTES
    min_file_bytes: int = MIN_FILE_BYTES

    def pool_size(self, files: int, size: int) -> int:
        """Workers for `files` files of `size` characters in all: 1 means no pool."""
        workers = self.workers or min(_cores(), MAX_WORKERS)
        enough = files >= max(self.min_files, 2) and size >= self.min_bytes and size >= files * self.min_file_bytes
        return workers if workers > 1 and enough else 1


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def parseable(path: str) -> bool:
    """Files `load` reads: Terraform (not variable files, read with their root module), YAML,
    JSON and Dockerfiles."""
    family = classify(path)
    if family == TERRAFORM:
        from bot.engine.parsers.terraform.varfiles import is_variable_file

        return not is_variable_file(path)
    return family in (YAML, JSON, DOCKERFILE)


def load(path: str, text: str) -> Loaded:
    """One file as the engine reads it: a Terraform file read into values and outline (its module
    instantiates it), any other file parsed. Never raises."""
    if classify(path) == TERRAFORM:
        from bot.engine.parsers.terraform.module import load_file

        try:
            return load_file(path, text)
        except RecursionError:
            return FileError(path, None, "cannot parse: nests too deeply")
        except Exception:  # noqa: BLE001 - as `parse_module`: a bug is an error on the file
            return FileError(path, None, crash_message("the parser failed"))
    return parse_one(path, text)


def _failed(path: str, reason: str) -> Loaded:
    error = FileError(path, None, crash_message(reason))
    return error if classify(path) == TERRAFORM else ParsedFile(path, errors=(error,))


def load_all(files: Mapping[str, str], clock: FileClock, parsing: Parsing | None = None) -> dict[str, Loaded]:
    """`load` of each file (in the order given), each charged to `clock`; in a pool of processes
    when `parsing` says there are enough files."""
    parsing = parsing or Parsing()
    items = list(files.items())
    workers = parsing.pool_size(len(items), sum(len(text) for _, text in items))
    if workers <= 1 or _in_daemon():  # a daemon may start no process
        return dict(_serial(items, clock))
    return dict(_Pool(workers, clock, parsing.stall_seconds).run(items))


def _in_daemon() -> bool:
    """Whether this is a daemonic multiprocessing child (which may start no process); a process
    that never imported multiprocessing is none."""
    mp = sys.modules.get("multiprocessing")
    return mp is not None and bool(mp.current_process().daemon)


def _serial(items: Sequence[tuple[str, str]], clock: FileClock) -> Iterator[tuple[str, Loaded]]:
    for path, text in items:
        clock.begin(path)
        started = FileClock.now()
        loaded = load(path, text)
        clock.charge(path, started)
        clock.over(path)  # a parse past the limit stops the file's review here
        yield path, loaded


class _OverTime(BaseException):
    """Raised by the worker's CPU timer: a BaseException, so no parser's `except Exception` eats it."""


def _on_timer(signum: int, frame: object) -> None:
    raise _OverTime


def _worker_start(parent: int) -> None:
    from bot.engine.processes import die_with_parent

    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGPROF, _on_timer)


def _work(path: str, text: str, limit: float) -> tuple[Loaded | None, float]:
    """In a worker: the file's outcome (None when it ran past `limit` CPU seconds) and its CPU time."""
    started = time.process_time()
    signal.setitimer(signal.ITIMER_PROF, limit + 0.05)
    try:
        loaded: Loaded | None = load(path, text)
    except _OverTime:
        loaded = None
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
    return loaded, time.process_time() - started


class _Pool:
    """One review's workers. Files go out a few per worker ahead (so no worker waits for the
    review's thread) and come back in order; a broken or stalled pool is replaced, and the files
    that were in flight are parsed again one at a time to find the one that broke it."""

    def __init__(self, workers: int, clock: FileClock, stall_seconds: float) -> None:
        self.workers = workers
        self.clock = clock
        self.stall_seconds = stall_seconds

    def run(self, items: Sequence[tuple[str, str]]) -> Iterator[tuple[str, Loaded]]:
        pending = collections.deque(items)
        while pending:
            suspects, _ = yield from self._batch(pending, self.workers)
            if not suspects and pending:  # a pool broken before it took any file: parse here instead
                yield from _serial(list(pending), self.clock)
                return
            for path, text in suspects:  # one at a time: whichever breaks a pool on its own is the one
                again, reason = yield from self._batch(collections.deque([(path, text)]), 1)
                if again:
                    yield path, _failed(path, reason)

    def _batch(self, pending: collections.deque[tuple[str, str]], workers: int
               ) -> Generator[tuple[str, Loaded], None, tuple[list[tuple[str, str]], str]]:
        """Parse from `pending` until it is empty (returns no files) or the pool breaks or stalls
        (returns the files that were in flight and why; `pending` keeps the rest)."""
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        flight: collections.deque[tuple[str, str, Future[tuple[Loaded | None, float]]]] = collections.deque()
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_worker_start, initargs=(os.getpid(),))
        broken = True  # until the last file is back: a pool left any other way is killed
        try:
            while pending or flight:
                while pending and len(flight) < 2 * workers:
                    path, text = pending[0]
                    try:
                        future = pool.submit(_work, path, text, self.clock.limit)
                    except BrokenProcessPool:
                        return [(p, t) for p, t, _ in flight], STOPPED
                    pending.popleft()
                    flight.append((path, text, future))
                path, text, future = flight[0]
                self.clock.begin(path)
                try:
                    loaded, seconds = future.result(timeout=self.stall_seconds)
                except BrokenProcessPool:
                    return [(p, t) for p, t, _ in flight], STOPPED
                except TimeoutError:
                    return [(p, t) for p, t, _ in flight], f"the parser made no progress in {self.stall_seconds:g} s"
                flight.popleft()
                self.clock.add(path, seconds)
                self.clock.over(path)
                yield path, (loaded if loaded is not None else _stopped(path, self.clock))
            broken = False
            return [], ""
        finally:
            _close(pool, broken)


STOPPED = "the parser's process stopped"


def _stopped(path: str, clock: FileClock) -> Loaded:
    """A file whose parse the worker's timer stopped: no resources; the clock's error names it."""
    return FileError(path, None, clock.message(path)) if classify(path) == TERRAFORM else ParsedFile(path)


def _close(pool: ProcessPoolExecutor, broken: bool) -> None:
    """Shut the pool down. After a normal run its workers are idle and leave at once; after a
    break, a stall or an interruption none of their work is wanted, and a stalled worker would
    never leave: they are killed first, so the shutdown never waits on them."""
    if broken:
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            with contextlib.suppress(Exception):
                process.kill()
    pool.shutdown(wait=True, cancel_futures=True)
