"""What a process loads of the catalog before its first review: each rule's metadata from the cache,
its bindings only when it first judges a resource, each Python check's module only when a check
first asks for it (rules/spec/catalog.py, rules/spec/functions.py). Lazily loaded, a rule judges
exactly as the rule compiled from its YAML file does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest

from bot.engine.model import Resource
from rules.spec import cache, catalog
from rules.spec.compile import compile_spec
from rules.spec.functions import FUNCTIONS
from rules.spec.model import Binding, Spec
from tests.rules.spec.helpers import run, terraform, yaml_file

TERRAFORM = """
resource "aws_s3_bucket" "logs" {
  bucket = "logs"
  acl    = "public-read"
}
resource "aws_security_group" "open" {
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
resource "aws_iam_policy" "admin" {
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "*", Resource = "*" }] })
}
"""

POD = """
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
    - name: app
      image: nginx
      securityContext:
        privileged: true
"""


@pytest.fixture
def fresh_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A cache folder of this test's own, and the catalog read again from it by each caller."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("COMPLIANCE_BOT_CACHE", raising=False)

    def forget() -> None:
        for function in (catalog._catalog, catalog.shipped_specs, catalog.spec_rules, catalog._yaml_bindings):
            function.cache_clear()

    forget()
    yield tmp_path / cache.FOLDER
    forget()


def _yaml_specs() -> dict[str, Spec]:
    return {spec.id: spec for spec in catalog._read_specs(resources.files("rules") / "specs")}


def _resources() -> tuple[Resource, ...]:
    return (*terraform(TERRAFORM), *yaml_file(POD, "pod.yaml"))


def test_rules_from_a_warm_cache_decode_no_bindings_until_they_judge(fresh_catalog: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    catalog.spec_rules()  # the first process: reads the YAML files and fills the cache
    catalog._catalog.cache_clear()
    catalog.spec_rules.cache_clear()
    decoded: list[str] = []
    real = catalog._Bindings._decoded

    def counting(self: catalog._Bindings) -> tuple[Binding, ...]:
        decoded.append(self._stored.spec.id)
        return real(self)

    monkeypatch.setattr(catalog._Bindings, "_decoded", counting)
    rules = {rule.id: rule for rule in catalog.spec_rules()}
    assert len(rules) > 100 and decoded == []
    resources = _resources()
    judging = [rule for rule in rules.values() if any(rule.applies_to(r) for r in resources)]
    assert 10 < len(judging) < len(rules) / 2
    for rule in judging:
        run(rule, resources)
        run(rule, resources)
    assert sorted(decoded) == sorted(rule.id for rule in judging)  # each once, and only these


def test_rules_from_a_warm_cache_judge_as_their_yaml_files_do(fresh_catalog: Path) -> None:
    catalog.spec_rules()
    catalog._catalog.cache_clear()
    catalog.spec_rules.cache_clear()
    catalog.shipped_specs.cache_clear()
    yaml_specs = _yaml_specs()
    assert {spec.id: spec for spec in catalog.shipped_specs()} == yaml_specs
    resources = _resources()
    found = 0
    for rule in catalog.spec_rules():
        reference = compile_spec(yaml_specs[rule.id])
        assert (rule.sources, rule.types, rule.controls, rule.peers, rule.aliases) == (
            reference.sources, reference.types, reference.controls, reference.peers, reference.aliases)
        assert run(rule, resources) == run(reference, resources)
        found += len(run(rule, resources))
    assert found > 5  # the resources break rules: the comparison is of findings, not of silence


def test_a_damaged_stored_binding_is_read_from_the_yaml_file(fresh_catalog: Path) -> None:
    catalog.spec_rules()
    (entry,) = fresh_catalog.glob("specs-*.json")
    data = json.loads(entry.read_text())
    damaged = 0
    for stored in data["$tuple"]:
        if stored["fields"]["spec"]["fields"]["id"] == "CB-AWS-007":
            stored["fields"]["bindings"] = json.dumps({"$class": "Popen", "fields": {}})
            damaged += 1
    assert damaged == 1
    entry.write_text(json.dumps(data))
    catalog._catalog.cache_clear()
    catalog.spec_rules.cache_clear()
    rule = next(rule for rule in catalog.spec_rules() if rule.id == "CB-AWS-007")
    resources = _resources()
    assert run(rule, resources)
    assert run(rule, resources) == run(compile_spec(_yaml_specs()["CB-AWS-007"]), resources)


def test_every_registered_check_is_a_function_of_the_rules_package() -> None:
    assert len(FUNCTIONS) > 50
    for name, target in FUNCTIONS._table.items():
        assert target.startswith("rules."), name
        assert callable(FUNCTIONS[name]), name
    with pytest.raises(KeyError):
        FUNCTIONS["no_such_check"]


def test_loading_the_rule_set_imports_no_python_check_until_one_is_asked_for(tmp_path: Path) -> None:
    code = ("import sys; from rules.registry import default_rule_set; default_rule_set(); "
            "print(sorted(m for m in sys.modules if m.startswith('rules.checks.')))")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    env.pop("COMPLIANCE_BOT_CACHE", None)
    first, second = (subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                                    check=True, env=env).stdout.strip() for _ in range(2))
    assert first != "[]"  # reading the YAML files runs each spec's inline tests, and so its checks
    assert second == "[]"  # from the cache: nothing is run, nothing imported
