"""Reviews run in engine processes, under a hard time and memory budget.

    EnginePool(size, seconds, memory_mb).review(work, tree, loop) -> Review

Each review is a conversation with an engine process (`bot.app.engine_child`) held by one
thread of the pool: the child asks for the head's file list and texts, the thread has them read
on the job's event loop (`GitHubTree`, the App's connections and caches) and answers. The event
loop only awaits the thread, so webhooks are answered while the engine works, whatever it costs.

The budget: `seconds` of wall-clock time from the moment a ready process takes the review
(GitHub reads included), and `memory_mb` of address space per process (`RLIMIT_AS`, set in the
child). Past the deadline the process is killed (SIGKILL) and `OverBudget` names the file the
engine was working on; a process that runs out of memory says so (or dies) and is replaced.
Processes are started with "spawn" (no copy of the parent's threads, sockets or locks) when first
needed, and reused: loading the rules costs about a second, once per process.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import logging
import multiprocessing
import queue
import threading
import time
from collections.abc import Collection, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from bot.app.engine_child import EngineWork, child_main
from bot.engine.review import Review

__all__ = ["EngineCrashed", "EnginePool", "EngineWork", "OverBudget", "shared_pool"]

log = logging.getLogger(__name__)

T = TypeVar("T")

START_SECONDS = 120.0  # a new process imports the engine and loads the rules (about a second)


class HeadReader(Protocol):
    """What the pool asks of the head on the event loop: `bot.github.tree.GitHubTree`'s a* methods."""

    async def alist_all(self) -> tuple[list[str], bool]: ...

    async def aread_many(self, paths: Collection[str]) -> dict[str, str | None]: ...

    def size_of(self, path: str) -> int | None: ...

    def unread_reason(self, path: str) -> str | None: ...


class OverBudget(Exception):
    """The review passed its time or memory budget; `str()` is the sentence for the check run."""

    def __init__(self, what: str, limit: str, path: str | None) -> None:
        where = f": {path}" if path else ""
        super().__init__(f"review exceeded its {what} budget ({limit}){where}")
        self.what = what
        self.path = path


class EngineCrashed(RuntimeError):
    """The engine process failed without a verdict (a bug, or it died); logged in full, never shown."""


@dataclass
class _Child:
    process: Any  # multiprocessing.context.SpawnProcess
    conn: Any  # multiprocessing.connection.Connection
    live: dict[int, Any]  # its pool's processes by pid, not yet killed

    def kill(self) -> None:
        self.live.pop(self.process.pid, None)
        with contextlib.suppress(Exception):
            self.process.kill()
        with contextlib.suppress(Exception):
            self.process.join(10)
        with contextlib.suppress(Exception):
            self.conn.close()

    @property
    def alive(self) -> bool:
        return bool(self.process.is_alive())


class _Conversation:
    """One review in flight: which process has it and which file it is on; `abort()` from any thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.child: _Child | None = None
        self.aborted = False
        self.path: str | None = None

    def attach(self, child: _Child) -> bool:
        with self.lock:
            self.child = child
            return not self.aborted

    def abort(self) -> None:
        with self.lock:
            self.aborted = True
            child = self.child
        if child is not None:
            child.kill()


class EnginePool:
    """At most `size` engine processes, one review each at a time (see the module docstring)."""

    def __init__(self, size: int = 2, seconds: float = 600.0, memory_mb: int = 2048, *, niceness: int = 0) -> None:
        """`niceness`: how much lower than this process the engine processes (and their parse
        workers) are scheduled, so a large review takes the CPU this process's event loop leaves."""
        if size < 1:
            raise ValueError("size must be at least 1")
        self.size = size
        self.seconds = seconds
        self.memory_mb = memory_mb
        self.niceness = niceness
        self._context = multiprocessing.get_context("spawn")
        self._idle: queue.Queue[_Child | None] = queue.Queue()
        for _ in range(size):
            self._idle.put(None)  # a slot whose process starts when first needed
        self._threads = concurrent.futures.ThreadPoolExecutor(max_workers=size, thread_name_prefix="engine")
        self._closed = False
        self._live: dict[int, Any] = {}
        self.killed: list[int] = []  # pids of processes killed at a budget (for logs and tests)

    def __repr__(self) -> str:
        return f"EnginePool(size={self.size}, seconds={self.seconds:g}, memory_mb={self.memory_mb})"

    async def review(self, work: EngineWork, tree: HeadReader) -> Review:
        """The engine's review of `work`, its files read through `tree` on this event loop."""
        if self._closed:
            raise EngineCrashed("the engine pool is closed")
        loop = asyncio.get_running_loop()
        talk = _Conversation()
        # The job's context (its log scope) goes along, as with asyncio.to_thread.
        context = contextvars.copy_context()
        future = loop.run_in_executor(self._threads, context.run, self._converse, talk, work, tree, loop)
        try:
            return await future
        except asyncio.CancelledError:
            talk.abort()  # the job was stopped: its process must not go on burning CPU
            raise

    def close(self) -> None:
        """Kill every process (their reviews fail) and stop the threads."""
        self._closed = True
        while True:
            try:
                child = self._idle.get_nowait()
            except queue.Empty:
                break
            if child is not None:
                child.kill()
        self._threads.shutdown(wait=False, cancel_futures=True)

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    def live_pids(self) -> list[int]:
        """This pool's engine processes still alive (for tests and diagnostics)."""
        return sorted(pid for pid, process in list(self._live.items()) if process.is_alive())

    # -- in the pool's thread -------------------------------------------------------------------------

    def _converse(self, talk: _Conversation, work: EngineWork, tree: HeadReader,
                  loop: asyncio.AbstractEventLoop) -> Review:
        child = self._idle.get(timeout=START_SECONDS)
        keep = False
        try:
            if child is None or not child.alive:
                child = self._start()
            if not talk.attach(child):
                raise EngineCrashed("the review was stopped before it started")
            deadline = time.monotonic() + self.seconds
            child.conn.send(("review", work))
            review = self._answer(talk, child, tree, loop, deadline)
            keep = True
            return review
        finally:
            if keep and child is not None:
                self._idle.put(child)
            else:
                if child is not None:
                    child.kill()
                self._idle.put(None)

    def _start(self) -> _Child:
        parent, child_end = self._context.Pipe(duplex=True)
        process = self._context.Process(target=child_main, args=(child_end, self.memory_mb, self.niceness),
                                        name="compliance-engine", daemon=True)
        process.start()
        child_end.close()
        child = _Child(process, parent, self._live)
        if process.pid is not None:
            self._live[process.pid] = process
        try:
            if not parent.poll(START_SECONDS):
                raise EngineCrashed(f"the engine process did not start within {START_SECONDS:g} s")
            ready = parent.recv()
        except (EOFError, OSError) as exc:
            child.kill()
            raise EngineCrashed(f"the engine process died while starting (exit code {process.exitcode})") from exc
        except BaseException:
            child.kill()
            raise
        if ready != ("ready",):
            child.kill()
            raise EngineCrashed(f"the engine process said {ready!r} instead of being ready")
        log.info("engine process %d started (memory budget %d MB)", process.pid, self.memory_mb)
        return child

    def _answer(self, talk: _Conversation, child: _Child, tree: HeadReader, loop: asyncio.AbstractEventLoop,
                deadline: float) -> Review:
        conn = child.conn
        while True:
            try:
                if not conn.poll(max(0.0, deadline - time.monotonic())):
                    raise self._over_time(child, talk)
                message = conn.recv()
            except (EOFError, OSError) as exc:
                raise self._died(child, talk) from exc
            kind = message[0]
            if kind == "file":
                talk.path = message[1]
            elif kind == "list":
                paths, complete = self._on_loop(tree.alist_all(), loop, deadline, child, talk)
                sizes = {p: s for p in paths if (s := tree.size_of(p)) is not None}
                conn.send(("listing", paths, complete, sizes))
            elif kind == "read":
                talk.path = talk.path or (message[1][0] if message[1] else None)  # killed while reading: that file
                texts = self._on_loop(tree.aread_many(message[1]), loop, deadline, child, talk)
                reasons = {p: r for p, t in texts.items() if t is None and (r := tree.unread_reason(p))}
                conn.send(("texts", texts, reasons))
            elif kind == "done":
                review: Review = message[1]
                return review
            elif kind == "memory":
                raise self._over_memory(child, talk)
            else:
                raise EngineCrashed(f"the engine failed: {message[1] if len(message) > 1 else message!r}")

    def _on_loop(self, coroutine: Coroutine[Any, Any, T], loop: asyncio.AbstractEventLoop, deadline: float,
                 child: _Child, talk: _Conversation) -> T:
        """Run a read on the job's loop; it counts against the budget like the engine's own work."""
        future = asyncio.run_coroutine_threadsafe(coroutine, loop)
        try:
            return future.result(max(0.0, deadline - time.monotonic()))
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise self._over_time(child, talk) from None

    def _over_time(self, child: _Child, talk: _Conversation) -> Exception:
        if talk.aborted:
            return EngineCrashed("the review was stopped")
        pid = child.process.pid
        child.kill()
        self.killed.append(pid)
        log.error("engine process %d killed: the review passed its time budget of %g s (working on %s)",
                  pid, self.seconds, talk.path or "-")
        return OverBudget("time", f"{self.seconds:g} s", talk.path)

    def _over_memory(self, child: _Child, talk: _Conversation) -> Exception:
        pid = child.process.pid
        child.kill()
        self.killed.append(pid)
        log.error("engine process %d ran out of its memory budget of %d MB (working on %s)",
                  pid, self.memory_mb, talk.path or "-")
        return OverBudget("memory", f"{self.memory_mb} MB", talk.path)

    def _died(self, child: _Child, talk: _Conversation) -> Exception:
        if talk.aborted:
            return EngineCrashed("the review was stopped")
        child.kill()
        code = child.process.exitcode
        log.error("engine process %d ended unexpectedly (exit code %s) while working on %s",
                  child.process.pid, code, talk.path or "-")
        if code is not None and code < 0:  # killed by a signal: the kernel's OOM killer, most likely
            return OverBudget("memory", f"{self.memory_mb} MB", talk.path)
        return EngineCrashed(f"the engine process ended unexpectedly (exit code {code})")


_shared: EnginePool | None = None
_shared_lock = threading.Lock()


def shared_pool() -> EnginePool:
    """One pool per process for runners not given their own (tools, tests); `make_handler` builds
    its own from the settings."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = EnginePool()
        return _shared
