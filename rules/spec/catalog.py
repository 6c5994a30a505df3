"""The shipped specs: every `rules/specs/<pack>/<RULE-ID>.yml`, read as package data, validated
and compiled once.

A process that finds them in the catalog cache (rules/spec/cache.py) reads back each spec's
metadata at once and its bindings (most of what a spec holds) only when its rule first judges a
resource: a small change meets a few dozen of the catalog's rules, and decoding all of them was
a third of a CLI check's start-up."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable

from bot.engine.model import Severity
from bot.engine.rule import Rule
from rules.spec import model
from rules.spec.cache import CacheFormatError, cached, decode, encode
from rules.spec.compile import compile_parts, judged
from rules.spec.model import Binding, Spec


@dataclass(frozen=True)
class StoredSpec:
    """A spec as the catalog cache keeps it: `spec` without its bindings, what the rule set
    indexes its rule by (`sources`, `types`: `compile.judged` of the bindings), and the bindings
    as `cache.encode` writes them, in JSON, decoded when the rule first judges a resource."""

    spec: Spec
    sources: tuple[str, ...]
    types: tuple[str, ...]
    bindings: str


# What a spec is made of: the classes the catalog cache (rules/spec/cache.py) reads back.
SPEC_CLASSES: dict[str, type] = {cls.__name__: cls for cls in (
    model.Absent, model.Ports, model.Leaf, model.All, model.AnyOf, model.Not, model.ForEach, model.Some,
    model.Sibling, model.Referrer, model.Python, model.Fix, model.Binding, model.Spec, Severity)}
STORED_CLASSES: dict[str, type] = {**SPEC_CLASSES, StoredSpec.__name__: StoredSpec}


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


def _folder() -> Traversable:
    return resources.files("rules") / "specs"


def _stored(spec: Spec) -> StoredSpec:
    sources, types = judged(spec.bindings)
    return StoredSpec(replace(spec, bindings=()), tuple(sorted(sources)), tuple(sorted(types)),
                      json.dumps(encode(spec.bindings, SPEC_CLASSES), separators=(",", ":")))


class _Bindings:
    """One rule's bindings: those just read from the YAML files, else decoded from the cache
    when first asked for. A stored value that is not bindings (a damaged cache file) is read
    from the YAML files instead, so a rule never judges with anything but its spec."""

    __slots__ = ("_stored", "_value")

    def __init__(self, stored: StoredSpec, value: tuple[Binding, ...] | None) -> None:
        self._stored = stored
        self._value = value

    def __call__(self) -> tuple[Binding, ...]:
        if self._value is None:
            self._value = self._decoded()
        return self._value

    def _decoded(self) -> tuple[Binding, ...]:
        stored = self._from_cache()
        if stored is not None:
            return stored
        read = _yaml_bindings().get(self._stored.spec.id)
        if read is None:
            raise CacheFormatError(f"{self._stored.spec.id}: stored, but no such spec in rules/specs")
        return read

    def _from_cache(self) -> tuple[Binding, ...] | None:
        """The stored bindings, or None when what is stored is not bindings."""
        try:
            value = decode(json.loads(self._stored.bindings), SPEC_CLASSES)
        except (ValueError, TypeError, RecursionError):  # CacheFormatError is a ValueError
            return None
        return value if isinstance(value, tuple) and all(isinstance(b, Binding) for b in value) else None


@lru_cache(maxsize=1)
def _yaml_bindings() -> dict[str, tuple[Binding, ...]]:
    """Each spec's bindings as the YAML files give them: read only after a damaged cache entry."""
    return {spec.id: spec.bindings for spec in _read_specs(_folder())}


@lru_cache(maxsize=1)
def _catalog() -> tuple[tuple[StoredSpec, _Bindings], ...]:
    """Every shipped spec, sorted by id, as stored, with its bindings (a malformed spec raises
    SpecError: never shipped)."""
    folder = _folder()
    if not folder.is_dir():
        return ()
    read: dict[str, tuple[Binding, ...]] = {}

    def from_yaml() -> tuple[StoredSpec, ...]:
        specs = _read_specs(folder)
        read.update((spec.id, spec.bindings) for spec in specs)
        return tuple(_stored(spec) for spec in specs)

    stored = cached("specs", from_yaml, STORED_CLASSES)
    return tuple((entry, _Bindings(entry, read.get(entry.spec.id))) for entry in stored)


@lru_cache(maxsize=1)
def shipped_specs() -> tuple[Spec, ...]:
    """Every spec under rules/specs, sorted by id, whole (every binding decoded)."""
    return tuple(replace(entry.spec, bindings=bindings()) for entry, bindings in _catalog())


def _read_specs(folder: Traversable) -> tuple[Spec, ...]:
    from rules.spec.loader import load_specs  # the YAML reader: only when the cache has no entry

    return load_specs(_files(folder, "rules/specs"))


@lru_cache(maxsize=1)
def spec_rules() -> tuple[Rule, ...]:
    """Every shipped rule; a rule's bindings are decoded when it first judges a resource."""
    return tuple(compile_parts(entry.spec, bindings, frozenset(entry.sources), frozenset(entry.types))
                 for entry, bindings in _catalog())


def decode_all() -> None:
    """Decode every rule's bindings now (a process that reviews many changes, at start-up)."""
    for _, bindings in _catalog():
        bindings()
