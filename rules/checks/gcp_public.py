"""Grants to everyone on the internet: the IAM principals `allUsers` (anyone, signed in or not)
and `allAuthenticatedUsers` (anyone with a Google account), wherever a Google resource's access
is written in Terraform.

- IAM resources (`*_iam_member`, `*_iam_binding`, `*_iam_policy`): `member`, `members`, and the
  `policy_data` of a policy: JSON text, a `jsonencode({...})` literal (read from the source, the
  finding on the member's line), or the `google_iam_policy` data source it names when that data
  source is in the same module (its JSON is not known before apply otherwise); that finding lands
  on `policy_data` and names the member's place in the data source.
- Cloud Storage ACL resources: `entity`, every `ROLE:entity` of `role_entity`, and the canned
  `predefined_acl` values that grant to everyone.
- BigQuery dataset access entries: `special_group` and `iam_member`.

Findings land on the member's own line (a policy's on `policy_data`); a value not known before
apply is undecided.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator

from bot.engine.context import siblings_at
from bot.engine.model import Node, Resource, Unknown, Violation
from bot.engine.parsers.families import is_terraform_json
from bot.engine.rule import RuleContext
from rules.checks.hcl_literal import call_argument

PUBLIC = frozenset({"allusers", "allauthenticatedusers"})
# Canned GCS ACLs that grant READER (or more) to allUsers / allAuthenticatedUsers.
PUBLIC_CANNED_ACLS = frozenset({"publicread", "publicreadwrite", "authenticatedread"})
_POLICY_SOURCE = "google_iam_policy"


def is_public(text: str) -> bool:
    """`allUsers` / `allAuthenticatedUsers` (the API takes them in this spelling only; compared
    without case so that a typo in case is not mistaken for a private grant)."""
    return text.strip().lower() in PUBLIC


def _strings(node: Node) -> list[Node]:
    return node.children() if isinstance(node.value, list) else [node]


def _public_members(node: Node) -> Iterator[tuple[Node, str | None]]:
    """(item, member) for every public member of a member or list of members; member None for an
    item (or the whole value) not known before apply."""
    if isinstance(node.value, Unknown):
        yield node, None
        return
    for item in _strings(node):
        if isinstance(item.value, Unknown):
            yield item, None
        elif isinstance(item.value, str) and is_public(item.value):
            yield item, item.value.strip()


def _member_findings(node: Node | None, attribute: str) -> Iterator[Violation]:
    for item, member in _public_members(node) if node is not None else ():
        if member is None:
            yield Violation(f"`{attribute}` is not known before apply; it may grant access to everyone.",
                            line=item.line, end_line=item.end_line, key=f"{attribute}@{item.line}", undecided=True)
        else:
            yield Violation(f"`{attribute}` grants access to {member}: anyone on the internet.",
                            line=item.line, end_line=item.end_line, key=f"{attribute}:{member}")


def _policy_source(resource: Resource, ctx: RuleContext, expression: str) -> Resource | None:
    """The `data "google_iam_policy" "x"` that `data.google_iam_policy.x.policy_data` names."""
    parts = expression.strip().split(".")
    if len(parts) != 4 or parts[0] != "data" or parts[1] != _POLICY_SOURCE or parts[3] != "policy_data":
        return None
    address = ".".join(parts[:3])
    for other in siblings_at(ctx, resource, address):
        if other.kind == "data" and other.type == _POLICY_SOURCE:
            return other
    return None


def _policy_json(text: str) -> Iterator[tuple[str, str]]:
    """(role, member) for every binding of a policy written as JSON text."""
    try:
        policy = json.loads(text)
    except ValueError:
        return
    bindings = policy.get("bindings") if isinstance(policy, dict) else None
    for binding in bindings if isinstance(bindings, list) else []:
        if not isinstance(binding, dict):
            continue
        members = binding.get("members")
        for member in members if isinstance(members, list) else []:
            if isinstance(member, str):
                yield str(binding.get("role", "")), member


def _encoded_policy_findings(policy: Node) -> Iterator[Violation]:
    """The public members of a `jsonencode({bindings = [...]})` literal, on their own lines."""
    bindings = policy.get("bindings")
    for binding in bindings.children() if bindings is not None and isinstance(bindings.value, list) else []:
        if not isinstance(binding.value, dict):
            continue
        role = binding.get("role")
        role_text = role.value if role is not None and isinstance(role.value, str) else "a role"
        members = binding.get("members")
        for item, grantee in _public_members(members) if members is not None else ():
            if grantee is None:
                yield Violation(f"`policy_data` grants {role_text} to members not known before apply; they may be "
                                "public.", line=item.line, end_line=item.end_line,
                                key=f"policy_data:{role_text}@{item.line}", undecided=True)
            else:
                yield Violation(f"`policy_data` grants {role_text} to {grantee}: anyone on the internet.",
                                line=item.line, end_line=item.end_line, key=f"policy_data:{role_text}:{grantee}")


def _policy_findings(resource: Resource, ctx: RuleContext) -> Iterator[Violation]:
    node = resource.body.get("policy_data")
    if node is None:
        return
    if isinstance(node.value, str):
        for role, member in _policy_json(node.value):
            if is_public(member):
                yield Violation(f"`policy_data` grants {role or 'a role'} to {member}: anyone on the internet.",
                                line=node.line, end_line=node.end_line, key=f"policy_data:{role}:{member}")
        return
    if not isinstance(node.value, Unknown):
        return
    if re.match(r"\s*jsonencode\s*\(", node.value.expression) and not is_terraform_json(resource.path):
        lines = [resource.text_at(n) or "" for n in range(node.line, node.end_line + 1)]
        literal = call_argument(lines, node.line)
        if literal is not None and isinstance(literal.value, dict):
            yield from _encoded_policy_findings(literal)
            return
    source = _policy_source(resource, ctx, node.value.expression)
    if source is None:
        yield Violation("`policy_data` is not known before apply; it may grant access to everyone.",
                        line=node.line, end_line=node.end_line, key="policy_data", undecided=True)
        return
    bindings = source.body.get("binding")
    for binding in bindings.children() if bindings is not None else []:
        role_node = binding.get("role")
        role_text = role_node.value if role_node is not None and isinstance(role_node.value, str) else "a role"
        members = binding.get("members")
        for item, grantee in _public_members(members) if members is not None else ():
            where = f"{source.address} ({source.path}:{item.line})"
            if grantee is None:
                yield Violation(f"{where} grants {role_text} to members not known before apply; they may be public.",
                                line=node.line, end_line=node.end_line,
                                key=f"{source.address}:{role_text}@{item.line}", undecided=True)
            else:
                yield Violation(f"{where} grants {role_text} to {grantee}: anyone on the internet.",
                                line=node.line, end_line=node.end_line, key=f"{source.address}:{role_text}:{grantee}")
    if source.body.get("dynamic") is not None:
        yield Violation(f"{source.address} generates bindings with a dynamic block; they may be public.",
                        line=node.line, end_line=node.end_line, key=f"{source.address}:dynamic", undecided=True)


def public_iam_grants(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """IAM members, bindings and policies must not grant a role to allUsers/allAuthenticatedUsers."""
    body = resource.body
    return [*_member_findings(body.get("member"), "member"), *_member_findings(body.get("members"), "members"),
            *_policy_findings(resource, ctx)]


def _role_entity_findings(node: Node | None) -> Iterator[Violation]:
    if node is None:
        return
    if isinstance(node.value, Unknown):
        yield Violation("`role_entity` is not known before apply; it may grant access to everyone.",
                        line=node.line, end_line=node.end_line, key="role_entity", undecided=True)
        return
    for item in _strings(node):
        if isinstance(item.value, Unknown):
            yield Violation("An entry of `role_entity` is not known before apply; it may be public.",
                            line=item.line, end_line=item.end_line, key=f"role_entity@{item.line}", undecided=True)
            continue
        if not isinstance(item.value, str) or ":" not in item.value:
            continue
        role, _, entity = item.value.partition(":")
        if is_public(entity):
            yield Violation(f"ACL entry {item.value.strip()!r} grants {role.strip()} to anyone on the internet.",
                            line=item.line, end_line=item.end_line, key=f"role_entity:{item.value.strip()}")


def public_storage_acl(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """Cloud Storage ACLs (bucket, default object and object ACLs) must not grant to everyone."""
    body = resource.body
    found = [*_member_findings(body.get("entity"), "entity"), *_role_entity_findings(body.get("role_entity"))]
    canned = body.get("predefined_acl")
    if canned is not None and isinstance(canned.value, str) and canned.value.strip().lower() in PUBLIC_CANNED_ACLS:
        found.append(Violation(f"Canned ACL {canned.value.strip()!r} grants access to everyone on the internet.",
                               line=canned.line, end_line=canned.end_line, key="predefined_acl"))
    return found


def _access_entries(body: Node) -> Iterator[Node]:
    node = body.get("access")
    for entry in node.children() if node is not None else []:
        if isinstance(entry.value, dict):
            yield entry


def public_bigquery_access(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """BigQuery datasets must not be shared with allUsers/allAuthenticatedUsers, whether through the
    dataset's `access` blocks, a `google_bigquery_dataset_access` entry or dataset IAM."""
    body = resource.body
    if resource.type in ("google_bigquery_dataset_iam_member", "google_bigquery_dataset_iam_binding",
                         "google_bigquery_dataset_iam_policy"):
        return public_iam_grants(resource, ctx)
    entries = [body] if resource.type == "google_bigquery_dataset_access" else list(_access_entries(body))
    found: list[Violation] = []
    for entry in entries:
        found.extend(_member_findings(entry.get("special_group"), "special_group"))
        found.extend(_member_findings(entry.get("iam_member"), "iam_member"))
    return found
