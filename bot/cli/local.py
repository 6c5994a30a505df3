"""A directory on disk as a `Tree` (what `compliance-bot scan` reads)."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator
from pathlib import Path

from bot.engine.tree import MAX_SCAN_BYTES, SYMLINK, decode_text, too_large_reason

SKIP_DIRS = frozenset({".git", ".terraform", "node_modules", ".venv", "__pycache__", ".tox"})


class FsTree:
    """A directory on disk (used by `compliance-bot scan`)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def paths(self) -> Iterator[str]:
        for directory, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            for name in sorted(filenames):
                full = Path(directory) / name
                if full.is_symlink() or not full.is_file():
                    continue
                yield full.relative_to(self.root).as_posix()

    def read(self, path: str) -> str | None:
        full = (self.root / path).resolve()
        if self.root.resolve() not in full.parents or not full.is_file():
            return None  # never follow a path out of the tree
        try:
            if full.stat().st_size > MAX_SCAN_BYTES:
                return None
            return decode_text(full.read_bytes())
        except OSError:  # unreadable (permissions, vanished): the engine reports what it cannot read
            return None

    def unread_reason(self, path: str) -> str | None:
        """Why `read` gives nothing for `path` (see `bot.engine.tree.unread_reason`)."""
        full = self.root / path
        try:
            if full.is_symlink():
                return SYMLINK
            size = full.stat().st_size
        except OSError as exc:
            return f"unreadable ({exc.strerror})"
        if size > MAX_SCAN_BYTES:
            return too_large_reason(size)
        return None

    def size_of(self, path: str) -> int | None:
        """The file's size on disk, so a review's reads are planned within its byte budget."""
        try:
            return (self.root / path).stat().st_size
        except OSError:
            return None

    def list_all(self) -> tuple[list[str], bool]:
        return list(self.paths()), True

    def read_many(self, paths: Collection[str]) -> dict[str, str | None]:
        return {path: self.read(path) for path in paths}
