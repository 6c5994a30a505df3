"""The peer-accuracy bench scores our rules on a bundled miniature of the peers' layouts
(bench/peer_sample/, written for this test): every figure below follows from a case in it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from bench.peer_score import (
    EXPLANATIONS,
    PEERS,
    ExplanationError,
    Outcome,
    _file_labels,
    _hcl_body,
    explain,
    load_explanations,
    main,
    overall_line,
    report_json,
    score,
    text_table,
    totals,
)
from bot.engine.parsers import parse_terraform
from rules.registry import all_rules

SAMPLE = Path(__file__).resolve().parents[2] / "bench" / "peer_sample"
SAMPLE_EXPLANATIONS = SAMPLE / "disagreements.yml"
EFS_QUERY = "48207659-729f-4b5c-9402-f884257d794f"
PRIVILEGED_QUERY = "dd29336b-fe57-445b-a26e-e6aa867ae609"
# The sample's peer ids, set here so the figures do not move when a rule's declared peers change.
SAMPLE_PEERS: dict[str, dict[str, tuple[str, ...]]] = {
    "CB-AWS-004": {"checkov": ("CKV_AWS_24", "CKV_AWS_25")},
    "CB-AWS-007": {"checkov": ("CKV_AWS_20",)},
    "CB-AWS-010": {"checkov": ("CKV_AWS_36",)},
    "CB-AWS-016": {"checkov": ("CKV_AWS_42",), "kics": (EFS_QUERY,)},
    "CB-AWS-001": {"checkov": ("CKV_AWS_3",)},  # its CloudFormation binding (once CB-CFN-001)
    "CB-K8S-001": {"checkov": ("CKV_K8S_16",), "kics": (PRIVILEGED_QUERY,)},
    "CB-DOCKER-001": {"checkov": ("CKV_DOCKER_8",)},
}


@pytest.fixture(scope="module")
def outcomes() -> list[Outcome]:
    rules = [replace(r, peers=SAMPLE_PEERS[r.id]) for r in all_rules() if r.id in SAMPLE_PEERS]
    assert len(rules) == len(SAMPLE_PEERS)
    return score(rules, SAMPLE / "checkov", SAMPLE / "kics")


def figures(outcome: Outcome) -> tuple[int, int, int, int, int]:
    return outcome.tp, outcome.fn, outcome.fp, outcome.tn, len(outcome.skipped)


def test_every_rule_and_peer_is_scored_with_the_figures_its_examples_give(outcomes: list[Outcome]) -> None:
    got = {(o.rule, o.peer): figures(o) for o in outcomes}
    assert got == {
        # ssh_open fails both; private passes; rdp_open fails CKV_AWS_25 (its own example) and, in the
        # SSH example, passes CKV_AWS_24 only while CKV_AWS_25 also judges it: skipped, not counted.
        ("CB-AWS-004", "checkov"): (2, 0, 0, 1, 1),
        # The graph check labels the bucket, our finding is on the ACL resource that configures it.
        ("CB-AWS-007", "checkov"): (1, 0, 0, 1, 0),
        # Two conf dicts written back as HCL: one without log file validation, one with.
        ("CB-AWS-010", "checkov"): (1, 0, 0, 1, 0),
        # default + disabled agree, enabled agrees, kms_only is our false positive, unknown our
        # false negative, the access point is a type we do not judge.
        ("CB-AWS-016", "checkov"): (2, 1, 1, 1, 1),
        # positive1: two reported lines in two resources, one clean resource; negative1 clean;
        # positive2's line is on a registry module call: skipped.
        ("CB-AWS-016", "kics"): (2, 0, 0, 2, 1),
        ("CB-AWS-001", "checkov"): (1, 0, 0, 1, 0),
        ("CB-K8S-001", "checkov"): (1, 0, 0, 1, 0),
        # The privileged Deployment, the Service beside it, and the clean Pod.
        ("CB-K8S-001", "kics"): (1, 0, 0, 2, 0),
        # A Dockerfile is labelled by its path (`/failure/Dockerfile.USER`).
        ("CB-DOCKER-001", "checkov"): (1, 0, 0, 1, 0),
    }


def test_disagreements_name_the_example_the_resource_and_both_verdicts(outcomes: list[Outcome]) -> None:
    disagreements = [(o.rule, o.peer, d) for o in outcomes for d in o.disagreements]
    where = "tests/terraform/checks/resource/aws/example_SampleEFSEncrypted"
    assert disagreements == [
        ("CB-AWS-016", "checkov", {"check": "CKV_AWS_42", "where": where, "resource": "aws_efs_file_system.kms_only",
                                   "ours": "fail", "theirs": "pass"}),
        ("CB-AWS-016", "checkov", {"check": "CKV_AWS_42", "where": where, "resource": "aws_efs_file_system.unknown",
                                   "ours": "pass", "theirs": "fail"}),
    ]
    reasons = sorted(s["why"] for o in outcomes for s in o.skipped)
    assert reasons == [
        "a module call: KICS judges a registry module by its inputs, we do not follow remote modules",
        "aws_efs_access_point is not judged by CB-AWS-016",
        "passes CKV_AWS_24 alone; CKV_AWS_25 also judge(s) it",
    ]


def test_overall_figures_add_up_per_peer_and_together(outcomes: list[Outcome]) -> None:
    overall = totals(outcomes)
    assert figures(overall["checkov"])[:4] == (9, 1, 1, 7)
    assert figures(overall["kics"])[:4] == (3, 0, 0, 4)
    assert figures(overall["all"])[:4] == (12, 1, 1, 11)
    assert overall["all"].recall == pytest.approx(12 / 13)
    assert overall["all"].precision == pytest.approx(12 / 13)
    table = text_table(outcomes)
    assert "overall       all            25   12    1    1   11     92%       92%         0     92%       92%" in table
    assert "Unexplained disagreements (2):" in table


def test_json_report_carries_the_same_figures(outcomes: list[Outcome]) -> None:
    report = json.loads(json.dumps(report_json(outcomes)))  # as a reader of --json gets it
    efs = next(r for r in report["rules"] if r["rule"] == "CB-AWS-016" and r["peer"] == "checkov")
    assert (efs["examples"], efs["tp"], efs["fn"], efs["fp"], efs["recall"], efs["precision"]) == (5, 2, 1, 1, 0.667, 0.667)
    assert report["overall"]["all"]["examples"] == 25


def test_the_command_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--checkov", str(SAMPLE / "checkov"), "--kics", str(SAMPLE / "kics"), "--rule", "CB-AWS-001",
                 "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    # CB-AWS-001's declared KICS queries are not in the sample: they are listed, not scored.
    assert [(r["rule"], r["peer"], r["tp"], r["tn"]) for r in report["rules"]] == [
        ("CB-AWS-001", "checkov", 1, 1), ("CB-AWS-001", "kics", 0, 0)]
    assert report["rules"][1]["skipped"][0]["why"] == "no kics check with this id for ['cloudformation', 'terraform']"


def test_the_command_needs_a_peer_tree(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2
    assert "give --checkov and/or --kics" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "fails"),
    [
        ("EBSEncryption-PASSED.yaml", False),
        ("EBSEncryption-FAILED-2.yaml", True),
        ("FAIL.yaml", True),
        ("CronJob-pass.yaml", False),
        ("rootContainersFAILED_2.yaml", True),
        ("rootContainersPASSED.yaml", False),
        ("cloudwatch-agent-1PASSED-1FAILED.yaml", None),  # mixed: no label for the whole file
        ("scope-UNKNOWN.yaml", None),
        ("malformed-spec.yaml", None),
        ("bypass.yaml", None),
    ],
)
def test_file_names_label_whole_files(tmp_path: Path, name: str, fails: bool | None) -> None:
    (tmp_path / "example").mkdir()
    (tmp_path / "example" / name).write_text("x: 1\n")
    labels = _file_labels(tmp_path, tmp_path / "example", "CKV_X_1")
    assert [label.fails for label in labels] == ([] if fails is None else [fails])


def test_conf_dicts_become_terraform_our_parser_reads() -> None:
    conf = {"name": ["trail"], "enable_log_file_validation": [False], "tags": [{"Env": "prod"}],
            "event_selector": [{"read_write_type": ["All"]}, {"read_write_type": ["ReadOnly"]}],
            "s3_bucket_name": ["${aws_s3_bucket.logs.id}"]}
    text = f'resource "aws_cloudtrail" "example" {{\n{_hcl_body(conf, "  ")}}}\n'
    (parsed,) = parse_terraform({"main.tf": text}).values()
    assert parsed.errors == ()
    (trail,) = parsed.resources
    body = trail.body
    assert body.get("enable_log_file_validation").value is False  # type: ignore[union-attr]
    assert body.get("tags", "Env").value == "prod"  # type: ignore[union-attr]
    assert [b.get("read_write_type").value for b in body.get("event_selector").children()] == ["All", "ReadOnly"]  # type: ignore[union-attr]


@pytest.fixture()
def explained() -> tuple[list[Outcome], list[str]]:
    """The sample scored, then its disagreements explained by the sample's explanations file."""
    rules = [replace(r, peers=SAMPLE_PEERS[r.id]) for r in all_rules() if r.id in SAMPLE_PEERS]
    outcomes = score(rules, SAMPLE / "checkov", SAMPLE / "kics")
    stale = explain(outcomes, load_explanations(SAMPLE_EXPLANATIONS))
    return outcomes, [f"{e.rule} {e.peer} {e.resource}" for e in stale]


def test_an_explained_disagreement_leaves_the_agreeing_figures_and_an_our_bug_one_stays(
        explained: tuple[list[Outcome], list[str]]) -> None:
    outcomes, _ = explained
    efs = next(o for o in outcomes if (o.rule, o.peer) == ("CB-AWS-016", "checkov"))
    # Raw figures do not move; the explained false negative leaves the agreeing recall only.
    assert figures(efs)[:4] == (2, 1, 1, 1)
    assert (efs.explained_fn, efs.explained_fp) == (1, 0)
    assert [(d["resource"], d["verdict"]) for d in efs.explained] == [("aws_efs_file_system.unknown", "peer-wrong")]
    assert efs.recall == pytest.approx(2 / 3)
    assert efs.agreeing_recall == 1.0
    # `our-bug` is recorded, annotated, and still counted against us.
    assert [(d["resource"], d["verdict"]) for d in efs.disagreements] == [("aws_efs_file_system.kms_only", "our-bug")]
    assert efs.agreeing_precision == pytest.approx(2 / 3)
    unexplained = [d for o in outcomes if o is not efs for d in o.disagreements + o.explained]
    assert unexplained == []


def test_stale_explanations_are_those_of_scored_rules_that_match_nothing(
        explained: tuple[list[Outcome], list[str]]) -> None:
    _, stale = explained
    # The CB-AWS-999 entry is of a rule the sample does not score: not stale, just unused.
    assert stale == ["CB-AWS-016 kics aws_efs_file_system.positive1"]


def test_overall_figures_show_raw_and_agreeing_side_by_side(explained: tuple[list[Outcome], list[str]]) -> None:
    outcomes, _ = explained
    overall = totals(outcomes)["all"]
    assert (overall.tp, overall.fn, overall.fp, overall.explained_fn, overall.explained_fp) == (12, 1, 1, 1, 0)
    assert overall.agreeing_recall == 1.0
    assert overall.agreeing_precision == pytest.approx(12 / 13)
    assert overall_line(outcomes) == ("Overall: 25 examples, raw recall 92% precision 92%; agreeing recall 100% "
                                      "precision 92% (1 explained, 1 unexplained disagreements)")
    table = text_table(outcomes)
    assert "CB-AWS-016    checkov         5    2    1    1    1     67%       67%         1    100%       67%" in table
    assert "Unexplained disagreements (1):" in table
    assert "aws_efs_file_system.kms_only: ours fail, theirs pass [our-bug: " in table
    assert "Explained disagreements (1):" in table


def test_the_command_reads_the_explanations_it_is_given(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--checkov", str(SAMPLE / "checkov"), "--kics", str(SAMPLE / "kics"), "--rule", "CB-AWS-016",
                 "--explanations", str(SAMPLE_EXPLANATIONS), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    efs = next(r for r in report["rules"] if r["peer"] == "checkov")
    assert (efs["explained_fn"], efs["explained_fp"], efs["agreeing_recall"], efs["agreeing_precision"]) == \
        (1, 0, 1.0, 0.667)
    assert [e["resource"] for e in report["stale_explanations"]] == ["aws_efs_file_system.positive1"]
    assert report["overall"]["all"]["agreeing_recall"] == 1.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- {rule: R, peer: kics, where: w, resource: r, verdict: wrong, why: y}\n", "verdict 'wrong' is not one of"),
        ("- {rule: R, peer: tfsec, where: w, resource: r, verdict: peer-wrong, why: y}\n", "peer 'tfsec' is not"),
        ("- {rule: R, peer: kics, where: w, resource: r, verdict: peer-wrong}\n", "entry 1: exactly rule, peer"),
        ("- {rule: R, peer: kics, where: w, resource: r, verdict: peer-wrong, why: ''}\n", "non-empty string"),
        ("- {rule: R, peer: kics, where: w, resource: r, verdict: peer-wrong, why: y}\n" * 2, "entry 2: R kics w r"),
        ("rule: R\n", "a list of explanations expected"),
    ],
)
def test_a_malformed_explanations_file_is_refused_naming_the_entry(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "explanations.yml"
    path.write_text(text)
    with pytest.raises(ExplanationError, match=message):
        load_explanations(path)


def test_a_kics_resource_is_explained_with_or_without_its_line(tmp_path: Path) -> None:
    path = tmp_path / "explanations.yml"
    path.write_text("- {rule: R, peer: kics, where: w, resource: aws_x.y, verdict: peer-wrong, why: y}\n")
    (explanation,) = load_explanations(path)
    assert explanation.matches("R", "kics", {"where": "w", "resource": "aws_x.y (line 3)"})
    assert not explanation.matches("R", "kics", {"where": "w", "resource": "aws_x.yz (line 3)"})
    assert not explanation.matches("R", "checkov", {"where": "w", "resource": "aws_x.y"})


def test_the_shipped_explanations_name_rules_that_declare_the_peer() -> None:
    rules = {r.id: r for r in all_rules()}
    for explanation in load_explanations(EXPLANATIONS):
        rule = rules.get(explanation.rule)
        assert rule is not None, explanation
        assert explanation.peer in PEERS and rule.peers.get(explanation.peer), explanation


def test_a_conf_block_with_a_bare_value_is_still_a_block() -> None:
    # Checkov tests sometimes write one attribute of a block without its list (`"key_length": "1024"`).
    conf = {"dnssec_config": [{"state": ["on"], "default_key_specs": [
        {"algorithm": ["rsasha1"], "key_type": ["zoneSigning"], "key_length": "1024"}]}], "tags": [{"Env": "prod"}]}
    text = f'resource "google_dns_managed_zone" "example" {{\n{_hcl_body(conf, "  ")}}}\n'
    (parsed,) = parse_terraform({"main.tf": text}).values()
    (zone,) = parsed.resources
    (dnssec,) = zone.body.get("dnssec_config").children()  # type: ignore[union-attr]
    (spec,) = dnssec.get("default_key_specs").children()  # type: ignore[union-attr]
    assert spec.get("algorithm").value == "rsasha1"  # type: ignore[union-attr]
    assert spec.get("key_length").value == "1024"  # type: ignore[union-attr]
    assert zone.body.get("tags", "Env").value == "prod"  # type: ignore[union-attr]
