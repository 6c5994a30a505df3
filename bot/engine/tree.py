"""Read-only views of a repository at one revision, wherever its files come from.

The engine reads through `Tree` only, so it never knows whether files come from a local
checkout, a local git commit, or blobs fetched from GitHub (those trees live with their callers:
`bot.cli.local`, `bot.cli.git`, `bot.github.tree`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

MAX_FILE_BYTES = 5 * 1024 * 1024


class Tree(Protocol):
    """Files of one revision: paths are repo-relative with forward slashes."""

    def paths(self) -> Iterable[str]:
        """Every file path of the revision."""
        ...

    def read(self, path: str) -> str | None:
        """The file's text; None when it is missing, binary or too large."""
        ...


def decode_text(data: bytes) -> str | None:
    """Text of a blob, or None for binary content (a NUL byte in the first 8 KiB, like git)."""
    if b"\x00" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


class MemoryTree:
    """A tree held in memory: file listing plus the contents that were fetched."""

    def __init__(self, contents: Mapping[str, str | None], listing: Iterable[str] | None = None) -> None:
        self._contents = dict(contents)
        self._listing = sorted(set(listing) if listing is not None else set(self._contents))

    def paths(self) -> Iterable[str]:
        return self._listing

    def read(self, path: str) -> str | None:
        return self._contents.get(path)
