"""AWS access checks over policy documents: who a resource policy lets in, what an identity
policy grants, and which managed policies and OIDC trusts are attached.

Every check reads its documents through `aws_policy`, so Terraform (`jsonencode`, JSON text, a
`data "aws_iam_policy_document"`) and CloudFormation templates are judged alike. A finding lands
on the part that grants too much (the principal, the action), or on the document's attribute when
something is missing. Anything unknown before apply is never a finding by itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from bot.engine.context import siblings_at
from bot.engine.model import Node, Resource, Unknown, Violation
from bot.engine.rule import RuleContext
from rules.checks import aws_policy as policy
from rules.checks.aws_policy import Located, Statement, text
from rules.checks.tags import regulated_data_class

# --------------------------------------------------------------------------------------------
# Where each kind of document is written
# --------------------------------------------------------------------------------------------

# Terraform type -> attributes holding an identity policy (`inline_policy.policy`: in each block).
IDENTITY_TERRAFORM: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "aws_iam_policy": ("policy",),
    "aws_iam_role_policy": ("policy",),
    "aws_iam_user_policy": ("policy",),
    "aws_iam_group_policy": ("policy",),
    "aws_iam_role": ("inline_policy.policy",),
    "aws_ssoadmin_permission_set_inline_policy": ("inline_policy",),
})
IDENTITY_CLOUDFORMATION: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "AWS::IAM::Policy": ("PolicyDocument",),
    "AWS::IAM::ManagedPolicy": ("PolicyDocument",),
    "AWS::IAM::RolePolicy": ("PolicyDocument",),
    "AWS::IAM::UserPolicy": ("PolicyDocument",),
    "AWS::IAM::GroupPolicy": ("PolicyDocument",),
    "AWS::IAM::Role": ("Policies.PolicyDocument",),
    "AWS::IAM::User": ("Policies.PolicyDocument",),
    "AWS::IAM::Group": ("Policies.PolicyDocument",),
    "AWS::SSO::PermissionSet": ("InlinePolicy",),
})
BUCKET_TERRAFORM = MappingProxyType({"aws_s3_bucket_policy": ("policy",), "aws_s3_bucket": ("policy",)})
BUCKET_CLOUDFORMATION = MappingProxyType({"AWS::S3::BucketPolicy": ("PolicyDocument",)})
TRUST_TERRAFORM = MappingProxyType({"aws_iam_role": ("assume_role_policy",)})
TRUST_CLOUDFORMATION = MappingProxyType({"AWS::IAM::Role": ("AssumeRolePolicyDocument",)})
KEY_TERRAFORM = MappingProxyType({"aws_kms_key": ("policy",), "aws_kms_replica_key": ("policy",),
                                  "aws_kms_key_policy": ("policy",)})
KEY_CLOUDFORMATION = MappingProxyType({"AWS::KMS::Key": ("KeyPolicy",), "AWS::KMS::ReplicaKey": ("KeyPolicy",)})


@dataclass(frozen=True)
class Where:
    """The attributes holding one kind of document, per format."""

    terraform: Mapping[str, tuple[str, ...]]
    cloudformation: Mapping[str, tuple[str, ...]]


IDENTITY = Where(IDENTITY_TERRAFORM, IDENTITY_CLOUDFORMATION)
BUCKET = Where(BUCKET_TERRAFORM, BUCKET_CLOUDFORMATION)
TRUST = Where(TRUST_TERRAFORM, TRUST_CLOUDFORMATION)
KEY = Where(KEY_TERRAFORM, KEY_CLOUDFORMATION)


def judged(resource: Resource) -> bool:
    """Terraform: only resources it will create (not data sources, not `count = 0`)."""
    if resource.source == "terraform":
        return resource.kind == "resource" and isinstance(resource.body.value, dict) and resource.exists
    return resource.source == "cloudformation" and isinstance(resource.body.value, dict)


def _nodes(root: Node, path: str) -> Iterator[Node]:
    """The nodes at a dotted path; a list or repeated block on the way means each of its items."""
    head, _, rest = path.partition(".")
    node = root.get(head)
    if node is None:
        return
    if not rest:
        yield node
        return
    for item in node.children():
        yield from _nodes(item, rest)


def documents(resource: Resource, ctx: RuleContext, where: Where) -> Iterator[Located]:
    """Every readable document of the kind `where` names that the resource holds."""
    if not judged(resource):
        return
    if resource.source == "terraform":
        for path in where.terraform.get(resource.type, ()):
            for node in _nodes(resource.body, path):
                located = policy.terraform_document(resource, node, ctx)
                if located is not None:
                    yield located
    else:
        for path in where.cloudformation.get(resource.type, ()):
            for node in _nodes(policy.properties(resource), path):
                located = policy.cloudformation_document(resource, node, path.rsplit(".", 1)[-1])
                if located is not None:
                    yield located


def _actions_shown(statement: Statement) -> str:
    items = statement.actions or statement.not_actions or ()
    shown = [text(item) or str(item.value) for item in items[:3]]
    prefix = "every action but " if statement.not_actions and not statement.actions else ""
    return prefix + ", ".join(shown) + (", ..." if len(items) > 3 else "") if shown else "its actions"


# --------------------------------------------------------------------------------------------
# Resource policies open to anyone
# --------------------------------------------------------------------------------------------


def _open_statements(resource: Resource, ctx: RuleContext, where: Where, what: str) -> Iterator[Violation]:
    """Allow statements any principal matches, with no condition pinning the caller."""
    for located in documents(resource, ctx, where):
        for statement in located.document.statements:
            if not statement.allows:
                continue
            principal = policy.anyone(statement)
            if not isinstance(principal, Node) or policy.restricted(statement) is not False:
                continue
            who = "everyone but the NotPrincipal" if statement.not_principals else 'any principal ("*")'
            yield Violation(
                message=f"{what} lets {who} call {_actions_shown(statement)} with no condition restricting the "
                        f"caller (account, organisation, VPC or source){located.elsewhere(principal.line)}.",
                line=located.line(principal.line),
                key=statement.key,
            )


def s3_policy_open(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """A bucket policy must not allow any principal without a condition that pins the caller."""
    return _open_statements(resource, ctx, BUCKET, "Bucket policy")


def role_trust_open(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """A role's trust policy must not let any principal assume it."""
    return _open_statements(resource, ctx, TRUST, "Role trust policy")


def kms_policy_open(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """A KMS key policy must not allow any principal without a condition that pins the caller."""
    return _open_statements(resource, ctx, KEY, "Key policy")


# --------------------------------------------------------------------------------------------
# Bucket policies that accept plain HTTP
# --------------------------------------------------------------------------------------------


def _denies_plain_http(statement: Statement) -> bool | None:
    """Deny, to everyone, every S3 action, when aws:SecureTransport is false."""
    if statement.effect is None:
        return None
    if not statement.denies:
        return False
    everyone = policy.anyone(statement)
    actions = [text(a) for a in statement.actions or ()]
    if everyone is None or statement.actions is None or statement.conditions is None:
        return None
    if everyone is False or not any(a is not None and a.strip().lower() in ("*", "s3:*") for a in actions):
        return None if any(a is None for a in actions) else False
    for condition in statement.conditions:
        if condition.operator.strip().lower() in ("bool", "boolifexists") and \
                condition.key_text.lower() == "aws:securetransport":
            if condition.values is None:
                return None
            if [text(v) for v in condition.values] == ["false"]:
                return True
    return False


def _regulated_without_policy(resource: Resource, ctx: RuleContext) -> Iterator[Violation]:
    if resource.source == "terraform":
        tags, policy_type = resource.body.get("tags"), "aws_s3_bucket_policy"
    else:
        tags, policy_type = policy.properties(resource).get("Tags"), "AWS::S3::BucketPolicy"
    data_class = regulated_data_class(tags)
    if data_class is None:
        return
    if any(judged(other) for other in ctx.referrers(resource, policy_type)):
        return  # the bucket policy is judged itself
    yield Violation(
        message=f"Bucket holds {data_class} data but no bucket policy denies requests over plain HTTP "
                "(a Deny on aws:SecureTransport = false).",
        line=resource.line,
        key="no-policy",
    )


def s3_policy_without_tls(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """Bucket policies must deny plain-HTTP requests; a bucket tagged as holding regulated data
    must have such a policy."""
    if not judged(resource):
        return
    inline = resource.type == "aws_s3_bucket" and resource.body.get("policy") is not None  # provider v3
    if resource.type in ("aws_s3_bucket", "AWS::S3::Bucket") and not inline:
        yield from _regulated_without_policy(resource, ctx)
        return
    for located in documents(resource, ctx, BUCKET):
        document = located.document
        verdicts = [_denies_plain_http(s) for s in document.statements]
        if not document.complete or any(v is not False for v in verdicts):
            continue
        yield Violation(
            message="Bucket policy does not deny requests over plain HTTP (no Deny of s3:* to \"*\" when "
                    "aws:SecureTransport is false); without it, clients may read and write data unencrypted.",
            line=located.fallback,
            key="secure-transport",
        )


# --------------------------------------------------------------------------------------------
# Identity policies: service-wide wildcards, privilege escalation
# --------------------------------------------------------------------------------------------

_SERVICE_WILDCARD = re.compile(r"[A-Za-z0-9-]+:\*+")


def _identity_statements(resource: Resource, ctx: RuleContext) -> Iterator[tuple[Located, Statement]]:
    """Allow statements of identity policies (a statement naming principals is a resource
    policy's and not judged here)."""
    for located in documents(resource, ctx, IDENTITY):
        for statement in located.document.statements:
            if statement.allows and statement.principals == () and statement.not_principals == ():
                yield located, statement


def _is_admin(statement: Statement) -> bool:
    """`*` (or `*:*`) on every resource: CB-AWS-022's finding, not repeated here."""
    return policy.on_every_resource(statement) is True and any(
        (text(a) or "").strip() in ("*", "*:*") for a in statement.actions or ())


def iam_service_wildcard(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """Identity policies must not grant a whole service (`s3:*`, `iam:*`), or every action but
    a few (NotAction), on every resource."""
    for located, statement in _identity_statements(resource, ctx):
        if policy.on_every_resource(statement) is not True or _is_admin(statement):
            continue
        if statement.not_actions and statement.actions == ():
            shown = ", ".join(text(a) or "?" for a in statement.not_actions[:3])
            yield Violation(
                message=f"Policy allows every action except {shown} (NotAction) on every resource, including "
                        f"services added later{located.elsewhere(statement.not_actions[0].line)}.",
                line=located.line(statement.not_actions[0].line),
                key=f"{statement.key}:not-action",
            )
        for action in statement.actions or ():
            name = text(action)
            if name is not None and _SERVICE_WILDCARD.fullmatch(name.strip()):
                yield Violation(
                    message=f"Policy allows every {name.split(':')[0]} action ({name.strip()}) on every "
                            f"resource{located.elsewhere(action.line)}.",
                    line=located.line(action.line),
                    key=f"{statement.key}:{name.strip().lower()}",
                )


# Escalation paths: each a set of actions that, granted together on any resource, let the holder
# give themselves more permissions (after Rhino Security Labs' catalogue).
ESCALATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("create a new default version of any policy", ("iam:CreatePolicyVersion",)),
    ("switch any policy to another version", ("iam:SetDefaultPolicyVersion",)),
    ("create access keys for other users", ("iam:CreateAccessKey",)),
    ("set a console password for other users", ("iam:CreateLoginProfile",)),
    ("change other users' console passwords", ("iam:UpdateLoginProfile",)),
    ("attach any managed policy to a user", ("iam:AttachUserPolicy",)),
    ("attach any managed policy to a group", ("iam:AttachGroupPolicy",)),
    ("attach any managed policy to a role", ("iam:AttachRolePolicy",)),
    ("write inline policies on users", ("iam:PutUserPolicy",)),
    ("write inline policies on groups", ("iam:PutGroupPolicy",)),
    ("write inline policies on roles", ("iam:PutRolePolicy",)),
    ("add users to any group", ("iam:AddUserToGroup",)),
    ("rewrite who may assume a role", ("iam:UpdateAssumeRolePolicy",)),
    ("launch an instance with any role", ("iam:PassRole", "ec2:RunInstances")),
    ("create a Lambda function with any role", ("iam:PassRole", "lambda:CreateFunction")),
    ("create a Glue endpoint with any role", ("iam:PassRole", "glue:CreateDevEndpoint")),
    ("create a CloudFormation stack with any role", ("iam:PassRole", "cloudformation:CreateStack")),
    ("create a data pipeline with any role", ("iam:PassRole", "datapipeline:CreatePipeline")),
    ("create a CodeBuild project with any role", ("iam:PassRole", "codebuild:CreateProject")),
    ("create a SageMaker notebook with any role", ("iam:PassRole", "sagemaker:CreateNotebookInstance")),
    ("replace the code of functions that run with other roles", ("lambda:UpdateFunctionCode",)),
    ("take over Glue endpoints that run with other roles", ("glue:UpdateDevEndpoint",)),
)
_BROAD_IAM_RESOURCE = re.compile(r"arn:[\w-]*:iam::[^:]*:(?:\*|(?:user|role|group|policy)/\*)", re.IGNORECASE)


def _unconditional_scope(statement: Statement, action: str) -> bool:
    """The statement grants `action` on every resource it could name: any resource for the
    service actions of a path, every user/role/group/policy for IAM actions; and no condition."""
    if statement.conditions != () or statement.resources is None or statement.not_resources is None:
        return False
    if not action.lower().startswith("iam:") or statement.not_resources:
        return True
    return any(v is not None and (v.strip() == "*" or _BROAD_IAM_RESOURCE.fullmatch(v.strip()))
               for v in (text(r) for r in statement.resources))


def iam_privilege_escalation(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """Identity policies must not grant action combinations that escalate privileges."""
    granted: dict[str, tuple[Located, Node]] = {}
    for located, statement in _identity_statements(resource, ctx):
        if _is_admin(statement):
            continue
        for action in {a for _, actions in ESCALATIONS for a in actions}:
            if action in granted or not _unconditional_scope(statement, action):
                continue
            node = policy.grants(statement, action)
            if isinstance(node, Node):
                granted[action] = (located, node)
    paths: dict[tuple[int, str], list[str]] = {}
    where: dict[tuple[int, str], tuple[Located, Node]] = {}
    for description, actions in ESCALATIONS:
        if all(a in granted for a in actions):
            located, node = granted[actions[0]]
            spot = (located.line(node.line), str(node.value))
            paths.setdefault(spot, []).append(f"{' + '.join(actions)} ({description})")
            where[spot] = (located, node)
    for spot, found in paths.items():
        located, node = where[spot]
        shown = "; ".join(found[:3]) + (f"; and {len(found) - 3} more" if len(found) > 3 else "")
        yield Violation(
            message=f"Policy allows privilege escalation: {shown}{located.elsewhere(node.line)}.",
            line=spot[0],
            key=f"escalation:{spot[1].lower()}",
        )


def _admin_violations(located: Located) -> Iterator[Violation]:
    for statement in located.document.statements:
        if not statement.allows or statement.principals != () or statement.not_principals != ():
            continue
        if not _is_admin(statement):
            continue
        action = next(a for a in statement.actions or () if (text(a) or "").strip() in ("*", "*:*"))
        yield Violation(
            message='Policy statement allows every action ("*") on every resource ("*").',
            line=located.line(action.line),
            key=statement.key,
        )


def iam_admin(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """IAM policies must not grant full administrative access ("*" on "*"). A Terraform
    `data "aws_iam_policy_document"` is judged where it is written, whoever uses it."""
    if resource.source == "terraform" and resource.kind == "data":
        if resource.type == policy.DOCUMENT_TYPE and resource.exists:
            yield from _admin_violations(Located(policy.data_document(resource), resource, resource, resource.line))
        return
    for located in documents(resource, ctx, IDENTITY):
        if located.home is resource:
            yield from _admin_violations(located)


# --------------------------------------------------------------------------------------------
# AdministratorAccess attached
# --------------------------------------------------------------------------------------------

_ADMIN_ARN = re.compile(r"arn:(?:aws[\w-]*|\$\{[^}]+\}):iam::aws:policy/AdministratorAccess", re.IGNORECASE)
_POLICY_DATA = re.compile(r"\bdata\.aws_iam_policy\.([\w-]+)\.arn\b")
ADMIN_ATTACHMENTS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "aws_iam_role_policy_attachment": ("policy_arn",),
    "aws_iam_user_policy_attachment": ("policy_arn",),
    "aws_iam_group_policy_attachment": ("policy_arn",),
    "aws_iam_policy_attachment": ("policy_arn",),
    "aws_iam_role": ("managed_policy_arns",),
    "aws_iam_role_policy_attachments_exclusive": ("policy_arns",),
    "aws_ssoadmin_managed_policy_attachment": ("managed_policy_arn",),
    "AWS::IAM::Role": ("ManagedPolicyArns",),
    "AWS::IAM::User": ("ManagedPolicyArns",),
    "AWS::IAM::Group": ("ManagedPolicyArns",),
    "AWS::SSO::PermissionSet": ("ManagedPolicies",),
})


def _names_admin_policy(resource: Resource, ctx: RuleContext, node: Node) -> bool:
    written = policy.template(node)
    if written is not None:
        return _ADMIN_ARN.fullmatch(written.strip()) is not None
    if resource.source != "terraform" or not isinstance(node.value, Unknown):
        return False
    reference = _POLICY_DATA.search(node.value.expression)
    if reference is None:
        return False
    for other in siblings_at(ctx, resource, f"data.aws_iam_policy.{reference.group(1)}"):
        if other.kind == "data":
            name, arn = text(other.body.get("name")), policy.template(other.body.get("arn"))
            return name == "AdministratorAccess" or (arn is not None and _ADMIN_ARN.fullmatch(arn) is not None)
    return False


def iam_admin_managed_policy(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """The AWS managed AdministratorAccess policy must not be attached to users, groups, roles
    or permission sets."""
    if not judged(resource):
        return
    root = resource.body if resource.source == "terraform" else policy.properties(resource)
    for name in ADMIN_ATTACHMENTS.get(resource.type, ()):
        node = root.get(name)
        items = node.children() if node is not None and isinstance(node.value, list) else [node] if node else []
        for item in items:
            if _names_admin_policy(resource, ctx, item):
                yield Violation(
                    message="The AWS managed AdministratorAccess policy is attached: full access to every "
                            "service and resource of the account.",
                    line=item.line,
                    key=f"{name}:{item.line - resource.line}",
                )


# --------------------------------------------------------------------------------------------
# GitHub Actions OIDC trust
# --------------------------------------------------------------------------------------------

GITHUB_HOST = "token.actions.githubusercontent.com"
_PROVIDER_REFERENCE = re.compile(r"\b((?:data\.)?aws_iam_openid_connect_provider\.[\w-]+)")
_LIKE = re.compile(r"(?:For(?:Any|All)Value:)?StringLike(?:IfExists)?", re.IGNORECASE)
_EQUALS = re.compile(r"(?:For(?:Any|All)Value:)?StringEquals(?:IgnoreCase)?(?:IfExists)?", re.IGNORECASE)
_REPOSITORY_CLAIMS = (":sub", ":repository", ":repository_id", ":job_workflow_ref")


def _github_principal(resource: Resource, ctx: RuleContext, statement: Statement) -> Node | None:
    for principal in statement.principals or ():
        if principal.kind.lower() != "federated":
            continue
        written = policy.template(principal.value)
        if written is not None and GITHUB_HOST in written.lower():
            return principal.value
        if resource.source == "terraform" and isinstance(principal.value.value, Unknown):
            reference = _PROVIDER_REFERENCE.search(principal.value.value.expression)
            provider = next(iter(siblings_at(ctx, resource, reference.group(1)) if reference else ()), None)
            url = policy.template(provider.body.get("url")) if provider is not None else None
            if url is not None and GITHUB_HOST in url.lower():
                return principal.value
    return None


def _broad_repository(value: str) -> bool:
    """`*`, `repo:*`, `repo:org/*`, `repo:org/app-*:...`: more than one repository matches."""
    stripped = value.strip()
    if re.fullmatch(r"[*?]+", stripped):
        return True
    if not stripped.lower().startswith("repo:"):
        return False
    repository = stripped[len("repo:"):].split(":", 1)[0]
    owner, _, name = repository.partition("/")
    return any(c in owner + name for c in "*?") or not name


# Claims any repository's owner sets to a value of their choosing (a custom subject template may
# start with them, and a workflow name may hold colons): a `sub` that starts with one of them can
# be presented by a workflow of another owner.
_SETTABLE_CLAIMS = frozenset({"workflow", "environment", "ref", "context", "head_ref", "base_ref", "job_workflow_ref",
                              "actor", "actor_id", "event_name", "ref_type", "runner_environment",
                              "repository_visibility"})


def _forgeable_sub(value: str) -> str | None:
    """The first claim of a `sub` value when any repository can produce it (`workflow:...`)."""
    first = value.strip().split(":", 1)[0].lower()
    return first if first in _SETTABLE_CLAIMS else None


def _broad_value(claim: policy.Condition, value: Node) -> bool:
    written = text(value) or ""
    if _LIKE.fullmatch(claim.operator.strip()) and _broad_repository(written):
        return True
    return claim.key_text.lower().rstrip('"}').endswith(":sub") and _forgeable_sub(written) is not None


def github_oidc_trust_broad(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """A role trusting GitHub's OIDC provider must be limited to one repository by a `sub`
    condition (no condition, or `repo:*`/`repo:org/*`, lets other repositories assume it)."""
    for located in documents(resource, ctx, TRUST):
        for statement in located.document.statements:
            if not statement.allows or statement.conditions is None:
                continue
            principal = _github_principal(resource, ctx, statement)
            if principal is None:
                continue
            claims = [c for c in statement.conditions
                      if any(c.key_text.lower().rstrip('"}').endswith(k) for k in _REPOSITORY_CLAIMS)
                      and (_LIKE.fullmatch(c.operator.strip()) or _EQUALS.fullmatch(c.operator.strip()))]
            if not claims:
                if any(isinstance(c.key.value, Unknown) for c in statement.conditions):
                    continue
                yield Violation(
                    message="Role trusts GitHub Actions OIDC tokens with no `sub` condition: a workflow in any "
                            f"GitHub repository can assume it{located.elsewhere(principal.line)}.",
                    line=located.line(principal.line),
                    key=statement.key,
                )
                continue
            yield from _broad_claims(located, statement, claims)


def _broad_claims(located: Located, statement: Statement, claims: list[policy.Condition]) -> Iterator[Violation]:
    if any(c.values is None for c in claims):
        return
    narrow = [c for c in claims if not any(_broad_value(c, v) for v in c.values or ())]
    if narrow:
        return  # another condition pins the repository (conditions are ANDed)
    for claim in claims:
        for value in claim.values or ():
            written = text(value) or ""
            if not _broad_value(claim, value):
                continue
            first = _forgeable_sub(written)
            why = (f"it starts with the `{first}` claim, which any repository sets as it likes (a custom subject "
                   "template), so workflows of other owners can present it" if first is not None and not (
                       _LIKE.fullmatch(claim.operator.strip()) and _broad_repository(written))
                   else "workflows of more than one repository can assume it")
            yield Violation(
                message=f"Role trusts GitHub Actions OIDC tokens for `{written}`: {why}"
                        f"{located.elsewhere(value.line)}.",
                line=located.line(value.line),
                key=f"{statement.key}:{written}",
            )
