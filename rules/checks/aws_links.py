"""S3 server access logging: a bucket is logged when a logging configuration names it, and is not
judged when it is itself where access logs go.

The other "another resource refers to this one" controls (flow logs, secret rotation, delivery
sources) are `referrer` conditions in their specs. This one stays Python because its exemption
("a logging target names this bucket") counts only references that are known: a `target_bucket =
var.logs` elsewhere in the module cannot be this module's own bucket, and must not make every
unlogged bucket undecided, as an unknown `skip_if` would. Only the resources of the same
Terraform module (or the same template) are visible; a reference we cannot resolve (a variable, a
module output) makes the verdict undecided rather than a finding.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.engine.model import Node, Resource, Violation
from bot.engine.rule import RuleContext
from rules.checks._common import live_siblings, points_at, properties, text
from rules.spec.references import refers_to


def _linked(resource: Resource, ctx: RuleContext, types: Sequence[str], attrs: Sequence[str],
            names: Sequence[str] = ()) -> bool | None:
    """True when a sibling of `types` has one of `attrs` pointing at `resource` (or equal to one of
    its literal `names`); None when a candidate's attribute cannot be resolved; else False."""
    verdict: bool | None = False
    for other in live_siblings(resource, ctx, types):
        body = properties(other)
        for attr in attrs:
            hit = refers_to(body.get(*attr.split(".")), resource, frozenset(names))
            if hit:
                return True
            if hit is None:
                verdict = None
    return verdict


def _verdict(resource: Resource, linked: bool | None, message: str) -> Iterable[Violation]:
    if linked is False:
        yield Violation(message=message, line=resource.line)
    elif linked is None:
        yield Violation(message=f"{message} (a candidate refers to something we cannot resolve)",
                        line=resource.line, undecided=True)


def _literal_names(resource: Resource, *keys: str) -> tuple[str, ...]:
    body = properties(resource)
    return tuple(name for key in keys if (name := text(body.get(key))) is not None)


# --------------------------------------------------------------------------------------------
# S3 server access logging
# --------------------------------------------------------------------------------------------

_LOG_DELIVERY_ACL = "log-delivery-write"


def _is_log_bucket(resource: Resource, ctx: RuleContext) -> bool:
    """A bucket that receives server access logs (a logging target, or the log-delivery ACL)."""
    names = _literal_names(resource, "bucket", "BucketName")
    if resource.source == "cloudformation":
        acl = text(properties(resource).get("AccessControl"))
        if acl is not None and acl.lower() == "logdeliverywrite":
            return True
        return _linked(resource, ctx, ("AWS::S3::Bucket",), ("LoggingConfiguration.DestinationBucketName",),
                       names) is True
    acl = text(resource.body.get("acl"))
    if acl is not None and acl.lower() == _LOG_DELIVERY_ACL:
        return True
    for other in live_siblings(resource, ctx, ("aws_s3_bucket_acl",)):
        if points_at(other.body.get("bucket"), resource) and (text(other.body.get("acl")) or "") == _LOG_DELIVERY_ACL:
            return True
    return (_linked(resource, ctx, ("aws_s3_bucket_logging",), ("target_bucket",), names) is True
            or _linked(resource, ctx, ("aws_s3_bucket",), ("logging.target_bucket",), names) is True)


def s3_bucket_access_logging(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """A bucket must log access requests, unless it is itself where access logs are written."""
    body = properties(resource)
    if _is_log_bucket(resource, ctx):
        return
    if resource.source == "cloudformation":
        if body.get("LoggingConfiguration") is None:
            yield Violation(message="S3 bucket does not log access requests (LoggingConfiguration is not set).",
                            line=resource.line)
        return
    if body.get("logging") is not None or _dynamic(body, "logging"):
        return  # the provider v3 inline form
    names = _literal_names(resource, "bucket")
    linked = _linked(resource, ctx, ("aws_s3_bucket_logging",), ("bucket",), names)
    yield from _verdict(resource, linked,
                        "S3 bucket does not log access requests: no aws_s3_bucket_logging refers to it.")


def _dynamic(body: Node, name: str) -> bool:
    dynamic = body.get("dynamic")
    return dynamic is not None and any(
        isinstance(item.value, dict) and name in item.value for item in dynamic.children())
