"""The shipped specs: every `rules/specs/<pack>/<RULE-ID>.yml`, read as package data, validated
and compiled once."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable

from bot.engine.rule import Rule
from rules.spec.compile import compile_spec
from rules.spec.loader import SpecError, load_specs
from rules.spec.model import Spec


def _files(folder: Traversable, prefix: str) -> Iterator[tuple[str, str]]:
    """`<pack>/<ID>.yml` files, exactly what pyproject.toml ships (`specs/*/*.yml`); anything else
    there is an error rather than a spec silently left out of the wheel."""
    for pack in sorted(folder.iterdir(), key=lambda e: e.name):
        if pack.name.startswith((".", "__")):
            continue
        if not pack.is_dir():
            raise SpecError(f"{prefix}/{pack.name}:1: specs live in a pack folder: rules/specs/<pack>/<ID>.yml")
        for entry in sorted(pack.iterdir(), key=lambda e: e.name):
            where = f"{prefix}/{pack.name}/{entry.name}"
            if entry.name.startswith((".", "__")):
                continue
            if entry.is_dir() or not entry.name.endswith(".yml"):
                raise SpecError(f"{where}:1: a spec file is named <ID>.yml, directly in its pack folder")
            yield where, entry.read_text(encoding="utf-8")


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
