"""The explicit table of Python checks a spec may name with `python: <name>`.

A check that is more than a few attribute comparisons (IAM policy documents, reachability,
workflow injection, secrets) stays a Python function; listing it here by name is what makes it
available to specs, so a spec can never reach code nobody registered. A name a spec uses that is
not in this table is a validation error.

Each function is a `CheckFn`: (resource, context) -> violations. As a condition it holds when it
returns none, fails when it returns a violation that is not undecided (its violations are
reported as they are), and is unknown when it only returns undecided ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from bot.engine.rule import CheckFn
from rules.checks import aws_iam, aws_network, aws_secrets, kubernetes_rbac, kubernetes_workloads

# Append entries as `"name": function,` (one a line, sorted by name, to keep merges easy).
FUNCTIONS: Mapping[str, CheckFn] = MappingProxyType({
    "aws_default_security_group_open": aws_network.default_security_group_open,
    "aws_github_oidc_trust_broad": aws_iam.github_oidc_trust_broad,
    "aws_iam_admin_managed_policy": aws_iam.iam_admin_managed_policy,
    "aws_iam_privilege_escalation": aws_iam.iam_privilege_escalation,
    "aws_iam_service_wildcard": aws_iam.iam_service_wildcard,
    "aws_kms_policy_open": aws_iam.kms_policy_open,
    "aws_lambda_environment_secrets": aws_secrets.lambda_environment_secrets,
    "aws_nacl_admin_open": aws_network.nacl_admin_open,
    "aws_role_trust_open": aws_iam.role_trust_open,
    "aws_s3_policy_open": aws_iam.s3_policy_open,
    "aws_s3_policy_without_tls": aws_iam.s3_policy_without_tls,
    "aws_user_data_secrets": aws_secrets.user_data_secrets,
    "k8s_env_literal_secret": kubernetes_workloads.check_env_literal_secret,
    "k8s_rbac_csr_approval": kubernetes_rbac.check_rbac_csr_approval,
    "k8s_rbac_escalation": kubernetes_rbac.check_rbac_escalation,
    "k8s_rbac_node_proxy": kubernetes_rbac.check_rbac_node_proxy,
    "k8s_rbac_pv_create": kubernetes_rbac.check_rbac_pv_create,
    "k8s_rbac_secret_read": kubernetes_rbac.check_rbac_secret_read,
    "k8s_rbac_token_create": kubernetes_rbac.check_rbac_token_create,
    "k8s_rbac_webhooks": kubernetes_rbac.check_rbac_webhooks,
    "k8s_seccomp_profile": kubernetes_workloads.check_seccomp,
    "k8s_token_automount": kubernetes_workloads.check_token_automount,
})
