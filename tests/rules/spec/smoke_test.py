"""The shipped specs load, compile and carry their metadata (a quick guard; details elsewhere)."""

from __future__ import annotations

from rules.spec.catalog import shipped_specs, spec_rules


def test_shipped_specs_compile_into_rules_with_their_metadata() -> None:
    specs = {spec.id: spec for spec in shipped_specs()}
    assert {"CB-AWS-002", "CB-AWS-010", "CB-AWS-012", "CB-AWS-016"} <= set(specs)
    rules = {rule.id: rule for rule in spec_rules()}
    rds = rules["CB-AWS-002"]
    assert rds.sources == frozenset({"terraform", "cloudformation"})
    assert rds.aliases == ("CB-CFN-002",)
    assert rds.peers == {"checkov": ("CKV_AWS_16",)}
    assert "pci-dss" in rds.controls
