"""The shipped specs: every `rules/specs/<pack>/<RULE-ID>.yml`, read as package data, validated
and compiled once."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable

from bot.engine.model import Severity
from bot.engine.rule import Rule
from rules.spec import model
from rules.spec.cache import cached
from rules.spec.compile import compile_spec
from rules.spec.model import Spec

# What a spec is made of: the classes the catalog cache (rules/spec/cache.py) reads back.
SPEC_CLASSES: dict[str, type] = {cls.__name__: cls for cls in (
    model.Absent, model.Ports, model.Leaf, model.All, model.AnyOf, model.Not, model.ForEach, model.Some,
    model.Sibling, model.Referrer, model.Python, model.Fix, model.Binding, model.Spec, Severity)}


def _files(folder: Traversable, prefix: str) -> Iterator[tuple[str, str]]:
    """`<pack>/<ID>.yml` files, exactly what pyproject.toml ships (`specs/*/*.yml`); anything else
    there is an error rather than a spec silently left out of the wheel."""
    from rules.spec.loader import SpecError

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
    return cached("specs", lambda: _read_specs(folder), SPEC_CLASSES)


def _read_specs(folder: Traversable) -> tuple[Spec, ...]:
    from rules.spec.loader import load_specs  # the YAML reader: only when the cache has no entry

    return load_specs(_files(folder, "rules/specs"))


@lru_cache(maxsize=1)
def spec_rules() -> tuple[Rule, ...]:
    return tuple(compile_spec(spec) for spec in shipped_specs())
