"""CloudFormation: encryption at rest, public exposure, open admin ports, log retention.

Values come resolved by the parser: `Ref` to a parameter with a default is that default,
every other intrinsic is `Unknown` and never reported alone. JSON templates write booleans and
numbers as strings ("true", "22"), so every comparison accepts both forms.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from bot.engine.model import Node, Resource, Severity, Unknown, Violation
from bot.engine.rule import Rule, RuleContext
from rules._support import as_int, replace_value, truthy
from rules.checks.network import is_open_cidr

_SOURCES = frozenset({"cloudformation"})
ADMIN_PORTS: dict[int, str] = {
    22: "SSH", 23: "Telnet", 3389: "RDP", 5900: "VNC", 2375: "Docker API", 2376: "Docker API",
    3306: "MySQL", 5432: "PostgreSQL", 1433: "SQL Server", 1521: "Oracle", 27017: "MongoDB",
    6379: "Redis", 9200: "Elasticsearch", 5984: "CouchDB", 9042: "Cassandra", 11211: "Memcached",
    5439: "Redshift", 8020: "HDFS",
}
_MIN_RETENTION_DAYS = 90


def _properties(resource: Resource) -> Node:
    props = resource.body.get("Properties")
    return props if props is not None and isinstance(props.value, dict) else Node({}, resource.line, resource.line)


def _set(node: Node | None) -> bool:
    """Present with a value (an Unknown counts: it is set, we just cannot tell to what)."""
    return node is not None and node.value not in (None, "")


def _encryption_violation(resource: Resource, node: Node | None, key: str, what: str) -> Iterator[Violation]:
    """Explicit false -> on that line with a fix; missing -> on the resource's first line."""
    if node is None:
        yield Violation(message=f"{what} is not encrypted at rest ({key} is not set).", line=resource.line)
    elif truthy(node) is False:
        yield Violation(message=f"{what} is not encrypted at rest ({key}: false).", line=node.line,
                        end_line=node.end_line, suggestion=replace_value(resource, node, key, "true"))


def _check_ebs(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    props = _properties(resource)
    encrypted = props.get("Encrypted")
    if encrypted is None and _set(props.get("SnapshotId")):
        return  # a volume restored from a snapshot inherits the snapshot's encryption
    yield from _encryption_violation(resource, encrypted, "Encrypted", f"EBS volume {resource.address}")


def _check_public_rds(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    public = _properties(resource).get("PubliclyAccessible")
    if public is not None and truthy(public) is True:
        yield Violation(
            message=f"Database {resource.address} is publicly accessible from the internet.",
            line=public.line, end_line=public.end_line,
            suggestion=replace_value(resource, public, "PubliclyAccessible", "false"),
        )


def _port_range(rule: Node) -> tuple[int, int] | None:
    """The ports a rule opens; None when unknown or not TCP/all protocols."""
    protocol = rule.get("IpProtocol")
    if protocol is None or isinstance(protocol.value, Unknown):
        return None
    name = str(protocol.value).strip().lower()
    if name in ("-1", "all"):
        return (0, 65535)
    if name not in ("tcp", "6"):
        return None
    from_port, to_port = as_int(rule.get("FromPort")), as_int(rule.get("ToPort"))
    low = from_port if from_port is not None else to_port
    high = to_port if to_port is not None else from_port
    if low is None or high is None:
        return None
    if low == -1 or high == -1:
        return (0, 65535)
    return (min(low, high), max(low, high))


def _open_cidr(rule: Node) -> Node | None:
    for key in ("CidrIp", "CidrIpv6"):
        cidr = rule.get(key)
        if cidr is not None and isinstance(cidr.value, str) and is_open_cidr(cidr.value):
            return cidr
    return None


def _ingress_violations(rule: Node) -> Iterator[Violation]:
    cidr = _open_cidr(rule)
    ports = _port_range(rule)
    if cidr is None or ports is None:
        return
    exposed = [f"{port} ({name})" for port, name in sorted(ADMIN_PORTS.items()) if ports[0] <= port <= ports[1]]
    if not exposed:
        return
    shown = ", ".join(exposed[:4]) + (", ..." if len(exposed) > 4 else "")
    yield Violation(
        message=f"Ingress from {cidr.value} is open to administration/database ports: {shown}.",
        line=cidr.line, end_line=cidr.end_line, key=f"{cidr.value}:{ports[0]}-{ports[1]}",
    )


def _check_ingress(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    props = _properties(resource)
    if resource.type == "AWS::EC2::SecurityGroupIngress":
        yield from _ingress_violations(props)
        return
    rules = props.get("SecurityGroupIngress")
    for rule in rules.children() if rules is not None else []:
        yield from _ingress_violations(rule)


def _check_log_retention(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    retention = _properties(resource).get("RetentionInDays")
    days = as_int(retention)
    if retention is not None and days is not None and 0 < days < _MIN_RETENTION_DAYS:
        yield Violation(
            message=f"Log group keeps logs for only {days} days; audit logs need at least {_MIN_RETENTION_DAYS}.",
            line=retention.line, end_line=retention.end_line,
            suggestion=replace_value(resource, retention, "RetentionInDays", "365"),
        )


RULES: tuple[Rule, ...] = (
    Rule(
        id="CB-CFN-001",
        title="EBS volume is not encrypted",
        severity=Severity.HIGH,
        sources=_SOURCES,
        types=frozenset({"AWS::EC2::Volume"}),
        rationale="Data on an unencrypted EBS volume and in its snapshots is readable by anyone who "
        "obtains a copy; encryption at rest is required for regulated data.",
        remediation="Set `Encrypted: true` (optionally with `KmsKeyId`) on the volume.",
        check=_check_ebs,
        peers={"checkov": ("CKV_AWS_3",), "kics": ("80b7ac3f-d2b7-4577-9b10-df7913497162",)},
    ),
    Rule(
        id="CB-CFN-003",
        title="RDS instance is publicly accessible",
        severity=Severity.HIGH,
        sources=_SOURCES,
        types=frozenset({"AWS::RDS::DBInstance"}),
        rationale="A publicly accessible database gets a public DNS name and IP: it is directly "
        "reachable from the internet, one security group mistake away from exposure.",
        remediation="Set `PubliclyAccessible: false` and reach the database from inside the VPC "
        "(application subnets, a bastion or SSM port forwarding).",
        check=_check_public_rds,
        peers={"checkov": ("CKV_AWS_17",), "kics": ("de38e1d5-54cb-4111-a868-6f7722695007",)},
    ),
    Rule(
        id="CB-CFN-004",
        title="Security group opens administration or database ports to the internet",
        severity=Severity.HIGH,
        sources=_SOURCES,
        types=frozenset({"AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress"}),
        rationale="SSH, RDP and database ports open to 0.0.0.0/0 or ::/0 are scanned and brute-forced "
        "continuously; remote administration must be restricted to known networks.",
        remediation="Restrict `CidrIp`/`CidrIpv6` to your own ranges or reference a source security "
        "group; use SSM Session Manager instead of open SSH/RDP.",
        check=_check_ingress,
        peers={
            "checkov": ("CKV_AWS_24", "CKV_AWS_25"),
            "kics": (
                "6e856af2-62d7-4ba2-adc1-73b62cef9cc1",
                "3ae83918-7ec7-4cb8-80db-b91ef0f94002",
                "c9846969-d066-431f-9b34-8c4abafe422a",
            ),
        },
    ),
    Rule(
        id="CB-CFN-005",
        title="Log group retention is shorter than 90 days",
        severity=Severity.LOW,
        sources=_SOURCES,
        types=frozenset({"AWS::Logs::LogGroup"}),
        rationale="Audit logs must be kept long enough to investigate incidents (PCI DSS asks for "
        "three months immediately available and a year in total).",
        remediation="Set `RetentionInDays` to at least 90 (365 or more for audit logs), or omit it "
        "to keep logs indefinitely.",
        check=_check_log_retention,
    ),
)
