"""Where a Kubernetes manifest keeps its pod spec and containers, shared by the rule packs and the
rule language (a `workloads` binding)."""

from __future__ import annotations

from collections.abc import Iterator

from bot.engine.model import Node, Resource

_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


# Where each kind keeps its pod template (the mapping of `metadata` and `spec`); a Pod is its own.
_TEMPLATES: dict[str, tuple[str, ...]] = {
    "Pod": (), "CronJob": ("spec", "jobTemplate", "spec", "template"), "PodTemplate": ("template",),
}
_DEFAULT_TEMPLATE = ("spec", "template")


def pod_template(resource: Resource) -> tuple[tuple[str, ...], Node] | None:
    """The manifest's pod template and the keys that lead to it (a Pod: the manifest itself)."""
    keys = _TEMPLATES.get(resource.type, _DEFAULT_TEMPLATE)
    template = resource.body.get(*keys)
    if template is None or not isinstance(template.value, dict):
        return None
    return keys, template


def pod_specs(resource: Resource) -> Iterator[Node]:
    """The pod spec(s) of a manifest, wherever its kind keeps them."""
    found = pod_template(resource)
    spec = found[1].get("spec") if found is not None else None
    if spec is not None and isinstance(spec.value, dict):
        yield spec


def containers(spec: Node) -> Iterator[Node]:
    """Every container of a pod spec: regular, init and ephemeral."""
    for _, container in named_containers(spec):
        yield container


def named_containers(spec: Node) -> Iterator[tuple[str, Node]]:
    """Every container of a pod spec with the list that holds it ("containers", "initContainers"...)."""
    for list_name in _CONTAINER_LISTS:
        listed = spec.get(list_name)
        if listed is None:
            continue
        for container in listed.children():
            if isinstance(container.value, dict):
                yield list_name, container
