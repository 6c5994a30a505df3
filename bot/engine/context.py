"""What a rule may see beyond its own resource: the other resources of its module or file, and
the base version of a resource the change touched.

Rules stay pure and cheap because this is all they get (`bot.engine.rule.RuleContext`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from bot.engine.model import Resource
from bot.engine.selection import group_key, reference_names


class BaseVersions:
    """The base side of a change, looked up by (group at head, address).

    A Terraform resource keeps its identity within its module directory, whichever file of the
    module holds it (a renamed file, a block moved to another file); any other resource within
    its file, followed through a rename (`head_paths`: base path -> head path). A resource whose
    type changed under the same address is a replacement, not a base version.
    """

    def __init__(self, resources: Iterable[Resource] = (), head_paths: Mapping[str, str] | None = None) -> None:
        renamed = head_paths or {}
        self._by_key: dict[tuple[str, str], Resource] = {}
        for resource in resources:
            if resource.source != "terraform" and resource.path in renamed:
                key = group_key(replace(resource, path=renamed[resource.path]))
            else:
                key = group_key(resource)
            self._by_key.setdefault((key, resource.address), resource)

    def of(self, resource: Resource) -> Resource | None:
        found = self._by_key.get((group_key(resource), resource.address))
        if found is None or (found.source, found.kind, found.type) != (resource.source, resource.kind, resource.type):
            return None
        return found


class ModuleContext:
    """The RuleContext rules see: the other resources of the same module or file, and the base."""

    def __init__(self, groups: Mapping[str, Sequence[Resource]], base: BaseVersions | None = None) -> None:
        self._groups = groups
        self._base = base or BaseVersions()

    def siblings(self, resource: Resource) -> Sequence[Resource]:
        return self._groups.get(group_key(resource), (resource,))

    def referrers(self, resource: Resource, type_: str | None = None) -> Sequence[Resource]:
        names = reference_names(resource)
        return [
            other
            for other in self.siblings(resource)
            if other is not resource and not other.references.isdisjoint(names) and (type_ is None or other.type == type_)
        ]

    def base(self, resource: Resource) -> Resource | None:
        return self._base.of(resource)
