"""The lock files agree with pyproject.toml: every dependency pyproject pins is locked at a version
it allows, with hashes, and the container installs exactly that lock. Read from the files alone:
no network, no resolver. When this fails, regenerate the locks with the command in their header."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_LOCK = ROOT / "requirements.lock"
TEST_LOCK = ROOT / "requirements-test.lock"

_ENTRY = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[(?P<extras>[^\]]*)\])?==(?P<version>\S+?)"
                    r"(?:\s*;[^\\]*)?\s*\\?$")
_HASH = re.compile(r"^\s+--hash=sha256:(?P<digest>[0-9a-f]{64})\s*\\?$")


@dataclass(frozen=True)
class Locked:
    version: Version
    extras: frozenset[str]
    hashes: frozenset[str]


def read_lock(text: str) -> dict[str, Locked]:
    """name -> what the lock pins, from pip-compile's `--generate-hashes` output."""
    found: dict[str, Locked] = {}
    name: str | None = None
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            name = None if not raw.startswith(" ") else name
            continue
        entry, digest = _ENTRY.match(raw), _HASH.match(raw)
        if entry is not None:
            name = canonicalize_name(entry["name"])
            extras = frozenset(canonicalize_name(e) for e in (entry["extras"] or "").split(",") if e.strip())
            assert name not in found, f"{name} is locked twice"
            found[name] = Locked(Version(entry["version"]), extras, frozenset())
        elif digest is not None and name is not None:
            locked = found[name]
            found[name] = Locked(locked.version, locked.extras, locked.hashes | {digest["digest"]})
        else:
            raise AssertionError(f"not a line pip-compile writes: {raw!r}")
    return found


def disagreements(requirements: Iterable[str], lock: Mapping[str, Locked]) -> list[str]:
    """What in `requirements` (pyproject's strings) the lock does not honour."""
    problems = []
    for text in requirements:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        locked = lock.get(name)
        if locked is None:
            problems.append(f"{requirement.name} is not in the lock")
            continue
        if not requirement.specifier.contains(locked.version, prereleases=True):
            problems.append(f"{requirement.name}: pyproject wants {requirement.specifier}, the lock has {locked.version}")
        missing = {canonicalize_name(e) for e in requirement.extras} - locked.extras
        if missing:
            problems.append(f"{requirement.name}: the lock lacks the extras {sorted(missing)}")
    problems += [f"{name} is locked without a hash" for name, locked in lock.items() if not locked.hashes]
    return problems


def _project() -> dict[str, list[str]]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {"runtime": data["dependencies"], "test": data["optional-dependencies"]["test"]}


def test_the_runtime_lock_pins_what_pyproject_pins() -> None:
    assert disagreements(_project()["runtime"], read_lock(RUNTIME_LOCK.read_text(encoding="utf-8"))) == []


def test_the_test_lock_pins_the_test_extra_and_the_runtime_lock_unchanged() -> None:
    runtime = read_lock(RUNTIME_LOCK.read_text(encoding="utf-8"))
    test = read_lock(TEST_LOCK.read_text(encoding="utf-8"))
    project = _project()
    assert disagreements(project["runtime"] + project["test"], test) == []
    changed = sorted(name for name, locked in runtime.items() if test.get(name) != locked)
    assert changed == [], "the test lock must be compiled with --constraint=requirements.lock"


def test_every_pin_in_pyproject_is_exact_or_a_deliberate_range() -> None:
    """A dependency pyproject leaves open is one the lock decides; only hishel is (githubkit's
    constraint on it is what matters), so a new open dependency is a choice someone made."""
    open_ = sorted(Requirement(r).name for r in _project()["runtime"] + _project()["test"]
                   if not str(Requirement(r).specifier).startswith("=="))
    assert open_ == ["hishel"]


@pytest.mark.parametrize("lock", [RUNTIME_LOCK, TEST_LOCK], ids=lambda p: p.name)
def test_a_lock_says_how_to_regenerate_it(lock: Path) -> None:
    header = lock.read_text(encoding="utf-8").split("\n\n", 1)[0]
    command = re.search(r"^#\s+(pip install pip-tools==\S+ && pip-compile .*)$", header, re.MULTILINE)
    assert command is not None, header
    assert "--generate-hashes" in command[1] and f"--output-file={lock.name}" in command[1]
    assert "with Python 3.11" in header  # the Python the container runs
    assert "--find-links" not in lock.read_text(encoding="utf-8")  # nothing of this machine's own


def test_the_checker_tells_disagreements() -> None:
    """The comparison above can fail: each kind of disagreement is named."""
    lock = {"pyyaml": Locked(Version("6.0.3"), frozenset(), frozenset({"0" * 64})),
            "githubkit": Locked(Version("0.16.1"), frozenset(), frozenset({"1" * 64})),
            "redis": Locked(Version("8.1.0"), frozenset(), frozenset())}
    assert disagreements(["PyYAML==6.0.4", "githubkit[auth-app]==0.16.1", "lark==1.3.1", "redis<9"], lock) == [
        "PyYAML: pyproject wants ==6.0.4, the lock has 6.0.3",
        "githubkit: the lock lacks the extras ['auth-app']",
        "lark is not in the lock",
        "redis is locked without a hash",
    ]
    text = "pyyaml==6.0.4 \\\n    --hash=sha256:" + "a" * 64 + "\n    # via compliance-bot (pyproject.toml)\n"
    assert read_lock(text) == {"pyyaml": Locked(Version("6.0.4"), frozenset(), frozenset({"a" * 64}))}


def test_the_container_installs_the_lock_with_hashes_before_the_wheel() -> None:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()]
    locked = next(i for i, line in enumerate(lines)
                  if "pip install" in line and "--require-hashes" in line and "-r /tmp/requirements.lock" in line)
    wheel = next(i for i, line in enumerate(lines) if "pip install" in line and "/wheels/" in line)
    assert locked < wheel and "--no-deps" in lines[wheel]
    assert "COPY requirements.lock /tmp/requirements.lock" in lines[:locked]
    built = [line for line in lines if line.startswith("RUN pip wheel")]
    # The build stage makes the dependencies' wheels from the lock, hash-checked, and ours without
    # dependencies: never wheels of what resolving pyproject.toml would pick.
    assert len(built) == 2 and all(("--require-hashes" in line and "-r requirements.lock" in line)
                                   != ("--no-deps" in line) for line in built)
