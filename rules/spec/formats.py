"""Per format: which resources a binding judges and where its paths start.

- terraform: managed resources Terraform will create (`resource` blocks; not `count = 0` nor an
  empty `for_each`; `data` sources are not ours to judge); paths start at the block body.
- cloudformation: template resources; paths start inside `Properties`.
- kubernetes: manifests of the listed kinds, paths from the document root; in a `workloads`
  binding, every kind that holds a pod template, paths from the pod spec.
"""

from __future__ import annotations

from collections.abc import Iterator

from bot.engine.model import Node, Resource
from rules._support import as_int
from rules._workloads import pod_specs
from rules.spec.model import Binding

SOURCES = {"terraform": "terraform", "cloudformation": "cloudformation", "kubernetes": "kubernetes"}


def managed(resource: Resource) -> bool:
    """A Terraform resource block that creates something (`count = 0` or `for_each = {}` do not)."""
    if resource.kind != "resource" or not isinstance(resource.body.value, dict):
        return False
    count = resource.body.get("count")
    if count is not None and (as_int(count) == 0 or count.value is False):
        return False
    each = resource.body.get("for_each")
    return not (each is not None and each.value in ({}, []))


def binds(binding: Binding, resource: Resource) -> bool:
    """Whether `binding` judges `resource` at all (type and, for Terraform, being managed)."""
    if resource.source != SOURCES[binding.format]:
        return False
    if binding.workloads:
        return any(True for _ in pod_specs(resource))
    if resource.type not in binding.types:
        return False
    if binding.format == "terraform":
        return managed(resource)
    return isinstance(resource.body.value, dict)


def roots(binding: Binding, resource: Resource) -> Iterator[Node]:
    """The node(s) the binding's paths start from."""
    if binding.workloads:
        yield from pod_specs(resource)
    elif binding.format == "cloudformation":
        props = resource.body.get("Properties")
        yield props if props is not None and isinstance(props.value, dict) else Node({}, resource.line, resource.line)
    else:
        yield resource.body
