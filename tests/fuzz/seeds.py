"""Seeds and mutations for the fuzz tests: the repository's own fixtures, bent the way an attacker
(or an unlucky editor) bends a file — flipped bytes, cut-offs, duplicated spans, NUL, U+2028,
deep brackets, template marks, very long lines.

The budget is short in CI and derandomized, so a CI run is the same run every time; set
`FUZZ_EXAMPLES` (e.g. `FUZZ_EXAMPLES=20000`) to run a long, randomized budget by hand. The
per-test timeout grows with it (`FUZZ_TIMEOUT` seconds overrides; 0 means none).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from bot.engine.lines import git_lines
from bot.engine.model import ParsedFile
from bot.engine.parsers.families import DOCKERFILE, JSON, TERRAFORM, YAML, classify

__all__ = ["BUDGET", "ODD", "budget", "check_parsed", "fuzz", "mutants", "mutate", "seeds_for", "text_of"]

ROOT = Path(__file__).resolve().parents[2]
SEED_DIRS = (ROOT / "tests" / "fixtures", ROOT / "bot" / "examples")

_LONG = os.environ.get("FUZZ_EXAMPLES")
BUDGET = int(_LONG) if _LONG else 0


def budget(ci: int) -> int:
    """Examples for one test: `ci` in CI, FUZZ_EXAMPLES by hand."""
    return BUDGET or ci


def _timeout() -> float:
    if "FUZZ_TIMEOUT" in os.environ:
        return float(os.environ["FUZZ_TIMEOUT"])
    return 120.0 if not BUDGET else 0.0  # a long budget runs as long as it needs


F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


class Draw(Protocol):
    """How a mutation draws its choices: `st.composite`'s `draw` or `st.data().draw`."""

    def __call__(self, strategy: st.SearchStrategy[T], /) -> T: ...


def fuzz(ci: int) -> Callable[[F], F]:
    """Hypothesis settings and a pytest timeout for one fuzz test (`ci` examples in CI)."""
    chosen = settings(
        max_examples=budget(ci),
        deadline=None,
        derandomize=not BUDGET,  # CI sees the same inputs every run; a long run explores
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    if not BUDGET:
        chosen = settings(chosen, database=None)  # a long run keeps what it finds in .hypothesis/

    def wrap(test: F) -> F:
        marked: F = pytest.mark.timeout(_timeout())(chosen(test))
        return marked

    return wrap


def text_of(path: Path) -> str:
    """A file as the engine reads one: UTF-8 with bad bytes replaced."""
    return path.read_bytes().decode("utf-8", errors="replace")


@cache
def _all_fixtures() -> tuple[tuple[str, str], ...]:
    found = []
    for folder in SEED_DIRS:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                found.append((path.relative_to(folder).as_posix(), text_of(path)))
    return tuple(found)


def seeds_for(family: str, suffix: str | None = None) -> list[str]:
    """Fixture texts of one parser family (`suffix` narrows, e.g. ".tf.json" or ".tfvars")."""
    chosen = []
    for rel, text in _all_fixtures():
        if classify(rel) != family:
            continue
        if suffix is not None and not rel.lower().endswith(suffix):
            continue
        chosen.append(text)
    assert chosen, f"no fixture seeds for {family} {suffix or ''}"
    return chosen


def all_seeds() -> list[str]:
    return [text for _, text in _all_fixtures()]


# Characters and fragments that have broken parsers before: NUL, the line breaks git does not count,
# a BOM, template marks, HCL interpolations, YAML anchors and tags, heredocs, quotes and escapes.
ODD = (
    "\x00", "\u2028", "\u2029", "\x85", "\x0c", "\x0b", "\r", "\r\n", "\t", "\ufeff", "\x1b", "\x7f", "\ufffd",
    "{{", "}}", "{{ .Values.x }}", "{%", "{#", "${", "${{", "%{", "}", "]", ")", "\\", "\\\n", "`", '"', "'",
    "<<EOF\n", "<<-EOF\n", "EOF\n", "#", "//", "/*", "*/", "---\n", "...\n", "- ", ": ", "? ", "&a ", "*a ",
    "!Ref ", "!GetAtt ", "!!python/object:os.system ", "<<: *a\n", "|\n", ">-\n", "%YAML 1.2\n", "@@ -1 +1 @@\n",
    "\n+", "\n-", "\n ", "\\ No newline at end of file\n", "diff --git a/x b/x\n", "\U0001f600", "é", "\u202e",
)


def _flip(draw: Draw, text: str) -> str:
    raw = bytearray(text.encode("utf-8", "surrogatepass"))
    if not raw:
        return text
    index = draw(st.integers(0, len(raw) - 1))
    raw[index] ^= 1 << draw(st.integers(0, 7))
    return raw.decode("utf-8", errors="replace")


def _truncate(draw: Draw, text: str) -> str:
    return text[: draw(st.integers(0, len(text)))]


def _span(draw: Draw, text: str) -> tuple[int, int]:
    start = draw(st.integers(0, len(text)))
    return start, draw(st.integers(start, min(len(text), start + 400)))


def _duplicate(draw: Draw, text: str) -> str:
    start, end = _span(draw, text)
    at = draw(st.integers(0, len(text)))
    return text[:at] + text[start:end] * draw(st.integers(1, 3)) + text[at:]


def _delete(draw: Draw, text: str) -> str:
    start, end = _span(draw, text)
    return text[:start] + text[end:]


def _insert(draw: Draw, text: str) -> str:
    piece = draw(st.one_of(st.sampled_from(ODD), st.text(max_size=8)))
    at = draw(st.integers(0, len(text)))
    return text[:at] + piece + text[at:]


def _deep(draw: Draw, text: str) -> str:
    opener, closer = draw(st.sampled_from([("[", "]"), ("{", "}"), ("(", ")"), ("[{", "}]"),
                                                ('{"a":', "}"), ("- ", ""), ("a:\n ", "")]))
    depth = draw(st.sampled_from([10, 65, 200, 1500]))
    closed = draw(st.booleans())
    at = draw(st.integers(0, len(text)))
    return text[:at] + opener * depth + (closer * depth if closed else "") + text[at:]


def _long_line(draw: Draw, text: str) -> str:
    unit = draw(st.sampled_from(["a", " ", "\\", '"', "A1", "x=", "'", "${a}", "\t"]))
    at = draw(st.integers(0, len(text)))
    return text[:at] + unit * draw(st.sampled_from([100, 4097, 20_000])) + text[at:]


def _swap_lines(draw: Draw, text: str) -> str:
    lines = text.split("\n")
    if len(lines) < 2:
        return text
    i = draw(st.integers(0, len(lines) - 1))
    j = draw(st.integers(0, len(lines) - 1))
    lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def _indent(draw: Draw, text: str) -> str:
    lines = text.split("\n")
    i = draw(st.integers(0, max(0, len(lines) - 1)))
    lines[i] = draw(st.sampled_from(["", " ", "  ", "\t", "    "])) + lines[i].lstrip()
    return "\n".join(lines)


MUTATIONS: tuple[Callable[[Draw, str], str], ...] = (
    _flip, _truncate, _duplicate, _delete, _insert, _deep, _long_line, _swap_lines, _indent,
)


def mutate(draw: Draw, text: str, most: int = 4) -> str:
    """`text` after 0..`most` random mutations (each drawn through hypothesis, so it shrinks them)."""
    for _ in range(draw(st.integers(0, most))):
        text = draw(st.sampled_from(MUTATIONS))(draw, text)
    return text


@st.composite
def mutants(draw: Draw, seeds: Sequence[str], most: int = 4) -> str:
    """One of `seeds`, mutated (a strategy, so a failing input can be kept with `@example(text)`)."""
    return mutate(draw, draw(st.sampled_from(seeds)), most)


# A message that names a Python exception class is a parser bug that a catch-all turned into an
# error on the file: the review still fails closed, but the author is told nothing useful, and the
# fuzz tests want to hear about it.
_BUG = re.compile(r"(?:^|[\s:(])(?:[A-Z][A-Za-z]*(?:Error|Exception)|StopIteration|KeyboardInterrupt)\b")


def check_parsed(parsed: ParsedFile, path: str, text: str) -> None:
    """What every parser promises on any input: a result for that path, errors that are readable
    messages with a line inside the file, resources whose lines are inside the file."""
    assert isinstance(parsed, ParsedFile)
    assert parsed.path == path
    count = max(1, len(git_lines(text)))  # the lines GitHub shows
    for error in parsed.errors:
        assert error.path == path
        assert error.message and not _BUG.search(error.message), error.message
        assert error.line is None or 1 <= error.line <= count, (error.line, count, error.message)
    for resource in parsed.resources:
        assert resource.path == path
        assert 1 <= resource.line <= resource.end_line <= count, (resource.address, resource.line,
                                                                 resource.end_line, count)


FAMILIES = {TERRAFORM: "main.tf", YAML: "deploy.yaml", JSON: "template.json", DOCKERFILE: "Dockerfile"}
