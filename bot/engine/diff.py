"""What a change touched, per file: the diff model every later stage stands on.

It answers three questions for each file: which head lines were added, which head lines a
review comment may target (GitHub only accepts lines inside a hunk), and where lines were
deleted. It reads both a whole unified diff (`git diff`, a PR's `.diff`) and the per-file
`patch` hunks of GitHub's files API, which lack the `---`/`+++` header.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchedFile, PatchSet

from bot.engine.lines import git_lines


class FileStatus(str, enum.Enum):
    ADDED = "added"
    MODIFIED = "modified"
    REMOVED = "removed"
    RENAMED = "renamed"
    BINARY = "binary"


class DiffError(ValueError):
    """The diff text is not a unified diff we can trust."""


@dataclass(frozen=True)
class HunkLine:
    kind: str  # "+", "-" or " "
    text: str  # without the trailing newline


@dataclass(frozen=True)
class Hunk:
    source_start: int
    source_length: int
    target_start: int
    target_length: int
    lines: tuple[HunkLine, ...]


@dataclass(frozen=True)
class FileDiff:
    """One file of a change.

    - `path`: the head path (for a removed file, its old path).
    - `added_lines`: head line numbers that the change added.
    - `commentable_lines`: head line numbers inside a hunk (added or context) — the only
      lines a review comment may be placed on (RIGHT side).
    - `deleted_after`: head line numbers k such that base lines were deleted between head
      lines k and k+1 (0 = before the first line).
    - `removed_base_lines`: base line numbers the change removed.
    - `complete`: False when the host omitted the patch (binary or too large); then nothing
      is known about lines and callers must treat the whole file as touched.
    """

    path: str
    old_path: str | None
    status: FileStatus
    added_lines: frozenset[int] = frozenset()
    commentable_lines: frozenset[int] = frozenset()
    deleted_after: frozenset[int] = frozenset()
    removed_base_lines: frozenset[int] = frozenset()
    hunks: tuple[Hunk, ...] = ()
    complete: bool = True

    @property
    def base_path(self) -> str | None:
        """Where the file lived at base; None for an added file."""
        if self.status == FileStatus.ADDED:
            return None
        return self.old_path or self.path

    @property
    def exists_at_head(self) -> bool:
        return self.status not in (FileStatus.REMOVED,)

    def added_texts(self) -> list[tuple[int, str]]:
        """(head line number, text) of every added line, from the hunks."""
        return [(number, text) for number, text in _numbered_head_lines(self.hunks) if number in self.added_lines]

    def touches_span(self, start: int, end: int) -> bool:
        """True when the change added a line in start..end or deleted lines strictly inside it."""
        if not self.complete or self.status == FileStatus.ADDED:
            return True
        if any(start <= line <= end for line in self.added_lines):
            return True
        return any(start <= k < end for k in self.deleted_after)

    def touches_base_span(self, start: int, end: int) -> bool:
        """True when the change removed a base line in start..end."""
        if not self.complete or self.status == FileStatus.REMOVED:
            return True
        return any(start <= line <= end for line in self.removed_base_lines)


def _strip_prefix(name: str) -> str | None:
    if name == "/dev/null":
        return None
    if name.startswith(("a/", "b/")):
        return name[2:]
    return name


def _hunks_of(patched: PatchedFile) -> tuple[Hunk, ...]:
    hunks = []
    for hunk in patched:
        # Lines are numbered from 1: a hunk with lines "at line 0" would put a comment on line 0.
        if (hunk.source_length and hunk.source_start < 1) or (hunk.target_length and hunk.target_start < 1):
            raise DiffError(f"hunk @@ -{hunk.source_start},{hunk.source_length} +{hunk.target_start},"
                            f"{hunk.target_length} @@ starts before line 1")
        lines = tuple(
            HunkLine(line.line_type, line.value.rstrip("\n").rstrip("\r"))
            for line in hunk
            if line.line_type in ("+", "-", " ")
        )
        hunks.append(
            Hunk(hunk.source_start, hunk.source_length, hunk.target_start, hunk.target_length, lines)
        )
    return tuple(hunks)


def _numbered_head_lines(hunks: Sequence[Hunk]) -> list[tuple[int, str]]:
    """(head line number, text) of the added and context lines of the hunks."""
    numbered = []
    for hunk in hunks:
        target = hunk.target_start
        for line in hunk.lines:
            if line.kind != "-":
                numbered.append((target, line.text))
                target += 1
    return numbered


def _line_sets(hunks: Sequence[Hunk]) -> tuple[frozenset[int], frozenset[int], frozenset[int], frozenset[int]]:
    added: set[int] = set()
    commentable: set[int] = set()
    deleted_after: set[int] = set()
    removed: set[int] = set()
    for hunk in hunks:
        target = hunk.target_start if hunk.target_length else hunk.target_start + 1
        source = hunk.source_start if hunk.source_length else hunk.source_start + 1
        for line in hunk.lines:
            if line.kind == "+":
                added.add(target)
                commentable.add(target)
                target += 1
            elif line.kind == "-":
                removed.add(source)
                deleted_after.add(target - 1)
                source += 1
            else:
                commentable.add(target)
                target += 1
                source += 1
    return frozenset(added), frozenset(commentable), frozenset(deleted_after), frozenset(removed)


def _status(patched: PatchedFile) -> FileStatus:
    # A deleted binary is REMOVED: BINARY means "exists at head, content unreadable", and the
    # engine lists such files as not reviewed; a file that is gone has nothing left to review.
    if patched.is_binary_file and not patched.is_removed_file:
        return FileStatus.BINARY
    if patched.is_added_file:
        return FileStatus.ADDED
    if patched.is_removed_file:
        return FileStatus.REMOVED
    if patched.is_rename:
        return FileStatus.RENAMED
    return FileStatus.MODIFIED


def _file_diff(patched: PatchedFile, status: FileStatus | None = None) -> FileDiff:
    source = _strip_prefix(patched.source_file)
    target = _strip_prefix(patched.target_file)
    status = status or _status(patched)
    path = target or source or patched.path
    old_path = source if source and source != path else None
    hunks = _hunks_of(patched)
    added, commentable, deleted_after, removed = _line_sets(hunks)
    return FileDiff(
        path=path,
        old_path=old_path,
        status=status,
        added_lines=added,
        commentable_lines=commentable,
        deleted_after=deleted_after,
        removed_base_lines=removed,
        hunks=hunks,
        complete=status != FileStatus.BINARY,
    )


def parse_unified_diff(text: str) -> list[FileDiff]:
    """Parse a whole multi-file unified diff (git format)."""
    try:
        patch_set = PatchSet(text)
    except UnidiffParseError as exc:
        raise DiffError(f"unreadable diff: {exc}") from exc
    files = []
    for patched in patch_set:
        try:
            files.append(_file_diff(patched))
        except DiffError as exc:
            raise DiffError(f"{patched.path}: {exc}") from None
    return files


def parse_file_patch(
    path: str,
    patch: str | None,
    status: str,
    old_path: str | None = None,
) -> FileDiff:
    """Parse one entry of GitHub's PR files API (`filename`, `patch`, `status`, `previous_filename`).

    GitHub omits `patch` for binary files and for diffs that are too large: the result is then
    marked incomplete so the caller treats the whole file as touched.
    """
    file_status = {
        "added": FileStatus.ADDED,
        "removed": FileStatus.REMOVED,
        "renamed": FileStatus.RENAMED,
        "copied": FileStatus.ADDED,
    }.get(status, FileStatus.MODIFIED)
    if patch is None:
        return FileDiff(path=path, old_path=old_path, status=file_status, complete=False)
    # The header only tells unidiff what kind of change this is; the names are the caller's (a
    # name holding a newline or a tab would break a header line), so it gets stand-ins.
    source = "/dev/null" if file_status == FileStatus.ADDED else "a/file"
    target = "/dev/null" if file_status == FileStatus.REMOVED else "b/file"
    body = patch if patch.endswith("\n") else patch + "\n"
    header = f"--- {source}\n+++ {target}\n"
    try:
        files = PatchSet(header + body)
    except UnidiffParseError as exc:
        raise DiffError(f"{path}: unreadable patch: {exc}") from exc
    if len(files) != 1:
        raise DiffError(f"{path}: expected one file in the patch, found {len(files)}")
    try:
        diff = _file_diff(files[0], file_status)
    except DiffError as exc:
        raise DiffError(f"{path}: {exc}") from None
    return FileDiff(
        path=path,
        old_path=old_path,
        status=file_status,
        added_lines=diff.added_lines,
        commentable_lines=diff.commentable_lines,
        deleted_after=diff.deleted_after,
        removed_base_lines=diff.removed_base_lines,
        hunks=diff.hunks,
        complete=True,
    )


def whole_file_added(path: str, text: str) -> FileDiff:
    """A file reviewed in full (a scan, or a file without a patch): every line counts as added."""
    texts = git_lines(text)
    lines = frozenset(range(1, len(texts) + 1))
    hunk = Hunk(0, 0, 1, len(texts), tuple(HunkLine("+", t) for t in texts))
    return FileDiff(path=path, old_path=None, status=FileStatus.ADDED, added_lines=lines, commentable_lines=lines,
                    hunks=(hunk,) if texts else ())


def reconstruct_base(head_text: str, diff: FileDiff) -> str:
    """Rebuild the base version of a file from its head text and its hunks.

    GitHub's files API gives the patch but not the base content; undoing the patch on the head
    text yields the merge-base version without another API call.
    """
    if not diff.complete:
        raise DiffError(f"{diff.path}: no patch to reconstruct the base from")
    head_lines = git_lines(head_text) if diff.status != FileStatus.REMOVED else []
    out: list[str] = []
    cursor = 0  # index into head_lines
    for hunk in diff.hunks:
        start = (hunk.target_start - 1) if hunk.target_length else hunk.target_start
        if start < cursor or start > len(head_lines):
            raise DiffError(f"{diff.path}: the patch does not match the head file")
        out.extend(head_lines[cursor:start])
        cursor = start
        for line in hunk.lines:
            if line.kind == "+":
                cursor += 1
            elif line.kind == "-":
                out.append(line.text)
            else:
                out.append(line.text)
                cursor += 1
    out.extend(head_lines[cursor:])
    return "\n".join(out) + ("\n" if out else "")

