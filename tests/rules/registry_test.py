"""The rule registry and the regulation mappings stay consistent and auditable."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from rules.registry import (
    AUTOMATED,
    MANUAL,
    OUT_OF_SCOPE,
    FrameworkError,
    _framework_from,
    all_rules,
    default_controls,
    load_framework_files,
    load_frameworks,
    unknown_rule_ids,
    with_declared_rules,
)

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


def test_the_frameworks_are_there_with_named_controls() -> None:
    frameworks = {f.key: f for f in load_frameworks()}
    assert {"hipaa", "pci-dss", "soc2", "cis-aws", "cis-kubernetes", "cis-docker", "cis-gcp"} <= set(frameworks)
    for framework in frameworks.values():
        assert framework.name and framework.version
        assert all(c.id and c.name and c.description for c in framework.controls), framework.key
        ids = [c.id for c in framework.controls]
        assert sorted(i for i in set(ids) if ids.count(i) > 1) == [], f"{framework.key}: control listed twice"


def test_every_control_is_automated_or_says_why_not() -> None:
    gaps = [(f.key, c.id) for f in load_frameworks() for c in f.controls
            if not (c.coverage == AUTOMATED and c.enforced_by)
            and not (c.coverage in (MANUAL, OUT_OF_SCOPE) and c.why and not c.enforced_by)]
    assert gaps == [], "give these controls rules, or `coverage: manual | out-of-scope` with a `why`"


def test_a_control_some_rule_declares_is_automated_even_when_its_file_lists_no_rule() -> None:
    files = {f.key: f for f in load_framework_files()}
    manual = next(c for c in files["cis-aws"].controls if c.coverage == MANUAL)
    rule = replace(next(r for r in all_rules() if r.id == "CB-AWS-001"), controls={"cis-aws": (manual.id,)})
    (cis,) = with_declared_rules([files["cis-aws"]], [rule])
    resolved = cis.control(manual.id)
    assert resolved is not None and resolved.coverage == AUTOMATED and resolved.enforced_by == ("CB-AWS-001",)
    assert resolved.rule_ids == ()  # the file's own list is unchanged


def test_a_mapping_naming_an_unknown_rule_is_caught() -> None:
    assert unknown_rule_ids(load_framework_files(), all_rules()) == []
    bad = _framework_from("demo", {"controls": [{"id": "1", "name": "n", "description": "d",
                                                 "rules": ["CB-AWS-001", "CB-AWS-999"]}]})
    assert unknown_rule_ids([bad], all_rules()) == [("demo", "1", "CB-AWS-999")]


@pytest.mark.parametrize(
    ("control", "message"),
    [
        ({"id": "1", "coverage": "manual"}, "coverage manual needs a 'why'"),
        ({"id": "1", "coverage": "sometimes", "why": "x"}, "coverage must be one of"),
        ({"id": "1", "rules": ["CB-AWS-001"], "coverage": "manual", "why": "x"}, "lists rules and says it is manual"),
        ({"id": "1", "rules": "CB-AWS-001"}, "needs an 'id' and a 'rules' list"),
    ],
)
def test_malformed_coverage_is_refused(control: dict[str, object], message: str) -> None:
    with pytest.raises(FrameworkError, match=re.escape(message)):
        _framework_from("demo", {"controls": [control]})


def test_cis_aws_follows_v3_0_0() -> None:
    cis = next(f for f in load_frameworks() if f.key == "cis-aws")
    assert cis.version == "v3.0.0"
    ids = [c.id for c in cis.controls]
    sections = {section: sum(1 for i in ids if i.split(".")[0] == section) for section in "12345"}
    assert sections == {"1": 22, "2": 9, "3": 9, "4": 16, "5": 6}, "CIS AWS v3.0.0 has 62 recommendations"
    assert cis.control("1.16").name.startswith("Ensure IAM policies that allow full")  # type: ignore[union-attr]
    automated = {c.id for c in cis.controls if c.automated}
    assert {"1.16", "2.1.4", "2.2.1", "2.3.1", "2.3.3", "2.4.1", "3.2", "3.5", "3.6", "5.2", "5.3", "5.6"} <= automated


def test_non_automated_controls_include_the_administrative_safeguards() -> None:
    frameworks = {f.key: f for f in load_frameworks()}
    hipaa = frameworks["hipaa"]
    risk = hipaa.control("164.308(a)(1)(ii)(A)")
    assert risk is not None and risk.coverage == MANUAL and risk.why
    facility = hipaa.control("164.310(a)(1)")
    assert facility is not None and facility.coverage == OUT_OF_SCOPE
    for key in ("hipaa", "pci-dss", "soc2", "cis-aws"):
        assert any(not c.automated for c in frameworks[key].controls), key


def test_peer_ids_are_well_formed() -> None:
    checkov = re.compile(r"^CKV2?_[A-Z0-9]+_\d+$")
    kics = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
    bad = [(rule.id, peer, i) for rule in all_rules() for peer, ids in rule.peers.items() for i in ids
           if peer not in ("checkov", "kics") or not (checkov if peer == "checkov" else kics).match(i)]
    assert bad == []


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


def test_every_rule_is_a_spec() -> None:
    """Every rule's metadata lives in its spec (rules/specs): no rule is defined in Python any more."""
    from rules.spec.catalog import spec_rules

    assert all_rules() == spec_rules()
