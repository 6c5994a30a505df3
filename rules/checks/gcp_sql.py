"""Cloud SQL for PostgreSQL logging flags (`settings.database_flags`), which CIS asks for because
Cloud SQL's defaults leave them off.

A flag is judged only on PostgreSQL instances (`database_version` POSTGRES_*). The flag must be
set with an accepted value; an unset flag means the engine default, which is what the control
forbids. A `dynamic "database_flags"` block generates flags nobody can see: undecided.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from bot.engine.model import Node, Resource, Unknown, Violation
from bot.engine.rule import CheckFn, RuleContext


def _postgres(resource: Resource) -> bool | None:
    version = resource.body.get("database_version")
    if version is None:
        return False
    if isinstance(version.value, Unknown):
        return None
    return str(version.value).strip().upper().startswith("POSTGRES")


def _flags(settings: Node) -> Iterator[Node]:
    node = settings.get("database_flags")
    for flag in node.children() if node is not None else []:
        if isinstance(flag.value, dict):
            yield flag


def _generated(settings: Node) -> bool:
    holder = settings.get("dynamic")
    return holder is not None and any(
        isinstance(item.value, dict) and "database_flags" in item.value for item in holder.children())


def _judge(resource: Resource, flag: str, accepted: frozenset[str], shown: str) -> Iterator[Violation]:
    kind = _postgres(resource)
    if kind is False:
        return
    settings_node = resource.body.get("settings")
    settings = settings_node.children()[0] if settings_node is not None and settings_node.children() else None
    if kind is None or settings is None and settings_node is not None:
        return
    for item in _flags(settings) if settings is not None else ():
        name = item.get("name")
        if name is None or isinstance(name.value, Unknown):
            if name is not None:
                yield Violation(f"A database flag's name is not known before apply; it may set {flag}.",
                                line=name.line, key=f"{flag}@{name.line}", undecided=True)
            continue
        if str(name.value).strip().lower() != flag:
            continue
        value = item.get("value")
        if value is None:
            continue
        if isinstance(value.value, Unknown):
            yield Violation(f"`{flag}` is not known before apply.", line=value.line, end_line=value.end_line,
                            key=flag, undecided=True)
        elif str(value.value).strip().lower() not in accepted:
            yield Violation(f"Database flag `{flag}` is {value.value!r}; it must be {shown}.", line=value.line,
                            end_line=value.end_line, key=flag)
        return
    anchor = settings if settings is not None else resource.body
    line = anchor.line if settings is not None else resource.line
    yield Violation(f"Database flag `{flag}` is not set (PostgreSQL's default leaves it off); set it to {shown}.",
                    line=line, key=flag, undecided=settings is not None and _generated(settings))


def _flag_check(flag: str, accepted: frozenset[str], shown: str) -> CheckFn:
    def check(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
        return list(_judge(resource, flag, accepted, shown))

    check.__doc__ = f"PostgreSQL instances set the `{flag}` database flag to {shown}."
    check.__name__ = f"postgres_{flag.replace('.', '_')}"
    return check


postgres_log_connections = _flag_check("log_connections", frozenset({"on"}), "`on`")
postgres_log_disconnections = _flag_check("log_disconnections", frozenset({"on"}), "`on`")
