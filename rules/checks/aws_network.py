"""Network guards that are more than one attribute: the default security group, and network ACL
entries opening remote administration to the internet (with the deny entries evaluated first)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from bot.engine.context import siblings_of_types
from bot.engine.model import Node, Resource, Unknown, Violation
from bot.engine.rule import RuleContext
from rules._support import as_int, truthy
from rules.checks.aws_iam import judged
from rules.checks.aws_policy import properties, text
from rules.checks.network import is_open_cidr

ADMIN_PORTS = {22: "SSH", 3389: "RDP"}

# --------------------------------------------------------------------------------------------
# The default security group
# --------------------------------------------------------------------------------------------

_DEFAULT_SG_REFERENCE = re.compile(r"\baws_default_security_group\.[\w-]+\.id\b|\.default_security_group_id\b")
_RULE_TYPES = ("aws_security_group_rule", "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule")


def _names_default_group(node: Node) -> bool:
    """`aws_default_security_group.x.id` or `aws_vpc.x.default_security_group_id`."""
    return isinstance(node.value, Unknown) and _DEFAULT_SG_REFERENCE.search(node.value.expression) is not None


def default_security_group_open(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """The default security group must allow no traffic: every instance launched without a
    group lands in it, so a rule there reaches resources nobody meant to expose."""
    if not judged(resource):
        return
    if resource.type == "aws_default_security_group":
        for direction in ("ingress", "egress"):
            node = resource.body.get(direction)
            for block in node.children() if node is not None else []:
                if isinstance(block.value, dict):
                    yield Violation(
                        message=f"The default security group allows {direction} traffic; leave it without rules "
                                "and give resources their own groups.",
                        line=block.line,
                        key=f"{direction}@{block.line - resource.line}",
                    )
    elif resource.type in _RULE_TYPES:
        group = resource.body.get("security_group_id")
        if group is not None and _names_default_group(group):
            yield Violation(message="This rule adds traffic to the VPC's default security group.",
                            line=group.line, key="default-group")
    elif resource.type in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"):
        group = properties(resource).get("GroupId")
        if group is not None and isinstance(group.value, Unknown) and \
                re.search(r"\bDefaultSecurityGroup\b", group.value.expression):
            yield Violation(
                message="This rule adds traffic to the VPC's default security group.",
                line=group.line,
                key="default-group",
            )


# --------------------------------------------------------------------------------------------
# Network ACLs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One ingress entry of a network ACL: its number, whether it allows, its protocol's port
    span (None: protocol not TCP/UDP/all, or unknown), and its CIDRs (each a Node)."""

    number: int | None
    allow: bool | None
    ports: tuple[int, int] | None
    cidrs: tuple[Node, ...]


def _protocol_ports(protocol: Node | None, low: Node | None, high: Node | None) -> tuple[int, int] | None:
    name = (text(protocol) or "").strip().lower()
    if name in ("-1", "all"):
        return (0, 65535)
    if name not in ("6", "tcp", "17", "udp"):
        return None
    start, end = as_int(low), as_int(high)
    if start is None or end is None:
        return None
    return (min(start, end), max(start, end))


def _action(node: Node | None) -> bool | None:
    value = (text(node) or "").strip().lower()
    return {"allow": True, "deny": False}.get(value)


def _terraform_entry(body: Node, action_key: str) -> Entry:
    cidrs = tuple(n for n in (body.get("cidr_block"), body.get("ipv6_cidr_block")) if n is not None)
    return Entry(as_int(body.get("rule_no") or body.get("rule_number")), _action(body.get(action_key)),
                 _protocol_ports(body.get("protocol"), body.get("from_port"), body.get("to_port")), cidrs)


def _cloudformation_entry(props: Node) -> Entry:
    ports = props.get("PortRange")
    cidrs = tuple(n for n in (props.get("CidrBlock"), props.get("Ipv6CidrBlock")) if n is not None)
    return Entry(as_int(props.get("RuleNumber")), _action(props.get("RuleAction")),
                 _protocol_ports(props.get("Protocol"), ports.get("From") if ports else None,
                                 ports.get("To") if ports else None), cidrs)


def _family(cidr: Node) -> int | None:
    value = text(cidr)
    if value is None or not is_open_cidr(value):
        return None
    return 6 if ":" in value else 4


def _egress(node: Node | None) -> bool | None:
    return False if node is None else truthy(node)


def _written(node: Node | None) -> str:
    """A value as written (a literal, or an expression's text), to tell which ACL an entry joins."""
    return "" if node is None else str(node.value)


def _acl_entries(resource: Resource, ctx: RuleContext) -> tuple[list[Entry], list[Entry]]:
    """(the resource's own ingress entries, every ingress entry of the same ACL)."""
    if resource.type in ("aws_network_acl", "aws_default_network_acl"):
        node = resource.body.get("ingress")
        own = [_terraform_entry(b, "action") for b in (node.children() if node is not None else [])
               if isinstance(b.value, dict)]
        rules = [o for o in ctx.referrers(resource, "aws_network_acl_rule")
                 if judged(o) and _egress(o.body.get("egress")) is False]
        return own, own + [_terraform_entry(r.body, "rule_action") for r in rules]
    if resource.type == "aws_network_acl_rule":
        body, acl = resource.body, _written(resource.body.get("network_acl_id"))
        if _egress(body.get("egress")) is not False:
            return [], []
        peers = [o.body for o in siblings_of_types(ctx, resource, (resource.type,)) if judged(o)
                 and _egress(o.body.get("egress")) is False and _written(o.body.get("network_acl_id")) == acl]
        return [_terraform_entry(body, "rule_action")], [_terraform_entry(p, "rule_action") for p in peers]
    props, acl = properties(resource), _written(properties(resource).get("NetworkAclId"))
    if _egress(props.get("Egress")) is not False:
        return [], []
    entries = [o for o in siblings_of_types(ctx, resource, (resource.type,)) if judged(o)
               and _egress(properties(o).get("Egress")) is False and _written(properties(o).get("NetworkAclId")) == acl]
    return [_cloudformation_entry(props)], [_cloudformation_entry(properties(o)) for o in entries]


def _denied_first(entry: Entry, port: int, family: int, entries: list[Entry]) -> bool:
    """A deny entry numbered lower than `entry` already drops this port from the whole internet."""
    if entry.number is None:
        return False
    for other in entries:
        if other.allow is False and other.number is not None and other.number < entry.number \
                and other.ports is not None and other.ports[0] <= port <= other.ports[1] \
                and any(_family(c) == family for c in other.cidrs):
            return True
    return False


def nacl_admin_open(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """Network ACLs must not allow SSH or RDP ingress from the whole internet (unless a deny
    entry numbered lower drops it first)."""
    if not judged(resource):
        return
    own, every = _acl_entries(resource, ctx)
    for entry in own:
        yield from _entry_violations(resource, entry, every)


def _entry_violations(resource: Resource, entry: Entry, every: list[Entry]) -> Iterator[Violation]:
    if entry.allow is not True or entry.ports is None:
        return
    for cidr in entry.cidrs:
        family = _family(cidr)
        if family is None:
            continue
        exposed = [f"{port} ({name})" for port, name in ADMIN_PORTS.items()
                   if entry.ports[0] <= port <= entry.ports[1] and not _denied_first(entry, port, family, every)]
        if exposed:
            yield Violation(
                message=f"Network ACL allows ingress from {text(cidr)} to {', '.join(exposed)}.",
                line=cidr.line,
                key=f"{entry.number}:{text(cidr)}",
            )
