"""Helpers for the golden tests: a parser's whole output as plain, comparable JSON.

A golden test pins everything a parser returns for a stored corpus (resources, value types,
lines, references, source lines, errors), so a refactor that changes any of it fails.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from bot.engine.model import Node, ParsedFile, Resource, Unknown


def dump_node(node: Node) -> list[Any]:
    """A node as JSON that keeps key order and tells `True` from `1` and `1` from `1.0`."""
    if isinstance(node.value, dict):
        return ["map", [[key, dump_node(child)] for key, child in node.value.items()], node.line, node.end_line]
    if isinstance(node.value, list):
        return ["list", [dump_node(child) for child in node.value], node.line, node.end_line]
    if isinstance(node.value, Unknown):
        return ["Unknown", node.value.expression, node.line, node.end_line]
    return [type(node.value).__name__, repr(node.value), node.line, node.end_line]


def dump_resource(resource: Resource) -> dict[str, Any]:
    return {
        "source": resource.source,
        "kind": resource.kind,
        "type": resource.type,
        "address": resource.address,
        "path": resource.path,
        "line": resource.line,
        "end_line": resource.end_line,
        "references": sorted(resource.references),
        "lines": list(resource.lines),
        "body": dump_node(resource.body),
    }


def dump_file(parsed: ParsedFile) -> dict[str, Any]:
    return {
        "path": parsed.path,
        "errors": [[error.path, error.line, error.message] for error in parsed.errors],
        "resources": [dump_resource(resource) for resource in parsed.resources],
    }


def dump(result: Mapping[str, ParsedFile]) -> list[Any]:
    """A parser's results in their own order, as plain JSON values."""
    return [[path, dump_file(parsed)] for path, parsed in result.items()]


def as_json(value: Any) -> Any:
    """`value` as it reads back from the golden file (tuples become lists)."""
    return json.loads(json.dumps(value))


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def errors_of(result: list[Any]) -> list[Any]:
    return [error for _, parsed in result for error in parsed["errors"]]


def damaged(text: str, start: int, length: int) -> str:
    return text[:start] + text[start + length :]


def read(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def write(path: Path, data: Mapping[str, Iterable[Any]]) -> None:
    """One case per line, so a diff of the golden file shows which cases changed."""
    sections = [(name, list(cases)) for name, cases in data.items()]
    with path.open("w", encoding="utf-8") as out:
        out.write("{\n")
        for i, (section, cases) in enumerate(sections):
            out.write(f"{json.dumps(section)}: [\n")
            out.write(",\n".join(json.dumps(case, ensure_ascii=False) for case in cases))
            out.write("\n]" + (",\n" if i < len(sections) - 1 else "\n"))
        out.write("}\n")
    print(f"wrote {path}: {', '.join(f'{len(cases)} {name}' for name, cases in sections)}")
