"""Read-only views of a repository at one revision, wherever its files come from.

The engine reads through `Tree` only and asks it for exactly what a review needs (the files of
some directories, the texts of some paths), in batches, so a tree backed by an API can answer
each question with one request. It never knows whether files come from a local checkout
(`bot.cli.local`), a local git commit (`bot.cli.git`) or GitHub (`bot.github.tree`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Protocol

from bot.engine.diff import DiffError, FileDiff, reconstruct_base

MAX_FILE_BYTES = 5 * 1024 * 1024


class Tree(Protocol):
    """Files of one revision: paths are repo-relative with forward slashes."""

    def list_all(self) -> tuple[list[str], bool]:
        """Every file path of the revision, and whether the listing is complete (a host may cut
        a huge tree short)."""
        ...

    def read_many(self, paths: Collection[str]) -> dict[str, str | None]:
        """Texts by path; None where a file is missing, binary or too large."""
        ...


class WalkableTree(Tree, Protocol):
    """A local tree: walked file by file (a whole-tree scan) and read one file at a time."""

    def paths(self) -> Iterable[str]:
        """Every file path of the revision."""
        ...

    def read(self, path: str) -> str | None:
        """One file's text; None when it is missing, binary or too large."""
        ...


def unread_reason(tree: object, path: str) -> str:
    """Why a tree gave no text for `path`, as precisely as the tree can say: "too large (34.2 MB;
    the limit is 5 MiB)", "a symlink, not followed", "a submodule", "binary". A tree says so
    through an optional `unread_reason(path)` method; without one the answer stays generic."""
    explain = getattr(tree, "unread_reason", None)
    reason = explain(path) if callable(explain) else None
    return reason if isinstance(reason, str) and reason else "binary, unreadable or too large"


def too_large_reason(size: int) -> str:
    return f"too large ({size / 1_000_000:.1f} MB; the limit is {MAX_FILE_BYTES // (1024 * 1024)} MiB)"


BINARY_CONTENT = "binary (a NUL byte in its first 8 KiB)"
SYMLINK = "a symlink, not followed (its target is reviewed where it lives in the repository)"
SUBMODULE = "a submodule: another repository's commit, not reviewed here"


def decode_text(data: bytes) -> str | None:
    """Text of a blob, or None for binary content (a NUL byte in the first 8 KiB, like git)."""
    if b"\x00" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


class MemoryTree:
    """A tree held in memory: file listing plus the contents that were read."""

    def __init__(self, contents: Mapping[str, str | None], listing: Iterable[str] | None = None) -> None:
        self._contents = dict(contents)
        self._listing = sorted(set(listing) if listing is not None else set(self._contents))

    def paths(self) -> Iterable[str]:
        return self._listing

    def read(self, path: str) -> str | None:
        return self._contents.get(path)

    def list_all(self) -> tuple[list[str], bool]:
        return list(self._listing), True

    def read_many(self, paths: Collection[str]) -> dict[str, str | None]:
        return {path: self._contents.get(path) for path in paths}


class PatchedBase:
    """The base revision of the changed files, rebuilt from their head texts and their patches.

    GitHub's files API gives each file's patch but not its base content; undoing the patch on
    the head text yields the merge-base version without another API call. Only changed files
    exist here: the engine reads base files solely to see what a change removed.
    """

    def __init__(self, head: Tree, diffs: Iterable[FileDiff]) -> None:
        self._head = head
        self._by_base_path = {d.base_path: d for d in diffs if d.base_path is not None and d.complete}

    def list_all(self) -> tuple[list[str], bool]:
        return sorted(self._by_base_path), False  # only the changed files exist here

    def read_many(self, paths: Collection[str]) -> dict[str, str | None]:
        diffs = {p: self._by_base_path[p] for p in paths if p in self._by_base_path}
        heads = self._head.read_many(sorted({d.path for d in diffs.values() if d.exists_at_head}))
        texts: dict[str, str | None] = dict.fromkeys(paths)
        for path, diff in diffs.items():
            head_text = heads.get(diff.path) if diff.exists_at_head else ""
            if head_text is None:
                continue
            try:
                texts[path] = reconstruct_base(head_text, diff)
            except DiffError:  # the patch does not fit the head text: no base, so no base-side seeds
                continue
        return texts
