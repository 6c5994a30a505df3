"""Security group ingress from the whole internet to administration and database ports, read the
same way in Terraform and CloudFormation: one port list and one set of protocols per control.

An ingress rule is (protocol, port span, CIDRs). Administration ports (SSH, RDP) count over TCP
and UDP (RDP listens on UDP 3389 too), database ports over TCP; protocol `-1`/`all` opens every
port of both. CIDRs are compared as networks, IPv4 and IPv6 alike (`0.0.0.0/0`, `::/0`, `0::/0`,
`0:0:0:0:0:0:0:0/0`). A protocol, a port or a CIDR not known before apply never makes a finding.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType

from bot.engine.model import Node, Resource, Violation
from bot.engine.rule import CheckFn, RuleContext
from rules._support import as_int
from rules.checks.aws_policy import properties, text
from rules.checks.network import is_open_cidr

ADMIN_PORTS: Mapping[int, str] = MappingProxyType({22: "SSH", 3389: "RDP"})
DATABASE_PORTS: Mapping[int, str] = MappingProxyType({
    1433: "SQL Server", 1521: "Oracle", 2483: "Oracle", 2484: "Oracle", 3306: "MySQL/MariaDB/Aurora",
    5432: "PostgreSQL", 5439: "Redshift", 5984: "CouchDB", 6379: "Redis", 7000: "Cassandra",
    7001: "Cassandra", 8182: "Neptune", 9042: "Cassandra", 9200: "Elasticsearch/OpenSearch",
    9300: "Elasticsearch/OpenSearch", 11211: "Memcached", 27017: "MongoDB/DocumentDB", 27018: "MongoDB",
})
ADMIN_PROTOCOLS = frozenset({"tcp", "udp"})
DATABASE_PROTOCOLS = frozenset({"tcp"})

_CFN_GROUP, _CFN_INGRESS = "AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress"


def protocol_of(node: Node | None) -> str | None:
    """"all", "tcp" or "udp"; None for other protocols (icmp, ...) or unknown values."""
    name = text(node)
    if name is None:
        return None
    return {"-1": "all", "all": "all", "tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp"}.get(name.strip().lower())


def port_span(rule: Node, protocol: str, low_key: str = "from_port", high_key: str = "to_port",
              lenient: bool = False) -> tuple[int, int] | None:
    """The ports a rule opens; None when not known. `lenient` (CloudFormation): one of the two
    given stands for both."""
    if protocol == "all":
        return (0, 65535)
    low, high = as_int(rule.get(low_key)), as_int(rule.get(high_key))
    if lenient:
        low, high = (low if low is not None else high), (high if high is not None else low)
    if low is None or high is None:
        return None
    if low == -1 or high == -1:
        return (0, 65535)
    return (min(low, high), max(low, high))


def ingress_rules(resource: Resource) -> Iterator[tuple[Node, str, tuple[str, ...]]]:
    """(rule, protocol attribute, CIDR attributes) for every ingress rule a Terraform resource defines."""
    body = resource.body
    if resource.type in ("aws_security_group", "aws_default_security_group"):
        node = body.get("ingress")
        for rule in node.children() if node is not None else []:
            if isinstance(rule.value, dict):
                yield rule, "protocol", ("cidr_blocks", "ipv6_cidr_blocks")
    elif resource.type == "aws_security_group_rule":
        if text(body.get("type")) == "ingress":
            yield body, "protocol", ("cidr_blocks", "ipv6_cidr_blocks")
    elif resource.type == "aws_vpc_security_group_ingress_rule":
        yield body, "ip_protocol", ("cidr_ipv4", "cidr_ipv6")


def cloudformation_ingress_rules(resource: Resource) -> list[Node]:
    """The ingress rules of a CloudFormation security group, or the ingress resource itself."""
    props = properties(resource)
    if resource.type == _CFN_INGRESS:
        return [props]
    listed = props.get("SecurityGroupIngress")
    return [rule for rule in (listed.children() if listed is not None else []) if isinstance(rule.value, dict)]


def _open_cidrs(rule: Node, keys: Sequence[str]) -> Iterator[Node]:
    """The entries covering the whole internet (each with its own line) of the CIDR attributes."""
    for key in keys:
        node = rule.get(key)
        if node is None:
            continue
        for item in node.children() if isinstance(node.value, list) else [node]:
            if isinstance(item.value, str) and is_open_cidr(item.value):
                yield item


def _spans(resource: Resource) -> Iterator[tuple[Node, str, tuple[int, int], tuple[str, ...]]]:
    """(rule, protocol, port span, CIDR attributes) of every ingress rule whose ports are known."""
    if resource.source == "cloudformation":
        for rule in cloudformation_ingress_rules(resource):
            protocol = protocol_of(rule.get("IpProtocol"))
            span = port_span(rule, protocol, "FromPort", "ToPort", lenient=True) if protocol else None
            if protocol is not None and span is not None:
                yield rule, protocol, span, ("CidrIp", "CidrIpv6")
        return
    for rule, protocol_key, cidr_keys in ingress_rules(resource):
        protocol = protocol_of(rule.get(protocol_key))
        span = port_span(rule, protocol) if protocol else None
        if protocol is not None and span is not None:
            yield rule, protocol, span, cidr_keys


def _exposure(ports: Mapping[int, str], protocols: frozenset[str], what: str) -> CheckFn:
    """A check flagging ingress from anywhere that covers any of `ports` over one of `protocols`."""

    def check(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
        for rule, protocol, span, cidr_keys in _spans(resource):
            if protocol != "all" and protocol not in protocols:
                continue
            exposed = [f"{port} ({name})" for port, name in sorted(ports.items()) if span[0] <= port <= span[1]]
            if not exposed:
                continue
            shown = ", ".join(exposed[:4]) + (", ..." if len(exposed) > 4 else "")
            for cidr in _open_cidrs(rule, cidr_keys):
                yield Violation(
                    message=f"Ingress from {cidr.value} ({protocol} {span[0]}-{span[1]}) opens {what}: {shown}.",
                    line=cidr.line,
                    end_line=cidr.end_line,
                    key=f"{cidr.value}:{protocol}:{span[0]}-{span[1]}",
                )

    check.__doc__ = f"Security group ingress must not open {what} to the whole internet."
    return check


admin_ports_open = _exposure(ADMIN_PORTS, ADMIN_PROTOCOLS, "remote administration ports")
database_ports_open = _exposure(DATABASE_PORTS, DATABASE_PROTOCOLS, "database ports")
