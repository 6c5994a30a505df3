"""The addresses a resource refers to (`aws_kms_key.k`, `var.x`, `module.m`, `data.t.n`).

The engine uses them to re-check related resources when only one of them changed, so they are
collected from every expression in a block, looking through the module's locals: a resource
reached through a local still counts as referenced.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from bot.engine.parsers.terraform.values import Scope, is_expression, template_parts

__all__ = ["references_of"]

# var./local./module. names, data sources and resources (`type_name.name`: a type has an underscore).
_REF_RE = re.compile(
    r"(?<![\w.:\"-])(?:(var|local|module)\.([A-Za-z_][\w-]*)"
    r"|data\.([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)"
    r"|([A-Za-z][A-Za-z0-9-]*_[\w-]*)\.([A-Za-z_][\w-]*))"
)


def _strings(raw: Any) -> Iterator[str]:
    """Every string (keys included) inside a raw hcl2 value."""
    if isinstance(raw, str):
        yield raw
    elif isinstance(raw, dict):
        for key, value in raw.items():
            if isinstance(key, str):
                yield key
            yield from _strings(value)
    elif isinstance(raw, list):
        for value in raw:
            yield from _strings(value)


def _direct_references(raw: Any) -> set[str]:
    """Addresses named by the expressions inside a raw hcl2 value."""
    refs: set[str] = set()
    for text in _strings(raw):
        if not is_expression(text):
            continue
        parts = template_parts(text)
        exprs = [p for is_expr, p in parts if is_expr] if parts is not None else [text]
        for expr in exprs:
            for m in _REF_RE.finditer(expr):
                kind, name, dtype, dname, rtype, rname = m.groups()
                if kind:
                    refs.add(f"{kind}.{name}")
                elif dtype:
                    refs.add(f"data.{dtype}.{dname}")
                else:
                    refs.add(f"{rtype}.{rname}")
    return refs


def references_of(raw: Any, scope: Scope) -> frozenset[str]:
    """Direct references plus what the named locals refer to, so a resource reached through a
    local (`bucket = local.bucket_id`) still counts as referenced."""
    refs = _direct_references(raw)
    pending = [r[len("local.") :] for r in refs if r.startswith("local.")]
    visited: set[str] = set()
    while pending and len(visited) < 1000:
        name = pending.pop()
        if name in visited or name not in scope.locals:
            continue
        visited.add(name)
        more = _direct_references(scope.locals[name])
        refs |= more
        pending.extend(r[len("local.") :] for r in more if r.startswith("local."))
    return frozenset(refs)
