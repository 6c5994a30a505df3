"""Helpers shared by the YAML reader tests."""

from __future__ import annotations

import textwrap


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")
