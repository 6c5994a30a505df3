"""What one review may spend: bytes read in all (`ReadBudget`, through `BudgetedTree`) and CPU
time per file (`FileClock`), against the bounds in `bot.engine.limits`.

Per-file ceilings (size, lines) stop one big file; these stop many files together, and a file
that is small but costly to judge, so that a crafted pull request cannot hold a worker (and leave
its check run "in progress") until the job times out. What is refused is never dropped: the
tree says why it gave no text, and the engine turns that into an error naming the file.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable

from bot.engine import limits
from bot.engine.tree import Tree, unread_reason


class ReadBudget:
    """Bytes (characters) of text one review has read, shared by its head and base trees."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limits.REVIEW_BYTES if limit is None else limit
        self.spent = 0

    @property
    def left(self) -> int:
        return max(0, self.limit - self.spent)

    def refusal(self) -> str:
        return (f"not read: this review had already read {self.spent / limits.MIB:.0f} MiB "
                f"(the limit for one review is {self.limit // limits.MIB} MiB)")


def too_many_lines_reason(lines: int) -> str:
    return f"too many lines ({lines:,}; the limit is {limits.FILE_LINES:,})"


class BudgetedTree:
    """A tree whose reads stop when the review's byte budget is spent, and which refuses a text
    of more than `limits.FILE_LINES` lines. A batch never asks for more than is left: a file of
    known size (`size_of`, which the local, git and GitHub trees offer where they know it) that
    does not fit is refused, and files of unknown size are asked for `limits.FILE_BYTES` at a
    time, so the budget is passed by at most what one of them holds beyond that (each file is
    capped at `limits.SCAN_BYTES` by its tree)."""

    def __init__(self, tree: Tree, budget: ReadBudget) -> None:
        self._tree = tree
        self._budget = budget
        self._refused: dict[str, str] = {}

    def list_all(self) -> tuple[list[str], bool]:
        return self._tree.list_all()

    def read_many(self, paths: Collection[str]) -> dict[str, str | None]:
        texts: dict[str, str | None] = {}
        pending = list(paths)
        while pending:
            batch, refused, pending = self._plan(pending)
            for path in refused:
                texts[path] = None
                self._refused[path] = self._budget.refusal()
            for path, text in (self._tree.read_many(batch).items() if batch else ()):
                texts[path] = self._checked(path, text)
        return texts

    def unread_reason(self, path: str) -> str:
        return self._refused.get(path) or unread_reason(self._tree, path)

    def _plan(self, pending: list[str]) -> tuple[list[str], list[str], list[str]]:
        """The next batch, the files refused (they cannot fit), and the files to plan again once
        the batch's real sizes are known (a file of unknown size is counted as FILE_BYTES)."""
        room = self._budget.left
        batch: list[str] = []
        refused: list[str] = []
        for index, path in enumerate(pending):
            known = _size_of(self._tree, path)
            if known is not None:
                cost = min(known, limits.SCAN_BYTES)  # the tree refuses a larger file itself
                if cost > room:
                    refused.append(path)
                    continue
            else:
                if batch and room < limits.FILE_BYTES:
                    return batch, refused, pending[index:]
                if room <= 0:
                    refused.append(path)
                    continue
                cost = limits.FILE_BYTES
            batch.append(path)
            room -= cost
        return batch, refused, []

    def _checked(self, path: str, text: str | None) -> str | None:
        if text is None:
            return None
        self._budget.spent += len(text)
        lines = text.count("\n")
        if lines > limits.FILE_LINES:
            self._refused[path] = too_many_lines_reason(lines)
            return None
        return text


def _size_of(tree: object, path: str) -> int | None:
    """A file's size in bytes when `tree` knows it without reading it (an optional `size_of`)."""
    size_of = getattr(tree, "size_of", None)
    size = size_of(path) if callable(size_of) else None
    return size if isinstance(size, int) else None


class FileClock:
    """CPU seconds spent per file, parsing it and judging it, in the review's own thread (a busy
    machine does not make an ordinary file slow). The engine checks it between units of work (a
    file's parse, the rules on one resource, a chunk of lines), each bounded by the parser limits,
    so a file is stopped within one unit past `limits.FILE_SECONDS`."""

    def __init__(self, limit: float | None = None, on_file: Callable[[str], None] | None = None) -> None:
        self.limit = limits.FILE_SECONDS if limit is None else limit
        self._spent: dict[str, float] = {}
        self.stopped: dict[str, float] = {}  # path -> seconds spent when its work was stopped
        self._on_file = on_file  # told each time work moves to another file (who runs the engine names it)
        self._current: str | None = None

    def begin(self, path: str) -> None:
        """Work on `path` starts (or goes on): whoever watches the review learns which file it is on."""
        if path != self._current:
            self._current = path
            if self._on_file is not None:
                self._on_file(path)

    def over(self, path: str) -> bool:
        """True once `path` has used its time; the first time, it is recorded as stopped."""
        self.begin(path)
        spent = self._spent.get(path, 0.0)
        if spent > self.limit and path not in self.stopped:
            self.stopped[path] = spent
        return path in self.stopped

    def charge(self, path: str, started: float) -> None:
        self.add(path, time.thread_time() - started)

    def add(self, path: str, seconds: float) -> None:
        """Charge `path` with CPU seconds spent elsewhere (a parse worker's, `bot.engine.parse_pool`)."""
        self._spent[path] = self._spent.get(path, 0.0) + seconds

    @staticmethod
    def now() -> float:
        return time.thread_time()

    def message(self, path: str) -> str:
        return (f"review of this file stopped after {self.stopped[path]:.1f} s of work (the limit is "
                f"{self.limit:g} s per file): what it holds past that point is not reviewed")

    def stopped_paths(self) -> Iterable[str]:
        return sorted(self.stopped)
