"""IAM policy documents, read the same way from every place they are written, with lines.

A document reaches a rule as `jsonencode({...})` (read from the source, so each part keeps its
line), a JSON string (heredoc or quoted; a heredoc's lines are the file's lines), a reference to a
`data "aws_iam_policy_document"` of the module (its `statement`, `principals` and `condition`
blocks), or a CloudFormation mapping (`PolicyDocument`, `AssumeRolePolicyDocument`, `KeyPolicy`).
All of them become one `Document` of `Statement`s whose parts are `Node`s: a string, or `Unknown`
when it is not known before apply. A part that cannot be read at all is `None` ("cannot tell"),
never an empty list, so no rule mistakes "unreadable" for "absent".

The matching helpers follow IAM's own semantics: actions and resources match case-insensitively
with `*` and `?` wildcards, `NotAction`/`NotResource`/`NotPrincipal` grant everything they do not
list, and a condition restricts a statement only when it pins who may call (an account, an
organisation, a network, a source ARN) to values that are not wildcards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.engine.context import siblings_at
from bot.engine.model import Node, Resource, Unknown
from bot.engine.parsers import is_terraform_json
from bot.engine.parsers.terraform.json_reader import JArray, JObject, JSONError, JValue, read_json
from bot.engine.rule import RuleContext
from rules.checks.hcl_literal import call_argument
from rules.checks.network import is_open_cidr

DOCUMENT_TYPE = "aws_iam_policy_document"
MAX_DOCUMENT_CHARS = 200_000
_DATA_REFERENCE = re.compile(r"\bdata\.aws_iam_policy_document\.([\w-]+)(?:\[[^\]]*\])?\.(?:json|minified_json)\b")


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """One principal of a statement: `kind` is AWS, Service, Federated, CanonicalUser, or `*`
    for `"Principal": "*"`; `value` the identifier (a string Node, or Unknown)."""

    kind: str
    value: Node

    @property
    def anyone(self) -> bool:
        """`"*"`, `{"AWS": "*"}`: every principal of every account, anonymous callers too."""
        return self.kind in ("*", "AWS") and text(self.value) == "*"


@dataclass(frozen=True)
class Condition:
    """One condition key under one operator, e.g. StringEquals / aws:SourceVpc / ["vpc-1"].
    `key` is a Node (a key written as a template is Unknown); `values` None when unknown."""

    operator: str
    key: Node
    values: tuple[Node, ...] | None
    line: int

    @property
    def key_text(self) -> str:
        return str(self.key.value).strip('"')


@dataclass(frozen=True)
class Statement:
    """One statement. Each element is a tuple of Nodes (empty when absent) or None when it
    cannot be read; `effect` is None when unknown."""

    line: int
    end_line: int
    sid: str | None
    effect: str | None
    actions: tuple[Node, ...] | None
    not_actions: tuple[Node, ...] | None
    resources: tuple[Node, ...] | None
    not_resources: tuple[Node, ...] | None
    principals: tuple[Principal, ...] | None
    not_principals: tuple[Principal, ...] | None
    conditions: tuple[Condition, ...] | None

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"

    @property
    def denies(self) -> bool:
        return self.effect == "Deny"

    @property
    def key(self) -> str:
        return f"statement:{self.sid}" if self.sid else f"statement@{self.line}"


@dataclass(frozen=True)
class Document:
    """The statements of one policy. `complete` is False when some statements may be missing
    (a `dynamic "statement"`, merged `source_policy_documents`, an unknown Statement list):
    a rule that needs a statement to be *there* cannot tell."""

    statements: tuple[Statement, ...]
    complete: bool


@dataclass(frozen=True)
class Located:
    """A document and where its parts are written: in the resource judged, or in a data source
    of the module (`home`). A finding stays inside the resource judged: on the part's line when
    the document is written there, else on `fallback`, the line of the attribute naming it."""

    document: Document
    resource: Resource
    home: Resource
    fallback: int

    def line(self, line: int) -> int:
        return line if self.home is self.resource else self.fallback

    def elsewhere(self, line: int) -> str:
        """" (statement at policies.tf:12 of data.aws_iam_policy_document.x)" when the document is
        not written in the resource; "" when it is."""
        if self.home is self.resource:
            return ""
        return f" (statement at {self.home.path}:{line} of {self.home.address})"


# --------------------------------------------------------------------------------------------
# Reading values
# --------------------------------------------------------------------------------------------


def text(node: Node | None) -> str | None:
    """A literal string (numbers and booleans as JSON writes them); None when absent or unknown."""
    if node is None or isinstance(node.value, (Unknown, dict, list)) or node.value is None:
        return None
    if isinstance(node.value, bool):
        return "true" if node.value else "false"
    return str(node.value)


def template(node: Node | None) -> str | None:
    """The text of a string that may hold unresolved parts (`${...}`, `Fn::Sub`): literal strings
    as they are, a Terraform template or a CloudFormation `Fn::Sub` as written; else None.
    For matching fixed text inside a value (an OIDC host, a managed policy name)."""
    literal = text(node)
    if literal is not None or node is None or not isinstance(node.value, Unknown):
        return literal
    expression = node.value.expression.strip()
    if expression.startswith("Fn::Sub "):
        return expression[len("Fn::Sub "):]
    if len(expression) >= 2 and expression.startswith('"') and expression.endswith('"'):
        return expression[1:-1]
    return expression if "${" in expression else None  # a Terraform template, as written


def _get(node: Node, name: str) -> Node | None:
    """IAM element names are case-sensitive, but a miswritten case is still someone's intent."""
    found = node.get(name)
    if found is not None or not isinstance(node.value, dict):
        return found
    lowered = name.lower()
    return next((child for key, child in node.items() if key.lower() == lowered), None)


def _strings(node: Node | None) -> tuple[Node, ...] | None:
    """A string-or-list element as its items; () when absent, None when it cannot be read. A
    value unknown before apply is one unknown item (it may stand for several)."""
    if node is None:
        return ()
    items = node.children() if isinstance(node.value, list) else [node]
    if any(isinstance(item.value, (dict, list)) for item in items):
        return None
    return tuple(items)


def _json_principals(node: Node | None) -> tuple[Principal, ...] | None:
    if node is None:
        return ()
    if isinstance(node.value, Unknown):
        return None
    if not isinstance(node.value, dict):
        return tuple(Principal("*", item) for item in (_strings(node) or ()))
    found: list[Principal] = []
    for kind, ids in node.items():
        items = _strings(ids)
        if items is None:
            return None
        found += [Principal(kind, item) for item in items]
    return tuple(found)


def _json_conditions(node: Node | None) -> tuple[Condition, ...] | None:
    if node is None:
        return ()
    if not isinstance(node.value, dict):
        return None
    found: list[Condition] = []
    for operator, keys in node.items():
        if not isinstance(keys.value, dict):
            return None
        for key, values in keys.items():
            key_node = Node(key if "${" not in key else Unknown(key), values.line, values.line)
            found.append(Condition(operator, key_node, _strings(values), values.line))
    return tuple(found)


def _json_statement(node: Node) -> Statement | None:
    if not isinstance(node.value, dict):
        return None
    effect = _get(node, "Effect")
    return Statement(
        line=node.line,
        end_line=node.end_line,
        sid=text(_get(node, "Sid")),
        effect=_effect(text(effect)) if effect is not None else None,
        actions=_strings(_get(node, "Action")),
        not_actions=_strings(_get(node, "NotAction")),
        resources=_strings(_get(node, "Resource")),
        not_resources=_strings(_get(node, "NotResource")),
        principals=_json_principals(_get(node, "Principal")),
        not_principals=_json_principals(_get(node, "NotPrincipal")),
        conditions=_json_conditions(_get(node, "Condition")),
    )


def _effect(value: str | None) -> str | None:
    if value is None:
        return None
    return {"allow": "Allow", "deny": "Deny"}.get(value.strip().lower())


def json_document(node: Node | None) -> Document | None:
    """A document written as an IAM JSON object (already a Node tree); None when it is not one."""
    if node is None or not isinstance(node.value, dict):
        return None
    statements = _get(node, "Statement")
    if statements is None:
        return Document((), True)
    if isinstance(statements.value, Unknown):
        return Document((), False)
    read = [_json_statement(item) for item in statements.children()]
    return Document(tuple(s for s in read if s is not None), all(s is not None for s in read))


# --- JSON text --------------------------------------------------------------------------------


def _from_json(value: JValue, line_of: _LineMap) -> Node:
    if isinstance(value, JObject):
        return Node({prop.key: _from_json(prop.value, line_of) for prop in value.props},
                    line_of(value.line), line_of(value.end_line))
    if isinstance(value, JArray):
        return Node([_from_json(item, line_of) for item in value.items], line_of(value.line), line_of(value.end_line))
    return Node(value.value, line_of(value.line), line_of(value.line))


class _LineMap:
    """Lines of a JSON text -> lines of the file: a heredoc's lines follow its opening line,
    anything else (a quoted one-line string, a value from elsewhere) is all on one line."""

    def __init__(self, first: int, spread: bool) -> None:
        self.first, self.spread = first, spread

    def __call__(self, line: int) -> int:
        return self.first + line if self.spread else self.first


def json_text_document(source: str, node: Node, heredoc: bool) -> Document | None:
    """A document written as JSON text in `node` (lines placed as `_LineMap` says)."""
    if len(source) > MAX_DOCUMENT_CHARS:
        return None
    try:
        value = read_json(source)
    except (JSONError, RecursionError):
        return None
    return json_document(_from_json(value, _LineMap(node.line, heredoc)))


def _is_heredoc(resource: Resource, node: Node) -> bool:
    first = resource.text_at(node.line) or ""
    return node.origin is None and re.search(r"<<-?[A-Za-z_]", first) is not None


# --- the aws_iam_policy_document data source ---------------------------------------------------


def _block_principals(statement: Node, name: str) -> tuple[Principal, ...] | None:
    node = statement.get(name)
    if node is None:
        return ()
    found: list[Principal] = []
    for block in node.children():
        kind = text(block.get("type"))
        ids = _strings(block.get("identifiers"))
        if kind is None or ids is None:
            return None
        found += [Principal("*" if kind == "*" else kind, item) for item in ids]
    return tuple(found)


def _block_conditions(statement: Node) -> tuple[Condition, ...] | None:
    node = statement.get("condition")
    if node is None:
        return ()
    found: list[Condition] = []
    for block in node.children():
        operator, key = text(block.get("test")), block.get("variable")
        if operator is None or key is None:
            return None
        found.append(Condition(operator, key, _strings(block.get("values")), block.line))
    return tuple(found)


def _data_statement(block: Node) -> Statement | None:
    if not isinstance(block.value, dict):
        return None
    effect = block.get("effect")
    return Statement(
        line=block.line,
        end_line=block.end_line,
        sid=text(block.get("sid")),
        effect="Allow" if effect is None else _effect(text(effect)),
        actions=_strings(block.get("actions")),
        not_actions=_strings(block.get("not_actions")),
        resources=_strings(block.get("resources")),
        not_resources=_strings(block.get("not_resources")),
        principals=_block_principals(block, "principals"),
        not_principals=_block_principals(block, "not_principals"),
        conditions=_block_conditions(block),
    )


_MERGED = ("source_policy_documents", "override_policy_documents", "source_json", "override_json")


def data_document(resource: Resource) -> Document:
    """The statements of a `data "aws_iam_policy_document"`."""
    body = resource.body
    node = body.get("statement")
    read = [_data_statement(block) for block in node.children()] if node is not None else []
    dynamic = any(isinstance(b.value, dict) and "statement" in b.value for b in _children(body.get("dynamic")))
    merged = any(body.get(name) is not None for name in _MERGED)
    statements = tuple(s for s in read if s is not None)
    return Document(statements, not dynamic and not merged and len(statements) == len(read))


def _children(node: Node | None) -> list[Node]:
    return node.children() if node is not None else []


# --- where a Terraform attribute's document is ---------------------------------------------------


def terraform_document(resource: Resource, node: Node | None, ctx: RuleContext) -> Located | None:
    """The document an attribute such as `policy` holds: JSON text, `jsonencode({...})`, or a
    `data.aws_iam_policy_document.<name>.json` of the module. None when it cannot be read."""
    if node is None:
        return None
    if isinstance(node.value, str):
        document = json_text_document(node.value, node, _is_heredoc(resource, node))
        return Located(document, resource, resource, node.line) if document is not None else None
    if not isinstance(node.value, Unknown):
        return None
    expression = node.value.expression
    reference = _DATA_REFERENCE.fullmatch(expression.strip().removeprefix("${").removesuffix("}"))
    if reference is not None:
        address = f"data.{DOCUMENT_TYPE}.{reference.group(1)}"
        for other in siblings_at(ctx, resource, address):
            if other.kind == "data" and other.type == DOCUMENT_TYPE:
                return Located(data_document(other), resource, other, node.line)
        return None
    if re.match(r"\s*jsonencode\s*\(", expression) and not is_terraform_json(resource.path):
        lines = [resource.text_at(n) or "" for n in range(node.line, node.end_line + 1)]
        document = json_document(call_argument(lines, node.line))
        return Located(document, resource, resource, node.line) if document is not None else None
    if expression.lstrip().startswith("{") and _is_heredoc(resource, node):
        document = json_text_document(expression, node, True)  # a heredoc template: "${...}" inside strings
        return Located(document, resource, resource, node.line) if document is not None else None
    return None


def cloudformation_document(resource: Resource, node: Node | None, key: str) -> Located | None:
    """A CloudFormation policy property `key`: a mapping, or (rarely) a JSON string."""
    if node is None:
        return None
    document = (json_text_document(node.value, node, False) if isinstance(node.value, str)
                else json_document(node))
    return Located(document, resource, resource, key_line(resource, node, key)) if document is not None else None


def key_line(resource: Resource, node: Node, key: str) -> int:
    """The line naming `key` whose value is `node`: a YAML block mapping starts on the line after
    its key, where the parser places it."""
    pattern = re.compile(rf"\s*(?:-\s+)?[\"']?{re.escape(key)}[\"']?\s*:")
    for line in range(node.line, max(resource.line, node.line - 3) - 1, -1):
        if pattern.match(resource.text_at(line) or ""):
            return line
    return node.line


def properties(resource: Resource) -> Node:
    """A CloudFormation resource's `Properties` (an empty mapping when missing)."""
    props = resource.body.get("Properties")
    return props if props is not None and isinstance(props.value, dict) else Node({}, resource.line, resource.line)


# --------------------------------------------------------------------------------------------
# IAM semantics
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _wildcard(pattern: str) -> re.Pattern[str]:
    parts = ("." if c == "?" else ".*" if c == "*" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def matches(pattern: str, value: str) -> bool:
    """IAM matching of an action or resource pattern (`s3:Get*`, `iam:*`) against a value."""
    return _wildcard(pattern.strip()).fullmatch(value) is not None


def grants(statement: Statement, action: str) -> Node | None | bool:
    """The Node that makes an Allow statement grant `action` (an `Action` item, or the first
    `NotAction` item when NotAction leaves it in); False when it does not; None when unknown."""
    if statement.actions is None or statement.not_actions is None:
        return None
    if statement.actions:
        for item in statement.actions:
            pattern = text(item)
            if pattern is None:
                if isinstance(item.value, Unknown):
                    return None
                continue
            if matches(pattern, action):
                return item
        return False
    if statement.not_actions:
        patterns = [text(item) for item in statement.not_actions]
        if any(p is None for p in patterns):
            return None
        if not any(matches(p, action) for p in patterns if p is not None):
            return statement.not_actions[0]
    return False


def on_every_resource(statement: Statement) -> bool | None:
    """The statement applies to every resource: `Resource: "*"` or any `NotResource`."""
    if statement.resources is None or statement.not_resources is None:
        return None
    if statement.not_resources:
        return True
    values = [text(item) for item in statement.resources]
    if any(v is not None and v.strip() == "*" for v in values):
        return True
    return None if any(v is None for v in values) else False


def anyone(statement: Statement) -> Node | None | bool:
    """The Node making an Allow statement open to every principal: a `"*"` principal, or any
    `NotPrincipal` (everyone but those listed); False when not; None when unknown."""
    if statement.principals is None or statement.not_principals is None:
        return None
    if statement.not_principals:
        return statement.not_principals[0].value
    for principal in statement.principals:
        if principal.anyone:
            return principal.value
    if any(isinstance(p.value.value, Unknown) and p.kind in ("*", "AWS") for p in statement.principals):
        return None
    return False


# Condition keys that pin who may call, or from where: with a specific value, the statement is
# not open to the whole world any more.
RESTRICTING_KEYS = frozenset(key.lower() for key in (
    "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalAccount", "aws:PrincipalArn",
    "aws:PrincipalServiceName", "aws:PrincipalServiceNamesList", "aws:PrincipalIsAWSService",
    "aws:SourceVpc", "aws:SourceVpce", "aws:SourceIp", "aws:VpcSourceIp", "aws:VpceAccount", "aws:VpceOrgID",
    "aws:VpceOrgPaths", "aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths",
    "aws:SourceOwner", "aws:userid", "aws:username", "aws:Ec2InstanceSourceVpc", "aws:Ec2InstanceSourcePrivateIPv4",
    "kms:CallerAccount", "kms:ViaService", "s3:DataAccessPointAccount", "s3:DataAccessPointArn",
    "ec2:SourceInstanceArn", "lambda:SourceFunctionArn", "ssm:SourceInstanceArn", "sts:SourceIdentity",
))
_POSITIVE = re.compile(
    r"(?:ForAnyValue:)?(?:StringEquals|StringEqualsIgnoreCase|StringLike|ArnEquals|ArnLike|IpAddress|Bool)",
    re.IGNORECASE,
)


def restricting_value(value: str, key: str) -> bool:
    """A condition value that narrows the callers: not only wildcards, not an ARN of any
    account, not an address range covering the whole internet; for a Bool key, true."""
    stripped = value.strip()
    if key == "aws:principalisawsservice":
        return stripped.lower() == "true"
    if len(re.sub(r"[*?]", "", stripped)) < 3:
        return False
    if stripped.lower().startswith("arn:"):
        parts = stripped.split(":", 5)
        if len(parts) < 6 or re.fullmatch(r"[*?]+", parts[4]):
            return False  # `arn:aws:iam::*:role/x`: any account's
        return len(re.sub(r"[*?]", "", parts[5])) >= 3
    if key in ("aws:sourceip", "aws:vpcsourceip"):
        return not is_open_cidr(stripped)
    return True


def restricted(statement: Statement) -> bool | None:
    """A condition of the statement pins who may call (True); none does (False); None when a
    condition that could cannot be read."""
    if statement.conditions is None:
        return None
    unknown = False
    for condition in statement.conditions:
        if not _POSITIVE.fullmatch(condition.operator.strip()) or "ifexists" in condition.operator.lower():
            continue
        key = condition.key_text.lower()
        if isinstance(condition.key.value, Unknown):
            unknown = True
            continue
        if key not in RESTRICTING_KEYS and not key.startswith("aws:principaltag/"):
            continue
        if condition.values is None:
            unknown = True
            continue
        values = [text(v) for v in condition.values]
        if any(v is None for v in values):
            unknown = True
        elif values and all(restricting_value(v, key) for v in values if v is not None):
            return True
    return None if unknown else False
