"""Per-resource data classification (`data_classification` in the policy): whether a finding of
a rule that only concerns some frameworks blocks on this resource.

HIPAA's controls concern systems holding PHI: with `data_classification: {tag:
data-classification, frameworks: {hipaa: [phi]}}`, a finding of a rule mapping only to HIPAA
blocks on a resource tagged `data-classification = phi` and is a notice elsewhere. The tag is
read where each format keeps it: Terraform `tags` (or GCP's `labels`), CloudFormation
`Properties.Tags` (a list of Key/Value, or a map), Kubernetes `metadata.labels`; the key is
matched without regard to case, as are the classes.

Fail safe: a value not known before apply (`tags = var.tags`) counts as a class that blocks,
and so does anything in a file that cannot carry a tag at all (a Dockerfile, a workflow, text
scanned for secrets): only a resource that could say it holds PHI, and does not, is spared.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping

from bot.engine.model import Node, Resource, Unknown
from bot.engine.policy import DataClassification

TAGGABLE = frozenset({"terraform", "cloudformation", "kubernetes"})


def _pairs(tags: Node) -> Iterator[tuple[str, Node]]:
    """(key, value node) of a tag map, or of a CloudFormation list of {Key, Value}."""
    if isinstance(tags.value, dict):
        yield from tags.items()
    elif isinstance(tags.value, list):
        for item in tags.children():
            key, value = item.get("Key"), item.get("Value")
            if key is not None and isinstance(key.value, str) and value is not None:
                yield key.value, value


def _tag_nodes(resource: Resource) -> Iterator[Node]:
    if resource.source == "terraform":
        for name in ("tags", "labels"):
            found = resource.body.get(name)
            if found is not None:
                yield found
    elif resource.source == "cloudformation":
        found = resource.body.get("Properties", "Tags")
        if found is not None:
            yield found
    elif resource.source == "kubernetes":
        found = resource.body.get("metadata", "labels")
        if found is not None:
            yield found


def tag_value(resource: Resource, tag: str) -> str | Unknown | None:
    """The resource's value of `tag` (lower case), Unknown when not known before apply, None
    when it has no such tag. A whole tag map that is unknown (`tags = var.tags`) is Unknown."""
    wanted = tag.lower()
    for tags in _tag_nodes(resource):
        if isinstance(tags.value, Unknown):
            return tags.value
        for key, node in _pairs(tags):
            if key.lower() == wanted:
                value = node.value
                if isinstance(value, Unknown):
                    return value
                return str(value).lower() if value is not None else None
    return None


def notice_reason(resource: Resource, rule_frameworks: Collection[str],
                  classification: DataClassification | None) -> str | None:
    """Why this rule's finding on `resource` is a notice rather than blocking, or None when it
    blocks as usual. `rule_frameworks`: the frameworks the rule maps to that are in force."""
    if classification is None or not rule_frameworks or resource.source not in TAGGABLE:
        return None
    classes: Mapping[str, frozenset[str]] = classification.frameworks
    if any(framework not in classes for framework in rule_frameworks):
        return None  # the rule also serves a framework that applies to every resource
    value = tag_value(resource, classification.tag)
    if isinstance(value, Unknown) or any(value in classes[f] for f in rule_frameworks):
        return None
    wanted = sorted({c for f in rule_frameworks for c in classes[f]})
    shown = "no such tag" if value is None else f"{classification.tag}={value}"
    return (f"{', '.join(sorted(rule_frameworks))} findings block only on resources tagged "
            f"{classification.tag}={'|'.join(wanted)}; this one has {shown}")
