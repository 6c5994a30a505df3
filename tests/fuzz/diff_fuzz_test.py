"""The diff model on hostile diffs: whole unified diffs and GitHub's per-file patches, made from the
fixtures and then bent, give `FileDiff`s whose line sets agree with each other, or a `DiffError`;
never another exception. On well-formed patches, undoing the patch on the head rebuilds the base
exactly (the base-side review depends on it)."""

from __future__ import annotations

import difflib

from hypothesis import example, given
from hypothesis import strategies as st

from bot.engine.diff import (
    DiffError,
    FileDiff,
    FileStatus,
    parse_file_patch,
    parse_unified_diff,
    reconstruct_base,
)
from bot.engine.lines import git_lines
from tests.fuzz.seeds import ODD, all_seeds, fuzz, mutants, mutate

STATUSES = st.sampled_from(["added", "removed", "modified", "renamed", "copied", "changed", "unchanged", ""])
# Line texts as git keeps them: anything but "\n" (and no "\r" at the end, which git_lines strips).
LINE = st.lists(st.one_of(st.text(alphabet=st.characters(blacklist_characters="\n\r"), max_size=6),
                          st.sampled_from([c for c in ODD if "\n" not in c and "\r" not in c])),
                max_size=5).map("".join)
LINES = st.lists(LINE, max_size=25)


def _hunks(base: list[str], head: list[str], context: int) -> str:
    """A GitHub files-API `patch`: the hunks of a unified diff, without the ---/+++ header."""
    lines = list(difflib.unified_diff(base, head, lineterm="", n=context))[2:]
    return "\n".join(lines)


def _git_diff(path: str, base: str, head: str) -> str:
    body = "\n".join(list(difflib.unified_diff(git_lines(base), git_lines(head), f"a/{path}", f"b/{path}",
                                               lineterm="")))
    return f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n{body}\n"


@st.composite
def diffs(draw: st.DrawFn) -> str:
    """A multi-file git diff between fixtures and their mutants, with the extended headers git
    writes (renames, modes, binaries), then mutated itself."""
    parts = []
    for number in range(draw(st.integers(1, 3))):
        base = draw(st.sampled_from(all_seeds()))
        head = mutate(draw, base, most=3)
        parts.append(_git_diff(f"dir/f{number}.tf", base, head))
    parts.append(draw(st.sampled_from([
        "", "diff --git a/old.yaml b/new.yaml\nsimilarity index 100%\nrename from old.yaml\nrename to new.yaml\n",
        ("diff --git a/logo.png b/logo.png\nnew file mode 100644\nindex 0000000..1111111\n"
         "Binary files /dev/null and b/logo.png differ\n"),
        "diff --git a/gone.tf b/gone.tf\ndeleted file mode 100644\n--- a/gone.tf\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n",
        "diff --git a/m b/m\nold mode 100644\nnew mode 100755\n",
    ])))
    return mutate(draw, "".join(parts), most=3)


def _consistent(diff: FileDiff) -> None:
    assert diff.added_lines <= diff.commentable_lines
    assert all(line >= 1 for line in diff.commentable_lines)
    assert all(line >= 1 for line in diff.removed_base_lines)
    assert all(k >= 0 for k in diff.deleted_after)
    assert {n for n, _ in diff.added_texts()} <= diff.added_lines


@fuzz(ci=150)
@given(diffs())
@example("diff --git a/f.tf b/f.tf\n--- a/f.tf\n+++ b/f.tf\n@@ -0,2 +1,2 @@\n-a\n+b\n c\n")  # "line 0" was removed
def test_unified_diffs_parse_or_raise_diff_error(text: str) -> None:
    try:
        files = parse_unified_diff(text)
    except DiffError:
        return
    for diff in files:
        assert isinstance(diff, FileDiff) and isinstance(diff.status, FileStatus)
        _consistent(diff)


@fuzz(ci=150)
@given(LINES, LINES, st.integers(0, 4), STATUSES, st.data())
@example(["a"], ["\x0cb"], 3, "modified", None)  # a form feed git does not count as a line break
def test_patches_parse_or_raise_diff_error_and_rebuild_the_base(
        base: list[str], head: list[str], context: int, status: str, data: st.DataObject | None) -> None:
    """A files-API patch made by difflib is read, and undone on the head gives back the base; the
    same patch bent by mutations parses or raises DiffError, and so does undoing it."""
    patch = _hunks(base, head, context)
    head_text = "".join(line + "\n" for line in head)
    if patch and status == "modified":
        diff = parse_file_patch("f.tf", patch, status)
        _consistent(diff)
        assert reconstruct_base(head_text, diff) == "".join(line + "\n" for line in base)
        assert diff.added_lines <= set(range(1, len(head) + 1))
    if data is None:
        return
    bent = mutate(data.draw, patch)
    try:
        diff = parse_file_patch("f.tf", bent, status)
    except DiffError:
        return
    _consistent(diff)
    try:
        rebuilt = reconstruct_base(mutate(data.draw, head_text, most=2), diff)
    except DiffError:
        return
    assert isinstance(rebuilt, str)


@fuzz(ci=100)
@example("@@ -1,1 +0,1 @@\n-a\n+b\n", "modified").via("a comment on line 0 was commentable")
@given(mutants([_hunks(git_lines(a), git_lines(b), 3) for a, b in zip(all_seeds()[:-1], all_seeds()[1:],
                                                                        strict=True)][:40]), STATUSES)
def test_fixture_patches_bent_parse_or_raise_diff_error(patch: str, status: str) -> None:
    try:
        diff = parse_file_patch("x.tf", patch, status)
    except DiffError:
        return
    _consistent(diff)
