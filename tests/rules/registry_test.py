"""The rule registry and the regulation mappings stay consistent and auditable."""

from __future__ import annotations

import re

from rules.registry import all_rules, default_controls, load_frameworks

ID = re.compile(r"^CB-(AWS|CFN|AZURE|GCP|K8S|GHA|DOCKER|SECRET|REG)-\d{3}$")


def test_rule_ids_are_unique_and_well_formed() -> None:
    ids = [rule.id for rule in all_rules()]
    assert len(ids) == len(set(ids))
    assert all(ID.match(i) for i in ids), [i for i in ids if not ID.match(i)]


def test_every_rule_has_metadata_a_reviewer_needs() -> None:
    for rule in all_rules():
        assert rule.title and rule.remediation and rule.rationale, rule.id
        assert rule.sources, rule.id


def test_every_rule_enforces_at_least_one_control_and_every_mapping_names_a_real_rule() -> None:
    ids = {rule.id for rule in all_rules()}
    controls = default_controls()
    assert sorted(ids - set(controls)) == []
    assert sorted(set(controls) - ids) == []


def test_the_four_frameworks_are_there_with_named_controls() -> None:
    frameworks = {f.key: f for f in load_frameworks()}
    assert {"hipaa", "pci-dss", "soc2", "cis-aws", "cis-kubernetes"} <= set(frameworks)
    enforced = {(fw, c) for per in default_controls().values() for fw, ids in per.items() for c in ids}
    for framework in frameworks.values():
        assert framework.name and framework.version
        assert all(c.id and c.name and c.description for c in framework.controls)
        # every control is enforced by a rule (listed here or declared by the rule), or says why not
        unaccounted = [c.id for c in framework.controls
                       if (framework.key, c.id) not in enforced and c.coverage == "automated"]
        assert unaccounted == [], framework.key
        assert all(c.why for c in framework.controls if c.coverage != "automated")


def test_rules_are_registered_explicitly_not_on_import() -> None:
    first, second = all_rules(), all_rules()
    assert first == second and len(first) >= 25


def test_controls_a_rule_declares_itself_name_real_controls_of_known_frameworks() -> None:
    known = {f.key: {c.id for c in f.controls} for f in load_frameworks()}
    unknown = [
        (rule.id, fw, control)
        for rule in all_rules()
        for fw, ids in rule.controls.items()
        for control in ids
        if control not in known.get(fw, set())
    ]
    assert unknown == []


def test_declared_controls_are_merged_with_the_framework_files() -> None:
    from dataclasses import replace

    from rules.registry import merged_controls

    rule = next(r for r in all_rules() if r.id == "CB-AWS-001")
    frameworks = load_frameworks()
    soc2 = next(f for f in frameworks if f.key == "soc2")
    extra = next(c.id for c in soc2.controls if rule.id not in c.rule_ids)
    merged = merged_controls([replace(rule, controls={"soc2": (extra,)})], frameworks)
    assert extra in merged[rule.id]["soc2"]
    assert set(default_controls()[rule.id]["soc2"]) < set(merged[rule.id]["soc2"])


def test_aliases_are_not_ids_of_other_rules() -> None:
    ids = {rule.id for rule in all_rules()}
    aliases = [a for rule in all_rules() for a in rule.aliases]
    assert len(aliases) == len(set(aliases))
    assert ids.isdisjoint(aliases)


def test_a_control_without_a_rule_says_how_it_is_covered_and_why() -> None:
    import pytest

    from rules.registry import FrameworkError, _framework_from

    manual = {"id": "5.3.2", "name": "n", "description": "d", "coverage": "manual", "why": "needs the cluster"}
    framework = _framework_from("cis-kubernetes", {"name": "CIS", "version": "1", "controls": [manual]})
    assert framework.controls[0].coverage == "manual" and framework.controls[0].rule_ids == ()
    for bad in ({**manual, "why": " "}, {**manual, "coverage": "partly"}):
        with pytest.raises(FrameworkError, match="5.3.2"):
            _framework_from("cis-kubernetes", {"controls": [bad]})
