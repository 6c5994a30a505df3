"""Terraform AWS rules: encryption at rest and in transit, internet exposure, logging, key hygiene.

Every rule follows today's AWS defaults so it does not cry wolf: S3 buckets are encrypted and
block public access by default (only an explicit opt-out is a finding), SQS queues get SSE by
default, a log group without retention keeps logs forever, and an account-wide EBS default
encryption resource in the module covers its volumes.

Values arrive resolved by the parser (`var.x` is its default); anything it could not resolve
is `Unknown` and never produces a finding on its own. Findings land on the offending attribute,
or on the block's first line when the attribute is missing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType

from bot.engine.model import Node, Resource, Severity, Unknown, Violation
from bot.engine.rule import CheckFn, Rule, RuleContext
from rules._edits import add_lines, replace_literal
from rules._support import as_int, truthy
from rules.checks.aws_iam import IDENTITY_TERRAFORM, iam_admin
from rules.checks.aws_policy import DOCUMENT_TYPE
from rules.checks.network import is_open_cidr
from rules.checks.tags import regulated_data_class

_SOURCES = frozenset({"terraform"})
ADMIN_PORTS: Mapping[int, str] = MappingProxyType({22: "SSH", 3389: "RDP"})
DATABASE_PORTS: Mapping[int, str] = MappingProxyType({
    1433: "SQL Server", 1521: "Oracle", 2483: "Oracle", 2484: "Oracle", 3306: "MySQL/MariaDB/Aurora",
    5432: "PostgreSQL", 5439: "Redshift", 5984: "CouchDB", 6379: "Redis", 7000: "Cassandra",
    7001: "Cassandra", 8182: "Neptune", 9042: "Cassandra", 9200: "Elasticsearch/OpenSearch",
    9300: "Elasticsearch/OpenSearch", 11211: "Memcached", 27017: "MongoDB/DocumentDB", 27018: "MongoDB",
})
_MIN_RETENTION_DAYS = 90
_SUGGESTED_RETENTION_DAYS = 365
_MODERN_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
# ELB policies that still accept TLS 1.0 or 1.1 (the dated ones are the pre-2017 originals).
_OUTDATED_TLS_POLICY = re.compile(
    r"TLS-1-0|TLS-1-1|TLS13-1-0|TLS13-1-1|FS-2018-06|FS-1-1-|^ELBSecurityPolicy-20\d\d-\d\d$", re.IGNORECASE
)
_PUBLIC_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})
_PUBLIC_GRANTEES = ("acs.amazonaws.com/groups/global/AllUsers", "acs.amazonaws.com/groups/global/AuthenticatedUsers")
_PAB_SETTINGS = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
_KMS_SSE = frozenset({"aws:kms", "aws:kms:dsse"})


# --------------------------------------------------------------------------------------------
# Reading values
# --------------------------------------------------------------------------------------------


def _text(node: Node | None) -> str | None:
    """A literal string value (numbers too, as Terraform converts them); None when unknown/absent."""
    if node is None or isinstance(node.value, (Unknown, bool)) or node.value is None:
        return None
    if isinstance(node.value, (str, int, float)):
        return str(node.value)
    return None


def _is_set(node: Node | None) -> bool:
    """Present with a value; an Unknown counts as set (we only cannot tell to what)."""
    return node is not None and node.value not in (None, "")


def _is_unknown(node: Node | None) -> bool:
    return node is not None and isinstance(node.value, Unknown)


def _blocks(body: Node, key: str) -> list[Node]:
    """Nested blocks (or a list of objects written as an attribute) that are mappings."""
    node = body.get(key)
    if node is None:
        return []
    return [child for child in node.children() if isinstance(child.value, dict)]


def _dynamic(body: Node, name: str) -> bool:
    """A `dynamic "name"` block generates `name` blocks we cannot see: treat them as unknown."""
    return any(isinstance(item.value, dict) and name in item.value for item in _blocks(body, "dynamic"))


def _absent(body: Node, name: str) -> bool:
    """Neither a `name` block/attribute nor a dynamic block that could generate one."""
    return body.get(name) is None and not _dynamic(body, name)


def _siblings_of_type(resource: Resource, ctx: RuleContext, *types: str) -> Iterator[Resource]:
    for other in ctx.siblings(resource):
        if other.kind == "resource" and other.type in types and other is not resource:
            yield other


# --------------------------------------------------------------------------------------------
# Suggestions: replacement text for the anchor line, kept exactly as written apart from the fix
# --------------------------------------------------------------------------------------------

def _fix_bool(resource: Resource, node: Node | None, block: Node | None, key: str, what: str,
              value: str = "true") -> Iterator[Violation]:
    """The common shape: `key` must be true. Missing -> block's first line; false -> its own line."""
    if node is None:
        anchor = block.line if block is not None else resource.line
        yield Violation(
            message=f"{what} ({key} is not set; it defaults to false).",
            line=anchor,
            suggestion=add_lines(resource, block, [f"{key} = {value}"]),
            key=key,
        )
    elif truthy(node) is False:
        yield Violation(
            message=f"{what} ({key} = false).",
            line=node.line,
            end_line=node.end_line,
            suggestion=replace_literal(resource, node, key, value),
            key=key,
        )
    elif _unknown_within(node):
        yield _undecided(node, key, what)


def _unknown_within(node: Node) -> bool:
    return isinstance(node.value, Unknown)


def _undecided(node: Node, key: str, what: str) -> Violation:
    """The value a control needs is not known before apply: reported only where a policy asks."""
    return Violation(message=f"Cannot tell: `{key} = {node.value}` is not known before apply; if it is not "
                             f"{'false' if key == 'publicly_accessible' else 'true'}: {what[0].lower()}{what[1:]}.",
                     line=node.line, end_line=node.end_line, key=key, undecided=True)


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------


def _managed(check: CheckFn) -> CheckFn:
    """Only managed resources that Terraform will actually create (`count = 0` creates none).

    A `data "aws_db_instance"` reads an existing database and is not ours to judge.
    """

    def guarded(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
        if resource.kind != "resource" or not isinstance(resource.body.value, dict):
            return ()
        count = resource.body.get("count")
        if count is not None and as_int(count) == 0:
            return ()
        for_each = resource.body.get("for_each")
        if for_each is not None and for_each.value in ({}, []):
            return ()
        return check(resource, ctx)

    guarded.__doc__ = check.__doc__
    return guarded


def _ebs_default_encryption(resource: Resource, ctx: RuleContext) -> bool:
    """The module turns on account-wide EBS encryption (`enabled` defaults to true)."""
    return any(
        truthy(other.body.get("enabled")) is not False
        for other in _siblings_of_type(resource, ctx, "aws_ebs_encryption_by_default")
    )


def _check_ebs(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """EBS volumes and instance block devices must be encrypted."""
    if _ebs_default_encryption(resource, ctx):
        return
    body = resource.body
    if resource.type == "aws_ebs_volume":
        if body.get("encrypted") is None and _is_set(body.get("snapshot_id")):
            return  # a volume made from a snapshot inherits the snapshot's encryption
        yield from _fix_bool(resource, body.get("encrypted"), None, "encrypted", "EBS volume is not encrypted")
        return
    if resource.type == "aws_instance" and _absent(body, "root_block_device") \
            and body.get("launch_template") is None:
        yield Violation(
            message="root_block_device is not set: the root volume is created unencrypted (unless the AMI's "
                    "snapshot is encrypted).",
            line=resource.line,
            suggestion=add_lines(resource, None, ["root_block_device {", "  encrypted = true", "}"]),
            key="root_block_device:absent",
        )
    for device in ("root_block_device", "ebs_block_device"):
        for block in _blocks(body, device):
            encrypted = block.get("encrypted")
            if encrypted is None and _is_set(block.get("snapshot_id")):
                continue
            for violation in _fix_bool(resource, encrypted, block, "encrypted", f"{device} is not encrypted"):
                name = _text(block.get("device_name")) or str(block.line - resource.line)
                yield _keyed(violation, f"{device}:{name}")


def _keyed(violation: Violation, key: str) -> Violation:
    return Violation(violation.message, violation.line, violation.end_line, violation.suggestion, key)


_RDS_INHERITS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "aws_db_instance": ("replicate_source_db", "snapshot_identifier", "restore_to_point_in_time"),
    "aws_rds_cluster": ("snapshot_identifier", "replication_source_identifier", "global_cluster_identifier",
                        "restore_to_point_in_time", "source_region"),
})


def _check_rds_public(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """A database instance must not get a public endpoint."""
    public = resource.body.get("publicly_accessible")
    if public is not None and truthy(public) is True:
        yield Violation(
            message="Database instance is publicly accessible from the internet (publicly_accessible = true).",
            line=public.line,
            end_line=public.end_line,
            suggestion=replace_literal(resource, public, "publicly_accessible", "false"),
        )
    elif public is not None and _unknown_within(public):
        yield _undecided(public, "publicly_accessible", "Database instance may be publicly accessible")


def _protocol(node: Node | None) -> str | None:
    """"all", "tcp" or "udp"; None for other protocols (icmp, ...) or unknown values."""
    text = _text(node)
    if text is None:
        return None
    name = text.strip().lower()
    return {"-1": "all", "all": "all", "tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp"}.get(name)


def _ports(rule: Node, protocol: str) -> tuple[int, int] | None:
    if protocol == "all":
        return (0, 65535)
    low, high = as_int(rule.get("from_port")), as_int(rule.get("to_port"))
    if low is None or high is None:
        return None
    if low == -1 or high == -1:
        return (0, 65535)
    return (min(low, high), max(low, high))


def _open_cidrs(rule: Node, keys: Sequence[str]) -> Iterator[Node]:
    """The entries covering the whole internet (each with its own line) of the given CIDR
    attributes: 0.0.0.0/0 and ::/0 in any spelling (`0::/0`, `0:0:0:0:0:0:0:0/0`)."""
    for key in keys:
        node = rule.get(key)
        if node is None:
            continue
        for item in node.children() if isinstance(node.value, list) else [node]:
            if isinstance(item.value, str) and is_open_cidr(item.value):
                yield item


def _ingress_rules(resource: Resource) -> Iterator[tuple[Node, str, tuple[str, ...]]]:
    """(rule, protocol attribute, CIDR attributes) for every ingress rule the resource defines."""
    body = resource.body
    if resource.type in ("aws_security_group", "aws_default_security_group"):
        for rule in _blocks(body, "ingress"):
            yield rule, "protocol", ("cidr_blocks", "ipv6_cidr_blocks")
    elif resource.type == "aws_security_group_rule":
        if _text(body.get("type")) == "ingress":
            yield body, "protocol", ("cidr_blocks", "ipv6_cidr_blocks")
    elif resource.type == "aws_vpc_security_group_ingress_rule":
        yield body, "ip_protocol", ("cidr_ipv4", "cidr_ipv6")


def _exposure_check(ports: Mapping[int, str], protocols: frozenset[str], what: str) -> CheckFn:
    """A check flagging ingress from anywhere that covers any of `ports`."""

    def check(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
        for rule, protocol_key, cidr_keys in _ingress_rules(resource):
            protocol = _protocol(rule.get(protocol_key))
            if protocol is None or (protocol != "all" and protocol not in protocols):
                continue
            span = _ports(rule, protocol)
            if span is None:
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


def _check_log_retention(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """Log groups keep logs at least 90 days (no retention at all means forever, which is fine)."""
    retention = resource.body.get("retention_in_days")
    days = as_int(retention)
    if retention is not None and days is not None and 0 < days < _MIN_RETENTION_DAYS:
        yield Violation(
            message=f"Log group keeps logs for only {days} days; audit logs need at least {_MIN_RETENTION_DAYS}.",
            line=retention.line,
            end_line=retention.end_line,
            suggestion=replace_literal(resource, retention, "retention_in_days", str(_SUGGESTED_RETENTION_DAYS)),
        )


def _check_s3_public_acl(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """Buckets and objects must not be granted to everyone through ACLs."""
    acl = resource.body.get("acl")
    value = _text(acl)
    if acl is not None and value is not None and value.strip().lower() in _PUBLIC_ACLS:
        yield Violation(
            message=f"Canned ACL {value!r} makes the data readable by anyone.",
            line=acl.line,
            end_line=acl.end_line,
            suggestion=replace_literal(resource, acl, "acl", '"private"'),
            key="acl",
        )
    for policy in _blocks(resource.body, "access_control_policy"):
        for grant in _blocks(policy, "grant"):
            for grantee in _blocks(grant, "grantee"):
                uri = grantee.get("uri")
                text = _text(uri)
                if uri is not None and text is not None and any(text.endswith(g) for g in _PUBLIC_GRANTEES):
                    yield Violation(
                        message=f"ACL grant to {text.rsplit('/', 1)[-1]} makes the data readable by anyone.",
                        line=uri.line,
                        end_line=uri.end_line,
                        key=f"grant:{uri.line - resource.line}",
                    )


def _check_public_access_block(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """A public access block must keep all four guards on; omitted ones are set to false."""
    missing = []
    for key in _PAB_SETTINGS:
        node = resource.body.get(key)
        if node is None:
            missing.append(key)
        elif truthy(node) is False:
            yield Violation(
                message=f"Public access guard {key} is turned off.",
                line=node.line,
                end_line=node.end_line,
                suggestion=replace_literal(resource, node, key, "true"),
                key=key,
            )
    if missing:
        yield Violation(
            message=f"Omitted public access guards are set to false by this resource: {', '.join(missing)}.",
            line=resource.line,
            suggestion=add_lines(resource, None, [f"{key} = true" for key in missing]),
            key="missing",
        )


def _classification(bucket: Resource) -> str | None:
    """The bucket's regulated data class from its tags, e.g. "PHI"; None when not regulated."""
    return regulated_data_class(bucket.body.get("tags"))


def _uses_kms(config: Node) -> bool | None:
    """Whether an SSE configuration's rules use KMS; None when it cannot be told."""
    algorithms = [
        default.get("sse_algorithm")
        for rule in _blocks(config, "rule")
        for default in _blocks(rule, "apply_server_side_encryption_by_default")
    ]
    if not algorithms:
        return False
    if any(node is None or _text(node) is None for node in algorithms):
        return None if any(_is_unknown(node) for node in algorithms) else False
    return any((_text(node) or "").lower() in _KMS_SSE for node in algorithms)


def _check_regulated_bucket(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """A bucket tagged as holding regulated data must be encrypted with a KMS key we control."""
    data_class = _classification(resource)
    if data_class is None:
        return
    configs = [r.body for r in ctx.referrers(resource, "aws_s3_bucket_server_side_encryption_configuration")
               if r.kind == "resource"]
    configs += _blocks(resource.body, "server_side_encryption_configuration")  # provider v3 inline form
    if _dynamic(resource.body, "server_side_encryption_configuration"):
        return
    verdicts = [_uses_kms(config) for config in configs]
    if any(verdict is not False for verdict in verdicts):
        return  # KMS, or a configuration we cannot read
    found = "its encryption configuration does not use aws:kms" if configs else "no SSE-KMS configuration refers to it"
    yield Violation(
        message=f"Bucket holds {data_class} data but {found}; default SSE-S3 keys cannot be restricted or audited.",
        line=resource.line,
    )


def _check_cloudtrail_kms(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """CloudTrail logs must be encrypted with a customer managed KMS key."""
    key = resource.body.get("kms_key_id")
    if key is None or key.value in (None, ""):
        anchor = key.line if key is not None else resource.line
        yield Violation(message="CloudTrail logs are not encrypted with a KMS key (kms_key_id is not set).",
                        line=anchor, end_line=anchor)


def _load_balancer(listener: Resource, ctx: RuleContext) -> Resource | None:
    """The aws_lb of this module the listener attaches to, when it names one."""
    for other in _siblings_of_type(listener, ctx, "aws_lb", "aws_alb"):
        if other.address in listener.references:
            return other
    return None


def _redirects_to_https(action: Node) -> bool | None:
    """True for a redirect to HTTPS; False for a redirect that keeps plain HTTP (`protocol =
    "HTTP"`, or no protocol: `#{protocol}`, the request's own); None when it cannot be told."""
    if (_text(action.get("type")) or "").lower() != "redirect":
        return False
    redirects = _blocks(action, "redirect")
    protocols = [r.get("protocol") for r in redirects]
    if any(_is_unknown(p) for p in protocols):
        return None
    return any((_text(p) or "").upper() == "HTTPS" for p in protocols)


def _check_http_listener(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """Internet-facing HTTP listeners must redirect to HTTPS instead of serving traffic."""
    body = resource.body
    protocol = body.get("protocol")
    lb = _load_balancer(resource, ctx)
    internal = lb.body.get("internal") if lb is not None else None
    if internal is not None and truthy(internal) is not False:
        return  # an internal (or maybe internal) load balancer is not reachable from the internet
    if protocol is None:
        if lb is None or (_text(lb.body.get("load_balancer_type")) or "application") != "application":
            return  # only an Application Load Balancer listener defaults to HTTP
    elif (_text(protocol) or "").upper() != "HTTP":
        return
    actions = _blocks(body, "default_action")
    if not actions or any(_is_unknown(a.get("type")) for a in actions):
        return
    verdicts = [_redirects_to_https(a) for a in actions]
    if any(verdict is not False for verdict in verdicts):
        return
    redirects = any((_text(a.get("type")) or "").lower() == "redirect" for a in actions)
    forwards = any((_text(a.get("type")) or "").lower() not in ("fixed-response", "redirect") for a in actions)
    rules = [r for r in ctx.referrers(resource) if r.type in ("aws_lb_listener_rule", "aws_alb_listener_rule")]
    if not forwards and not redirects and not rules:
        return  # a fixed response carries no application data
    yield Violation(
        message="HTTP listener redirects to plain HTTP; the traffic stays in clear text." if redirects and not forwards
        else "HTTP listener serves traffic in clear text; redirect it to HTTPS.",
        line=protocol.line if protocol is not None else resource.line,
    )


def _check_tls_policy(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """HTTPS/TLS listeners must not accept TLS 1.0/1.1 (the provider default policy does)."""
    protocol = _text(resource.body.get("protocol"))
    if protocol is None or protocol.upper() not in ("HTTPS", "TLS"):
        return
    policy = resource.body.get("ssl_policy")
    if policy is None:
        yield Violation(
            message="No ssl_policy: the default ELBSecurityPolicy-2016-08 still accepts TLS 1.0 and 1.1.",
            line=resource.line,
            suggestion=add_lines(resource, None, [f'ssl_policy = "{_MODERN_TLS_POLICY}"']),
        )
        return
    name = _text(policy)
    if name is not None and _OUTDATED_TLS_POLICY.search(name):
        yield Violation(
            message=f"TLS policy {name} accepts TLS versions older than 1.2.",
            line=policy.line,
            end_line=policy.end_line,
            suggestion=replace_literal(resource, policy, "ssl_policy", f'"{_MODERN_TLS_POLICY}"'),
        )


def _check_cloudfront_https(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """CloudFront must not serve viewers over plain HTTP."""
    for key in ("default_cache_behavior", "ordered_cache_behavior"):
        for behavior in _blocks(resource.body, key):
            policy = behavior.get("viewer_protocol_policy")
            if policy is not None and (_text(policy) or "").lower() == "allow-all":
                path = _text(behavior.get("path_pattern")) or "default"
                yield Violation(
                    message=f"Cache behavior ({path}) lets viewers use plain HTTP (viewer_protocol_policy = allow-all).",
                    line=policy.line,
                    end_line=policy.end_line,
                    suggestion=replace_literal(resource, policy, "viewer_protocol_policy", '"redirect-to-https"'),
                    key=f"{key}:{path}",
                )


def _check_elasticache_at_rest(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """ElastiCache replication groups must encrypt data at rest (Valkey does by default)."""
    body = resource.body
    node = body.get("at_rest_encryption_enabled")
    if node is None:
        engine = body.get("engine")
        if _is_unknown(engine) or (_text(engine) or "redis").lower() == "valkey":
            return
        if _is_set(body.get("global_replication_group_id")):
            return  # members take the global datastore's settings
    yield from _fix_bool(resource, node, None, "at_rest_encryption_enabled", "ElastiCache data is not encrypted at rest")


def _check_elasticache_in_transit(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """ElastiCache replication groups must encrypt traffic (TLS)."""
    body = resource.body
    node = body.get("transit_encryption_enabled")
    if node is None and _is_set(body.get("global_replication_group_id")):
        return
    yield from _fix_bool(resource, node, None, "transit_encryption_enabled", "ElastiCache traffic is not encrypted")


def _check_search_at_rest(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """OpenSearch/Elasticsearch domains must encrypt data at rest."""
    blocks = _blocks(resource.body, "encrypt_at_rest")
    if not blocks:
        if _absent(resource.body, "encrypt_at_rest"):
            yield Violation(
                message="Search domain is not encrypted at rest (no encrypt_at_rest block; it defaults to off).",
                line=resource.line,
                suggestion=add_lines(resource, None, ["encrypt_at_rest {", "  enabled = true", "}"]),
            )
        return
    for block in blocks:
        yield from _fix_bool(resource, block.get("enabled"), block, "enabled", "Search domain is not encrypted at rest")


def _check_search_in_transit(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """OpenSearch/Elasticsearch domains must encrypt node-to-node traffic and refuse plain HTTP."""
    body = resource.body
    n2n = _blocks(body, "node_to_node_encryption")
    if not n2n and _absent(body, "node_to_node_encryption"):
        yield Violation(
            message="Traffic between search nodes is not encrypted (no node_to_node_encryption block).",
            line=resource.line,
            suggestion=add_lines(resource, None, ["node_to_node_encryption {", "  enabled = true", "}"]),
            key="node_to_node_encryption",
        )
    for block in n2n:
        for violation in _fix_bool(resource, block.get("enabled"), block, "enabled",
                                   "Traffic between search nodes is not encrypted"):
            yield _keyed(violation, "node_to_node_encryption")
    endpoints = _blocks(body, "domain_endpoint_options")
    if not endpoints and _absent(body, "domain_endpoint_options"):
        yield Violation(
            message="Search domain accepts TLS 1.0 (no domain_endpoint_options: the default TLS policy is "
                    "Policy-Min-TLS-1-0-2019-07).",
            line=resource.line,
            suggestion=add_lines(resource, None, ["domain_endpoint_options {", "  enforce_https       = true",
                                                  '  tls_security_policy = "Policy-Min-TLS-1-2-2019-07"', "}"]),
            key="tls_security_policy",
        )
    for block in endpoints:
        if block.get("tls_security_policy") is None:
            yield Violation(
                message="Search domain accepts TLS 1.0 (tls_security_policy is not set; it defaults to "
                        "Policy-Min-TLS-1-0-2019-07).",
                line=block.line,
                suggestion=add_lines(resource, block, ['tls_security_policy = "Policy-Min-TLS-1-2-2019-07"']),
                key="tls_security_policy",
            )
        https = block.get("enforce_https")
        if https is not None and truthy(https) is False:
            yield Violation(
                message="Search domain accepts plain HTTP (enforce_https = false).",
                line=https.line,
                end_line=https.end_line,
                suggestion=replace_literal(resource, https, "enforce_https", "true"),
                key="enforce_https",
            )
        policy = block.get("tls_security_policy")
        if policy is not None and (_text(policy) or "").endswith("TLS-1-0-2019-07"):
            yield Violation(
                message=f"Search domain accepts TLS 1.0 ({_text(policy)}).",
                line=policy.line,
                end_line=policy.end_line,
                suggestion=replace_literal(resource, policy, "tls_security_policy", '"Policy-Min-TLS-1-2-2019-07"'),
                key="tls_security_policy",
            )


def _imds_defaults_required(resource: Resource, ctx: RuleContext) -> bool:
    """The module sets the account's instance metadata defaults to IMDSv2-only."""
    return any(
        (_text(other.body.get("http_tokens")) or "").lower() == "required"
        for other in _siblings_of_type(resource, ctx, "aws_ec2_instance_metadata_defaults")
    )


def _mentions(node: Node, needle: str) -> bool:
    """Whether any string (or unresolved expression) inside `node` contains `needle`."""
    if isinstance(node.value, dict):
        return any(_mentions(child, needle) for _, child in node.items())
    if isinstance(node.value, list):
        return any(_mentions(child, needle) for child in node.value)
    return isinstance(node.value, (str, Unknown)) and needle in str(node.value).lower()


def _ami_defaults_to_imdsv2(resource: Resource, ctx: RuleContext) -> bool:
    """Amazon Linux 2023 AMIs are registered with ImdsSupport v2.0, so instances launched from
    them require IMDSv2 unless told otherwise. Recognised from the AMI value or from the
    `aws_ami`/`aws_ssm_parameter` data source it names."""
    ami = resource.body.get("ami") or resource.body.get("image_id")
    if ami is None:
        return False
    if _mentions(ami, "al2023"):
        return True
    names = {f"data.{t}.{n}" for t, n in re.findall(r"\bdata\.([\w-]+)\.([\w-]+)", str(ami.value))}
    return any(
        other.kind == "data" and other.address in names and _mentions(other.body, "al2023")
        for other in ctx.siblings(resource)
    )


def _check_imdsv2(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """Instances must require IMDSv2 session tokens (stops SSRF from reading role credentials)."""
    if _imds_defaults_required(resource, ctx):
        return
    blocks = _blocks(resource.body, "metadata_options")
    if not blocks:
        if _ami_defaults_to_imdsv2(resource, ctx):
            return
        if resource.type == "aws_launch_template" and resource.body.get("image_id") is None:
            return  # the AMI, and with it the IMDS default, is chosen elsewhere (EKS, an ASG override)
        if _absent(resource.body, "metadata_options"):
            yield Violation(
                message="No metadata_options: instances accept IMDSv1 requests without a session token.",
                line=resource.line,
                suggestion=add_lines(resource, None, ["metadata_options {", '  http_tokens = "required"', "}"]),
            )
        return
    for block in blocks:
        if (_text(block.get("http_endpoint")) or "").lower() == "disabled":
            continue
        tokens = block.get("http_tokens")
        if tokens is None:
            yield Violation(
                message="metadata_options does not set http_tokens; IMDSv1 stays allowed.",
                line=block.line,
                suggestion=add_lines(resource, block, ['http_tokens = "required"']),
            )
        elif (_text(tokens) or "").lower() == "optional":
            yield Violation(
                message='IMDSv1 is allowed (http_tokens = "optional").',
                line=tokens.line,
                end_line=tokens.end_line,
                suggestion=replace_literal(resource, tokens, "http_tokens", '"required"'),
            )


def _check_rds_backups(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """Automated backups must stay on (backup_retention_period = 0 turns them off)."""
    body = resource.body
    retention = body.get("backup_retention_period")
    if retention is None or as_int(retention) != 0 or _is_set(body.get("replicate_source_db")):
        return
    yield Violation(
        message="Automated backups are disabled (backup_retention_period = 0).",
        line=retention.line,
        end_line=retention.end_line,
        suggestion=replace_literal(resource, retention, "backup_retention_period", "7"),
    )


def _check_sqs(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """SQS queues are encrypted by default; turning SSE off without a KMS key leaves them clear."""
    body = resource.body
    sse = body.get("sqs_managed_sse_enabled")
    if sse is None or truthy(sse) is not False or _is_set(body.get("kms_master_key_id")):
        return
    yield Violation(
        message="Queue messages are stored unencrypted (sqs_managed_sse_enabled = false and no KMS key).",
        line=sse.line,
        end_line=sse.end_line,
        suggestion=replace_literal(resource, sse, "sqs_managed_sse_enabled", "true"),
    )


# --------------------------------------------------------------------------------------------
# The pack
# --------------------------------------------------------------------------------------------


def _rule(rule_id: str, title: str, severity: Severity, types: Iterable[str], rationale: str,
          remediation: str, check: Callable[[Resource, RuleContext], Iterable[Violation]],
          managed: bool = True, peers: Mapping[str, tuple[str, ...]] | None = None) -> Rule:
    return Rule(
        id=rule_id,
        title=title,
        severity=severity,
        sources=_SOURCES,
        types=frozenset(types),
        rationale=rationale,
        remediation=remediation,
        check=_managed(check) if managed else check,
        peers=peers or {},
    )


_SG_TYPES = ("aws_security_group", "aws_default_security_group", "aws_security_group_rule",
             "aws_vpc_security_group_ingress_rule")
_LISTENERS = ("aws_lb_listener", "aws_alb_listener")
_SEARCH = ("aws_opensearch_domain", "aws_elasticsearch_domain")
_IAM_POLICY_HOLDERS = (*IDENTITY_TERRAFORM, DOCUMENT_TYPE)

RULES: tuple[Rule, ...] = (
    _rule(
        "CB-AWS-001", "EBS volume is not encrypted", Severity.HIGH,
        ("aws_ebs_volume", "aws_instance"),
        "Data on an unencrypted EBS volume, and in every snapshot of it, is readable by whoever gets a "
        "copy; regulated data must be encrypted at rest.",
        "Set `encrypted = true` on the volume or block device (optionally with `kms_key_id`), or enable "
        "`aws_ebs_encryption_by_default` for the account and region.",
        _check_ebs,
        peers={"checkov": ("CKV_AWS_3", "CKV_AWS_8"), "kics": ("cc997676-481b-4e93-aa81-d19f8c5e9b12",)},
    ),
    _rule(
        "CB-AWS-003", "RDS instance is publicly accessible", Severity.CRITICAL,
        ("aws_db_instance", "aws_rds_cluster_instance"),
        "A publicly accessible database gets a public IP and DNS name: it is directly reachable from the "
        "internet and one security group mistake away from a breach.",
        "Set `publicly_accessible = false` and reach the database from inside the VPC (application "
        "subnets, a bastion or SSM port forwarding).",
        _check_rds_public,
        peers={"checkov": ("CKV_AWS_17",), "kics": ("35113e6f-2c6b-414d-beec-7a9482d3b2d1",)},
    ),
    _rule(
        "CB-AWS-004", "Security group opens SSH/RDP to the internet", Severity.CRITICAL, _SG_TYPES,
        "SSH and RDP open to 0.0.0.0/0 or ::/0 are scanned and brute-forced around the clock; remote "
        "administration must only be reachable from known networks.",
        "Restrict the CIDR to your own ranges or a source security group, or drop the rule and use SSM "
        "Session Manager.",
        _exposure_check(ADMIN_PORTS, frozenset({"tcp", "udp"}), "remote administration ports"),
        peers={
            "checkov": ("CKV_AWS_24", "CKV_AWS_25"),
            "kics": (
                "65905cec-d691-4320-b320-2000436cb696",
                "151187cb-0efc-481c-babd-ad24e3c9bc22",
            ),
        },
    ),
    _rule(
        "CB-AWS-005", "Security group opens database ports to the internet", Severity.CRITICAL, _SG_TYPES,
        "Databases must never be reachable from the internet: exposed ports invite credential stuffing "
        "and exploitation of the engine itself.",
        "Allow the database port only from the application's security group or private CIDR ranges.",
        _exposure_check(DATABASE_PORTS, frozenset({"tcp"}), "database ports"),
    ),
    _rule(
        "CB-AWS-006", "CloudWatch log group keeps logs less than 90 days", Severity.MEDIUM,
        ("aws_cloudwatch_log_group",),
        "Audit logs must stay available long enough to investigate an incident: PCI DSS asks for three "
        "months immediately available and a year in total.",
        "Set `retention_in_days` to 90 or more (365 for audit logs), or omit it to keep logs forever.",
        _check_log_retention,
    ),
    _rule(
        "CB-AWS-007", "S3 ACL grants public access", Severity.CRITICAL,
        ("aws_s3_bucket", "aws_s3_bucket_acl", "aws_s3_object", "aws_s3_bucket_object"),
        "A public-read, public-read-write or authenticated-read ACL hands the data to anyone on the "
        "internet (any AWS account counts as authenticated).",
        "Use `acl = \"private\"` (or drop ACLs and keep object ownership `BucketOwnerEnforced`); serve "
        "public content through CloudFront with origin access control.",
        _check_s3_public_acl,
        peers={
            "checkov": ("CKV_AWS_20", "CKV_AWS_57"),
            "kics": (
                "38c5ee0d-7f22-4260-ab72-5073048df100",
                "57b9893d-33b1-4419-bcea-a717ea87e139",
            ),
        },
    ),
    _rule(
        "CB-AWS-008", "S3 Block Public Access is turned off", Severity.HIGH,
        ("aws_s3_bucket_public_access_block", "aws_s3_account_public_access_block"),
        "Block Public Access is the guard that keeps one bad ACL or bucket policy from publishing data; "
        "S3 turns it on by default, so switching a guard off is a deliberate weakening.",
        "Set all four of `block_public_acls`, `block_public_policy`, `ignore_public_acls` and "
        "`restrict_public_buckets` to true (omitted ones are sent as false).",
        _check_public_access_block,
        peers={
            "checkov": ("CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"),
            "kics": (
                "4fa66806-0dd9-4f8d-9480-3174d39c7c91",
                "1ec253ab-c220-4d63-b2de-5b40e0af9293",
                "d0cc8694-fcad-43ff-ac86-32331d7e867f",
            ),
        },
    ),
    _rule(
        "CB-AWS-009", "Bucket with regulated data is not encrypted with KMS", Severity.HIGH,
        ("aws_s3_bucket",),
        "S3's default SSE-S3 encryption uses keys nobody can restrict or audit; PHI and cardholder data "
        "need a KMS key whose use is logged in CloudTrail and whose policy limits who may decrypt.",
        "Add an `aws_s3_bucket_server_side_encryption_configuration` for the bucket with "
        "`sse_algorithm = \"aws:kms\"` and a customer managed `kms_master_key_id`.",
        _check_regulated_bucket,
    ),
    _rule(
        "CB-AWS-011", "CloudTrail logs are not encrypted with KMS", Severity.MEDIUM, ("aws_cloudtrail",),
        "A KMS key lets you restrict and audit who can read the trail, which records every API call "
        "in the account.",
        "Set `kms_key_id` to a customer managed KMS key whose policy allows CloudTrail to encrypt.",
        _check_cloudtrail_kms,
        peers={"checkov": ("CKV_AWS_35",), "kics": ("5d9e3164-9265-470c-9a10-57ae454ac0c7",)},
    ),
    _rule(
        "CB-AWS-013", "Load balancer listener serves plain HTTP", Severity.HIGH, _LISTENERS,
        "Traffic on an internet-facing HTTP listener, including credentials and session cookies, "
        "crosses the internet unencrypted.",
        "Make the HTTP listener's default action a `redirect` with `protocol = \"HTTPS\"` and serve the "
        "application on an HTTPS listener.",
        _check_http_listener,
        peers={"checkov": ("CKV_AWS_2",), "kics": ("de7f5e83-da88-4046-871f-ea18504b1d43",)},
    ),
    _rule(
        "CB-AWS-014", "Load balancer listener allows TLS older than 1.2", Severity.MEDIUM, _LISTENERS,
        "TLS 1.0 and 1.1 are deprecated and no longer count as strong cryptography; the provider's "
        "default policy (ELBSecurityPolicy-2016-08) still accepts them.",
        f"Set `ssl_policy = \"{_MODERN_TLS_POLICY}\"` (or another TLS 1.2+ policy).",
        _check_tls_policy,
        peers={"checkov": ("CKV_AWS_103",)},
    ),
    _rule(
        "CB-AWS-015", "CloudFront allows plain HTTP viewers", Severity.HIGH,
        ("aws_cloudfront_distribution",),
        "With `allow-all`, viewers can fetch content and send cookies over unencrypted HTTP.",
        "Set `viewer_protocol_policy = \"redirect-to-https\"` (or `https-only`) on every cache behavior.",
        _check_cloudfront_https,
        peers={"checkov": ("CKV_AWS_34",), "kics": ("55af1353-2f62-4fa0-a8e1-a210ca2708f5",)},
    ),
    _rule(
        "CB-AWS-017", "ElastiCache data is not encrypted at rest", Severity.HIGH,
        ("aws_elasticache_replication_group",),
        "Redis replication groups keep data, backups and swap unencrypted unless at-rest encryption is "
        "set at creation.",
        "Set `at_rest_encryption_enabled = true` (optionally with `kms_key_id`).",
        _check_elasticache_at_rest,
        peers={"checkov": ("CKV_AWS_29",), "kics": ("76976de7-c7b1-4f64-a94f-90c1345914c2",)},
    ),
    _rule(
        "CB-AWS-018", "ElastiCache traffic is not encrypted", Severity.HIGH,
        ("aws_elasticache_replication_group",),
        "Without in-transit encryption, cached data and AUTH tokens cross the network in clear text.",
        "Set `transit_encryption_enabled = true` (use `transit_encryption_mode = \"preferred\"` to migrate "
        "existing clients).",
        _check_elasticache_in_transit,
        peers={"checkov": ("CKV_AWS_30",), "kics": ("1afbb3fa-cf6c-4a3d-b730-95e9f4df343e",)},
    ),
    _rule(
        "CB-AWS-019", "Search domain is not encrypted at rest", Severity.HIGH, _SEARCH,
        "OpenSearch/Elasticsearch indices, logs and snapshots are unencrypted unless encrypt_at_rest "
        "is enabled.",
        "Add `encrypt_at_rest { enabled = true }` (optionally with `kms_key_id`).",
        _check_search_at_rest,
        peers={"checkov": ("CKV_AWS_5",), "kics": ("24e16922-4330-4e9d-be8a-caa90299466a",)},
    ),
    _rule(
        "CB-AWS-020", "Search domain traffic is not encrypted", Severity.HIGH, _SEARCH,
        "Queries and results travel between nodes and to clients in clear text unless node-to-node "
        "encryption and HTTPS are enforced.",
        "Add `node_to_node_encryption { enabled = true }` and `domain_endpoint_options { enforce_https = "
        "true, tls_security_policy = \"Policy-Min-TLS-1-2-2019-07\" }`.",
        _check_search_in_transit,
        peers={
            "checkov": ("CKV_AWS_6", "CKV_AWS_83"),
            "kics": (
                "967eb3e6-26fc-497d-8895-6428beb6e8e2",
                "2e9e0729-66d5-4148-9d39-5e6fb4bf2a4e",
            ),
        },
    ),
    _rule(
        "CB-AWS-021", "EC2 instance metadata allows IMDSv1", Severity.MEDIUM,
        ("aws_instance", "aws_launch_template", "aws_launch_configuration"),
        "IMDSv1 answers any request, so one SSRF bug in an application leaks the instance role's "
        "credentials; IMDSv2 requires a session token.",
        "Add `metadata_options { http_tokens = \"required\" }`, or set the account default with "
        "`aws_ec2_instance_metadata_defaults`.",
        _check_imdsv2,
        peers={"checkov": ("CKV_AWS_79",)},
    ),
    _rule(
        "CB-AWS-022", "IAM policy grants full administrative access", Severity.HIGH, _IAM_POLICY_HOLDERS,
        "A statement allowing every action on every resource defeats least privilege: whoever holds it "
        "can read any data and disable every other control.",
        "Grant only the actions and resources the principal needs; keep break-glass admin access in a "
        "separate, monitored role.",
        iam_admin,
        managed=False,
        peers={"checkov": ("CKV_AWS_62", "CKV_AWS_1"), "kics": ("2f37c4a3-58b9-4afe-8a87-d7f1d2286f84",)},
    ),
    _rule(
        "CB-AWS-023", "RDS automated backups are disabled", Severity.MEDIUM, ("aws_db_instance",),
        "With backup_retention_period = 0 there are no automated backups or point-in-time recovery; "
        "a bad migration or deletion loses data for good.",
        "Set `backup_retention_period` to 7 or more days.",
        _check_rds_backups,
        peers={"checkov": ("CKV_AWS_133",), "kics": ("1dc73fb4-5b51-430c-8c5f-25dcf9090b02",)},
    ),
    _rule(
        "CB-AWS-024", "SQS queue encryption is turned off", Severity.HIGH, ("aws_sqs_queue",),
        "SQS encrypts new queues with SSE-SQS by default; switching it off without a KMS key stores "
        "messages unencrypted.",
        "Remove `sqs_managed_sse_enabled = false`, or set `kms_master_key_id` to a KMS key.",
        _check_sqs,
        peers={"checkov": ("CKV_AWS_27",), "kics": ("6e8849c1-3aa7-40e3-9063-b85ee300f29f",)},
    ),
)
