"""A change between two in-memory trees as the engine sees it: `FileDiff`s built from
`difflib.unified_diff` text through `bot.engine.diff.parse_unified_diff`, as `git diff` would
give them (renames included), for tests that review a base -> head change without git."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from bot.engine.diff import FileDiff, FileStatus, parse_unified_diff
from bot.engine.tree import MemoryTree


def _unified(text: str | None, other: str | None, source: str, target: str) -> str:
    before = (text or "").splitlines(keepends=True)
    after = (other or "").splitlines(keepends=True)
    lines = list(difflib.unified_diff(before, after, source, target, n=3))
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def diffs_between(base: Mapping[str, str], head: Mapping[str, str],
                  renames: Mapping[str, str] | None = None) -> list[FileDiff]:
    """Every file that differs: added, removed, modified, or renamed (`renames`: base path ->
    head path; a rename without edits has no hunks, like git's 100% similarity)."""
    renamed = dict(renames or {})
    diffs: list[FileDiff] = []
    for old, new in sorted(renamed.items()):
        if base[old] == head[new]:
            diffs.append(FileDiff(path=new, old_path=old, status=FileStatus.RENAMED))
        else:
            diffs.extend(parse_unified_diff(_unified(base[old], head[new], f"a/{old}", f"b/{new}")))
    for path in sorted(set(base) | set(head)):
        if path in renamed or path in renamed.values() or base.get(path) == head.get(path):
            continue
        source = f"a/{path}" if path in base else "/dev/null"
        target = f"b/{path}" if path in head else "/dev/null"
        diffs.extend(parse_unified_diff(_unified(base.get(path), head.get(path), source, target)))
    return diffs


def trees(base: Mapping[str, str], head: Mapping[str, str]) -> tuple[MemoryTree, MemoryTree]:
    """(head tree, base tree), in the order `Engine.review_change` takes them."""
    return MemoryTree(dict(head)), MemoryTree(dict(base))
