"""What a rule may see beyond its own resource: the other resources of its module or file.

Rules stay pure and cheap because this is all they get (`bot.engine.rule.RuleContext`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.engine.model import Resource
from bot.engine.selection import group_key, reference_names


class ModuleContext:
    """The RuleContext rules see: the other resources of the same module or file."""

    def __init__(self, groups: Mapping[str, Sequence[Resource]]) -> None:
        self._groups = groups

    def siblings(self, resource: Resource) -> Sequence[Resource]:
        return self._groups.get(group_key(resource), (resource,))

    def referrers(self, resource: Resource, type_: str | None = None) -> Sequence[Resource]:
        names = reference_names(resource)
        return [
            other
            for other in self.siblings(resource)
            if other is not resource and not other.references.isdisjoint(names) and (type_ is None or other.type == type_)
        ]
