"""Lines as git counts them, so a finding's line is the line GitHub shows.

Only "\n" ends a line. Python's `str.splitlines` also breaks on form feeds, vertical tabs,
U+001C..U+001E, U+0085, U+2028 and U+2029 (and a lone "\r"), which puts every later line of such a
file off by one or more from the diff a comment must land in.
"""

from __future__ import annotations

import re

__all__ = ["git_lines", "yaml_safe_breaks"]


def git_lines(text: str) -> list[str]:
    """The lines of `text`, split on "\n" only, without their ending ("\r\n" counts as one)."""
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


# YAML 1.1 readers count these as line breaks too; git does not.
_NON_GIT_BREAKS = re.compile("[\x85\u2028\u2029]|\r(?!\n)")


def yaml_safe_breaks(text: str) -> str:
    """`text` with the characters a YAML reader would count as line breaks, and git would not,
    turned into spaces (same length, so columns and offsets stay where they were)."""
    return _NON_GIT_BREAKS.sub(" ", text)
