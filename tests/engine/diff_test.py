"""The diff model: added, commentable and deleted lines from whole diffs and GitHub patches."""

from __future__ import annotations

import pytest

from bot.engine.diff import (
    DiffError,
    FileStatus,
    parse_file_patch,
    parse_unified_diff,
    reconstruct_base,
    whole_file_added,
)

GIT_DIFF = """\
diff --git a/main.tf b/main.tf
index 1111111..2222222 100644
--- a/main.tf
+++ b/main.tf
@@ -1,6 +1,7 @@
 resource "aws_ebs_volume" "data" {
   size = 10
-  encrypted = true
+  encrypted = false
+  type = "gp3"
 }
 
 locals {}
@@ -20,3 +21,2 @@ x
 a
-b
 c
diff --git a/old/name.yaml b/new/name.yaml
similarity index 100%
rename from old/name.yaml
rename to new/name.yaml
diff --git a/logo.png b/logo.png
new file mode 100644
index 0000000..1111111
Binary files /dev/null and b/logo.png differ
diff --git a/old.png b/old.png
deleted file mode 100644
index 1111111..0000000
Binary files a/old.png and /dev/null differ
diff --git a/gone.tf b/gone.tf
deleted file mode 100644
index 1111111..0000000
--- a/gone.tf
+++ /dev/null
@@ -1,2 +0,0 @@
-x
-y
diff --git a/new.txt b/new.txt
new file mode 100644
index 0000000..1111111
--- /dev/null
+++ b/new.txt
@@ -0,0 +1,2 @@
+hello
+world
"""


def test_whole_diff_files_and_statuses() -> None:
    files = {f.path: f for f in parse_unified_diff(GIT_DIFF)}
    assert {p: f.status for p, f in files.items()} == {
        "main.tf": FileStatus.MODIFIED,
        "new/name.yaml": FileStatus.RENAMED,
        "logo.png": FileStatus.BINARY,
        "old.png": FileStatus.REMOVED,  # a deleted binary is gone, not "binary at head"
        "gone.tf": FileStatus.REMOVED,
        "new.txt": FileStatus.ADDED,
    }
    assert files["new/name.yaml"].old_path == "old/name.yaml"
    assert files["new/name.yaml"].base_path == "old/name.yaml"
    assert files["new.txt"].base_path is None
    assert not files["logo.png"].complete
    assert not files["old.png"].exists_at_head


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("added_lines", {3, 4}),
        ("commentable_lines", {1, 2, 3, 4, 5, 6, 7, 21, 22}),
        ("deleted_after", {2, 21}),
        ("removed_base_lines", {3, 21}),
    ],
)
def test_line_sets_of_a_modified_file(field: str, expected: set[int]) -> None:
    main = parse_unified_diff(GIT_DIFF)[0]
    assert set(getattr(main, field)) == expected


def test_added_and_removed_files() -> None:
    files = {f.path: f for f in parse_unified_diff(GIT_DIFF)}
    assert files["new.txt"].added_lines == {1, 2}
    assert files["gone.tf"].removed_base_lines == {1, 2}
    assert files["gone.tf"].deleted_after == {0}
    assert not files["gone.tf"].exists_at_head


def test_github_patch_without_header() -> None:
    patch = "@@ -1,3 +1,4 @@\n a\n-b\n+c\n+d\n e"
    diff = parse_file_patch("dir/f.tf", patch, "modified")
    assert diff.status == FileStatus.MODIFIED
    assert diff.added_lines == {2, 3}
    assert diff.commentable_lines == {1, 2, 3, 4}
    assert diff.removed_base_lines == {2}


def test_github_patch_statuses_and_missing_patch() -> None:
    added = parse_file_patch("n.tf", "@@ -0,0 +1,2 @@\n+a\n+b", "added")
    assert added.status == FileStatus.ADDED and added.added_lines == {1, 2}
    removed = parse_file_patch("g.tf", "@@ -1,2 +0,0 @@\n-a\n-b", "removed")
    assert removed.status == FileStatus.REMOVED and removed.removed_base_lines == {1, 2}
    renamed = parse_file_patch("b.tf", None, "renamed", old_path="a.tf")
    assert not renamed.complete and renamed.base_path == "a.tf"
    assert renamed.touches_span(100, 200)  # no patch: the whole file counts as touched


def test_bad_patch_is_an_error() -> None:
    with pytest.raises(DiffError):
        parse_file_patch("x", "@@ -1,2 +1,2 @@\n a\n", "modified")


@pytest.mark.parametrize(
    ("span", "touched"),
    [
        ((1, 6), True),  # holds added lines 3-4
        ((5, 7), False),  # no added line, no deletion strictly inside
        ((2, 3), True),
        ((20, 22), True),  # deletion between 21 and 22
        ((21, 21), False),  # a deletion right after the span's last line is outside it
        ((30, 40), False),
    ],
)
def test_touches_span(span: tuple[int, int], touched: bool) -> None:
    main = parse_unified_diff(GIT_DIFF)[0]
    assert main.touches_span(*span) is touched


def test_reconstruct_base_undoes_the_patch() -> None:
    base = "".join(f"line {i}\n" for i in range(1, 31))
    head_lines = base.splitlines()
    head_lines[4] = "changed 5"
    head_lines.insert(10, "inserted")
    del head_lines[25]
    head = "\n".join(head_lines) + "\n"
    import difflib

    patch = "".join(list(difflib.unified_diff(base.splitlines(True), head.splitlines(True), n=2))[2:])
    diff = parse_file_patch("f.txt", patch, "modified")
    assert reconstruct_base(head, diff) == base


def test_reconstruct_base_of_removed_file() -> None:
    diff = parse_file_patch("g.tf", "@@ -1,2 +0,0 @@\n-a\n-b", "removed")
    assert reconstruct_base("", diff) == "a\nb\n"


def test_whole_file_added() -> None:
    diff = whole_file_added("x.tf", "a\nb\nc")
    assert diff.added_lines == {1, 2, 3} and diff.commentable_lines == {1, 2, 3}


@pytest.mark.parametrize("hunk", ["@@ -0,2 +1,2 @@\n-a\n+b\n c\n", "@@ -1,1 +0,1 @@\n-a\n+b\n"])
def test_a_hunk_with_lines_at_line_zero_is_an_error(hunk: str) -> None:
    """Lines count from 1: such a hunk put line 0 among the removed or commentable lines (a review
    comment there is refused by GitHub); found by tests/fuzz."""
    with pytest.raises(DiffError, match=r"^f\.tf: hunk @@ .* starts before line 1"):
        parse_file_patch("f.tf", hunk, "modified")
    with pytest.raises(DiffError, match=r"^f\.tf: hunk @@ .* starts before line 1"):
        parse_unified_diff(f"diff --git a/f.tf b/f.tf\n--- a/f.tf\n+++ b/f.tf\n{hunk}")
