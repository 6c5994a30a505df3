"""The tfsec/Trivy id table behind `exceptions.migrate`: every entry is well formed and names
rules we ship, and the shipped rule set resolves both id forms (Checkov's come from the specs)."""

from __future__ import annotations

import re

import pytest

from bot.engine.governance import RuleIndex
from rules.registry import MigrationError, all_rules, default_rule_set, migration_table, parse_migrations

AVD = re.compile(r"^AVD-(AWS|GCP|AZU)-\d{4}$")
TWICE = ("checks:\n  - {avd: AVD-AWS-0001, ids: [a], rules: [CB-AWS-001]}\n"
         "  - {avd: AVD-AWS-0002, ids: [A], rules: [CB-AWS-002]}\n")
LONG = re.compile(r"^(AWS|GOOGLE|AZURE)(-[A-Z0-9]+)+$")


def test_every_entry_is_well_formed_and_names_rules_we_ship() -> None:
    known = {rule.id for rule in all_rules()}
    table = migration_table()
    assert set(table) == {"tfsec", "trivy"} and table["tfsec"] == table["trivy"]
    assert len(table["tfsec"]) > 200
    for check, rules in table["tfsec"].items():
        assert AVD.match(check) or LONG.match(check), check
        assert rules and set(rules) <= known, (check, rules)


def test_the_shipped_rule_set_resolves_both_forms_and_checkovs_from_the_specs() -> None:
    index = RuleIndex.of(default_rule_set().rules, default_rule_set().foreign)
    assert index.resolve("trivy", "AVD-AWS-0088") == ("CB-AWS-009",)
    assert index.resolve("tfsec", "aws-s3-enable-bucket-encryption") == ("CB-AWS-009",)
    assert index.resolve("tfsec", "AWS-S3-ENABLE-BUCKET-ENCRYPTION") == ("CB-AWS-009",)
    assert index.resolve("checkov", "CKV_AWS_3") == ("CB-AWS-001",)
    assert index.resolve("checkov", "CKV_AWS_19") == ()  # no equivalent of ours
    assert index.resolve("compliance", "CB-CFN-001") == ("CB-AWS-001",)  # an earlier id


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]\n", "expected a 'checks' list"),
        ("checks:\n  - {avd: AVD-AWS-0001, ids: [a]}\n", "checks[0] needs an 'avd' id, an 'ids' list and a 'rules' list"),
        (TWICE, "checks[1]: A is listed twice"),
    ],
)
def test_a_malformed_table_is_refused(text: str, message: str) -> None:
    with pytest.raises(MigrationError) as caught:
        parse_migrations(text)
    assert message in str(caught.value)
