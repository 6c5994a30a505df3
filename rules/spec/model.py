"""The typed form of a spec, as the loader validated it: nothing here reads YAML or resources."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.engine.model import Severity

FORMATS = ("terraform", "cloudformation", "kubernetes", "github-actions", "dockerfile", "text")
WORKLOADS = "workloads"  # the Kubernetes binding type meaning "every pod template"
CONTAINERS = "$containers"  # in a workloads binding: every container of the pod spec
ITEM = "$item"  # inside a for_each or some: the item itself (a scalar list's entry)
ROOT = "$root"  # `$root.<path>`: from the judged resource's format root, wherever the condition is
TEMPLATE = "$template"  # `$template.<path>`: in a workloads binding, from the pod template

Segment = str | int  # a path step: a mapping key, or a list index


@dataclass(frozen=True)
class Absent:
    """What a missing value means to a leaf test: it fails, it passes, or it reads as `value`."""

    mode: Literal["fail", "pass", "value"]
    value: Any = None


@dataclass(frozen=True)
class Ports:
    """`covers_port`'s operand: the ports asked about (spans, inclusive) and, for a block that
    holds a range as two attributes, their names (`from_port`, `to_port`) and the protocol's,
    whose `-1` / `all` / `*` covers every port."""

    spans: tuple[tuple[int, int], ...]
    text: str  # as written, for messages: `22`, `[22, 3389]`, `"1000-2000"`
    low: tuple[Segment, ...] | None = None
    high: tuple[Segment, ...] | None = None
    protocol: tuple[Segment, ...] | None = None


@dataclass(frozen=True)
class Leaf:
    """`path` and one test (`test` names it, `operand` is what it compares with)."""

    path: tuple[Segment, ...]
    text: str  # the path as written, for messages and violation keys
    test: str
    operand: Any
    absent: Absent
    insensitive: bool = False
    line: int = 0
    split: str | None = None  # a string value is read as its parts between these characters
    linear: bool = False  # `regex` / `not_regex` match with RE2 (custom rules): linear in the text


@dataclass(frozen=True)
class All:
    items: tuple[Condition, ...]
    line: int = 0


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]
    line: int = 0


@dataclass(frozen=True)
class Not:
    item: Condition
    line: int = 0


@dataclass(frozen=True)
class ForEach:
    """Every item of a list (or `$containers`) for which `where` holds satisfies `check`; no such
    item: `absent_fail`."""

    path: tuple[Segment, ...]
    text: str
    check: Condition
    absent_fail: bool = False
    line: int = 0
    where: Condition | None = None


@dataclass(frozen=True)
class Some:
    """At least one item of a list (or `$containers`) for which `where` holds satisfies `check`;
    no such item: fails unless `absent_fail` is False."""

    path: tuple[Segment, ...]
    text: str
    check: Condition
    absent_fail: bool = True
    line: int = 0
    where: Condition | None = None


@dataclass(frozen=True)
class Sibling:
    """The module (Terraform) or file (others) holds a resource of `types` for which `where` holds."""

    types: tuple[str, ...]
    where: Condition | None = None
    line: int = 0


@dataclass(frozen=True)
class Referrer:
    """The module (Terraform) or file (others) holds a resource of `types` whose attribute at one
    of `via` refers to this one (a reference, or a literal equal to this resource's value at one
    of `names`), and for which `where` holds."""

    types: tuple[str, ...]
    via: tuple[tuple[Segment, ...], ...]
    via_text: tuple[str, ...]
    names: tuple[tuple[Segment, ...], ...] = ()
    where: Condition | None = None
    line: int = 0


@dataclass(frozen=True)
class Python:
    """A check function from the explicit table (rules/spec/functions.py), judging the resource."""

    name: str
    line: int = 0


Condition = Leaf | All | AnyOf | Not | ForEach | Some | Sibling | Referrer | Python


@dataclass(frozen=True)
class Fix:
    """`set`: the text the failing literal becomes, or the value of the `key = value` line added."""

    set: str


@dataclass(frozen=True)
class Binding:
    """One format's reading of the control."""

    format: str
    types: tuple[str, ...]
    check: Condition
    skip_if: Condition | None = None
    message: str | None = None
    fix: Fix | None = None
    line: int = 0

    @property
    def workloads(self) -> bool:
        return self.format == "kubernetes" and self.types == (WORKLOADS,)


@dataclass(frozen=True)
class Spec:
    id: str
    title: str
    severity: Severity
    rationale: str
    remediation: str
    bindings: tuple[Binding, ...]
    controls: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    peers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    regression: bool = False  # judges what a change weakened against its base (`RuleContext.base`)
    path: str = ""
    line: int = 1
