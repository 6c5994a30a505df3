"""Cloud SQL database flags (`settings.database_flags`) that CIS asks for.

A flag is judged only on instances of its engine (`database_version` POSTGRES_*, MYSQL_*,
SQLSERVER_*). Two kinds of control:

- a flag that must be set (PostgreSQL's logging flags, pgAudit): an unset flag means the engine
  default, which is what the control forbids, so it is a finding on the `settings` block;
- a flag whose engine default is already compliant (`local_infile`, `log_min_duration_statement`,
  SQL Server's ownership chaining and contained authentication): only a value set otherwise is.

A `dynamic "database_flags"` block generates flags nobody can see: undecided.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from bot.engine.model import Node, Resource, Unknown, Violation
from bot.engine.rule import CheckFn, RuleContext


def _engine(resource: Resource, engine: str) -> bool | None:
    version = resource.body.get("database_version")
    if version is None:
        return False
    if isinstance(version.value, Unknown):
        return None
    return str(version.value).strip().upper().startswith(engine)


def _flags(settings: Node) -> Iterator[Node]:
    node = settings.get("database_flags")
    for flag in node.children() if node is not None else []:
        if isinstance(flag.value, dict):
            yield flag


def _generated(settings: Node) -> bool:
    holder = settings.get("dynamic")
    return holder is not None and any(
        isinstance(item.value, dict) and "database_flags" in item.value for item in holder.children())


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value).strip().lower()


def _judge(resource: Resource, engine: str, flag: str, accepted: frozenset[str], shown: str,
           required: bool) -> Iterator[Violation]:
    if _engine(resource, engine) is not True:
        return
    settings_node = resource.body.get("settings")
    settings = settings_node.children()[0] if settings_node is not None and settings_node.children() else None
    if settings_node is not None and settings is None:
        return  # settings not known before apply
    for item in _flags(settings) if settings is not None else ():
        name = item.get("name")
        if name is None or isinstance(name.value, Unknown):
            if name is not None:
                yield Violation(f"A database flag's name is not known before apply; it may set `{flag}`.",
                                line=name.line, key=f"{flag}@{name.line}", undecided=True)
            continue
        if _text(name.value) != flag:
            continue
        value = item.get("value")
        if value is None:
            continue
        if isinstance(value.value, Unknown):
            yield Violation(f"`{flag}` is not known before apply.", line=value.line, end_line=value.end_line,
                            key=flag, undecided=True)
        elif _text(value.value) not in accepted:
            yield Violation(f"Database flag `{flag}` is {value.value!r}; it must be {shown}.", line=value.line,
                            end_line=value.end_line, key=flag)
        return
    if not required:
        return
    line = settings.line if settings is not None else resource.line
    yield Violation(f"Database flag `{flag}` is not set (the engine's default leaves it off); set it to {shown}.",
                    line=line, key=flag, undecided=settings is not None and _generated(settings))


def _flag_check(engine: str, flag: str, accepted: frozenset[str], shown: str, required: bool) -> CheckFn:
    def check(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
        return list(_judge(resource, engine, flag, accepted, shown, required))

    check.__doc__ = f"{engine} instances {'set' if required else 'do not change'} the `{flag}` flag ({shown})."
    check.__name__ = f"{engine.lower()}_{flag.replace('.', '_').replace(' ', '_')}"
    return check


_ON, _OFF = frozenset({"on"}), frozenset({"off"})
postgres_log_connections = _flag_check("POSTGRES", "log_connections", _ON, "`on`", required=True)
postgres_log_disconnections = _flag_check("POSTGRES", "log_disconnections", _ON, "`on`", required=True)
postgres_pgaudit = _flag_check("POSTGRES", "cloudsql.enable_pgaudit", _ON, "`on`", required=True)
postgres_log_min_duration_statement = _flag_check(
    "POSTGRES", "log_min_duration_statement", frozenset({"-1"}), "`-1` (disabled)", required=False)
mysql_local_infile = _flag_check("MYSQL", "local_infile", _OFF, "`off`", required=False)
sqlserver_cross_db_ownership_chaining = _flag_check(
    "SQLSERVER", "cross db ownership chaining", _OFF, "`off`", required=False)
sqlserver_contained_database_authentication = _flag_check(
    "SQLSERVER", "contained database authentication", _OFF, "`off`", required=False)
