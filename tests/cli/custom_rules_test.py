"""`compliance-bot rules test DIR` and `check` / `scan --rules DIR`: custom rules tried locally, as
the App runs them from an organisation's `.github/compliance/rules`."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from bot.report.json_report import report_schema
from tests.cli.main_test import make_repo, run
from tests.rules.spec.custom_samples import OWNER_TAG, UNTAGGED_BUCKET, line_of

BROKEN = OWNER_TAG.replace("ACME-S3-001", "ACME-S3-002").replace("lines: [1, 7]", "lines: [7]")


def rules_folder(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / ".github" / "compliance" / "rules"
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def test_rules_test_accepts_a_good_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = rules_folder(tmp_path, {"owner-tag.yml": OWNER_TAG, "README.md": "Our rules.\n"})
    code, out, err = run(capsys, "rules", "test", str(folder))
    assert (code, err) == (0, "")
    assert out.splitlines() == ["ACME-S3-001     medium   S3 bucket has no owner tag: valid, its examples pass",
                                "1 rule(s) accepted, 0 file(s) refused"]


def test_rules_test_names_each_refusal_by_file_and_line_and_exits_1(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    folder = rules_folder(tmp_path, {"owner-tag.yml": OWNER_TAG, "broken.yml": BROKEN, "old.yaml": OWNER_TAG})
    (folder / "nested").mkdir()
    code, out, _ = run(capsys, "rules", "test", str(folder))
    assert code == 1
    line = line_of(BROKEN, "- path: main.tf")
    assert out.splitlines() == [
        (f"{folder}/broken.yml:{line}: tests.flag[0] (main.tf) must be flagged on line 7, but the rule flagged lines 1, 7 "
        "(line 1: S3 bucket has no owner tag (tags.owner is not set).)"),
        (f"{folder}/nested:1: 'nested' is a folder: rule files live directly in .github/compliance/rules/, folders in it "
        "are not read"),
        f"{folder}/old.yaml:1: 'old.yaml': rule files end in .yml (rename it old.yml)",
        "ACME-S3-001     medium   S3 bucket has no owner tag: valid, its examples pass",
        "1 rule(s) accepted, 3 file(s) refused",
    ]


@pytest.mark.parametrize("make", ["missing", "empty", "file"])
def test_rules_test_on_no_rules_folder_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        make: str) -> None:
    target = tmp_path / "rules"
    if make == "empty":
        target.mkdir()
    elif make == "file":
        target.write_text(OWNER_TAG)
    code, out, err = run(capsys, "rules", "test", str(target))
    assert (code, out) == (2, "")
    expected = "no rule files (*.yml) here" if make == "empty" else "not a directory"
    assert err.startswith(f"compliance-bot: error: {target}: {expected}")


def test_scan_with_rules_runs_them_beside_the_built_in_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = rules_folder(tmp_path, {"owner-tag.yml": OWNER_TAG})
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "main.tf").write_text(UNTAGGED_BUCKET)
    code, out, _ = run(capsys, "scan", str(tree), "--rules", str(folder), "--format", "json")
    report = json.loads(out)
    jsonschema.validate(report, report_schema())
    assert code == 1 and report["errors"] == []
    assert [(f["path"], f["line"]) for f in report["findings"] if f["rule_id"] == "ACME-S3-001"] == [("main.tf", 1)]
    code, out, _ = run(capsys, "scan", str(tree), "--format", "json")
    assert not [f for f in json.loads(out)["findings"] if f["rule_id"] == "ACME-S3-001"]


def test_a_refused_rule_is_an_error_of_the_scan_and_the_others_still_run(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    folder = rules_folder(tmp_path, {"owner-tag.yml": OWNER_TAG, "broken.yml": BROKEN})
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "README.md").write_text("nothing to judge\n")
    code, out, _ = run(capsys, "scan", str(tree), "--rules", str(folder), "--format", "json")
    report = json.loads(out)
    jsonschema.validate(report, report_schema())
    assert (code, report["conclusion"], report["findings"]) == (1, "failure", [])
    assert [(e["path"], e["line"]) for e in report["errors"]] == [(f"{folder}/broken.yml", line_of(BROKEN, "- path:"))]
    code, out, _ = run(capsys, "scan", str(tree), "--rules", str(folder))
    assert code == 1 and f"{folder}/broken.yml:{line_of(BROKEN, '- path:')} error: tests.flag[0]" in out


def test_check_with_rules_reviews_the_change_with_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path, {"README.md": "x\n"}, {"infra/main.tf": UNTAGGED_BUCKET})
    folder = rules_folder(tmp_path, {"owner-tag.yml": OWNER_TAG})
    code, out, _ = run(capsys, "check", "--repo", str(repo), "--base", "HEAD~1", "--rules", str(folder),
                       "--format", "sarif")
    sarif = json.loads(out)
    assert code == 1
    (run_,) = sarif["runs"]
    assert "ACME-S3-001" in {rule["id"] for rule in run_["tool"]["driver"]["rules"]}
    located = [(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                r["locations"][0]["physicalLocation"]["region"]["startLine"])
               for r in run_["results"] if r["ruleId"] == "ACME-S3-001"]
    assert located == [("infra/main.tf", 1)]
