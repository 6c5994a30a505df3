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
from rules import dockerfile, github_actions, kubernetes, terraform_aws
from rules.checks import (
    aws_data,
    aws_exposure,
    aws_iam,
    aws_links,
    aws_network,
    aws_params,
    aws_secrets,
    azure_encryption,
    azure_endpoints,
    azure_nsg,
    azure_sql,
    gcp_firewall,
    gcp_kms,
    gcp_public,
    gcp_sql,
    kubernetes_rbac,
    kubernetes_workloads,
)

# Append entries as `"name": function,` (one a line, sorted by name, to keep merges easy).
FUNCTIONS: Mapping[str, CheckFn] = MappingProxyType({
    "aws_db_parameter_group_requires_tls": aws_params.db_parameter_group_requires_tls,
    "aws_default_security_group_open": aws_network.default_security_group_open,
    "aws_ebs_instance_volumes_encrypted": terraform_aws.instance_volumes_encrypted,
    "aws_eks_cluster_logging_types": aws_params.eks_cluster_logging_types,
    "aws_elbv2_access_logs_attribute": aws_params.elbv2_access_logs_attribute,
    "aws_github_oidc_trust_broad": aws_iam.github_oidc_trust_broad,
    "aws_http_listener_plaintext": terraform_aws.http_listener_serves_plaintext,
    "aws_iam_admin_managed_policy": aws_iam.iam_admin_managed_policy,
    "aws_iam_admin_policy": aws_iam.iam_admin,
    "aws_iam_privilege_escalation": aws_iam.iam_privilege_escalation,
    "aws_iam_service_wildcard": aws_iam.iam_service_wildcard,
    "aws_imdsv1_allowed": terraform_aws.imdsv1_allowed,
    "aws_kms_policy_open": aws_iam.kms_policy_open,
    "aws_lambda_environment_secrets": aws_secrets.lambda_environment_secrets,
    "aws_log_delivery_source_for": aws_links.log_delivery_source_for,
    "aws_nacl_admin_open": aws_network.nacl_admin_open,
    "aws_provider_credentials": aws_secrets.provider_credentials,
    "aws_role_trust_open": aws_iam.role_trust_open,
    "aws_s3_bucket_access_logging": aws_links.s3_bucket_access_logging,
    "aws_s3_policy_open": aws_iam.s3_policy_open,
    "aws_s3_policy_without_tls": aws_iam.s3_policy_without_tls,
    "aws_s3_public_access_block_off": terraform_aws.public_access_block_off,
    "aws_s3_public_acl": terraform_aws.s3_public_acl,
    "aws_s3_regulated_bucket_without_kms": terraform_aws.regulated_bucket_without_kms,
    "aws_search_not_encrypted_at_rest": terraform_aws.search_not_encrypted_at_rest,
    "aws_search_traffic_not_encrypted": terraform_aws.search_traffic_not_encrypted,
    "aws_secret_has_rotation": aws_links.secret_has_rotation,
    "aws_security_group_admin_ports_open": aws_exposure.admin_ports_open,
    "aws_security_group_database_ports_open": aws_exposure.database_ports_open,
    "aws_tags_mark_no_regulated_data": aws_data.tags_mark_no_regulated_data,
    "aws_user_data_secrets": aws_secrets.user_data_secrets,
    "aws_vpc_has_flow_log": aws_links.vpc_has_flow_log,
    "azure_aks_api_server_restricted": azure_endpoints.check_aks_api_server,
    "azure_cosmosdb_network_restricted": azure_endpoints.check_cosmosdb_network,
    "azure_mssql_server_auditing": azure_sql.check_server_auditing,
    "azure_nsg_database_from_internet": azure_nsg.check_database,
    "azure_nsg_rdp_from_internet": azure_nsg.check_rdp,
    "azure_nsg_ssh_from_internet": azure_nsg.check_ssh,
    "azure_nsg_udp_from_internet": azure_nsg.check_udp,
    "azure_regulated_data_cmk": azure_encryption.check_regulated_cmk,
    "docker_add_remote": dockerfile.check_add_remote,
    "docker_baked_secret": dockerfile.check_baked_secrets,
    "docker_base_image_unpinned": dockerfile.check_base_image,
    "docker_download_to_shell": dockerfile.check_download_to_shell,
    "docker_exposes_ssh": dockerfile.check_expose_ssh,
    "docker_runs_as_root": dockerfile.check_root_user,
    "docker_sudo": dockerfile.check_sudo,
    "gcp_firewall_admin_ports": gcp_firewall.admin_ports_open,
    "gcp_firewall_database_ports": gcp_firewall.database_ports_open,
    "gcp_kms_rotation_period": gcp_kms.kms_rotation_period,
    "gcp_mysql_local_infile": gcp_sql.mysql_local_infile,
    "gcp_postgres_log_connections": gcp_sql.postgres_log_connections,
    "gcp_postgres_log_disconnections": gcp_sql.postgres_log_disconnections,
    "gcp_postgres_log_min_duration_statement": gcp_sql.postgres_log_min_duration_statement,
    "gcp_postgres_pgaudit": gcp_sql.postgres_pgaudit,
    "gcp_public_bigquery_access": gcp_public.public_bigquery_access,
    "gcp_public_iam_grants": gcp_public.public_iam_grants,
    "gcp_public_storage_acl": gcp_public.public_storage_acl,
    "gcp_sqlserver_contained_database_authentication": gcp_sql.sqlserver_contained_database_authentication,
    "gcp_sqlserver_cross_db_ownership_chaining": gcp_sql.sqlserver_cross_db_ownership_chaining,
    "gha_default_permissions": github_actions.check_default_permissions,
    "gha_download_to_shell": github_actions.check_download_to_shell,
    "gha_pwn_request": github_actions.check_pwn_request,
    "gha_script_injection": github_actions.check_script_injection,
    "gha_secret_printed": github_actions.check_printed_secrets,
    "gha_unpinned_action": github_actions.check_unpinned,
    "gha_unsecure_commands": github_actions.check_unsecure_commands,
    "gha_write_all_permissions": github_actions.check_write_all,
    "k8s_adds_dangerous_capabilities": kubernetes.check_capabilities,
    "k8s_env_literal_secret": kubernetes_workloads.check_env_literal_secret,
    "k8s_rbac_csr_approval": kubernetes_rbac.check_rbac_csr_approval,
    "k8s_rbac_escalation": kubernetes_rbac.check_rbac_escalation,
    "k8s_rbac_node_proxy": kubernetes_rbac.check_rbac_node_proxy,
    "k8s_rbac_pv_create": kubernetes_rbac.check_rbac_pv_create,
    "k8s_rbac_secret_read": kubernetes_rbac.check_rbac_secret_read,
    "k8s_rbac_token_create": kubernetes_rbac.check_rbac_token_create,
    "k8s_rbac_webhooks": kubernetes_rbac.check_rbac_webhooks,
    "k8s_runs_as_root": kubernetes.check_root,
    "k8s_seccomp_profile": kubernetes_workloads.check_seccomp,
    "k8s_sensitive_host_path": kubernetes.check_host_path,
    "k8s_token_automount": kubernetes_workloads.check_token_automount,
})
