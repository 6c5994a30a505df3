"""Where a finding can be shown on a pull request, as labels a reporter reads (reviewdog's idea:
label results instead of dropping them, and let each reporter decide what a label means).

GitHub accepts a review comment only on a line inside a diff hunk (an added or context line of
the RIGHT side). A finding whose own line is outside the hunks but inside a resource the change
touched can still be commented on the resource's nearest line that is inside them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.engine.diff import FileDiff
from bot.engine.model import Finding


@dataclass(frozen=True)
class Placement:
    """The labels of one finding against one file's diff.

    - `in_diff`: the file is part of the change at all.
    - `line`: the line a comment can go on (None: nowhere in the diff; annotation only).
    - `start_line`: first line of a multi-line comment (the finding spans several diff lines).
    - `nearest`: `line` is the resource's nearest diff line, not the finding's own.
    - `suggestion_fits`: a one-click suggestion replacing the finding's lines can go there.
    """

    in_diff: bool
    line: int | None = None
    start_line: int | None = None
    nearest: bool = False
    suggestion_fits: bool = False


def placement(finding: Finding, diff: FileDiff | None) -> Placement:
    """Label `finding` against `diff` (None when its file is not in the change)."""
    if diff is None:
        return Placement(in_diff=False)
    commentable = diff.commentable_lines
    if finding.line not in commentable:
        if finding.resource_span is None:
            return Placement(in_diff=True)
        first, last = finding.resource_span
        near = sorted((abs(n - finding.line), n) for n in commentable if first <= n <= last)
        return Placement(in_diff=True, line=near[0][1], nearest=True) if near else Placement(in_diff=True)
    span = range(finding.line, finding.end_line + 1)
    if finding.end_line > finding.line and all(n in commentable for n in span):
        return Placement(in_diff=True, line=finding.end_line, start_line=finding.line, suggestion_fits=True)
    return Placement(in_diff=True, line=finding.line, suggestion_fits=finding.end_line == finding.line)
