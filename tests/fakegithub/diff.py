"""Parse `git diff-tree -p` output into per-file patches with the line maps GitHub uses.

GitHub accepts a review comment only on a line that appears in the pull request's diff: for the
RIGHT side an added or context line (new-file numbering), for the LEFT side a deleted or context
line (old-file numbering). `position` (the legacy way) counts lines below the file's first `@@`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .gitrepo import RawChange

HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")

STATUS_NAMES = {"A": "added", "D": "removed", "M": "modified", "R": "renamed", "C": "copied", "T": "changed"}


@dataclass(frozen=True)
class DiffLine:
    """One line inside a hunk; `kind` is '+', '-', ' ', '\\' (no newline marker) or '@' (header)."""

    kind: str
    old: int | None
    new: int | None
    position: int  # 1-based position below the file's first @@ (the first header itself is 0)
    text: str


@dataclass
class Hunk:
    """One `@@` block."""

    header: str
    lines: list[DiffLine] = field(default_factory=list)

    def has(self, side: str, line: int) -> bool:
        """Whether `line` on `side` can carry a comment in this hunk."""
        for d in self.lines:
            if side == "RIGHT" and d.kind in "+ " and d.new == line:
                return True
            if side == "LEFT" and d.kind in "- " and d.old == line:
                return True
        return False

    def find(self, side: str, line: int) -> DiffLine | None:
        for d in self.lines:
            if side == "RIGHT" and d.kind in "+ " and d.new == line:
                return d
            if side == "LEFT" and d.kind in "- " and d.old == line:
                return d
        return None


@dataclass
class FilePatch:
    """Everything GitHub knows about one changed file of a diff."""

    filename: str
    previous_filename: str | None
    status: str
    sha: str | None
    old_sha: str | None
    binary: bool
    patch: str | None  # hunks only, starting at the first "@@" (GitHub's `patch` field)
    hunks: list[Hunk]
    additions: int
    deletions: int
    raw_size: int  # bytes of this file's section in the full diff

    @property
    def changes(self) -> int:
        return self.additions + self.deletions

    def hunk_for(self, side: str, line: int) -> Hunk | None:
        """The hunk where `line` on `side` is commentable, or None if it is outside the diff."""
        for hunk in self.hunks:
            if hunk.has(side, line):
                return hunk
        return None

    def line_at_position(self, position: int) -> DiffLine | None:
        for hunk in self.hunks:
            for d in hunk.lines:
                if d.position == position:
                    return d
        return None

    def diff_hunk(self, side: str, line: int) -> str:
        """GitHub's `diff_hunk` of a comment: the hunk header and lines up to the commented one."""
        for hunk in self.hunks:
            target = hunk.find(side, line)
            if target is None:
                continue
            out = [hunk.header]
            for d in hunk.lines:
                if d.kind == "@":
                    continue
                out.append(d.text)
                if d is target:
                    break
            return "\n".join(out)
        return ""


@dataclass
class PullDiff:
    """The diff of a pull request (merge base .. head) as GitHub computes it."""

    base: str
    head: str
    files: list[FilePatch]
    text: str

    @property
    def line_count(self) -> int:
        return self.text.count("\n")

    def file(self, path: str) -> FilePatch | None:
        for f in self.files:
            if f.filename == path:
                return f
        return None


def _split_sections(text: str) -> list[str]:
    sections: list[str] = []
    current: list[str] = []
    for line in text.split("\n"):
        if line.startswith("diff --git ") and current:
            sections.append("\n".join(current))
            current = []
        current.append(line)
    if current and any(current):
        sections.append("\n".join(current))
    return sections


def _parse_hunks(body_lines: list[str]) -> tuple[list[Hunk], int, int]:
    hunks: list[Hunk] = []
    additions = deletions = 0
    old = new = 0
    position = -1
    for line in body_lines:
        m = HUNK_RE.match(line)
        if m:
            position += 1
            old, new = int(m.group(1)), int(m.group(3))
            hunk = Hunk(header=line)
            if hunks:  # later headers occupy a position too
                hunk.lines.append(DiffLine("@", None, None, position, line))
            hunks.append(hunk)
            continue
        if not hunks:
            continue
        position += 1
        kind = line[:1] or " "
        if kind == "+":
            hunks[-1].lines.append(DiffLine("+", None, new, position, line))
            new += 1
            additions += 1
        elif kind == "-":
            hunks[-1].lines.append(DiffLine("-", old, None, position, line))
            old += 1
            deletions += 1
        elif kind == "\\":
            hunks[-1].lines.append(DiffLine("\\", None, None, position, line))
        else:
            hunks[-1].lines.append(DiffLine(" ", old, new, position, line))
            old += 1
            new += 1
    return hunks, additions, deletions


def parse_diff(base: str, head: str, raw: list[RawChange], text: str, patch_limit_bytes: int) -> PullDiff:
    """Combine `--raw` (statuses, blob shas) and `-p` (hunks) output, which list files in the same order."""
    sections = _split_sections(text)
    if len(sections) != len(raw):
        raise ValueError(f"diff has {len(sections)} sections but {len(raw)} raw entries")
    files: list[FilePatch] = []
    for change, section in zip(raw, sections):
        lines = section.split("\n")
        while lines and lines[-1] == "":
            lines.pop()
        first_hunk = next((i for i, ln in enumerate(lines) if HUNK_RE.match(ln)), None)
        binary = any(ln.startswith("Binary files ") or ln == "GIT binary patch" for ln in lines[:8])
        body = lines[first_hunk:] if first_hunk is not None else []
        hunks, additions, deletions = _parse_hunks(body)
        patch = "\n".join(body) if body else None
        raw_size = len(section.encode()) + 1
        if patch is not None and len(patch.encode()) > patch_limit_bytes:
            patch = None  # GitHub leaves out `patch` for diffs that are too large
        status = STATUS_NAMES.get(change.status, "modified")
        deleted = change.status == "D"
        files.append(
            FilePatch(
                filename=change.path,
                previous_filename=change.old_path,
                status=status,
                sha=change.old_sha if deleted else change.new_sha,
                old_sha=None if change.status == "A" else change.old_sha,
                binary=binary,
                patch=patch,
                hunks=hunks if patch is not None else [],
                additions=additions,
                deletions=deletions,
                raw_size=raw_size,
            )
        )
    return PullDiff(base=base, head=head, files=files, text=text)
