"""The shipped specs load, compile and carry their metadata (a quick guard; details elsewhere)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules.registry import all_rules
from rules.spec.catalog import _files, shipped_specs, spec_rules
from rules.spec.loader import SpecError


def test_shipped_specs_compile_into_rules_with_their_metadata() -> None:
    specs = {spec.id: spec for spec in shipped_specs()}
    assert {"CB-AWS-002", "CB-AWS-010", "CB-AWS-012", "CB-AWS-016"} <= set(specs)
    rules = {rule.id: rule for rule in spec_rules()}
    rds = rules["CB-AWS-002"]
    assert rds.sources == frozenset({"terraform", "cloudformation"})
    assert rds.aliases == ("CB-CFN-002",)
    assert "CKV_AWS_16" in rds.peers["checkov"]
    assert "pci-dss" in rds.controls


def test_spec_files_must_be_where_the_wheel_ships_them(tmp_path: Path) -> None:
    (tmp_path / "aws").mkdir()
    (tmp_path / "aws" / "CB-AWS-900.yml").write_text("id: x\n")
    assert [path for path, _ in _files(tmp_path, "rules/specs")] == ["rules/specs/aws/CB-AWS-900.yml"]
    (tmp_path / "aws" / "CB-AWS-901.yaml").write_text("id: x\n")
    with pytest.raises(SpecError, match=r"rules/specs/aws/CB-AWS-901.yaml:1: a spec file is named <ID>.yml"):
        list(_files(tmp_path, "rules/specs"))
    (tmp_path / "aws" / "CB-AWS-901.yaml").unlink()
    (tmp_path / "aws" / "nested").mkdir()
    with pytest.raises(SpecError, match="directly in its pack folder"):
        list(_files(tmp_path, "rules/specs"))
    (tmp_path / "aws" / "nested").rmdir()
    (tmp_path / "CB-AWS-902.yml").write_text("id: x\n")
    with pytest.raises(SpecError, match="pack folder"):
        list(_files(tmp_path, "rules/specs"))


def test_every_shipped_spec_rule_is_registered_once() -> None:
    ids = [rule.id for rule in all_rules()]
    assert all(ids.count(spec.id) == 1 for spec in shipped_specs())
