"""The shipped specs: every `rules/specs/<pack>/<RULE-ID>.yml`, read as package data, validated
and compiled once."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable

from bot.engine.rule import Rule
from rules.spec.compile import compile_spec
from rules.spec.loader import load_specs
from rules.spec.model import Spec


def _files(folder: Traversable, prefix: str) -> Iterator[tuple[str, str]]:
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            yield from _files(entry, f"{prefix}/{entry.name}")
        elif entry.name.endswith(".yml"):
            yield f"{prefix}/{entry.name}", entry.read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def shipped_specs() -> tuple[Spec, ...]:
    """Every spec under rules/specs, sorted by id (a malformed one raises SpecError: never shipped)."""
    folder = resources.files("rules") / "specs"
    if not folder.is_dir():
        return ()
    return load_specs(_files(folder, "rules/specs"))


@lru_cache(maxsize=1)
def spec_rules() -> tuple[Rule, ...]:
    return tuple(compile_spec(spec) for spec in shipped_specs())
