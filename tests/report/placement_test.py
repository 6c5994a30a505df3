"""Labels of a finding against a file's diff: in the diff or not, which line, nearest line,
whether a one-click suggestion fits."""

from __future__ import annotations

from bot.engine.diff import parse_file_patch
from bot.report.placement import Placement, placement
from tests.github.review_test import finding

# Lines 1-3 context, 4-6 added, 7 context; 20 lies far outside the hunk.
DIFF = parse_file_patch("main.tf", "@@ -1,4 +1,7 @@\n a\n b\n c\n+d\n+e\n+f\n g", "modified")


def test_a_file_outside_the_change_has_no_place() -> None:
    assert placement(finding(5), None) == Placement(in_diff=False)


def test_a_diff_line_takes_the_comment_and_a_one_line_suggestion() -> None:
    assert placement(finding(5), DIFF) == Placement(in_diff=True, line=5, suggestion_fits=True)
    assert placement(finding(2), DIFF) == Placement(in_diff=True, line=2, suggestion_fits=True)  # context lines too


def test_a_span_inside_the_diff_is_a_multi_line_comment() -> None:
    assert placement(finding(4, end=6), DIFF) == Placement(in_diff=True, line=6, start_line=4, suggestion_fits=True)


def test_a_span_leaving_the_diff_keeps_its_first_line_without_suggestion() -> None:
    assert placement(finding(6, end=9), DIFF) == Placement(in_diff=True, line=6)


def test_an_off_diff_line_goes_to_the_resources_nearest_diff_line() -> None:
    assert placement(finding(20, span=(5, 25)), DIFF) == Placement(in_diff=True, line=7, nearest=True)


def test_an_off_diff_line_of_a_resource_the_hunks_miss_has_no_line() -> None:
    assert placement(finding(20, span=(15, 25)), DIFF) == Placement(in_diff=True)
    assert placement(finding(20), DIFF) == Placement(in_diff=True)  # no resource (a secret): no nearest line
