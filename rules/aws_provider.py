"""Terraform provider configuration rules. A `provider` block is not a resource a spec binding
can name (specs judge only `resource` blocks), so this rule stays a Python `Rule`."""

from __future__ import annotations

from types import MappingProxyType

from bot.engine.model import Severity
from bot.engine.rule import Rule
from rules.checks.aws_secrets import provider_credentials

RULES: tuple[Rule, ...] = (
    Rule(
        id="CB-AWS-078",
        title="AWS provider block holds literal credentials",
        severity=Severity.CRITICAL,
        sources=frozenset({"terraform"}),
        types=frozenset({"provider"}),
        rationale="An access key, secret key or session token written in the `provider \"aws\"` block is "
        "readable by everyone with access to the repository (and stays in git history); whoever reads it "
        "acts as that IAM principal.",
        remediation="Remove the keys from the provider block and let the provider find credentials itself "
        "(environment variables, a shared profile, an assumed role, OIDC in CI); deactivate and rotate the "
        "exposed key in IAM.",
        check=provider_credentials,
        controls=MappingProxyType({
            "hipaa": ("164.312(a)(1)", "164.312(d)"),
            "pci-dss": ("8.3.2", "8.6.2"),
            "soc2": ("CC6.1",),
        }),
        peers=MappingProxyType({"checkov": ("CKV_AWS_41",)}),
    ),
)
