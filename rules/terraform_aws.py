"""Terraform AWS checks that are more than a few attribute comparisons, named by the specs in
rules/specs/aws through the table in rules/spec/functions.py (the metadata lives in the specs).

They follow today's AWS defaults so they do not cry wolf: S3 buckets block public access by
default (only an explicit opt-out is a finding), an account-wide EBS default encryption resource
in the module covers its instances' volumes, an Amazon Linux 2023 AMI requires IMDSv2.

Values arrive resolved by the parser (`var.x` is its default); anything it could not resolve
is `Unknown` and never produces a finding on its own. Findings land on the offending attribute,
or on the block's first line when the attribute is missing. The spec's binding decides which
resources are judged (managed resources of its types); the regression pack reads values through
the helpers here, so a minimum and its regression rule agree on what a value means.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType

from bot.engine.context import siblings_of_types
from bot.engine.model import Node, Resource, Unknown, Violation
from bot.engine.rule import RuleContext
from rules._edits import add_lines, replace_literal
from rules._support import truthy
from rules.checks.tags import regulated_data_class

_MIN_RETENTION_DAYS = 90
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
    for other in siblings_of_types(ctx, resource, types):
        if other.kind == "resource" and other is not resource:
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
                             f"true: {what[0].lower()}{what[1:]}.",
                     line=node.line, end_line=node.end_line, key=key, undecided=True)


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------


def _ebs_default_encryption(resource: Resource, ctx: RuleContext) -> bool:
    """The module turns on account-wide EBS encryption (`enabled` defaults to true)."""
    return any(
        truthy(other.body.get("enabled")) is not False
        for other in _siblings_of_type(resource, ctx, "aws_ebs_encryption_by_default")
    )


def instance_volumes_encrypted(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """An instance's root and EBS block devices must be encrypted (a block device made from a
    snapshot inherits the snapshot's encryption); an account-wide EBS default covers them all.
    A missing root_block_device leaves the root volume to the AMI, which is unencrypted unless its
    snapshot is: reported, unless a launch template may set it."""
    if resource.type != "aws_instance" or _ebs_default_encryption(resource, ctx):
        return
    body = resource.body
    if _absent(body, "root_block_device") and body.get("launch_template") is None:
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


def s3_public_acl(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
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


def public_access_block_off(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
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


def regulated_bucket_without_kms(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
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


def http_listener_serves_plaintext(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
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


def search_not_encrypted_at_rest(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
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


def search_traffic_not_encrypted(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
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


def imdsv1_allowed(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
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