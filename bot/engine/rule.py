"""What a rule is: a pure function plus the metadata a reviewer and an auditor need."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.engine.model import Resource, Severity, Violation


class RuleContext(Protocol):
    """What a rule may ask about the world beyond its own resource (read-only).

    Only the resources of the same Terraform module directory (or the same file for other
    sources) are visible, so rules stay pure and cheap; and, for a change, the base version of a
    resource, so a rule can tell what the change weakened.
    """

    def siblings(self, resource: Resource) -> Sequence[Resource]:
        """All resources parsed from the same module directory / file, `resource` included."""
        ...

    def referrers(self, resource: Resource, type_: str | None = None) -> Sequence[Resource]:
        """Sibling resources whose `references` name `resource.address` (optionally of one type)."""
        ...

    def base(self, resource: Resource) -> Resource | None:
        """The same resource before the change: same address and type in the same Terraform module
        (whichever file), or the same logical id in the same file (followed through a rename).
        None for a new resource, a whole-tree scan, or a base that could not be read."""
        ...


CheckFn = Callable[[Resource, RuleContext], Iterable[Violation]]


@dataclass(frozen=True)
class Rule:
    """A compliance rule.

    - `id`: stable forever (findings, suppressions and fingerprints depend on it), e.g. "CB-AWS-001".
    - `sources`: the `Resource.source` values it applies to; `types`: the `Resource.type`
      values it applies to (empty = every type of those sources).
    - `remediation`: how to fix it, in one or two sentences a developer can act on.
    - `rationale`: why it matters (what the control asks for).
    - `check`: pure function of (resource, context) -> violations. It never raises on odd
      input, and it never reports on an `Unknown` value alone.
    - `regression`: the rule reports what a change weakened against the base (`context.base`)
      rather than a minimum; a policy may make such findings notices (`regressions: notice`).
    - `controls`: framework key -> control ids the rule enforces, declared with the rule (a spec's
      `controls:`); merged with the framework files' own `rules:` lists by the registry.
    - `peers`: scanner name ("checkov", "kics") -> the equivalent check ids whose semantics agree,
      so accuracy can be scored on the peers' labelled examples.
    - `aliases`: earlier ids of this control (a per-format rule merged into one control keeps
      matching suppressions and policies that name its old id).
    """

    id: str
    title: str
    severity: Severity
    sources: frozenset[str]
    types: frozenset[str]
    rationale: str
    remediation: str
    check: CheckFn
    regression: bool = False
    controls: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    peers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    def applies_to(self, resource: Resource) -> bool:
        return resource.source in self.sources and (not self.types or resource.type in self.types)
