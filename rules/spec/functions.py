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

import importlib
from collections.abc import Iterator, Mapping
from types import MappingProxyType

from bot.engine.rule import CheckFn


class Registered(Mapping[str, CheckFn]):
    """The table's functions by name, each module imported when a check first asks for one of
    its functions: a review of a Dockerfile never imports the IAM policy checks. Imported all at
    once they cost some 30 ms of every process start, most of a small change's check."""

    def __init__(self, table: Mapping[str, str]) -> None:
        self._table = MappingProxyType(dict(table))  # name -> "module:function"
        self._loaded: dict[str, CheckFn] = {}

    def __getitem__(self, name: str) -> CheckFn:
        found = self._loaded.get(name)
        if found is None:
            module, function = self._table[name].split(":")  # a KeyError for a name not registered
            found = getattr(importlib.import_module(module), function)
            self._loaded[name] = found
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    def load_all(self) -> None:
        """Import every registered check now (a server's start-up, before it forks its workers)."""
        for name in self._table:
            self[name]


# Append entries as `"name": "module:function",` (one a line, sorted by name, to keep merges easy).
FUNCTIONS = Registered({
    "aws_db_parameter_group_requires_tls": "rules.checks.aws_params:db_parameter_group_requires_tls",
    "aws_default_security_group_open": "rules.checks.aws_network:default_security_group_open",
    "aws_ebs_instance_volumes_encrypted": "rules.terraform_aws:instance_volumes_encrypted",
    "aws_eks_cluster_logging_types": "rules.checks.aws_params:eks_cluster_logging_types",
    "aws_github_oidc_trust_broad": "rules.checks.aws_iam:github_oidc_trust_broad",
    "aws_http_listener_plaintext": "rules.terraform_aws:http_listener_serves_plaintext",
    "aws_iam_admin_managed_policy": "rules.checks.aws_iam:iam_admin_managed_policy",
    "aws_iam_admin_policy": "rules.checks.aws_iam:iam_admin",
    "aws_iam_privilege_escalation": "rules.checks.aws_iam:iam_privilege_escalation",
    "aws_iam_service_wildcard": "rules.checks.aws_iam:iam_service_wildcard",
    "aws_imdsv1_allowed": "rules.terraform_aws:imdsv1_allowed",
    "aws_kms_policy_open": "rules.checks.aws_iam:kms_policy_open",
    "aws_lambda_environment_secrets": "rules.checks.aws_secrets:lambda_environment_secrets",
    "aws_nacl_admin_open": "rules.checks.aws_network:nacl_admin_open",
    "aws_provider_credentials": "rules.checks.aws_secrets:provider_credentials",
    "aws_role_trust_open": "rules.checks.aws_iam:role_trust_open",
    "aws_s3_bucket_access_logging": "rules.checks.aws_links:s3_bucket_access_logging",
    "aws_s3_policy_open": "rules.checks.aws_iam:s3_policy_open",
    "aws_s3_policy_without_tls": "rules.checks.aws_iam:s3_policy_without_tls",
    "aws_s3_public_access_block_off": "rules.terraform_aws:public_access_block_off",
    "aws_s3_public_acl": "rules.terraform_aws:s3_public_acl",
    "aws_s3_regulated_bucket_without_kms": "rules.terraform_aws:regulated_bucket_without_kms",
    "aws_search_not_encrypted_at_rest": "rules.terraform_aws:search_not_encrypted_at_rest",
    "aws_search_traffic_not_encrypted": "rules.terraform_aws:search_traffic_not_encrypted",
    "aws_security_group_admin_ports_open": "rules.checks.aws_exposure:admin_ports_open",
    "aws_security_group_database_ports_open": "rules.checks.aws_exposure:database_ports_open",
    "aws_tags_mark_no_regulated_data": "rules.checks.aws_data:tags_mark_no_regulated_data",
    "aws_user_data_secrets": "rules.checks.aws_secrets:user_data_secrets",
    "azure_aks_api_server_restricted": "rules.checks.azure_endpoints:check_aks_api_server",
    "azure_regulated_data_cmk": "rules.checks.azure_encryption:check_regulated_cmk",
    "docker_add_remote": "rules.dockerfile:check_add_remote",
    "docker_baked_secret": "rules.dockerfile:check_baked_secrets",
    "docker_base_image_unpinned": "rules.dockerfile:check_base_image",
    "docker_download_to_shell": "rules.dockerfile:check_download_to_shell",
    "docker_exposes_ssh": "rules.dockerfile:check_expose_ssh",
    "docker_runs_as_root": "rules.dockerfile:check_root_user",
    "docker_sudo": "rules.dockerfile:check_sudo",
    "gcp_firewall_admin_ports": "rules.checks.gcp_firewall:admin_ports_open",
    "gcp_firewall_database_ports": "rules.checks.gcp_firewall:database_ports_open",
    "gcp_kms_rotation_period": "rules.checks.gcp_kms:kms_rotation_period",
    "gcp_public_bigquery_access": "rules.checks.gcp_public:public_bigquery_access",
    "gcp_public_iam_grants": "rules.checks.gcp_public:public_iam_grants",
    "gcp_public_storage_acl": "rules.checks.gcp_public:public_storage_acl",
    "gha_default_permissions": "rules.github_actions:check_default_permissions",
    "gha_download_to_shell": "rules.github_actions:check_download_to_shell",
    "gha_pwn_request": "rules.github_actions:check_pwn_request",
    "gha_script_injection": "rules.github_actions:check_script_injection",
    "gha_secret_printed": "rules.github_actions:check_printed_secrets",
    "gha_unpinned_action": "rules.github_actions:check_unpinned",
    "gha_unsecure_commands": "rules.github_actions:check_unsecure_commands",
    "gha_write_all_permissions": "rules.github_actions:check_write_all",
    "k8s_adds_dangerous_capabilities": "rules.kubernetes:check_capabilities",
    "k8s_env_literal_secret": "rules.checks.kubernetes_workloads:check_env_literal_secret",
    "k8s_rbac_csr_approval": "rules.checks.kubernetes_rbac:check_rbac_csr_approval",
    "k8s_rbac_escalation": "rules.checks.kubernetes_rbac:check_rbac_escalation",
    "k8s_rbac_node_proxy": "rules.checks.kubernetes_rbac:check_rbac_node_proxy",
    "k8s_rbac_pv_create": "rules.checks.kubernetes_rbac:check_rbac_pv_create",
    "k8s_rbac_secret_read": "rules.checks.kubernetes_rbac:check_rbac_secret_read",
    "k8s_rbac_token_create": "rules.checks.kubernetes_rbac:check_rbac_token_create",
    "k8s_rbac_webhooks": "rules.checks.kubernetes_rbac:check_rbac_webhooks",
    "k8s_runs_as_root": "rules.kubernetes:check_root",
    "k8s_sensitive_host_path": "rules.kubernetes:check_host_path",
    "k8s_token_automount": "rules.checks.kubernetes_workloads:check_token_automount",
    "reg_backups_shortened": "rules.regressions:backups_shortened",
    "reg_deletion_protection_off": "rules.regressions:deletion_protection_off",
    "reg_encryption_weakened": "rules.regressions:encryption_weakened",
    "reg_ingress_widened": "rules.regressions:ingress_widened",
    "reg_log_retention_shortened": "rules.regressions:log_retention_shortened",
    "reg_logging_narrowed": "rules.regressions:logging_narrowed",
    "reg_made_public": "rules.regressions:made_public",
    "reg_public_access_guard_off": "rules.regressions:public_access_guard_off",
    "reg_rotation_weakened": "rules.regressions:rotation_weakened",
    "reg_tls_lowered": "rules.regressions:tls_lowered",
    "reg_versioning_suspended": "rules.regressions:versioning_suspended",
    "secret_assigned_secret": "rules.plaintext_secrets:check_assigned_secret",
    "secret_aws_access_key_id": "rules.plaintext_secrets:check_aws_access_key_id",
    "secret_aws_secret_access_key": "rules.plaintext_secrets:check_aws_secret_access_key",
    "secret_azure_account_key": "rules.plaintext_secrets:check_azure_account_key",
    "secret_github_token": "rules.plaintext_secrets:check_github_token",
    "secret_google_api_key": "rules.plaintext_secrets:check_google_api_key",
    "secret_jwt": "rules.plaintext_secrets:check_jwt",
    "secret_mailgun": "rules.plaintext_secrets:check_mailgun",
    "secret_npm_token": "rules.plaintext_secrets:check_npm_token",
    "secret_private_key": "rules.plaintext_secrets:check_private_key",
    "secret_pypi_token": "rules.plaintext_secrets:check_pypi_token",
    "secret_sendgrid": "rules.plaintext_secrets:check_sendgrid",
    "secret_slack": "rules.plaintext_secrets:check_slack",
    "secret_stripe_live_key": "rules.plaintext_secrets:check_stripe_live_key",
    "secret_teams_webhook": "rules.plaintext_secrets:check_teams_webhook",
    "secret_twilio": "rules.plaintext_secrets:check_twilio",
    "secret_url_credentials": "rules.plaintext_secrets:check_url_credentials",
})
