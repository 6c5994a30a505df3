"""The evidence record: built from a real review (engine, default rule set), what it names, what it
never holds (a secret, masked or not), its copy in a check run and how that copy is read back."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from typing import Any

import jsonschema
import pytest

from bot.engine.policy import POLICY_PATH, parse_policy
from bot.engine.review import Engine, Review
from bot.engine.tree import MemoryTree
from bot.github.checks import MAX_OUTPUT_CHARS, with_evidence
from bot.report.evidence import (
    NO_POLICY_FILE,
    PolicySource,
    Subject,
    build_evidence,
    git_blob_sha,
    merge_record,
)
from bot.report.evidence_block import MARKER, EvidenceUnreadable, evidence_block, fitted, parse_evidence_block
from bot.report.json_report import report_schema, review_json
from rules.registry import catalog_version, default_rule_set

RULES = default_rule_set()
SECRET = "Tr0ub4dor&3xyzzyPlughQ"
MAIN_TF = f"""\
resource "aws_ebs_volume" "legacy" {{
  availability_zone = "a"
  size              = 1
  encrypted         = false
}}

resource "aws_ebs_volume" "new" {{
  availability_zone = "a"
  size              = 1
  encrypted         = false
}}

locals {{
  password = "{SECRET}"
}}
"""
POLICY = """\
rules:
  disable: [CB-AWS-017]
suppressions:
  - rule: CB-AWS-001
    resource: aws_ebs_volume.legacy
    reason: "Migration tracked in OPS-12"
    expires: 2099-01-31
"""
SUBJECT = Subject("octo-org/infra", 7, "a" * 40, "b" * 40, "main", "compliance", 99, "compliance-bot/v1:abc")
NOW = dt.datetime(2026, 3, 1, 12, 0, 5, tzinfo=dt.UTC)


def review_of(policy_text: str | None = POLICY) -> tuple[Review, dict[str, Any]]:
    policy = parse_policy(policy_text)
    review = Engine(RULES, policy).scan(MemoryTree({"infra/main.tf": MAIN_TF}))
    source = PolicySource(POLICY_PATH, git_blob_sha(policy_text.encode()) if policy_text else None)
    return review, build_evidence(SUBJECT, source, policy, RULES, "0.1.0", review.conclusion(policy), NOW, review,
                                  review.errors, review.not_reviewed)


def test_the_record_names_the_change_policy_rules_findings_and_exceptions() -> None:
    review, record = review_of()
    assert {k: record[k] for k in ("repository", "pull_request", "head_sha", "base_sha", "base_ref")} == {
        "repository": "octo-org/infra", "pull_request": 7, "head_sha": "a" * 40, "base_sha": "b" * 40,
        "base_ref": "main"}
    assert record["check"] == {"name": "compliance", "run_id": 99, "external_id": "compliance-bot/v1:abc"}
    assert record["policy"] == {"path": POLICY_PATH, "blob_sha": git_blob_sha(POLICY.encode()), "source": "file",
                                "fail_on": "low", "rules_disabled": ["CB-AWS-017"], "paths_ignored": []}
    assert record["rule_set_version"] == catalog_version() and record["rule_set_version"].startswith("sha256:")
    assert record["conclusion"] == "failure" and record["recorded_at"] == "2026-03-01T12:00:05Z"
    # The rules that ran are the engine's: Terraform and text rules, never a Dockerfile rule.
    assert record["rules_evaluated"] == list(review.rules_applied)
    assert "CB-AWS-001" in record["rules_evaluated"] and not any(r.startswith("CB-DOCKER") for r in review.rules_applied)
    assert "CB-AWS-017" not in record["rules_evaluated"]
    assert "164.312(a)(2)(iv)" in record["controls_touched"]["hipaa"]
    by_fingerprint = {f["fingerprint"]: f for f in record["findings"]}
    legacy = next(f for f in review.findings if f.resource == "aws_ebs_volume.legacy")
    new = next(f for f in review.findings if f.resource == "aws_ebs_volume.new" and f.rule_id == "CB-AWS-001")
    assert by_fingerprint[legacy.fingerprint] == {
        "rule": "CB-AWS-001", "path": "infra/main.tf", "line": 4, "severity": "high",
        "controls": {k: list(v) for k, v in sorted(legacy.controls.items())}, "fingerprint": legacy.fingerprint,
        "suppressed": True, "blocking": False}
    assert by_fingerprint[new.fingerprint]["blocking"] is True
    suppression, disabled = record["exceptions"]
    assert suppression == {
        "kind": "suppression", "rule": "CB-AWS-001", "path": "infra/main.tf", "line": 4,
        "fingerprint": legacy.fingerprint, "controls": by_fingerprint[legacy.fingerprint]["controls"],
        "reason": "Migration tracked in OPS-12", "expires": "2099-01-31",
        "scope": {"rule": "CB-AWS-001", "path": None, "resource": "aws_ebs_volume.legacy"},
        "ticket": None, "approver": None, "approved_at": None}
    assert disabled["kind"] == "disabled_rule" and disabled["rule"] == "CB-AWS-017" and disabled["controls"]


def test_no_secret_reaches_the_record_nor_its_check_run_copy() -> None:
    review, record = review_of()
    assert any(f.rule_id.startswith("CB-SECRET") for f in review.findings), "the planted secret was found"
    for text in (json.dumps(record), evidence_block(record)):
        assert not any(SECRET[i:i + 4] in text for i in range(len(SECRET) - 3))


def test_without_a_policy_file_the_record_says_default() -> None:
    _, record = review_of(None)
    assert record["policy"]["blob_sha"] is None and record["policy"]["source"] == NO_POLICY_FILE
    assert record["exceptions"] == []


def test_a_check_that_ran_no_rules_says_why() -> None:
    record = build_evidence(SUBJECT, PolicySource(POLICY_PATH, None, unread=True), parse_policy(None), RULES, "0.1.0",
                            "failure", NOW, outcome="Review could not finish")
    assert (record["outcome"], record["rules_evaluated"], record["findings"]) == ("Review could not finish", [], [])
    assert record["policy"]["source"] == "not read: the review ended before it"


def test_git_blob_sha_is_gits() -> None:
    data = POLICY.encode() + b"\r\n\x00binary"
    expected = subprocess.run(["git", "hash-object", "--stdin"], input=data, capture_output=True, check=True)
    assert git_blob_sha(data) == expected.stdout.decode().strip()


def test_the_json_report_carries_the_record_and_its_schema_accepts_it() -> None:
    review, record = review_of()
    report = review_json(review, parse_policy(POLICY), record)
    jsonschema.validate(report, report_schema())
    assert report["evidence"] is record
    broken = {**report, "evidence": {**record, "recorded_at": "yesterday"}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, report_schema())


def test_the_check_run_copy_reads_back_as_the_record() -> None:
    _, record = review_of()
    text = with_evidence("- details", record)
    assert text.startswith("- details") and MARKER in text
    assert parse_evidence_block(text) == json.loads(json.dumps(record))
    assert parse_evidence_block("no record here") is None


def test_paths_that_would_close_the_fence_or_the_html_survive() -> None:
    _, record = review_of()
    record["findings"][0]["path"] = "we```ird</details><!--x-->&.tf"
    block = evidence_block(record)
    assert block.count("```") == 2 and "</details>" not in block.split(MARKER)[1].split("```")[1]
    read = parse_evidence_block(block)
    assert read is not None and read["findings"][0]["path"] == "we```ird</details><!--x-->&.tf"


def test_a_huge_record_is_cut_to_fit_and_says_how_much_was_left_out() -> None:
    _, record = review_of()
    many = [{**record["findings"][0], "line": n} for n in range(1, 5001)]
    big = {**record, "findings": many}
    text = with_evidence("x" * MAX_OUTPUT_CHARS, big)
    assert len(text) <= MAX_OUTPUT_CHARS
    copy = parse_evidence_block(text)
    assert copy is not None and 0 < len(copy["findings"]) < 5000
    assert copy["omitted"] == {"findings": 5000 - len(copy["findings"])}
    assert copy["exceptions"] == record["exceptions"]  # cut last, and not needed here
    assert fitted(record) == record  # a normal record is never cut


def test_broken_blocks_are_errors_not_silently_empty() -> None:
    with pytest.raises(EvidenceUnreadable, match="not followed by a JSON block"):
        parse_evidence_block(f"{MARKER}\nplain text")
    with pytest.raises(EvidenceUnreadable, match="not valid JSON"):
        parse_evidence_block(f"{MARKER}\n```json\n{{\"evidence_version\": 1,\n```")
    with pytest.raises(EvidenceUnreadable, match="version 1"):
        parse_evidence_block(f"{MARKER}\n```json\n{{\"evidence_version\": 7}}\n```")


def test_a_merge_record() -> None:
    record = merge_record("o/r", 3, "a" * 40, "b" * 40, "main", "2026-03-01T10:00:00Z", "c" * 40, "octocat", "d-1", NOW)
    assert record["event"] == "merge" and record["merged_by"] == "octocat" and record["recorded_at"] == "2026-03-01T12:00:05Z"


def test_a_suppression_written_with_a_rules_alias_is_named_as_written() -> None:
    """A policy may name a rule by an alias (its CloudFormation twin's id): the record's exception
    is that suppression, scope and reason as the policy wrote them."""
    review, record = review_of(POLICY.replace("  - rule: CB-AWS-001\n", "  - rule: CB-CFN-001\n"))
    legacy = next(f for f in review.findings if f.resource == "aws_ebs_volume.legacy" and f.rule_id == "CB-AWS-001")
    assert legacy.suppressed
    suppression = next(e for e in record["exceptions"] if e["kind"] == "suppression")
    assert suppression["fingerprint"] == legacy.fingerprint and suppression["rule"] == "CB-AWS-001"
    assert suppression["scope"] == {"rule": "CB-CFN-001", "path": None, "resource": "aws_ebs_volume.legacy"}
    assert suppression["reason"] == "Migration tracked in OPS-12" and suppression["expires"] == "2099-01-31"
