"""A broken file is one FileError with a readable message on the right line."""

from __future__ import annotations

import pytest

from bot.engine.model import FileError
from bot.engine.parsers.terraform import MAX_NESTING, parse_module


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('resource "a_b" "c" {\n  x = 1\n  y =\n}\n', 3, "unexpected"),
        ('resource "a_b" "c" {\n  x = 1\n  y = 2 @\n}\n', 3, "unexpected '@'"),
        ('resource "a_b" "c" {\n  x = 1\n', 2, "end of file"),
        ('resource "a_b" "c" {\n  x 1\n}\n', 2, "expected"),
        ('resource "a_b" "c" {\n  x = 1\n  x = 2\n}\n', 3, "x already defined"),
        ('a = ' + "[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1) + "\n", 1, "nesting deeper"),
        ("x {\n" * (MAX_NESTING + 2) + "}\n" * (MAX_NESTING + 2), MAX_NESTING + 1, "nesting deeper"),
    ],
)
def test_a_broken_file_is_a_file_error_with_its_line(text: str, line: int, words: str) -> None:
    result = parse_module({"bad.tf": text})["bad.tf"]
    assert result.resources == ()
    (error,) = result.errors
    assert isinstance(error, FileError)
    assert (error.path, error.line) == ("bad.tf", line)
    assert words in error.message
