"""Kubernetes: a document with `apiVersion` and `kind` is one manifest resource.

The body is the whole document, so rules see `spec`, `metadata` and everything else in one
place; a `kind: List` (or any `*List` with `items`) contributes one resource per item.
"""

from __future__ import annotations

from collections.abc import Iterator

from bot.engine.model import Node, Resource, Unknown

__all__ = ["kubernetes_resources"]

def kubernetes_resources(
    path: str, document: Node, index: int, lines: list[str], used: set[str]
) -> Iterator[Resource]:
    """The manifest in one document (one per item of a `kind: *List`).

    Addressed `Kind/name` (a templated name as written: `Deployment/{{ include "app.fullname" . }}`);
    without a name, by the document's number; `used` holds the addresses
    already taken in the file, so a repeated one gets `@<document number>`.
    """
    kind = document.get("kind")
    if document.get("apiVersion") is None or kind is None or not isinstance(kind.value, str):
        return
    items = document.get("items")
    if kind.value.endswith("List") and items is not None and isinstance(items.value, list):
        for item in items.value:
            yield from kubernetes_resources(path, item, index, lines, used)
        return
    name = document.get("metadata", "name")
    label = name.value if name is not None and isinstance(name.value, (str, int, Unknown)) else f"<document {index}>"
    address = f"{kind.value}/{label}"
    if address in used:
        address = f"{address}@{index}"
    used.add(address)
    yield Resource(
        source="kubernetes", kind="manifest", type=kind.value, address=address, path=path,
        line=document.line, end_line=document.end_line, body=document,
        lines=tuple(lines[document.line - 1 : document.end_line]),
    )
