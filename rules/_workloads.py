"""Where a Kubernetes manifest keeps its pod spec and containers, shared by the rule packs and the
rule language (a `workloads` binding)."""

from __future__ import annotations

from collections.abc import Iterator

from bot.engine.model import Node, Resource

_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


def pod_specs(resource: Resource) -> Iterator[Node]:
    """The pod spec(s) of a manifest, wherever its kind keeps them."""
    body = resource.body
    candidates: list[Node | None]
    if resource.type == "Pod":
        candidates = [body.get("spec")]
    elif resource.type == "CronJob":
        candidates = [body.get("spec", "jobTemplate", "spec", "template", "spec")]
    elif resource.type == "PodTemplate":
        candidates = [body.get("template", "spec")]
    else:
        candidates = [body.get("spec", "template", "spec")]
    for spec in candidates:
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
