"""Comparing values as Terraform does: "true"/"false" strings are booleans, numeric strings are
numbers (templates written as JSON or YAML strings read the same), and CIDRs are networks."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

_NUMBER = re.compile(r"\s*-?\d{1,15}(?:\.\d{1,15})?\s*")
_PORTS = re.compile(r"\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?")
MAX_PORT = 65535
# How port specs say "every port" (Azure `*`), and protocols that carry every port (AWS `-1`).
_EVERY_PORT = frozenset({"*", "all", "any"})
EVERY_PROTOCOL = frozenset({"-1", "all", "*"})
# Words some providers accept for "any source": Azure's `*`, `Internet` and `Any`.
_OPEN_WORDS = frozenset({"*", "internet", "any"})


def normal(value: Any) -> Any:
    """A scalar in the form it compares in: bool, int/float, or str."""
    if isinstance(value, str):
        stripped = value.strip()
        lowered = stripped.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if _NUMBER.fullmatch(stripped):
            return float(stripped) if "." in stripped else int(stripped)
    return value


def text_of(value: Any) -> str | None:
    """The string a regex or `contains` reads: numbers and booleans as Terraform writes them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    return None


def number_of(value: Any) -> float | int | None:
    value = normal(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return None


def equal(left: Any, right: Any, insensitive: bool = False) -> bool:
    """Terraform-style equality of plain values (lists and mappings item by item)."""
    if isinstance(left, list) or isinstance(right, (list, tuple)):
        if not isinstance(left, list) or not isinstance(right, (list, tuple)) or len(left) != len(right):
            return False
        return all(equal(a, b, insensitive) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict) or isinstance(right, dict):
        if not isinstance(left, dict) or not isinstance(right, dict) or set(left) != set(right):
            return False
        return all(equal(left[k], right[k], insensitive) for k in left)
    a, b = normal(left), normal(right)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold() if insensitive else a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return bool(a is None and b is None)


def port_span(value: Any) -> tuple[int, int] | None:
    """The ports one port spec names: `22`, `"22"`, `"20-25"` (either order), `"*"` (every port);
    None when it names none (a word, a bool, a port outside 0-65535)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return (value, value) if 0 <= value <= MAX_PORT else None
    if not isinstance(value, str):
        return None
    if value.strip().lower() in _EVERY_PORT:
        return (0, MAX_PORT)
    match = _PORTS.fullmatch(value)
    if match is None:
        return None
    low, high = int(match.group(1)), int(match.group(2) or match.group(1))
    low, high = min(low, high), max(low, high)
    return (low, high) if high <= MAX_PORT else None


def overlaps(span: tuple[int, int], spans: tuple[tuple[int, int], ...]) -> bool:
    return any(span[0] <= high and low <= span[1] for low, high in spans)


def networks(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """The network a CIDR (or the words for "anywhere") names; None when it is not one."""
    stripped = text.strip()
    if stripped.lower() in _OPEN_WORDS:
        return ipaddress.IPv4Network("0.0.0.0/0")
    if "/" not in stripped:
        return None  # a bare address is one host, never "the internet"
    try:
        return ipaddress.ip_network(stripped, strict=False)
    except ValueError:
        return None


def covers_internet(cidrs: list[str]) -> bool:
    """The CIDRs together cover the whole IPv4 or the whole IPv6 internet (`0.0.0.0/1` and
    `128.0.0.0/1` do, as does `0:0:0:0:0:0:0:0/0`)."""
    found = [n for n in (networks(c) for c in cidrs) if n is not None]
    v4 = [n for n in found if isinstance(n, ipaddress.IPv4Network)]
    v6 = [n for n in found if isinstance(n, ipaddress.IPv6Network)]
    whole4, whole6 = ipaddress.IPv4Network("0.0.0.0/0"), ipaddress.IPv6Network("::/0")
    return any(n == whole4 for n in ipaddress.collapse_addresses(v4)) or any(
        n == whole6 for n in ipaddress.collapse_addresses(v6))


def render(value: Any) -> str:
    """A value as a finding shows it: `false`, `14`, `"public-read"`, `["0.0.0.0/0"]`."""
    import json

    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."
