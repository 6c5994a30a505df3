"""The AKS API server's public endpoint, restricted by address lists.

Its only network restriction is a list of allowed ranges, written under names that changed across
azurerm versions (`api_server_access_profile.authorized_ip_ranges`, before 4.0 also
`api_server_authorized_ip_ranges`). The question is "is any restriction in force, and does it
admit the whole internet", which needs the lists read together. (Cosmos DB's `ip_range_filter`,
one list or a comma-separated string, is a spec: `split`, `not_empty`, `cidr_open`.)
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.engine.model import Node, Resource, Unknown, Violation
from bot.engine.rule import RuleContext
from rules.spec.values import covers_internet


def _entries(node: Node | None) -> tuple[list[tuple[str, Node]], bool]:
    """The ranges a list (or comma-separated string) holds, each with its node, and whether any part
    is not known before apply."""
    if node is None:
        return [], False
    if isinstance(node.value, Unknown):
        return [], True
    items = node.value if isinstance(node.value, list) else [node]
    found: list[tuple[str, Node]] = []
    unknown = False
    for item in items:
        if isinstance(item.value, Unknown):
            unknown = True
        elif isinstance(item.value, str):
            found.extend((part.strip(), item) for part in item.value.split(",") if part.strip())
    return found, unknown


def _judge(ranges: list[tuple[str, Node]], unknown: bool, anchor: Node | None, resource: Resource, key: str,
           what: str) -> Iterable[Violation]:
    """No ranges: open to all (on `anchor`, else the resource); ranges covering the internet: open
    (on the widest one); anything unknown: undecided."""
    texts = [text for text, _ in ranges]
    if texts and covers_internet(texts):
        node = next((n for t, n in ranges if covers_internet([t])), ranges[0][1])
        yield Violation(message=f"{what}: `{key}` admits the whole internet.", line=node.line,
                        end_line=node.end_line, key=key)
    elif unknown:
        line = anchor.line if anchor is not None else resource.line
        yield Violation(message=f"Cannot tell: `{key}` is not known before apply; if it is empty: {what}.",
                        line=line, end_line=line, key=key, undecided=True)
    elif not texts:
        line = anchor.line if anchor is not None else resource.line
        yield Violation(message=f"{what}: no `{key}` restricts it.", line=line, end_line=line, key=key)


def check_aks_api_server(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """CB-AZURE-025: a public AKS API server admits only listed ranges (private clusters are skipped
    by the spec)."""
    body = resource.body
    profiles = body.get("api_server_access_profile")
    blocks = [b for b in profiles.children() if isinstance(b.value, dict)] if profiles is not None else []
    dynamic = body.get("dynamic")
    generated = any(isinstance(d.value, dict) and "api_server_access_profile" in d.value
                    for d in (dynamic.children() if dynamic is not None else []))
    ranges, unknown = _entries(body.get("api_server_authorized_ip_ranges"))
    for block in blocks:
        found, not_known = _entries(block.get("authorized_ip_ranges"))
        ranges, unknown = ranges + found, unknown or not_known
    anchor = blocks[0] if blocks else None
    yield from _judge(ranges, unknown or generated, anchor, resource, "authorized_ip_ranges",
                      "AKS API server is reachable from the whole internet")
