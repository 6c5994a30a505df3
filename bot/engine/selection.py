"""Which resources a change touched: the heart of the product.

Rules run only on resources whose span holds an added line or a deletion, plus resources
*related* to a touched or deleted one (a Terraform resource that references it or is
referenced by it in the same module), because a change can break compliance of a resource
whose own file did not change: removing an encryption configuration re-checks its bucket.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.engine.diff import FileDiff
from bot.engine.model import CallSite, Resource
from bot.engine.parsers import module_dir

# Values flow through these without being resources themselves, so a change to one re-checks
# everything that reads it, however many variables/locals stand in between.
PASS_THROUGH_KINDS = frozenset({"variable", "locals", "variable_value"})
RELATED_SOURCES = frozenset({"terraform", "cloudformation"})


def group_key(resource: Resource) -> str:
    """Resources that can see each other: one instance of a Terraform module directory (the
    directory, and the module address of the instance), else one file."""
    if resource.source == "terraform":
        return f"{directory_key(resource.path)}#{resource.instance}"
    return f"file:{resource.path}"


def directory_key(path: str) -> str:
    """What every instance of a Terraform module directory shares (base-side seeds apply to all)."""
    return f"tf:{module_dir(path)}"


def reference_names(resource: Resource) -> frozenset[str]:
    """Names other resources use to refer to this one."""
    if resource.source == "cloudformation" and resource.address.startswith("Resources."):
        return frozenset({resource.address, resource.address[len("Resources.") :]})
    return frozenset({resource.address})


def touched_resources(resources: Iterable[Resource], diffs: Mapping[str, FileDiff]) -> list[Resource]:
    """Head resources whose own span the change added lines to or deleted lines from."""
    touched = []
    for resource in resources:
        diff = diffs.get(resource.path)
        if diff is not None and diff.touches_span(resource.line, resource.end_line):
            touched.append(resource)
    return touched


@dataclass
class Seeds:
    """What base resources the change modified or deleted point at, in one group.

    `referenced`: names they referred to (deleting an SSE configuration re-checks the bucket it
    named). `changed`: their own names (whatever still refers to them is re-checked).
    """

    referenced: set[str] = field(default_factory=set)
    changed: set[str] = field(default_factory=set)


def base_seeds(base_resources: Iterable[Resource], diffs_by_base_path: Mapping[str, FileDiff]) -> dict[str, Seeds]:
    """Per group, the names that base resources the change modified or deleted hand over."""
    seeds: dict[str, Seeds] = defaultdict(Seeds)
    for resource in base_resources:
        if resource.source not in RELATED_SOURCES:
            continue
        diff = diffs_by_base_path.get(resource.path)
        if diff is None or not diff.touches_base_span(resource.line, resource.end_line):
            continue
        head_path = diff.path if diff.exists_at_head else resource.path
        key = directory_key(head_path) if resource.source == "terraform" else group_key(_moved(resource, head_path))
        seeds[key].referenced.update(resource.references)
        seeds[key].changed.update(reference_names(resource))
    return seeds


def _moved(resource: Resource, path: str) -> Resource:
    from dataclasses import replace

    return replace(resource, path=path) if path != resource.path else resource


class _GroupIndex:
    """Who is called what, and who reads whom, within one group: lookups instead of scans, so
    a whole-tree scan (every resource touched) stays linear in the number of references."""

    def __init__(self, group: Sequence[Resource]) -> None:
        self.named: dict[str, list[Resource]] = defaultdict(list)
        self.readers: dict[str, list[Resource]] = defaultdict(list)
        for resource in group:
            for name in reference_names(resource):
                self.named[name].append(resource)
            for name in resource.references:
                self.readers[name].append(resource)

    def called(self, names: Iterable[str]) -> list[Resource]:
        return [r for name in names for r in self.named.get(name, ())]

    def reading(self, names: Iterable[str]) -> list[Resource]:
        return [r for name in names for r in self.readers.get(name, ())]


def expand_related(
    touched: Sequence[Resource],
    groups: Mapping[str, Sequence[Resource]],
    seeds: Mapping[str, Seeds] | None = None,
) -> list[Resource]:
    """Add resources related to the touched ones (and to the base seeds) within their groups.

    One hop in both directions (what a touched resource references, and what references it);
    readers of a touched variable or local are followed further through other variables and
    locals, because the changed value flows on through them.
    """
    selected: dict[tuple[str, str, str], Resource] = {r.key: r for r in touched}
    if all(r.key in selected for members in groups.values() for r in members):
        return list(selected.values())  # everything is touched (a whole-tree scan): nothing to add
    indexes: dict[str, _GroupIndex] = {}

    def index(key: str) -> _GroupIndex:
        if key not in indexes:
            indexes[key] = _GroupIndex(groups.get(key, ()))
        return indexes[key]

    def add(resources: Iterable[Resource]) -> None:
        for resource in resources:
            selected.setdefault(resource.key, resource)

    for key, seed in (seeds or {}).items():
        for name in [g for g in groups if g == key or g.startswith(f"{key}#")]:
            add(index(name).called(seed.referenced))
            add(index(name).reading(seed.changed))
    for resource in touched:
        if resource.source not in RELATED_SOURCES:
            continue
        group = index(group_key(resource))
        names = reference_names(resource)
        add(r for r in group.reading(names) if r is not resource)
        add(r for r in group.called(resource.references) if r is not resource)
        if resource.kind in PASS_THROUGH_KINDS:
            add(_readers_through_values(resource, group))
    add(_instances_of_calls([r for r in selected.values() if r.kind == "module"], groups))
    return list(selected.values())


def _instances_of_calls(calls: Sequence[Resource], groups: Mapping[str, Sequence[Resource]]) -> list[Resource]:
    """Every resource the selected module calls instantiate, nested calls included: a changed
    call (or one whose arguments changed through a variable) re-checks what it makes."""
    if not calls:
        return []
    sites = {(*call.calls, CallSite(call.path, call.address.removeprefix("module."), call.line, call.end_line,
                                    call.instance_key)) for call in calls}
    # A resource is made by a site when the site is a prefix of its calls: one set lookup per
    # prefix, not a comparison per site (a scan selects every call of hundreds of instances).
    return [resource for members in groups.values() for resource in members
            if any(resource.calls[:depth] in sites for depth in range(1, len(resource.calls) + 1))]


def _readers_through_values(origin: Resource, group: _GroupIndex) -> list[Resource]:
    """Everything that reads `origin`, following chains of variables and locals."""
    found: dict[tuple[str, str, str], Resource] = {}
    frontier = [origin]
    while frontier:
        current = frontier.pop()
        for other in group.reading(reference_names(current)):
            ident = other.key
            if ident not in found and other is not origin:
                found[ident] = other
                if other.kind in PASS_THROUGH_KINDS:
                    frontier.append(other)
    return list(found.values())
