"""Data classification read from resource tags (Terraform maps, CloudFormation Key/Value lists)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.engine.model import Node

CLASSIFICATION_KEYS = frozenset({"dataclassification", "classification", "datasensitivity", "sensitivity"})
REGULATED_CLASSES = frozenset({"phi", "ephi", "hipaa", "pci", "pcidss", "cardholder", "restricted", "confidential"})


def _letters(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


def _pairs(tags: Node) -> Iterator[tuple[str, Node]]:
    if isinstance(tags.value, dict):
        yield from tags.items()
    elif isinstance(tags.value, list):
        for item in tags.children():
            key = item.get("Key")
            value = item.get("Value")
            if key is not None and isinstance(key.value, str) and value is not None:
                yield key.value, value


def regulated_data_class(tags: Node | None) -> str | None:
    """The regulated data class a resource's tags declare (e.g. "PHI"); None when not regulated."""
    for key, node in _pairs(tags) if tags is not None else ():
        if _letters(key) in CLASSIFICATION_KEYS and isinstance(node.value, str) \
                and _letters(node.value) in REGULATED_CLASSES:
            return node.value
    return None
