"""The shipped catalog as read (its specs, framework files, migration table and version), kept in
the user's cache folder so that a process starts without reading some 250 YAML files again.

Reading them is most of what the CLI pays before any work (the YAML reader is pure Python); what
it produces is plain data (the frozen dataclasses of rules/spec/model.py and rules/registry.py), so
it is stored as JSON with each object tagged by its class, and read back only into the classes
listed here: nothing in the file is executed or names code (no pickle). The file is named by a
key over the package version and the path, size and modification time of every catalog file
(specs, frameworks, migrations, the Python checks and the interpreter): any edit makes another
key, so a stale entry is never read. A missing, unreadable or malformed entry is read from the
YAML files as before and written again; a cache folder that cannot be written leaves the cache
off. `COMPLIANCE_BOT_CACHE=off` turns it off.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import functools
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

from bot import __version__

T = TypeVar("T")

FOLDER = "compliance-bot"
FORMAT = 2  # of the stored JSON; part of the key (2: specs stored with their bindings apart)
CATALOG_SUFFIXES = (".yml", ".py")  # specs and framework files; the Python checks and the spec interpreter


class CacheFormatError(ValueError):
    """A stored entry that is not what this module writes: it is read from the YAML files instead."""


def cache_dir() -> Path | None:
    """`$XDG_CACHE_HOME/compliance-bot` (default `~/.cache/compliance-bot`); None when turned off."""
    if os.environ.get("COMPLIANCE_BOT_CACHE", "").lower() in ("off", "0", "no", "false"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / FOLDER


def catalog_entries(folder: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    """Every catalog file below `folder` (specs, framework files, the Python checks), by path in
    name order: what the rule set is built from, and so what its cache is keyed by."""
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.startswith((".", "__pycache__")):
            continue
        path = f"{prefix}{entry.name}"
        if entry.is_dir():
            yield from catalog_entries(entry, f"{path}/")
        elif entry.name.endswith(CATALOG_SUFFIXES):
            yield path, entry


def _stats(folder: Traversable) -> Iterator[str]:
    for path, entry in catalog_entries(folder):
        if isinstance(entry, Path):
            stat = entry.stat()
            yield f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}"
        else:  # not a plain folder (a zip): its content is the key
            yield f"{path}\0{hashlib.sha256(entry.read_bytes()).hexdigest()}"


def catalog_key(folder: Traversable | None = None) -> str:
    """What the entries of this catalog are named by: version, format, Python, and every file's
    path, size and modification time."""
    digest = hashlib.sha256(f"{__version__}\0{FORMAT}\0{sys.version_info[:2]}\n".encode())
    for line in _stats(folder or resources.files("rules")):
        digest.update(line.encode() + b"\n")
    return digest.hexdigest()[:32]


@functools.cache
def _shipped_key() -> str:
    return catalog_key()


def encode(value: object, classes: Mapping[str, type]) -> Any:
    """`value` as JSON data, each dataclass and enum tagged with its class name (one of `classes`)."""
    if value is None or isinstance(value, bool | int | float | str) and not isinstance(value, enum.Enum):
        return value
    if isinstance(value, enum.Enum):
        _known(type(value), classes)
        return {"$enum": type(value).__name__, "value": value.value}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        _known(type(value), classes)
        return {"$class": type(value).__name__,
                "fields": {f.name: encode(getattr(value, f.name), classes) for f in dataclasses.fields(value)}}
    if isinstance(value, tuple):
        return {"$tuple": [encode(item, classes) for item in value]}
    if isinstance(value, list):
        return [encode(item, classes) for item in value]
    if isinstance(value, dict):
        return {"$dict": [[encode(k, classes), encode(v, classes)] for k, v in value.items()]}
    raise CacheFormatError(f"cannot store a {type(value).__name__}")


def _known(cls: type, classes: Mapping[str, type]) -> None:
    if classes.get(cls.__name__) is not cls:
        raise CacheFormatError(f"{cls.__name__} is not a class the cache stores")


@functools.cache
def _init_fields(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(cls) if f.init)


_PLAIN = frozenset({str, int, float, bool, type(None)})


def decode(data: Any, classes: Mapping[str, type]) -> Any:
    """The value `encode` stored; CacheFormatError on anything else (a class not in `classes`).
    A plain value inside is taken as it is, without a call (most of what is stored: ids, names)."""
    kind = type(data)
    if kind in _PLAIN:
        return data
    if kind is list:
        return [item if type(item) in _PLAIN else decode(item, classes) for item in data]
    if kind is not dict or len(data) not in (1, 2):
        raise CacheFormatError("not a stored value")
    if "$tuple" in data and type(items := data["$tuple"]) is list:
        return tuple([item if type(item) in _PLAIN else decode(item, classes) for item in items])
    if "$dict" in data and isinstance(data["$dict"], list):
        pairs = data["$dict"]
        if not all(type(pair) is list and len(pair) == 2 for pair in pairs):
            raise CacheFormatError("not a stored mapping")
        return {k if type(k) in _PLAIN else decode(k, classes): v if type(v) in _PLAIN else decode(v, classes)
                for k, v in pairs}
    cls = classes.get(str(data.get("$class", data.get("$enum", ""))))
    if cls is None:
        raise CacheFormatError("a class the cache does not store")
    if "$enum" in data and issubclass(cls, enum.Enum):
        try:
            return cls(data.get("value"))
        except ValueError:
            raise CacheFormatError("not a value of its enum") from None
    fields = data.get("fields")
    if "$class" in data and dataclasses.is_dataclass(cls) and isinstance(fields, dict):
        if fields.keys() != _init_fields(cls):
            raise CacheFormatError(f"not the fields of {cls.__name__}")
        return cls(**{name: value if type(value) in _PLAIN else decode(value, classes) for name, value in fields.items()})
    raise CacheFormatError("not a stored value")


def cached(section: str, make: Callable[[], T], classes: Mapping[str, type], key: str | None = None) -> T:
    """`make()`, or what an earlier process stored for `section` under this catalog's key."""
    folder = cache_dir()
    if folder is None:
        return make()
    name = f"{section}-{key or _shipped_key()}.json"
    try:
        return decode(json.loads((folder / name).read_text(encoding="utf-8")), classes)  # type: ignore[no-any-return]
    except (OSError, ValueError, TypeError, RecursionError):
        pass  # absent or not ours (CacheFormatError is a ValueError): read the catalog itself
    value = make()
    try:
        _store(folder, section, name, json.dumps(encode(value, classes), separators=(",", ":")))
    except (OSError, CacheFormatError):
        pass  # a read-only home or a value of another shape: the next process reads the YAML again
    return value


KEPT_CATALOGS = 4
"""Entries of this many catalogs are kept per section, the most recently written: two installs on
one machine (a pre-commit hook's and a CLI's, two checkouts) would otherwise each remove the
other's entry, and every run of either would read the YAML files again."""


def _store(folder: Path, section: str, name: str, text: str) -> None:
    """Write atomically (a reader sees the old entry or the whole new one), readable by the user
    only, and remove this section's entries of older catalogs past KEPT_CATALOGS."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{section}-", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, folder / name)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    others = []
    for old in folder.glob(f"{section}-*.json"):
        if old.name != name:
            with contextlib.suppress(OSError):
                others.append((old.stat().st_mtime_ns, old))
    for _, old in sorted(others, reverse=True)[KEPT_CATALOGS - 1:]:
        old.unlink(missing_ok=True)
