"""Per format: which resources a binding judges and where its paths start.

- terraform: managed resources Terraform will create (`resource` blocks; not `count = 0` nor an
  empty `for_each`; `data` sources are not ours to judge); paths start at the block body.
- cloudformation: template resources; paths start inside `Properties`.
- kubernetes: manifests of the listed kinds, paths from the document root; in a `workloads`
  binding, every kind that holds a pod template, paths from the pod spec.
- terraform, two binding types that are not resource types: `provider` (the `provider` blocks;
  the check tells which provider) and `data.<type>` (data sources of that type, for the checks
  that judge a document where it is written, such as `data.aws_iam_policy_document`).
- github-actions (type `workflow`), dockerfile (type `dockerfile`, one resource per build stage)
  and text (type `text`: the lines of any file the secrets rules read): paths from the body.
"""

from __future__ import annotations

from collections.abc import Iterator

from bot.engine.model import Node, Resource
from rules._support import as_int
from rules._workloads import pod_specs
from rules.spec.model import Binding

SOURCES = {"terraform": "terraform", "cloudformation": "cloudformation", "kubernetes": "kubernetes",
           "github-actions": "github_actions", "dockerfile": "dockerfile", "text": "text"}
PROVIDER = "provider"  # a terraform binding type: the `provider` blocks
DATA = "data."  # a terraform binding type `data.<type>`: the data sources of that type


def resource_type(binding_type: str) -> str:
    """The `Resource.type` a binding type names (`data.aws_iam_policy_document` -> the type)."""
    return binding_type.removeprefix(DATA)


def managed(resource: Resource) -> bool:
    """A Terraform resource block that creates something (`count = 0` or `for_each = {}` do not)."""
    return resource.kind == "resource" and _created(resource)


def _created(resource: Resource) -> bool:
    if not isinstance(resource.body.value, dict):
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
    if binding.format == "terraform" and resource.kind == "data":
        return DATA + resource.type in binding.types and _created(resource)
    if binding.format == "terraform" and resource.kind == "provider":
        return PROVIDER in binding.types and isinstance(resource.body.value, dict)
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
