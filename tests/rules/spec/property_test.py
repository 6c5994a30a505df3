"""Whatever a valid spec says, its rule never raises on any resource of the fixtures, and its
findings land inside the resource they judge."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine.model import Resource
from bot.engine.parsers.terraform import parse_module
from bot.engine.parsers.yaml_docs import parse_yaml
from rules.spec.compile import compile_spec
from rules.spec.loader import load_spec
from tests.rules.spec.helpers import HEAD, Context

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rules"
PATHS = st.sampled_from(["encrypted", "Properties", "StorageEncrypted", "spec.containers.name", "ingress.cidr_blocks",
                         "ingress", "root_block_device.encrypted", "tags.Name", "rule.0.port", "metadata.name",
                         "securityContext.privileged", "dynamic", "count"])
SCALARS = st.one_of(st.booleans(), st.integers(-5, 70000), st.sampled_from(["true", "0.0.0.0/0", "::/0", "x", ""]))
LEAVES = st.one_of(
    st.builds(lambda p, v: {"path": p, "equals": v}, PATHS, SCALARS),
    st.builds(lambda p, v: {"path": p, "not_in": [v]}, PATHS, SCALARS),
    st.builds(lambda p, v: {"path": p, "gte": v}, PATHS, st.integers(-1, 100)),
    st.builds(lambda p, v: {"path": p, "exists": v}, PATHS, st.booleans()),
    st.builds(lambda p, v: {"path": p, "cidr_open": v}, PATHS, st.booleans()),
    st.builds(lambda p, v: {"path": p, "contains": v, "case": "insensitive"}, PATHS, SCALARS),
    st.builds(lambda p: {"path": p, "regex": ".*", "absent": {"value": 3}}, PATHS),
    st.builds(lambda p, v: {"path": p, "covers_port": v}, PATHS, st.sampled_from([22, "20-25", [22, 3389], "*"])),
    st.builds(lambda p: {"path": p, "covers_port": {"port": 22, "from": "from_port", "to": "to_port",
                                                    "protocol": "protocol"}}, PATHS),
    st.builds(lambda p, v: {"path": p, "not_empty": v}, PATHS, st.booleans()),
    st.builds(lambda p, v: {"path": p, "equals": v}, st.sampled_from(["$root.metadata.name", "$root.encrypted",
                                                                      "$root.ingress.cidr_blocks"]), SCALARS),
    st.builds(lambda p, v: {"path": p, "split": ",", "contains": v}, PATHS, SCALARS),
)

ITEM_LEAF = {"path": "$item", "regex": "1.*"}


def _composite(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.builds(lambda items: {"all": items}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda items: {"any": items}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda item: {"not": item}, inner),
        st.builds(lambda p, c, a: {"for_each": {"path": p, "check": c, "absent": a}}, PATHS, inner,
                  st.sampled_from(["pass", "fail"])),
        st.builds(lambda c: {"sibling": {"types": ["aws_kms_key", "AWS::EC2::Volume"], "where": c}}, inner),
        st.builds(lambda p, c: {"referrer": {"types": ["aws_kms_key", "AWS::KMS::Key", "Deployment"], "via": [p],
                                             "names": ["name"], "where": c}}, PATHS, inner),
        st.builds(lambda p, c, w, a: {"some": {"path": p, "check": c, "where": w, "absent": a}}, PATHS, inner, inner,
                  st.sampled_from(["pass", "fail"])),
        st.builds(lambda p, c, w: {"for_each": {"path": p, "check": {"any": [c, ITEM_LEAF]}, "where": w}},
                  PATHS, inner, inner),
    )


CONDITIONS = st.recursive(LEAVES, _composite, max_leaves=6)


@lru_cache(maxsize=1)
def fixture_resources() -> tuple[Resource, ...]:
    found: list[Resource] = []
    for name in ("CB-AWS-001", "CB-AWS-002", "CB-AWS-004", "CB-AWS-019", "CB-K8S-001", "CB-AZURE-007", "CB-GCP-011",
                 "CB-AWS-044"):
        directory = FIXTURES / name
        tf = {p.name: p.read_text() for p in directory.glob("*.tf")}
        found += [r for f in parse_module(tf).values() for r in f.resources] if tf else []
        for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
            found += parse_yaml(path.name, path.read_text()).resources
    return tuple(found)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(CONDITIONS, st.sampled_from(["terraform", "cloudformation", "kubernetes"]), st.booleans())
def test_valid_specs_never_raise_on_real_resources(condition: Any, format_: str, with_fix: bool) -> None:
    types = {"terraform": ["aws_db_instance", "aws_security_group", "aws_instance", "aws_opensearch_domain",
                           "azurerm_network_security_group", "google_sql_database_instance"],
             "cloudformation": ["AWS::RDS::DBInstance", "AWS::EC2::SecurityGroup"],
             "kubernetes": ["workloads"]}[format_]
    binding: dict[str, Any] = {"format": format_, "types": types, "check": condition, "skip_if": {"not": condition}}
    if with_fix:
        binding["fix"] = {"set": "true"}
    rule = compile_spec(load_spec(HEAD + "bindings: " + json.dumps([binding]), "rules/specs/t/CB-TEST-001.yml"))
    resources = fixture_resources()
    context = Context(resources)
    for resource in resources:
        if rule.applies_to(resource):
            for violation in rule.check(resource, context):
                assert resource.line <= violation.line <= (violation.end_line or violation.line) <= resource.end_line
                assert violation.message
