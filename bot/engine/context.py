"""What a rule may see beyond its own resource: the other resources of its module or file, and
the base version of a resource the change touched.

Rules stay pure and cheap because this is all they get (`bot.engine.rule.RuleContext`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import replace

from bot.engine.model import Resource
from bot.engine.rule import RuleContext
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
        self._instances: dict[tuple[str, str, str | None], Resource] = {}
        for resource in resources:
            if resource.source != "terraform" and resource.path in renamed:
                key = group_key(replace(resource, path=renamed[resource.path]))
            else:
                key = group_key(resource)
            self._by_key.setdefault((key, resource.address), resource)
            self._instances.setdefault((key, resource.address, resource.instance_key), resource)

    def of(self, resource: Resource) -> Resource | None:
        """An instance of a `count`/`for_each` resource is matched with the base's instance of the
        same key (a new key has no base), or with the base's one resource when the base's were not
        told apart (its count unknown there); one resource with the base's first instance."""
        group = group_key(resource)
        found = self._instances.get((group, resource.address, resource.instance_key))
        if found is None:
            if resource.instance_key is None:
                found = self._by_key.get((group, resource.address))
            else:
                found = self._instances.get((group, resource.address, None))
        if found is None or (found.source, found.kind, found.type) != (resource.source, resource.kind, resource.type):
            return None
        return found


class _GroupIndex:
    """One group's resources by type, by address and by the names they reference, built once, so
    a rule looking for its neighbours costs what it finds, not the size of the module: a module of
    30,000 resources is otherwise 900 million comparisons."""

    def __init__(self, members: Sequence[Resource]) -> None:
        self.members = members
        self.by_type: dict[str, list[Resource]] = {}
        self.by_address: dict[str, list[Resource]] = {}
        self.by_reference: dict[str, list[Resource]] = {}
        for position, member in enumerate(members):
            self.by_type.setdefault(member.type, []).append(member)
            self.by_address.setdefault(member.address, []).append(member)
            for name in member.references:
                self.by_reference.setdefault(name, []).append(member)
        self.position = {id(member): n for n, member in enumerate(members)}

    def in_order(self, found: Iterable[Resource]) -> list[Resource]:
        unique = {id(r): r for r in found}
        return sorted(unique.values(), key=lambda r: self.position[id(r)])


class ModuleContext:
    """The RuleContext rules see: the other resources of the same module or file, and the base."""

    def __init__(self, groups: Mapping[str, Sequence[Resource]], base: BaseVersions | None = None) -> None:
        self._groups = groups
        self._base = base or BaseVersions()
        self._indexes: dict[str, _GroupIndex] = {}

    def siblings(self, resource: Resource) -> Sequence[Resource]:
        return self._groups.get(group_key(resource), (resource,))

    def siblings_of_types(self, resource: Resource, types: Collection[str]) -> list[Resource]:
        """The siblings (`resource` included) of `types`, in the module's order."""
        index = self._index(resource)
        return index.in_order(r for t in types for r in index.by_type.get(t, ()))

    def siblings_at(self, resource: Resource, address: str) -> list[Resource]:
        """The siblings whose address is `address` (a `data` block and a resource may share one)."""
        return list(self._index(resource).by_address.get(address, ()))

    def referrers(self, resource: Resource, type_: str | None = None) -> Sequence[Resource]:
        index = self._index(resource)
        found = (r for name in reference_names(resource) for r in index.by_reference.get(name, ()))
        return [other for other in index.in_order(found)
                if other is not resource and (type_ is None or other.type == type_)]

    def base(self, resource: Resource) -> Resource | None:
        return self._base.of(resource)

    def _index(self, resource: Resource) -> _GroupIndex:
        key = group_key(resource)
        if key not in self._indexes:
            self._indexes[key] = _GroupIndex(self._groups.get(key, (resource,)))
        return self._indexes[key]


def siblings_of_types(ctx: RuleContext, resource: Resource, types: Collection[str]) -> list[Resource]:
    """`ctx`'s siblings of `resource` of `types`, through the engine's index when `ctx` is the
    engine's context (a test's hand-made context is filtered the plain way)."""
    if isinstance(ctx, ModuleContext):
        return ctx.siblings_of_types(resource, types)
    return [other for other in ctx.siblings(resource) if other.type in types]


def siblings_at(ctx: RuleContext, resource: Resource, address: str) -> list[Resource]:
    """`ctx`'s siblings of `resource` at `address`, through the index when there is one."""
    if isinstance(ctx, ModuleContext):
        return ctx.siblings_at(resource, address)
    return [other for other in ctx.siblings(resource) if other.address == address]
