"""Read-only views of a repository at one revision, wherever its files come from.

The engine reads through `Tree` only and asks it for exactly what a review needs (the files of
some directories, the texts of some paths), in batches, so a tree backed by an API can answer
each question with one request. It never knows whether files come from a local checkout
(`bot.cli.local`), a local git commit (`bot.cli.git`) or GitHub (`bot.github.tree`).
"""

from __future__ import annotations

import codecs
from collections.abc import Collection, Iterable, Mapping
from typing import Protocol, Self

from bot.engine import limits
from bot.engine.diff import DiffError, FileDiff, reconstruct_base

MAX_FILE_BYTES = limits.FILE_BYTES
"""Larger files are never diffed line by line nor parsed (an infrastructure file is an error);
any other file is still read whole, up to MAX_SCAN_BYTES, and scanned for secrets."""
MAX_SCAN_BYTES = limits.SCAN_BYTES
"""The most of one file the engine reads: a larger file (a data dump, a bundle) is not even
scanned for secrets, which is an error naming it, so the review fails closed (the policy's
`paths.ignore` skips such a file knowingly). Texts are scanned in chunks of lines, so what a
file costs beyond its own text stays bounded."""


class Tree(Protocol):
    """Files of one revision: paths are repo-relative with forward slashes."""

    def list_all(self) -> tuple[list[str], bool]:
        """Every file path of the revision, and whether the listing is complete (a host may cut
        a huge tree short)."""
        ...

    def read_many(self, paths: Collection[str]) -> dict[str, str | None]:
        """Texts by path (`decode_text`: a `BinaryText` for binary content); None where a file is
        missing, unreadable or larger than MAX_SCAN_BYTES. A tree that knows sizes without
        reading may also offer `size_of(path) -> int | None`, so a review plans its reads within
        its byte budget (`bot.engine.budget`); and `unread_reason(path)` (see below)."""
        ...


class WalkableTree(Tree, Protocol):
    """A local tree: walked file by file (a whole-tree scan) and read one file at a time."""

    def paths(self) -> Iterable[str]:
        """Every file path of the revision."""
        ...

    def read(self, path: str) -> str | None:
        """One file's text (as `read_many`); None when it is missing, unreadable or too large."""
        ...


def unread_reason(tree: object, path: str) -> str:
    """Why a tree gave no text for `path`, as precisely as the tree can say: "too large (34.2 MB;
    the limit is 16 MiB)", "a symlink, not followed", "a submodule", "unreadable (...)". A tree says so
    through an optional `unread_reason(path)` method; without one the answer stays generic."""
    explain = getattr(tree, "unread_reason", None)
    reason = explain(path) if callable(explain) else None
    return reason if isinstance(reason, str) and reason else "unreadable or too large"


def too_large_reason(size: int) -> str:
    return f"too large ({size / 1_000_000:.1f} MB; the limit is {MAX_SCAN_BYTES // limits.MIB} MiB)"


BINARY_CONTENT = "binary (a NUL byte in its first 8 KiB)"
SYMLINK = "a symlink, not followed (its target is reviewed where it lives in the repository)"
SUBMODULE = "a submodule: another repository's commit, not reviewed here"

SNIFF_BYTES = 8192  # git calls content with a NUL byte in its first 8 KiB binary
MIN_PRINTABLE = 0.95


class BinaryText(str):
    """The text of content git calls binary (a NUL byte in its first 8 KiB), NUL bytes dropped
    (UTF-16 with a byte-order mark decoded as such): never parsed as infrastructure, but scanned
    for secrets, so a credential in a text file with a stray NUL is still found.

    `looks_like_text`: at least 95% of its first 8 KiB (NULs dropped) are printable characters,
    tabs or line breaks, as in a `.env` whose first line holds a NUL, or UTF-16 text. Then every
    secrets rule reads it. Otherwise it is real binary content (an image, an archive, an
    executable): random bytes, compressed data and string tables are not where passwords are
    assigned, so only credentials of a recognisable format (cloud keys, tokens, private keys) are
    looked for there, which random bytes do not spell by chance."""

    looks_like_text: bool

    def __reduce__(self) -> tuple[type[BinaryText], tuple[str, bool]]:
        """Pickled with its flag, so a text crosses to the engine's process as what it is."""
        return (BinaryText, (str(self), self.looks_like_text))

    def __new__(cls, text: str, looks_like_text: bool) -> Self:
        self = super().__new__(cls, text)
        self.looks_like_text = looks_like_text
        return self


def _mostly_printable(sample: str) -> bool:
    if not sample:
        return True
    printable = sum(1 for ch in sample if (ch.isprintable() and ch != "\ufffd") or ch in "\t\n\r")
    return printable >= MIN_PRINTABLE * len(sample)


def decode_text(data: bytes) -> str:
    """Text of a blob (UTF-8, undecodable bytes replaced), or a `BinaryText` for binary content."""
    if b"\x00" not in data[:SNIFF_BYTES]:
        return data.decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return BinaryText(data.decode("utf-16", errors="replace"), looks_like_text=True)
    text = data.replace(b"\x00", b"").decode("utf-8", errors="replace")
    return BinaryText(text, looks_like_text=_mostly_printable(text[:SNIFF_BYTES]))


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

    def size_of(self, path: str) -> int | None:
        text = self._contents.get(path)
        return len(text) if text is not None else None


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
