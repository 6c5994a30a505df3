"""Network ranges compared as networks, never as strings."""

from __future__ import annotations

import ipaddress


def is_open_cidr(value: str) -> bool:
    """Whether a CIDR covers the whole IPv4 or IPv6 internet, however it is spelled
    (`0.0.0.0/0`, `::/0`, `0::/0`, `0:0:0:0:0:0:0:0/0`, `::0/0`)."""
    try:
        return ipaddress.ip_network(value.strip(), strict=False).prefixlen == 0
    except ValueError:
        return False
