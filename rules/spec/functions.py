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
from rules.checks import (
    aws_data,
    aws_iam,
    aws_links,
    aws_network,
    aws_params,
    aws_secrets,
    azure_encryption,
    azure_endpoints,
    gcp_firewall,
    gcp_kms,
    gcp_public,
    kubernetes_rbac,
    kubernetes_workloads,
)

# Append entries as `"name": function,` (one a line, sorted by name, to keep merges easy).
FUNCTIONS: Mapping[str, CheckFn] = MappingProxyType({
    "aws_db_parameter_group_requires_tls": aws_params.db_parameter_group_requires_tls,
    "aws_default_security_group_open": aws_network.default_security_group_open,
    "aws_eks_cluster_logging_types": aws_params.eks_cluster_logging_types,
    "aws_github_oidc_trust_broad": aws_iam.github_oidc_trust_broad,
    "aws_iam_admin_managed_policy": aws_iam.iam_admin_managed_policy,
    "aws_iam_privilege_escalation": aws_iam.iam_privilege_escalation,
    "aws_iam_service_wildcard": aws_iam.iam_service_wildcard,
    "aws_kms_policy_open": aws_iam.kms_policy_open,
    "aws_lambda_environment_secrets": aws_secrets.lambda_environment_secrets,
    "aws_nacl_admin_open": aws_network.nacl_admin_open,
    "aws_role_trust_open": aws_iam.role_trust_open,
    "aws_s3_bucket_access_logging": aws_links.s3_bucket_access_logging,
    "aws_s3_policy_open": aws_iam.s3_policy_open,
    "aws_s3_policy_without_tls": aws_iam.s3_policy_without_tls,
    "aws_tags_mark_no_regulated_data": aws_data.tags_mark_no_regulated_data,
    "aws_user_data_secrets": aws_secrets.user_data_secrets,
    "azure_aks_api_server_restricted": azure_endpoints.check_aks_api_server,
    "azure_regulated_data_cmk": azure_encryption.check_regulated_cmk,
    "gcp_firewall_admin_ports": gcp_firewall.admin_ports_open,
    "gcp_firewall_database_ports": gcp_firewall.database_ports_open,
    "gcp_kms_rotation_period": gcp_kms.kms_rotation_period,
    "gcp_public_bigquery_access": gcp_public.public_bigquery_access,
    "gcp_public_iam_grants": gcp_public.public_iam_grants,
    "gcp_public_storage_acl": gcp_public.public_storage_acl,
    "k8s_env_literal_secret": kubernetes_workloads.check_env_literal_secret,
    "k8s_rbac_csr_approval": kubernetes_rbac.check_rbac_csr_approval,
    "k8s_rbac_escalation": kubernetes_rbac.check_rbac_escalation,
    "k8s_rbac_node_proxy": kubernetes_rbac.check_rbac_node_proxy,
    "k8s_rbac_pv_create": kubernetes_rbac.check_rbac_pv_create,
    "k8s_rbac_secret_read": kubernetes_rbac.check_rbac_secret_read,
    "k8s_rbac_token_create": kubernetes_rbac.check_rbac_token_create,
    "k8s_rbac_webhooks": kubernetes_rbac.check_rbac_webhooks,
    "k8s_token_automount": kubernetes_workloads.check_token_automount,
})
