"""Regressions: what a change weakens against its base, even where the head still meets every minimum.
The checks of the CB-REG specs (rules/specs/regressions, `regression: true`).

A pull request that cuts an audit log group's retention from 365 to 120 days, drops a database's
customer-managed KMS key, or widens a database port's CIDR from /24 to /16 passes every minimum
rule, yet a control the base had is gone. These rules compare each touched resource with its
base version (`RuleContext.base`: same address in the same module, or the same logical id in
the same template) and report only a value that got weaker:

- never a new or removed resource (nothing to compare; removal is the minimum rules' business),
  nor an unrelated attribute (size, name, tags), nor a value that got stronger;
- never an `Unknown` value on either side (`365` -> `var.days` without default says nothing);
- an attribute left out counts as the provider's default, as in the AWS pack. For attributes
  Terraform computes (a KMS key id, a backup period) the existing resource may keep its old
  value, but every new or replaced copy gets the weaker one: the code is the control's record.

Values are read the AWS and CloudFormation packs' way (their helpers, port lists and defaults),
so a minimum rule and its regression rule never disagree about what a value means. A finding
lands on the head's changed attribute, or on its block's first line when the attribute was
deleted, with a suggestion restoring the base line where that is a one-line edit.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.engine.model import Node, Resource, Unknown, Violation
from bot.engine.rule import CheckFn, RuleContext
from rules._edits import _header, add_lines
from rules._support import as_int, truthy
from rules.checks.aws_exposure import (
    ADMIN_PORTS,
    ADMIN_PROTOCOLS,
    DATABASE_PORTS,
    DATABASE_PROTOCOLS,
    port_span,
)
from rules.checks.aws_exposure import ingress_rules as _ingress_rules
from rules.checks.aws_exposure import protocol_of as _protocol
from rules.checks.aws_policy import properties
from rules.terraform_aws import (
    _MIN_RETENTION_DAYS,
    _RDS_INHERITS,
    _blocks,
    _dynamic,
    _ebs_default_encryption,
    _is_set,
    _is_unknown,
    _text,
)

_TF = "terraform"
_CFN = "cloudformation"
_UNKNOWN: Literal["unknown"] = "unknown"
Path = tuple[str, ...]  # nested block names from the resource body down to an attribute's block


# --------------------------------------------------------------------------------------------
# Comparing a resource with its base version
# --------------------------------------------------------------------------------------------


def _exists(resource: Resource) -> bool:
    """A resource the change can weaken: a managed Terraform resource that is created (not
    `count = 0`), or a CloudFormation resource."""
    if not isinstance(resource.body.value, dict):
        return False
    if resource.source != _TF:
        return True
    if resource.kind != "resource":
        return False
    count = resource.body.get("count")
    if count is not None and as_int(count) == 0:
        return False
    for_each = resource.body.get("for_each")
    return for_each is None or for_each.value not in ({}, [])


Compare = Callable[[Resource, Resource, RuleContext], Iterable[Violation]]


def _against_base(compare: Compare) -> CheckFn:
    """Run `compare(head, base, ctx)` only where both sides exist: a new resource has no base."""

    def check(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
        if not _exists(resource):
            return ()
        base = ctx.base(resource)
        if base is None or not _exists(base):
            return ()
        return compare(resource, base, ctx)

    check.__doc__ = compare.__doc__
    return check


def _chain(resource: Resource, path: Path) -> list[Node]:
    """The blocks along `path` (the first of each repeated block; CloudFormation: `Properties`),
    as far as they exist: shorter than `path` when one is missing."""
    node, found = resource.body, []
    for name in path:
        if resource.source == _CFN:
            child = node.get(name)
            blocks = [child] if child is not None and isinstance(child.value, dict) else []
        else:
            blocks = _blocks(node, name)
        if not blocks:
            break
        node = blocks[0]
        found.append(node)
    return found


def _container(resource: Resource, path: Path) -> Node | None:
    """The block at `path`, the body for `()`, None when a block on the way is missing."""
    chain = _chain(resource, path)
    return (chain[-1] if chain else resource.body) if len(chain) == len(path) else None


def _generated(resource: Resource, path: Path) -> bool:
    """A `dynamic` block could generate a block along `path`: its values cannot be told."""
    node = resource.body
    for name, block in zip(path, [*_chain(resource, path), None], strict=False):
        if resource.source == _TF and _dynamic(node, name):
            return True
        if block is None:
            return False
        node = block
    return False


def _same(head: Node | None, base: Node | None) -> bool:
    if head is None or base is None:
        return head is base
    return bool(head.plain() == base.plain())


def _key_pattern(key: str) -> str:
    return rf"\s*(?:-\s+)?[\"']?{re.escape(key)}[\"']?\s*[=:]"


def _base_line(base: Resource, node: Node | None, key: str) -> str | None:
    """The base's own `key = value` line, stripped, when the attribute was written on one line."""
    if node is None or node.line != node.end_line:
        return None
    text = base.text_at(node.line)
    if text is None or not re.match(_key_pattern(key), text):
        return None
    return text.strip()


def _code(line: str) -> str:
    """A line without its indentation, trailing comment or JSON comma, to tell if two say the same."""
    return re.sub(r"\s*(?:#|//)[^\"']*$", "", line.strip()).rstrip(",").strip()


def _replacing(head: Resource, node: Node, key: str, restored: str) -> str | None:
    """The head's attribute line with the base line put back, indentation (and a JSON comma) kept."""
    if node.line != node.end_line:
        return None
    text = head.text_at(node.line)
    if text is None or not re.match(_key_pattern(key), text):
        return None
    indent = text[: len(text) - len(text.lstrip())]
    return indent + restored.rstrip(",") + ("," if text.rstrip().endswith(",") else "")


def _reads_elsewhere(head: Resource, node: Node, restored: str | None) -> bool:
    """The head line says what the base line said: the value changed where it is defined."""
    text = head.text_at(node.line)
    return restored is not None and text is not None and _code(text) == _code(restored)


def _block_lines(base: Resource, block: Node) -> list[str] | None:
    """The base's lines of a removed block, when the block sits on lines of its own."""
    lines = [base.text_at(n) for n in range(block.line, block.end_line + 1)]
    if any(line is None for line in lines) or len(lines) < 2:
        return None
    text = [line for line in lines if line is not None]
    if not text[0].rstrip().endswith("{") or text[-1].strip() != "}":
        return None
    return text


def _violation(head: Resource, base: Resource, path: Path, keys: Sequence[str], message: str,
               key: str | None = None) -> Violation:
    """Where a weakening shows in the head, with the base restored where that is mechanical.

    The first of `keys` the change edited carries the finding; when they were deleted, the
    first line of their block does (GitHub then places the comment on the resource's nearest
    line in the diff). The suggestion puts the base line(s) back: one edited line, or every
    deleted one, or a whole deleted block."""
    head_chain, base_chain = _chain(head, path), _chain(base, path)
    head_block, base_block = _container(head, path), _container(base, path)
    if head_block is None:  # a block was deleted: on its parent's first line, restoring the base block
        parent = head_chain[-1] if head_chain else head.body
        removed = base_chain[len(head_chain)] if len(base_chain) > len(head_chain) else None
        suggestion = None
        if removed is not None and head.source == _TF:
            lines, header = _block_lines(base, removed), _header(head, parent.line)
            if lines is not None and header is not None:
                suggestion = "\n".join([header, *lines])
        return Violation(message, parent.line, None, suggestion, key)
    changed = [k for k in keys if not _same(head_block.get(k), base_block.get(k) if base_block else None)]
    edited = [(k, n) for k in changed if (n := head_block.get(k)) is not None]
    deleted = [k for k in changed if head_block.get(k) is None]
    restored = {k: _base_line(base, base_block.get(k) if base_block else None, k) for k in changed}
    if edited:
        name, node = edited[0]
        line = restored[name]
        if _reads_elsewhere(head, node, line):
            message += " The line is unchanged: the variable or local it reads was changed."
            return Violation(message, node.line, node.end_line, None, key)
        fix = _replacing(head, node, name, line) if line and len(edited) == 1 and not deleted else None
        return Violation(message, node.line, node.end_line, fix, key)
    present = next((n for k in keys if (n := head_block.get(k)) is not None), None)
    if not deleted and present is not None:  # weakened through a value elsewhere (a variable's default)
        return Violation(message, present.line, present.end_line, None, key)
    lines = [line for k in deleted if (line := restored[k]) is not None]
    fix = None
    if deleted and len(lines) == len(deleted) and head.source == _TF:
        fix = add_lines(head, head_block if path else None, lines)
    return Violation(message, head_block.line, None, fix, key)


def _flag(block: Node | None, key: str, default: bool) -> bool | None:
    """A boolean attribute with its provider default; None when it cannot be told."""
    if block is None:
        return default
    node = block.get(key)
    if node is None:
        return default
    return truthy(node)


def _saying(message: str) -> Callable[[str], str]:
    """A message for `_weakened_flags` that does not name the attribute."""
    return lambda _: message


def _weakened_flags(head: Resource, base: Resource, path: Path, flags: Mapping[str, bool], strong: bool,
                    message: Callable[[str], str]) -> Iterator[Violation]:
    """Each of `flags` (attribute -> provider default) that was `strong` at base and is not at head."""
    if _generated(head, path) or _generated(base, path):
        return
    head_block, base_block = _container(head, path), _container(base, path)
    for name, default in flags.items():
        before, after = _flag(base_block, name, default), _flag(head_block, name, default)
        if before is strong and after is (not strong):
            yield _violation(head, base, path, (name,), message(name), key=name)


# --------------------------------------------------------------------------------------------
# CB-REG-001 Encryption at rest: customer-managed key > AWS-managed key > AWS-owned key > none
# --------------------------------------------------------------------------------------------


class Level(enum.IntEnum):
    NONE = 0
    OWNED = 1  # a key AWS owns and manages for the service (SSE-S3, SSE-SQS, DynamoDB's default)
    AWS_MANAGED = 2  # the account's aws/<service> KMS key
    CMK = 3  # a customer-managed KMS key


_LEVEL_NAMES: Mapping[Level, str] = {
    Level.NONE: "no encryption at all",
    Level.OWNED: "a key owned by AWS",
    Level.AWS_MANAGED: "the AWS-managed key",
    Level.CMK: "a customer-managed KMS key",
}
_AWS_MANAGED_ALIAS = re.compile(r"(?:^|:)alias/aws/", re.IGNORECASE)
_KMS_RESOURCE = re.compile(r"\baws_kms_(?:key|alias|replica_key|external_key|replica_external_key)\.[\w-]+")
_CFN_KMS_TYPES = frozenset({"AWS::KMS::Key", "AWS::KMS::Alias", "AWS::KMS::ReplicaKey"})

KeyLevel = Level | Literal["unknown"] | None


def _key(node: Node | None, siblings: Sequence[Resource]) -> KeyLevel:
    """Which key a KMS key attribute names: None when unset; "unknown" when it cannot be told (a
    variable without default, a data source that may look up `alias/aws/...`)."""
    if node is None or node.value in (None, ""):
        return None
    if isinstance(node.value, str):
        return Level.AWS_MANAGED if _AWS_MANAGED_ALIAS.search(node.value) else Level.CMK
    if isinstance(node.value, Unknown):
        expression = node.value.expression
        if _KMS_RESOURCE.search(expression):
            return Level.CMK  # a key this code manages is customer-managed by definition
        names = set(re.findall(r"[A-Za-z0-9]+", expression))
        if any(s.source == _CFN and s.type in _CFN_KMS_TYPES and s.address.removeprefix("Resources.") in names
               for s in siblings):
            return Level.CMK
    return _UNKNOWN


def _flag_and_key(block: Node | None, flag: str, key: str, siblings: Sequence[Resource], absent: Level | None,
                  off: Level = Level.NONE, on: Level = Level.AWS_MANAGED) -> Level | None:
    """The common shape: an on/off attribute plus an optional KMS key. `absent`: what an unset
    flag means (None: cannot tell, e.g. a restore inherits its source's encryption)."""
    if block is None:
        return absent
    enabled, kms = block.get(flag), _key(block.get(key), siblings)
    if kms == _UNKNOWN or _is_unknown(enabled):
        return None
    state = truthy(enabled)
    if state is False:
        return off
    if state is None and enabled is not None:
        return None  # not a boolean
    if state is True or kms is not None:
        return kms if isinstance(kms, Level) else on
    return absent


def _inherits(body: Node, names: Iterable[str]) -> bool:
    return any(_is_set(body.get(name)) for name in names)


@dataclass(frozen=True)
class AtRest:
    """How one resource type is encrypted: its noun, the block and attributes to compare (the
    KMS key first: it is what a reviewer looks for), and how to read the level."""

    noun: str
    path: Path
    keys: tuple[str, ...]
    level: Callable[[Resource, RuleContext, Sequence[Resource]], Level | None]


def _ebs(resource: Resource, ctx: RuleContext, siblings: Sequence[Resource]) -> Level | None:
    body = resource.body
    absent: Level | None = Level.NONE
    if _inherits(body, ("snapshot_id",)):
        absent = None
    elif _ebs_default_encryption(resource, ctx):
        absent = Level.AWS_MANAGED
    return _flag_and_key(body, "encrypted", "kms_key_id", siblings, absent)


def _rds(resource: Resource, ctx: RuleContext, siblings: Sequence[Resource]) -> Level | None:
    body = resource.body
    inherited = _inherits(body, (*_RDS_INHERITS.get(resource.type, ()), "engine_mode"))
    return _flag_and_key(body, "storage_encrypted", "kms_key_id", siblings, None if inherited else Level.NONE)


def _efs(resource: Resource, ctx: RuleContext, siblings: Sequence[Resource]) -> Level | None:
    return _flag_and_key(resource.body, "encrypted", "kms_key_id", siblings, Level.NONE)


def _elasticache(resource: Resource, ctx: RuleContext, siblings: Sequence[Resource]) -> Level | None:
    body = resource.body
    engine = body.get("engine")
    absent: Level | None = Level.NONE
    if _is_set(body.get("global_replication_group_id")) or _is_unknown(engine):
        absent = None
    elif (_text(engine) or "redis").lower() == "valkey":
        absent = Level.OWNED
    return _flag_and_key(body, "at_rest_encryption_enabled", "kms_key_id", siblings, absent, on=Level.OWNED)


def _search(resource: Resource, ctx: RuleContext, siblings: Sequence[Resource]) -> Level | None:
    if _generated(resource, ("encrypt_at_rest",)):
        return None
    block = _container(resource, ("encrypt_at_rest",))
    return _flag_and_key(block, "enabled", "kms_key_id", siblings, Level.NONE)


def _dynamodb(resource: Resource, ctx: RuleContext, siblings: Sequence[Resource]) -> Level | None:
    if _generated(resource, ("server_side_encryption",)):
        return None
    block = _container(resource, ("server_side_encryption",))
    return _flag_and_key(block, "enabled", "kms_key_arn", siblings, Level.OWNED, off=Level.OWNED)


def _only_key(attribute: str, unset: Level) -> Callable[[Resource, RuleContext, Sequence[Resource]], Level | None]:
    """Encrypted by the key an attribute names, else `unset` (SNS: none; log groups: AWS-owned)."""

    def level(resource: Resource, ctx: RuleContext, siblings: Sequence[Resource]) -> Level | None:
        kms = _key(resource.body.get(attribute), siblings)
        return None if kms == _UNKNOWN else kms if isinstance(kms, Level) else unset

    return level


def _sqs(resource: Resource, ctx: RuleContext, siblings: Sequence[Resource]) -> Level | None:
    body = resource.body
    kms = _key(body.get("kms_master_key_id"), siblings)
    if kms == _UNKNOWN:
        return None
    if isinstance(kms, Level):
        return kms
    sse = body.get("sqs_managed_sse_enabled")
    if sse is None:
        return Level.OWNED  # SSE-SQS is the default for new queues
    state = truthy(sse)
    return None if state is None else Level.OWNED if state else Level.NONE


_S3_RULE: Path = ("rule", "apply_server_side_encryption_by_default")
_S3_INLINE = "server_side_encryption_configuration"


def _sse_rules(resource: Resource, path: Path, siblings: Sequence[Resource]) -> Level | None:
    """An S3 encryption configuration: the weakest of its rules' default encryption."""
    if _generated(resource, (*path, *_S3_RULE)):
        return None
    outer = _container(resource, path)
    if outer is None:
        return Level.OWNED  # S3 encrypts every new object with SSE-S3 by default
    levels: list[Level] = []
    for rule in _blocks(outer, "rule"):
        for default in _blocks(rule, "apply_server_side_encryption_by_default"):
            algorithm, kms = default.get("sse_algorithm"), _key(default.get("kms_master_key_id"), siblings)
            name = _text(algorithm)
            if name is None or kms == _UNKNOWN:
                return None
            if name.lower() in ("aws:kms", "aws:kms:dsse"):
                levels.append(kms if isinstance(kms, Level) else Level.AWS_MANAGED)
            else:
                levels.append(Level.OWNED)
    return min(levels) if levels else Level.OWNED


def _bucket_inline(resource: Resource, ctx: RuleContext, siblings: Sequence[Resource]) -> Level | None:
    return _sse_rules(resource, (_S3_INLINE,), siblings)


def _cfn_volume(resource: Resource, ctx: RuleContext, siblings: Sequence[Resource]) -> Level | None:
    props = properties(resource)
    absent = None if _inherits(props, ("SnapshotId",)) else Level.NONE
    return _flag_and_key(props, "Encrypted", "KmsKeyId", siblings, absent)


_CFN_RDS_INHERITS = ("SourceDBInstanceIdentifier", "DBSnapshotIdentifier", "DBClusterIdentifier",
                     "SourceDBInstanceAutomatedBackupsArn", "SourceDBClusterIdentifier", "SnapshotIdentifier",
                     "RestoreType", "EngineMode")


def _cfn_rds(resource: Resource, ctx: RuleContext, siblings: Sequence[Resource]) -> Level | None:
    props = properties(resource)
    absent = None if _inherits(props, _CFN_RDS_INHERITS) else Level.NONE
    return _flag_and_key(props, "StorageEncrypted", "KmsKeyId", siblings, absent)


_AT_REST: Mapping[str, AtRest] = {
    "aws_ebs_volume": AtRest("volume", (), ("kms_key_id", "encrypted"), _ebs),
    "aws_db_instance": AtRest("database", (), ("kms_key_id", "storage_encrypted"), _rds),
    "aws_rds_cluster": AtRest("database cluster", (), ("kms_key_id", "storage_encrypted"), _rds),
    "aws_efs_file_system": AtRest("file system", (), ("kms_key_id", "encrypted"), _efs),
    "aws_elasticache_replication_group": AtRest("replication group", (), ("kms_key_id", "at_rest_encryption_enabled"),
                                                _elasticache),
    "aws_opensearch_domain": AtRest("search domain", ("encrypt_at_rest",), ("kms_key_id", "enabled"), _search),
    "aws_elasticsearch_domain": AtRest("search domain", ("encrypt_at_rest",), ("kms_key_id", "enabled"), _search),
    "aws_dynamodb_table": AtRest("table", ("server_side_encryption",), ("kms_key_arn", "enabled"), _dynamodb),
    "aws_sqs_queue": AtRest("queue", (), ("kms_master_key_id", "sqs_managed_sse_enabled"), _sqs),
    "aws_sns_topic": AtRest("topic", (), ("kms_master_key_id",), _only_key("kms_master_key_id", Level.NONE)),
    "aws_cloudwatch_log_group": AtRest("log group", (), ("kms_key_id",), _only_key("kms_key_id", Level.OWNED)),
    "aws_cloudtrail": AtRest("trail", (), ("kms_key_id",), _only_key("kms_key_id", Level.OWNED)),
    "aws_s3_bucket_server_side_encryption_configuration": AtRest(
        "bucket", _S3_RULE, ("kms_master_key_id", "sse_algorithm"), lambda r, c, s: _sse_rules(r, (), s)),
    "aws_s3_bucket": AtRest("bucket", (_S3_INLINE, *_S3_RULE), ("kms_master_key_id", "sse_algorithm"), _bucket_inline),
    "AWS::EC2::Volume": AtRest("volume", ("Properties",), ("KmsKeyId", "Encrypted"), _cfn_volume),
    "AWS::RDS::DBInstance": AtRest("database", ("Properties",), ("KmsKeyId", "StorageEncrypted"), _cfn_rds),
    "AWS::RDS::DBCluster": AtRest("database cluster", ("Properties",), ("KmsKeyId", "StorageEncrypted"), _cfn_rds),
}


def _encryption_message(noun: str, before: Level, after: Level) -> str:
    if after == Level.NONE:
        return f"Encryption turned off: the {noun} used {_LEVEL_NAMES[before]} and is now not encrypted."
    if before == Level.CMK:
        return f"Customer-managed KMS key removed: the {noun} now uses {_LEVEL_NAMES[after]}."
    return f"Encryption weakened: the {noun} now uses {_LEVEL_NAMES[after]} instead of {_LEVEL_NAMES[before]}."


def _compare_encryption(head: Resource, base: Resource, ctx: RuleContext) -> Iterator[Violation]:
    """Encryption at rest must not move down: customer-managed key > AWS-managed > AWS-owned > none."""
    spec = _AT_REST.get(head.type)
    if spec is None:
        return
    siblings = ctx.siblings(head)
    before, after = spec.level(base, ctx, siblings), spec.level(head, ctx, siblings)
    if before is None or after is None or after >= before:
        return
    yield _violation(head, base, spec.path, spec.keys, _encryption_message(spec.noun, before, after))


# --------------------------------------------------------------------------------------------
# CB-REG-002 Log retention, CB-REG-003 backups
# --------------------------------------------------------------------------------------------

_FOREVER = 10**9


def _retention_days(node: Node | None) -> int | None:
    """A log group's retention: absent or 0 never expires; None when it cannot be told."""
    if node is None:
        return _FOREVER
    days = as_int(node)
    if days is None:
        return None
    return _FOREVER if days == 0 else days


def _compare_log_retention(head: Resource, base: Resource, ctx: RuleContext) -> Iterator[Violation]:
    """Audit log retention must not be cut, even when it stays above the 90-day minimum."""
    path: Path = ("Properties",) if head.source == _CFN else ()
    key = "RetentionInDays" if head.source == _CFN else "retention_in_days"
    head_block, base_block = _container(head, path), _container(base, path)
    before = _retention_days(base_block.get(key) if base_block else None)
    after = _retention_days(head_block.get(key) if head_block else None)
    if before is None or after is None or after >= before:
        return
    floor = (f"still ≥ {_MIN_RETENTION_DAYS}" if after >= _MIN_RETENTION_DAYS
             else f"below the {_MIN_RETENTION_DAYS}-day minimum")
    shown = "never expiring" if before >= _FOREVER else str(before)
    message = f"Log retention cut from {shown} to {after} days ({floor})."
    yield _violation(head, base, path, (key,), message)


_BACKUP_DEFAULT_DAYS = 1  # RDS keeps automated backups one day unless told otherwise


def _plural(days: int) -> str:
    return f"{days} day" if days == 1 else f"{days} days"


def _int_or(resource: Resource, key: str, default: int) -> int | None:
    """A whole number of days with its provider default; None when it cannot be told."""
    node = resource.body.get(key)
    return default if node is None else as_int(node)


def _compare_backups(head: Resource, base: Resource, ctx: RuleContext) -> Iterator[Violation]:
    """Backups must not be kept for fewer days, nor point-in-time recovery turned off."""
    if head.type in ("aws_db_instance", "aws_rds_cluster", "aws_elasticache_replication_group"):
        if _is_set(head.body.get("replicate_source_db")) or _is_set(base.body.get("replicate_source_db")):
            return  # a read replica keeps no backups of its own
        key, default = (("snapshot_retention_limit", 0) if head.type == "aws_elasticache_replication_group"
                        else ("backup_retention_period", _BACKUP_DEFAULT_DAYS))
        before, after = _int_or(base, key, default), _int_or(head, key, default)
        if before is None or after is None or after >= before:
            return
        default_note = " (the default, now that it is not set)" if head.body.get(key) is None else ""
        outcome = ": automated backups are now off" if after == 0 else ""
        message = f"Backup retention cut from {_plural(before)} to {_plural(after)}{default_note}{outcome}."
        yield _violation(head, base, (), (key,), message)
    elif head.type == "aws_dynamodb_table":
        yield from _weakened_flags(head, base, ("point_in_time_recovery",), {"enabled": False}, True,
                                   _saying("Point-in-time recovery turned off: the table can no longer be "
                                             "restored to any second of the last 35 days."))


# --------------------------------------------------------------------------------------------
# CB-REG-004 deletion protection, CB-REG-005 logging, CB-REG-006 Block Public Access
# --------------------------------------------------------------------------------------------

_DELETION_PROTECTION: Mapping[str, str] = {
    "aws_db_instance": "deletion_protection",
    "aws_rds_cluster": "deletion_protection",
    "aws_lb": "enable_deletion_protection",
    "aws_alb": "enable_deletion_protection",
    "aws_dynamodb_table": "deletion_protection_enabled",
}


def _compare_deletion_protection(head: Resource, base: Resource, ctx: RuleContext) -> Iterator[Violation]:
    """Deletion protection must stay on where the base had it."""
    key = _DELETION_PROTECTION.get(head.type)
    if key is not None:
        yield from _weakened_flags(head, base, (), {key: False}, True,
                                   lambda k: f"Deletion protection turned off ({k} was true at base).")


_TRAIL_FLAGS: Mapping[str, tuple[bool, str]] = {
    "enable_logging": (True, "CloudTrail logging turned off: API calls are no longer recorded."),
    "is_multi_region_trail": (False, "Trail narrowed to one region: API calls in other regions are no longer recorded."),
    "include_global_service_events": (True, "Trail no longer records global service events (IAM, STS, CloudFront)."),
}
_REMOVED_LOG_BLOCKS: Mapping[str, tuple[str, str]] = {
    "aws_s3_bucket": ("logging", "S3 access logging removed: requests to the bucket are no longer logged."),
    "aws_cloudfront_distribution": ("logging_config",
                                    "CloudFront access logging removed: viewer requests are no longer logged."),
}


def _compare_logging(head: Resource, base: Resource, ctx: RuleContext) -> Iterator[Violation]:
    """Audit and access logging must not be turned off or narrowed."""
    if head.type == "aws_cloudtrail":
        for name, (default, message) in _TRAIL_FLAGS.items():
            yield from _weakened_flags(head, base, (), {name: default}, True, _saying(message))
    elif head.type in ("aws_lb", "aws_alb"):
        yield from _weakened_flags(head, base, ("access_logs",), {"enabled": False}, True,
                                   _saying("Load balancer access logs turned off."))
    elif head.type == "aws_flow_log":
        before, after = _text(base.body.get("traffic_type")), _text(head.body.get("traffic_type"))
        if before is not None and after is not None and before.upper() == "ALL" and after.upper() != "ALL":
            yield _violation(head, base, (), ("traffic_type",),
                             f"Flow log narrowed from ALL traffic to {after.upper()} only.")
    elif head.type in _REMOVED_LOG_BLOCKS:
        name, message = _REMOVED_LOG_BLOCKS[head.type]
        if _generated(head, (name,)) or _generated(base, (name,)):
            return
        if _blocks(base.body, name) and head.body.get(name) is None:
            yield _violation(head, base, (name,), (), message, key=name)


_PAB_FLAGS: Mapping[str, bool] = {
    "block_public_acls": False, "block_public_policy": False, "ignore_public_acls": False,
    "restrict_public_buckets": False,
}


def _compare_public_access_block(head: Resource, base: Resource, ctx: RuleContext) -> Iterator[Violation]:
    """A Block Public Access guard the base had on must stay on."""
    yield from _weakened_flags(head, base, (), _PAB_FLAGS, True,
                               lambda k: f"Public access guard {k} turned off (it was true at base).")


# --------------------------------------------------------------------------------------------
# CB-REG-007 TLS minimum version
# --------------------------------------------------------------------------------------------

_DEFAULT_ELB_POLICY = "ELBSecurityPolicy-2016-08"
_CLOUDFRONT_PROTOCOLS = ("SSLv3", "TLSv1", "TLSv1_2016", "TLSv1.1_2016", "TLSv1.2_2018", "TLSv1.2_2019",
                         "TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025")
_SEARCH_TLS_POLICIES = ("Policy-Min-TLS-1-0-2019-07", "Policy-Min-TLS-1-2-2019-07", "Policy-Min-TLS-1-2-PFS-2023-10")


def _elb_minimum_tls(policy: str) -> tuple[int, int] | None:
    """The oldest TLS version an ELB security policy accepts, from its documented name."""
    name = policy.upper()
    match = re.search(r"TLS13-1-([0-3])|TLS-1-([0-2])|FS-1-([12])", name)
    if match:
        return (1, int(next(g for g in match.groups() if g is not None)))
    if "FS-2018-06" in name or re.fullmatch(r"ELBSECURITYPOLICY-20\d\d-\d\d", name):
        return (1, 0)
    return None


def _listener_tls(resource: Resource) -> tuple[str, tuple[int, int]] | None:
    protocol = _text(resource.body.get("protocol"))
    if protocol is None or protocol.upper() not in ("HTTPS", "TLS"):
        return None
    node = resource.body.get("ssl_policy")
    name = _DEFAULT_ELB_POLICY if node is None else _text(node)
    version = _elb_minimum_tls(name) if name is not None else None
    return (name, version) if name is not None and version is not None else None


def _ranked(value: str | None, order: Sequence[str]) -> int | None:
    lowered = [o.lower() for o in order]
    return lowered.index(value.lower()) if value is not None and value.lower() in lowered else None


def _cloudfront_minimum(resource: Resource) -> str | None:
    block = _container(resource, ("viewer_certificate",))
    if block is None:
        return None
    if truthy(block.get("cloudfront_default_certificate")) is True:
        return "TLSv1"  # the *.cloudfront.net certificate always accepts TLSv1
    node = block.get("minimum_protocol_version")
    return "TLSv1" if node is None else _text(node)


def _version(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


def _compare_tls(head: Resource, base: Resource, ctx: RuleContext) -> Iterator[Violation]:
    """The oldest TLS version (or policy) a listener, distribution or domain accepts must not drop."""
    if head.type in ("aws_lb_listener", "aws_alb_listener"):
        before, after = _listener_tls(base), _listener_tls(head)
        if before is None or after is None or after[1] >= before[1]:
            return
        default_note = ", the default now that ssl_policy is not set" if head.body.get("ssl_policy") is None else ""
        message = (f"TLS policy lowered from {before[0]} (TLS {_version(before[1])}+) to {after[0]} "
                   f"(TLS {_version(after[1])}+{default_note}).")
        yield _violation(head, base, (), ("ssl_policy",), message)
    elif head.type == "aws_cloudfront_distribution":
        old, new = _cloudfront_minimum(base), _cloudfront_minimum(head)
        rank_old, rank_new = _ranked(old, _CLOUDFRONT_PROTOCOLS), _ranked(new, _CLOUDFRONT_PROTOCOLS)
        if rank_old is None or rank_new is None or rank_new >= rank_old:
            return
        yield _violation(head, base, ("viewer_certificate",),
                         ("minimum_protocol_version", "cloudfront_default_certificate", "acm_certificate_arn"),
                         f"Minimum viewer TLS policy lowered from {old} to {new}.")
    elif head.type in ("aws_opensearch_domain", "aws_elasticsearch_domain"):
        path: Path = ("domain_endpoint_options",)
        blocks = [_container(r, path) for r in (base, head)]
        names = [_text(b.get("tls_security_policy")) if b is not None else None for b in blocks]
        rank_old, rank_new = (_ranked(n, _SEARCH_TLS_POLICIES) for n in names)
        if rank_old is None or rank_new is None or rank_new >= rank_old:
            return  # no policy set: the default depends on the domain's creation date
        yield _violation(head, base, path, ("tls_security_policy",),
                         f"Search domain TLS policy lowered from {names[0]} to {names[1]}.")


# --------------------------------------------------------------------------------------------
# CB-REG-008 public databases, CB-REG-009 versioning, CB-REG-010 key rotation
# --------------------------------------------------------------------------------------------


def _compare_public(head: Resource, base: Resource, ctx: RuleContext) -> Iterator[Violation]:
    """A database the base kept private must not get a public endpoint."""
    path: Path = ("Properties",) if head.source == _CFN else ()
    key = "PubliclyAccessible" if head.source == _CFN else "publicly_accessible"
    yield from _weakened_flags(head, base, path, {key: False}, False,
                               _saying("Database made publicly accessible (it was private at base)."))


def _compare_versioning(head: Resource, base: Resource, ctx: RuleContext) -> Iterator[Violation]:
    """Bucket versioning (and MFA delete) must not be suspended where the base had it."""
    if head.type == "aws_s3_bucket_versioning":
        path: Path = ("versioning_configuration",)
        for key, message in (("status", ("Bucket versioning suspended: overwritten and deleted objects can no "
                                         "longer be recovered.")),
                             ("mfa_delete", "MFA delete turned off: versions can be deleted without MFA.")):
            blocks = [_container(r, path) for r in (base, head)]
            nodes = [b.get(key) if b is not None else None for b in blocks]
            if any(_is_unknown(n) for n in nodes):
                continue
            before, after = ((_text(n) or "Disabled").lower() for n in nodes)
            if before == "enabled" and after != "enabled":
                yield _violation(head, base, path, (key,), message, key=key)
    elif head.type == "aws_s3_bucket":
        yield from _weakened_flags(head, base, ("versioning",), {"enabled": False, "mfa_delete": False}, True,
                                   lambda k: "Bucket versioning suspended." if k == "enabled" else "MFA delete turned off.")


_SYMMETRIC: Mapping[str, str] = {"customer_master_key_spec": "SYMMETRIC_DEFAULT", "key_spec": "SYMMETRIC_DEFAULT",
                                 "key_usage": "ENCRYPT_DECRYPT"}
_DEFAULT_ROTATION_DAYS = 365


def _rotatable(resource: Resource) -> bool:
    """Symmetric keys in AWS KMS itself (the only ones that rotate automatically)."""
    body = resource.body
    for name, allowed in _SYMMETRIC.items():
        node = body.get(name)
        if node is not None and (_text(node) or "").upper() != allowed:
            return False
    return not (_is_set(body.get("custom_key_store_id")) or _is_set(body.get("xks_key_id")))


def _compare_rotation(head: Resource, base: Resource, ctx: RuleContext) -> Iterator[Violation]:
    """Automatic key rotation must stay on, and its period must not grow."""
    if not (_rotatable(head) and _rotatable(base)):
        return
    flagged = list(_weakened_flags(head, base, (), {"enable_key_rotation": False}, True,
                                   _saying("KMS key rotation turned off (it was on at base).")))
    yield from flagged
    if flagged or _flag(head.body, "enable_key_rotation", False) is not True:
        return
    before = _int_or(base, "rotation_period_in_days", _DEFAULT_ROTATION_DAYS)
    after = _int_or(head, "rotation_period_in_days", _DEFAULT_ROTATION_DAYS)
    if _flag(base.body, "enable_key_rotation", False) is True and before is not None and after is not None \
            and after > before:
        yield _violation(head, base, (), ("rotation_period_in_days",),
                         f"Key rotation period lengthened from {before} to {after} days.", key="period")


# --------------------------------------------------------------------------------------------
# CB-REG-011 ingress width on administration and database ports
# --------------------------------------------------------------------------------------------

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Admitted = dict[int, list[tuple[Node, Network]]]  # port -> the CIDR entries admitted to it
# The ports and protocols CB-AWS-004 and CB-AWS-005 judge, in Terraform and CloudFormation alike.
_SENSITIVE: Mapping[int, tuple[str, frozenset[str]]] = {
    **{port: (name, ADMIN_PROTOCOLS | {"all"}) for port, name in ADMIN_PORTS.items()},
    **{port: (name, DATABASE_PROTOCOLS | {"all"}) for port, name in DATABASE_PORTS.items()},
}


def _networks(nodes: Iterable[Node | None]) -> list[tuple[Node, Network]] | None:
    """The CIDR entries of some attributes; None when any cannot be read."""
    found: list[tuple[Node, Network]] = []
    for node in nodes:
        if node is None:
            continue
        items = node.children() if isinstance(node.value, list) else [node]
        for item in items:
            if not isinstance(item.value, str):
                return None
            try:
                found.append((item, ipaddress.ip_network(item.value.strip(), strict=False)))
            except ValueError:
                return None
    return found


def _admit(admitted: Admitted, span: tuple[int, int], protocol: str, networks: list[tuple[Node, Network]],
           ports: Mapping[int, tuple[str, frozenset[str]]]) -> None:
    for port, (_, protocols) in ports.items():
        if span[0] <= port <= span[1] and protocol in protocols:
            admitted[port].extend(networks)


def _tf_admitted(resource: Resource) -> Admitted | None:
    """Sensitive port -> networks a Terraform security group (rule) admits; None when unreadable."""
    if _dynamic(resource.body, "ingress"):
        return None
    admitted: Admitted = defaultdict(list)
    for rule, protocol_key, cidr_keys in _ingress_rules(resource):
        protocol_node = rule.get(protocol_key)
        protocol = _protocol(protocol_node)
        if protocol is None:
            if protocol_node is None or _is_unknown(protocol_node):
                return None
            continue  # icmp and friends carry no port
        span = port_span(rule, protocol)
        networks = _networks(rule.get(key) for key in cidr_keys)
        if span is None or networks is None:
            return None
        _admit(admitted, span, protocol, networks, _SENSITIVE)
    return admitted


def _cfn_admitted(resource: Resource) -> Admitted | None:
    """The same for a CloudFormation security group or ingress resource."""
    props = properties(resource)
    if resource.type == "AWS::EC2::SecurityGroupIngress":
        rules = [props]
    else:
        listed = props.get("SecurityGroupIngress")
        if listed is not None and not isinstance(listed.value, list):
            return None
        rules = listed.children() if listed is not None else []
    admitted: Admitted = defaultdict(list)
    for rule in rules:
        if not isinstance(rule.value, dict) or any(_is_unknown(rule.get(k)) for k in ("IpProtocol", "FromPort", "ToPort")):
            return None
        networks = _networks(rule.get(key) for key in ("CidrIp", "CidrIpv6"))
        if networks is None:
            return None
        protocol = _protocol(rule.get("IpProtocol"))
        span = port_span(rule, protocol, "FromPort", "ToPort", lenient=True) if protocol is not None else None
        if protocol is not None and span is not None:  # icmp and friends carry no port
            _admit(admitted, span, protocol, networks, _SENSITIVE)
    return admitted


def _swap_cidr(head: Resource, node: Node, old: Node) -> str | None:
    """The head line with the widened CIDR string swapped back for the base's."""
    text = head.text_at(node.line)
    if text is None or node.line != node.end_line or not isinstance(old.value, str) or text.count(node.value) != 1:
        return None
    return text.replace(node.value, old.value)


def _compare_ingress(head: Resource, base: Resource, ctx: RuleContext) -> Iterator[Violation]:
    """Admin and database ports must not be opened to a wider network than the base allowed."""
    reader = _cfn_admitted if head.source == _CFN else _tf_admitted
    before, after = reader(base), reader(head)
    if before is None or after is None:
        return
    widened: dict[tuple[int, str], tuple[Node, Network, tuple[Node, Network], list[int]]] = {}
    for port, entries in sorted(after.items()):
        for node, network in entries:
            allowed = [(n, net) for n, net in before.get(port, []) if net.version == network.version]
            if not allowed or any(network.subnet_of(net) for _, net in allowed):  # type: ignore[arg-type]
                continue
            widest = max(allowed, key=lambda entry: entry[1].num_addresses)
            if network.num_addresses <= widest[1].num_addresses:
                continue  # moved, not widened
            inside = [entry for entry in allowed if network.supernet_of(entry[1])]  # type: ignore[arg-type]
            source = inside[0] if len(inside) == 1 else widest
            found = widened.setdefault((node.line, str(network)), (node, network, source, []))
            found[3].append(port)
    for (_, shown), (node, network, (old_node, old), ports) in sorted(widened.items()):
        labels = [f"{port} ({_SENSITIVE[port][0]})" for port in ports]
        listed = ", ".join(labels[:4]) + (", ..." if len(labels) > 4 else "")
        factor = network.num_addresses // old.num_addresses
        contains = network.supernet_of(old)  # type: ignore[arg-type]
        change = f"widened from {old} to {shown}" if contains else \
            f"now admits {shown}, wider than the widest network the base admitted ({old})"
        yield Violation(
            message=f"Ingress to {listed} {change}: {factor:,} times as many addresses can reach it.",
            line=node.line, end_line=node.end_line, suggestion=_swap_cidr(head, node, old_node) if contains else None,
            key=shown,
        )


# --------------------------------------------------------------------------------------------
# The checks the specs in rules/specs/regressions name (through rules/spec/functions.py)
# --------------------------------------------------------------------------------------------

encryption_weakened = _against_base(_compare_encryption)
log_retention_shortened = _against_base(_compare_log_retention)
backups_shortened = _against_base(_compare_backups)
deletion_protection_off = _against_base(_compare_deletion_protection)
logging_narrowed = _against_base(_compare_logging)
public_access_guard_off = _against_base(_compare_public_access_block)
tls_lowered = _against_base(_compare_tls)
made_public = _against_base(_compare_public)
versioning_suspended = _against_base(_compare_versioning)
rotation_weakened = _against_base(_compare_rotation)
ingress_widened = _against_base(_compare_ingress)
