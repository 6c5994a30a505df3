"""Azure SQL server auditing: a server is audited by another resource that names it.

Server-level auditing is configured by an `azurerm_mssql_server_extended_auditing_policy` whose
`server_id` refers to the server (`azurerm_mssql_server.main.id`); azurerm 2.x also accepted an
inline `extended_auditing_policy` block. Whether a server has auditing is therefore a question
about the module's other resources, which the rule language's `sibling` cannot tie to one server.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.engine.model import Resource, Unknown, Violation
from bot.engine.rule import RuleContext
from rules._support import truthy

SERVER = "azurerm_mssql_server"
POLICY = "azurerm_mssql_server_extended_auditing_policy"


def _servers_named(policy: Resource, ctx: RuleContext) -> set[str]:
    """The sibling servers a policy refers to (by address)."""
    servers = {other.address for other in ctx.siblings(policy) if other.kind == "resource" and other.type == SERVER}
    return {ref for ref in policy.references if ref in servers}


def check_server_auditing(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """CB-AZURE-018: every SQL server has an enabled extended auditing policy."""
    if resource.type == POLICY:
        enabled = resource.body.get("enabled")
        if enabled is not None and isinstance(enabled.value, Unknown):
            yield Violation(
                message=f"Cannot tell: `enabled = {enabled.value}` is not known before apply; if it is false, "
                        "the SQL server is not audited.",
                line=enabled.line, end_line=enabled.end_line, key="enabled", undecided=True,
            )
        elif enabled is not None and truthy(enabled) is False:
            yield Violation(message="SQL server auditing policy is turned off (enabled = false).",
                            line=enabled.line, end_line=enabled.end_line, key="enabled")
        return
    if resource.body.get("extended_auditing_policy") is not None:
        return  # azurerm 2.x: auditing configured inline on the server
    if any(policy.exists for policy in ctx.referrers(resource, POLICY)):
        return
    for other in ctx.siblings(resource):
        if other.kind == "resource" and other.type == POLICY and other.exists and not _servers_named(other, ctx):
            return  # a policy whose server we cannot tell may be this server's: no finding on a guess
    yield Violation(
        message="Azure SQL server has no auditing: no azurerm_mssql_server_extended_auditing_policy refers to it.",
        line=resource.line, end_line=resource.line, key="extended_auditing_policy",
    )
