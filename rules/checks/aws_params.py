"""AWS controls read from lists of name/value pairs that need more than a `some`: database
parameter groups (the parameter and its default depend on the family), EKS log types (three
names that must all be there)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from bot.engine.model import Node, Resource, Unknown, Violation
from bot.engine.rule import RuleContext
from rules.checks._common import properties, text

# --------------------------------------------------------------------------------------------
# RDS parameter groups: TLS required
# --------------------------------------------------------------------------------------------

_ON = frozenset({"1", "on", "true"})
_OFF = frozenset({"0", "off", "false"})


@dataclass(frozen=True)
class _Engine:
    """How a parameter-group family forces TLS: the parameter, whether it is on when absent, and
    whether instance-level groups can set it (Aurora keeps it in the cluster group)."""

    pattern: re.Pattern[str]
    parameter: str
    on_by_default: Callable[[re.Match[str]], bool]
    cluster_only: bool = False


def _never(match: re.Match[str]) -> bool:
    return False


def _postgres_15_or_later(match: re.Match[str]) -> bool:
    return int(match.group(1)) >= 15


_ENGINES = (
    _Engine(re.compile(r"postgres(\d+)(\.\d+)?"), "rds.force_ssl", _postgres_15_or_later),
    _Engine(re.compile(r"aurora-postgresql(\d+)"), "rds.force_ssl", _never, cluster_only=True),
    _Engine(re.compile(r"sqlserver-(ee|se|ex|web)-[\d.]+"), "rds.force_ssl", _never),
    _Engine(re.compile(r"(mysql|mariadb)[\d.]+"), "require_secure_transport", _never),
    _Engine(re.compile(r"aurora-mysql[\d.]+"), "require_secure_transport", _never, cluster_only=True),
)
_CLUSTER_GROUPS = frozenset({"aws_rds_cluster_parameter_group", "AWS::RDS::DBClusterParameterGroup"})


def _engine(family: str) -> tuple[_Engine, re.Match[str]] | None:
    for engine in _ENGINES:
        match = engine.pattern.fullmatch(family.strip().lower())
        if match is not None:
            return engine, match
    return None


def _terraform_parameters(body: Node) -> Iterator[tuple[Node | None, Node | None]]:
    """(name, value) of each `parameter` block."""
    node = body.get("parameter")
    if node is None:
        return
    for block in node.children():
        if isinstance(block.value, dict):
            yield block.get("name"), block.get("value")


def _cloudformation_parameters(props: Node) -> Iterator[tuple[Node | None, Node | None]]:
    """(name, value) of each entry of the `Parameters` mapping."""
    node = props.get("Parameters")
    if node is None or not isinstance(node.value, dict):
        return
    for key, value in node.items():
        yield Node(key, value.line, value.line), value


def db_parameter_group_requires_tls(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """The family's TLS parameter must be on (or absent where the family's default is on)."""
    props = properties(resource)
    family_node = props.get("Family" if resource.source == "cloudformation" else "family")
    family = text(family_node)
    if family is None:
        return  # unknown family: nothing to judge against
    found = _engine(family)
    if found is None:
        return  # Oracle, Db2, custom engines: TLS is configured elsewhere
    engine, match = found
    if engine.cluster_only and resource.type not in _CLUSTER_GROUPS:
        return  # Aurora reads these parameters from the cluster parameter group only
    if resource.source == "cloudformation":
        pairs = list(_cloudformation_parameters(props))
        parameters = props.get("Parameters")
        opaque = parameters is not None and isinstance(parameters.value, Unknown)
    else:
        pairs = list(_terraform_parameters(props))
        opaque = _has_dynamic(props, "parameter")
    for name, value in pairs:
        if (text(name) or "").strip().lower() != engine.parameter:
            continue
        setting = _setting(value)
        if setting in _ON:
            return
        if setting in _OFF and value is not None:
            yield Violation(message=f"Parameter group does not require TLS ({engine.parameter} = {setting}).",
                            line=value.line, end_line=value.end_line)
        else:
            where = value if value is not None else resource
            yield Violation(message=f"Parameter group may not require TLS ({engine.parameter} is not known).",
                            line=where.line, undecided=True)
        return
    if opaque:
        yield Violation(message=f"Parameter group may not require TLS ({engine.parameter} is generated).",
                        line=resource.line, undecided=True)
    elif not engine.on_by_default(match):
        yield Violation(
            message=f"Parameter group ({family}) does not require TLS ({engine.parameter} is not set and "
                    "defaults to off).",
            line=resource.line,
        )


def _setting(value: Node | None) -> str | None:
    """A parameter value as lower-case text (`true`/`false` for booleans); None when unknown."""
    if value is None or isinstance(value.value, Unknown):
        return None
    if isinstance(value.value, bool):
        return "true" if value.value else "false"
    found = text(value)
    return found.strip().lower() if found is not None else None


def _has_dynamic(body: Node, name: str) -> bool:
    dynamic = body.get("dynamic")
    return dynamic is not None and any(
        isinstance(item.value, dict) and name in item.value for item in dynamic.children())


# --------------------------------------------------------------------------------------------
# EKS control plane log types (CloudFormation)
# --------------------------------------------------------------------------------------------

_REQUIRED_LOG_TYPES = ("api", "audit", "authenticator")


def eks_cluster_logging_types(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """`Logging.ClusterLogging.EnabledTypes` must name api, audit and authenticator."""
    props = properties(resource)
    enabled = props.get("Logging", "ClusterLogging", "EnabledTypes")
    for node in (props.get("Logging"), props.get("Logging", "ClusterLogging"), enabled):
        if node is not None and isinstance(node.value, Unknown):
            yield Violation(message="EKS control plane log types are not known.", line=node.line, undecided=True)
            return
    types: set[str] = set()
    unknown = False
    for item in enabled.children() if enabled is not None else []:
        kind = item.get("Type")
        if kind is not None and isinstance(kind.value, Unknown):
            unknown = True
        elif (name := text(kind)) is not None:
            types.add(name)
    missing = [t for t in _REQUIRED_LOG_TYPES if t not in types]
    if not missing:
        return
    where = enabled if enabled is not None else resource
    yield Violation(
        message=f"EKS control plane does not log {', '.join(missing)} events.",
        line=where.line, undecided=unknown,
    )
