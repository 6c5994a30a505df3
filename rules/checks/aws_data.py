"""Which AWS resources are tagged as holding regulated data.

The same reading of tags as CB-AWS-009 (S3): a tag whose key, letters only, is one of
dataclassification / classification / datasensitivity / sensitivity, with a value such as PHI,
PCI, cardholder, restricted or confidential. Terraform writes tags as a map, CloudFormation as a
list of {Key, Value}.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from bot.engine.model import Node, Resource, Violation
from bot.engine.rule import RuleContext
from rules.checks._common import properties, text

_CLASSIFICATION_KEYS = frozenset({"dataclassification", "classification", "datasensitivity", "sensitivity"})
_REGULATED_CLASSES = frozenset({"phi", "ephi", "hipaa", "pci", "pcidss", "cardholder", "restricted", "confidential"})


def _letters(value: str) -> str:
    return re.sub(r"[^a-z]", "", value.lower())


def _tags(resource: Resource) -> Iterator[tuple[str, Node]]:
    if resource.source == "cloudformation":
        tags = properties(resource).get("Tags")
        for item in tags.children() if tags is not None else []:
            key, value = text(item.get("Key")), item.get("Value")
            if key is not None and value is not None:
                yield key, value
    else:
        tags = resource.body.get("tags")
        yield from (tags.items() if tags is not None else ())


def regulated_class(resource: Resource) -> tuple[str, Node] | None:
    """The regulated data class the resource's tags declare (e.g. "PHI") and its tag value node."""
    for key, node in _tags(resource):
        value = text(node)
        if _letters(key) in _CLASSIFICATION_KEYS and value is not None and _letters(value) in _REGULATED_CLASSES:
            return value, node
    return None


def tags_mark_no_regulated_data(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """Holds when the tags declare no regulated data class; fails (on the tag) when they do.
    Meant for `skip_if`: a control that only applies to regulated data."""
    found = regulated_class(resource)
    if found is not None:
        value, node = found
        yield Violation(message=f"Tagged as holding {value} data.", line=node.line, end_line=node.end_line)
