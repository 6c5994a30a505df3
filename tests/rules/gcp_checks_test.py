"""The GCP pack's Python checks on their own, for what a fixture cannot show: values not known
before apply give undecided violations only (the engine drops them unless a policy fails unknown
values), keys tell findings apart, and the compiled specs judge only what Terraform creates."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot.engine.model import Resource, Violation
from bot.engine.parsers.terraform import parse_module
from rules.checks import gcp_firewall, gcp_kms, gcp_public
from rules.registry import all_rules

GCP_RULES = {rule.id: rule for rule in all_rules() if rule.id.startswith("CB-GCP-")}


class Module:
    """RuleContext over the resources of one module."""

    def __init__(self, resources: Sequence[Resource]) -> None:
        self.resources = list(resources)

    def siblings(self, resource: Resource) -> Sequence[Resource]:
        return self.resources

    def referrers(self, resource: Resource, type_: str | None = None) -> Sequence[Resource]:
        return []

    def base(self, resource: Resource) -> Resource | None:
        return None


def resources(text: str) -> tuple[Module, list[Resource]]:
    parsed = parse_module({"main.tf": text})
    found = [r for result in parsed.values() for r in result.resources]
    return Module(found), [r for r in found if r.kind == "resource"]


def violations(check: object, text: str) -> list[Violation]:
    module, managed = resources(text)
    assert callable(check)
    return [v for r in managed for v in check(r, module)]


FIREWALL = """
resource "google_compute_firewall" "r" {{
  name    = "r"
  network = "default"
  {extra}
  allow {{
    protocol = {protocol}
    ports    = {ports}
  }}
  source_ranges = {ranges}
}}
{variables}
"""


def firewall(protocol: str = '"tcp"', ports: str = '["22"]', ranges: str = '["0.0.0.0/0"]', extra: str = "",
             variables: str = "") -> list[Violation]:
    text = FIREWALL.format(protocol=protocol, ports=ports, ranges=ranges, extra=extra, variables=variables)
    return violations(gcp_firewall.admin_ports_open, text)


def test_an_open_ssh_rule_is_decided_and_names_the_range_and_port() -> None:
    [found] = firewall()
    assert not found.undecided
    assert "0.0.0.0/0" in found.message and "22 (SSH)" in found.message


@pytest.mark.parametrize("case", [
    {"ranges": "var.ranges", "variables": 'variable "ranges" { type = list(string) }'},
    {"ports": "var.ports", "variables": 'variable "ports" { type = list(string) }'},
    {"protocol": "var.protocol", "variables": 'variable "protocol" { type = string }'},
    {"extra": "direction = var.direction", "variables": 'variable "direction" { type = string }'},
    {"extra": "disabled = var.off", "variables": 'variable "off" { type = bool }'},
])
def test_values_not_known_before_apply_are_undecided_never_findings(case: dict[str, str]) -> None:
    found = firewall(**case)
    assert found and all(v.undecided for v in found)


def test_a_dynamic_allow_block_is_undecided() -> None:
    text = """
resource "google_compute_firewall" "r" {
  name          = "r"
  network       = "default"
  source_ranges = ["0.0.0.0/0"]
  dynamic "allow" {
    for_each = var.rules
    content {
      protocol = allow.value.protocol
      ports    = allow.value.ports
    }
  }
}
variable "rules" { type = list(any) }
"""
    found = violations(gcp_firewall.admin_ports_open, text)
    assert [v.undecided for v in found] == [True]


@pytest.mark.parametrize("ranges", ['["0:0:0:0:0:0:0:0/0"]', '["0.0.0.0/1", "128.0.0.0/1"]', '["10.0.0.0/8", "::/0"]'])
def test_every_spelling_of_the_whole_internet_is_open(ranges: str) -> None:
    assert [v.undecided for v in firewall(ranges=ranges)] == [False]


@pytest.mark.parametrize("ports", ['["21-23"]', '["3389"]', "[22]", '["0-65535"]'])
def test_ports_and_ranges_that_cover_an_admin_port(ports: str) -> None:
    assert firewall(ports=ports)


@pytest.mark.parametrize("ports", ['["23-3388"]', '["3390-65535"]', '["80", "443"]', '["not-a-port"]'])
def test_ports_that_miss_the_admin_ports(ports: str) -> None:
    assert firewall(ports=ports) == []


def test_two_exposing_blocks_are_two_findings_with_distinct_keys() -> None:
    text = FIREWALL.format(protocol='"tcp"', ports='["22"]', ranges='["0.0.0.0/0"]', variables="",
                           extra='allow {\n    protocol = "udp"\n  }')
    found = violations(gcp_firewall.admin_ports_open, text)
    assert len(found) == 2 and len({v.key for v in found}) == 2


def test_database_ports_are_tcp_only() -> None:
    text = FIREWALL.format(protocol='"udp"', ports='["5432"]', ranges='["0.0.0.0/0"]', extra="", variables="")
    assert violations(gcp_firewall.database_ports_open, text) == []
    text = FIREWALL.format(protocol='"6"', ports='["5432"]', ranges='["0.0.0.0/0"]', extra="", variables="")
    assert [v.undecided for v in violations(gcp_firewall.database_ports_open, text)] == [False]


def test_iam_members_not_known_before_apply_are_undecided() -> None:
    text = """
resource "google_storage_bucket_iam_binding" "b" {
  bucket  = "b"
  role    = "roles/storage.objectViewer"
  members = ["group:a@example.com", var.extra]
}
resource "google_storage_bucket_iam_policy" "p" {
  bucket      = "b"
  policy_data = var.policy
}
variable "extra" { type = string }
variable "policy" { type = string }
"""
    found = violations(gcp_public.public_iam_grants, text)
    assert len(found) == 2 and all(v.undecided for v in found)


def test_a_policy_written_as_json_text_is_read() -> None:
    text = """
resource "google_storage_bucket_iam_policy" "p" {
  bucket      = "b"
  policy_data = "{\\"bindings\\": [{\\"role\\": \\"roles/storage.objectViewer\\", \\"members\\": [\\"allUsers\\"]}]}"
}
"""
    [found] = violations(gcp_public.public_iam_grants, text)
    assert not found.undecided and "roles/storage.objectViewer" in found.message


def test_kms_rotation_unknown_is_undecided_and_exactly_90_days_passes() -> None:
    text = """
resource "google_kms_crypto_key" "a" {
  name            = "a"
  key_ring        = "r"
  rotation_period = var.period
}
resource "google_kms_crypto_key" "b" {
  name            = "b"
  key_ring        = "r"
  rotation_period = "7776000.000000000s"
}
resource "google_kms_crypto_key" "c" {
  name     = "c"
  key_ring = "r"
  purpose  = var.purpose
}
variable "period" { type = string }
variable "purpose" { type = string }
"""
    found = violations(gcp_kms.kms_rotation_period, text)
    assert [v.undecided for v in found] == [True]


def test_postgres_flags_generated_by_a_dynamic_block_are_undecided() -> None:
    text = """
resource "google_sql_database_instance" "db" {
  name             = "db"
  database_version = "POSTGRES_16"
  settings {
    tier = "db-f1-micro"
    dynamic "database_flags" {
      for_each = var.flags
      content {
        name  = database_flags.key
        value = database_flags.value
      }
    }
  }
}
variable "flags" { type = map(string) }
"""
    for rule_id in ("CB-GCP-011", "CB-GCP-012", "CB-GCP-035"):  # `some` over a dynamic block
        assert [v.undecided for v in violations(GCP_RULES[rule_id].check, text)] == [True], rule_id
    for rule_id in ("CB-GCP-036", "CB-GCP-037"):  # `for_each` over it; 037 is not a MySQL rule here
        assert [v.undecided for v in violations(GCP_RULES[rule_id].check, text)] == (
            [True] if rule_id == "CB-GCP-036" else []), rule_id


def test_every_gcp_spec_has_a_cis_or_regulation_control_and_a_title_an_auditor_reads() -> None:
    assert len(GCP_RULES) >= 20
    for rule in GCP_RULES.values():
        assert rule.sources == frozenset({"terraform"})
        assert {"hipaa", "pci-dss", "soc2"} & set(rule.controls), rule.id
        assert rule.rationale and rule.remediation and rule.title[0].isupper()


@pytest.mark.parametrize("rule_id", sorted(GCP_RULES))
def test_findings_land_inside_the_resource_they_judge(rule_id: str) -> None:
    from tests.rules.fixtures_test import FIXTURES, review_fixture

    review = review_fixture(rule_id, FIXTURES / rule_id)
    findings = [f for f in review.findings if f.rule_id == rule_id]
    assert findings
    for finding in findings:
        assert finding.resource_span is not None
        low, high = finding.resource_span
        assert low <= finding.line <= high, (finding.path, finding.line, finding.resource)
