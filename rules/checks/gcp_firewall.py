"""VPC firewall rules (`google_compute_firewall`) that let the whole internet reach a sensitive port.

A rule exposes a port when it is enabled, applies to ingress (the default direction), lists a
source range covering the whole IPv4 or IPv6 internet, and has an `allow` block whose protocol
and ports cover it. An `allow` block without `ports` covers every port of its protocol, and
protocol `all` covers every port of every protocol. Deny blocks and rule priorities are not
weighed: an allow that a higher-priority deny shadows is still one edit away from being live.

Findings land on the port entry that covers the sensitive port (or on `protocol` when the block
covers every port); values not known before apply give undecided violations only.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from bot.engine.model import Node, Resource, Unknown, Violation
from bot.engine.rule import RuleContext
from rules.spec.values import covers_internet

ADMIN_PORTS: Mapping[int, str] = MappingProxyType({22: "SSH", 3389: "RDP"})
DATABASE_PORTS: Mapping[int, str] = MappingProxyType({
    1433: "SQL Server", 1521: "Oracle", 2483: "Oracle", 2484: "Oracle", 3306: "MySQL", 5432: "PostgreSQL",
    5984: "CouchDB", 6379: "Redis", 7000: "Cassandra", 7001: "Cassandra", 8086: "InfluxDB", 9042: "Cassandra",
    9200: "Elasticsearch", 9300: "Elasticsearch", 11211: "Memcached", 27017: "MongoDB", 27018: "MongoDB",
    27019: "MongoDB",
})

# Protocol names and IANA numbers the API accepts, for the protocols that carry ports.
_PROTOCOLS = {"tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp", "sctp": "sctp", "132": "sctp", "all": "all"}
_API_DEFAULT = "0.0.0.0/0 (the API's default for an empty source_ranges)"
_RANGE = re.compile(r"\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?")
_WHOLE = (ipaddress.IPv4Network("0.0.0.0/0"), ipaddress.IPv6Network("::/0"))
_FALSE_WORDS = frozenset({"false", "0", "no", "off"})
_TRUE_WORDS = frozenset({"true", "1", "yes", "on"})


@dataclass(frozen=True)
class _Sources:
    """The rule's source ranges that cover the whole internet, and whether some are not known."""

    open: tuple[str, ...]
    unknown: bool


def _is_open(text: str) -> bool:
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return False
    return network in _WHOLE


def _other_sources(body: Node) -> bool:
    """The rule names a source besides ranges (tags or service accounts), or may: not known."""
    for key in ("source_tags", "source_service_accounts"):
        node = body.get(key)
        if node is None:
            continue
        if isinstance(node.value, Unknown) or (node.children() if isinstance(node.value, list) else node.value):
            return True
    return False


def _sources(body: Node) -> _Sources:
    """The ranges that open the rule to the internet: each one covering it alone, or, when only
    several together do (0.0.0.0/1 and 128.0.0.0/1), all of them. An ingress rule written with
    `source_ranges = []` and no other source passes the provider's check, and the API then
    applies it to 0.0.0.0/0 (hashicorp/terraform-provider-google#4031, #6789)."""
    ranges = body.get("source_ranges")
    if ranges is None:
        return _Sources((), False)
    if isinstance(ranges.value, Unknown):
        return _Sources((), True)
    items = ranges.children() if isinstance(ranges.value, list) else [ranges]
    if not items and not _other_sources(body):
        return _Sources((_API_DEFAULT,), False)
    known = [str(item.value).strip() for item in items if isinstance(item.value, str)]
    found = tuple(text for text in known if _is_open(text))
    if not found and covers_internet(known):
        found = tuple(known)
    return _Sources(found, any(isinstance(item.value, Unknown) for item in items))


def _flag(node: Node | None) -> bool | None:
    """An explicit boolean (also "true"/"false" text); None when absent or not known."""
    if node is None or isinstance(node.value, Unknown):
        return None
    if isinstance(node.value, bool):
        return node.value
    text = str(node.value).strip().lower()
    if text in _TRUE_WORDS:
        return True
    if text in _FALSE_WORDS:
        return False
    return None


def _applies(body: Node) -> bool | None:
    """Whether the rule is live ingress: True, False, or None when that is not known."""
    disabled = body.get("disabled")
    if _flag(disabled) is True:
        return False
    direction = body.get("direction")
    if direction is not None and isinstance(direction.value, str) and direction.value.strip().upper() == "EGRESS":
        return False
    unknown_direction = direction is not None and isinstance(direction.value, Unknown)
    unknown_disabled = disabled is not None and isinstance(disabled.value, Unknown)
    return None if unknown_direction or unknown_disabled else True


def _span(entry: Node) -> tuple[int, int] | None:
    """The port range one `ports` entry names (`22`, "22", "8000-8100")."""
    if isinstance(entry.value, bool):
        return None
    match = _RANGE.fullmatch(str(entry.value))
    if match is None:
        return None
    low = int(match.group(1))
    high = int(match.group(2)) if match.group(2) else low
    return (min(low, high), max(low, high))


def _covered(ports: Mapping[int, str], low: int, high: int) -> list[str]:
    return [f"{port} ({name})" for port, name in sorted(ports.items()) if low <= port <= high]


def _shown(exposed: list[str]) -> str:
    return ", ".join(exposed[:4]) + (", ..." if len(exposed) > 4 else "")


def _exposures(allow: Node, ports: Mapping[int, str], protocols: frozenset[str]
               ) -> Iterator[tuple[Node, str, list[str] | None]]:
    """(node to flag, what it allows, sensitive ports it covers) for one allow block; `None`
    ports mean the block's protocol or ports are not known before apply."""
    protocol_node = allow.get("protocol")
    if protocol_node is None:
        return
    if isinstance(protocol_node.value, Unknown):
        yield protocol_node, "an unknown protocol", None
        return
    protocol = _PROTOCOLS.get(str(protocol_node.value).strip().lower())
    if protocol is None or (protocol != "all" and protocol not in protocols):
        return
    entries = allow.get("ports")
    if protocol == "all" or entries is None or (isinstance(entries.value, list) and not entries.value):
        exposed = _covered(ports, 0, 65535)
        if exposed:
            yield protocol_node, f"{protocol} on every port", exposed
        return
    if isinstance(entries.value, Unknown):
        yield entries, f"{protocol} on ports not known before apply", None
        return
    for entry in entries.children() if isinstance(entries.value, list) else [entries]:
        if isinstance(entry.value, Unknown):
            yield entry, f"{protocol} on a port not known before apply", None
            continue
        span = _span(entry)
        if span is None:
            continue
        exposed = _covered(ports, *span)
        if exposed:
            text = str(span[0]) if span[0] == span[1] else f"{span[0]}-{span[1]}"
            yield entry, f"{protocol} {text}", exposed


def _allow_blocks(body: Node) -> tuple[list[Node], bool]:
    """The rule's allow blocks, and whether a `dynamic "allow"` generates more nobody can see."""
    node = body.get("allow")
    blocks = [b for b in node.children() if isinstance(b.value, dict)] if node is not None else []
    holder = body.get("dynamic")
    generated = holder is not None and any(
        isinstance(item.value, dict) and "allow" in item.value for item in holder.children())
    return blocks, generated


def _exposure_check(resource: Resource, ports: Mapping[int, str], protocols: frozenset[str], what: str
                    ) -> Iterator[Violation]:
    body = resource.body
    live = _applies(body)
    if live is False:
        return
    sources = _sources(body)
    if not sources.open and not sources.unknown:
        return
    ranges = " and ".join(sources.open) if sources.open else "source ranges not known before apply"
    certain = live is True and bool(sources.open)
    blocks, generated = _allow_blocks(body)
    for allow in blocks:
        for node, allowed, exposed in _exposures(allow, ports, protocols):
            if exposed is None:
                yield Violation(
                    message=f"Ingress from {ranges} allows {allowed}; it may open {what}.",
                    line=node.line, end_line=node.end_line, key=f"{allowed}@{node.line}", undecided=True)
                continue
            yield Violation(
                message=f"Ingress from {ranges} allows {allowed}, opening {what}: {_shown(exposed)}.",
                line=node.line, end_line=node.end_line, key=allowed, undecided=not certain)
    if generated:
        yield Violation(
            message=f"Ingress from {ranges} allows ports generated by a dynamic block; they may open {what}.",
            line=resource.line, key="dynamic allow", undecided=True)


def admin_ports_open(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """SSH (22) and RDP (3389, TCP and UDP) must not be reachable from the whole internet."""
    return list(_exposure_check(resource, ADMIN_PORTS, frozenset({"tcp", "udp"}), "remote administration ports"))


def database_ports_open(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """Database ports must not be reachable from the whole internet."""
    return list(_exposure_check(resource, DATABASE_PORTS, frozenset({"tcp"}), "database ports"))
