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
from rules.checks import aws_data, aws_links, aws_params, kubernetes_rbac, kubernetes_workloads

# Append entries as `"name": function,` (one a line, sorted by name, to keep merges easy).
FUNCTIONS: Mapping[str, CheckFn] = MappingProxyType({
    "aws_db_parameter_group_requires_tls": aws_params.db_parameter_group_requires_tls,
    "aws_eks_cluster_logging_types": aws_params.eks_cluster_logging_types,
    "aws_elbv2_access_logs_attribute": aws_params.elbv2_access_logs_attribute,
    "aws_log_delivery_source_for": aws_links.log_delivery_source_for,
    "aws_s3_bucket_access_logging": aws_links.s3_bucket_access_logging,
    "aws_secret_has_rotation": aws_links.secret_has_rotation,
    "aws_tags_mark_no_regulated_data": aws_data.tags_mark_no_regulated_data,
    "aws_vpc_has_flow_log": aws_links.vpc_has_flow_log,
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
