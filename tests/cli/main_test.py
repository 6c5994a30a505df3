"""`compliance-bot check/scan/rules` on real git repositories made in temporary folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from bot.cli.main import main
from bot.report.json_report import report_schema

SCHEMA = report_schema()
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

OLD_VOLUME = """\
resource "aws_ebs_volume" "old" {
  availability_zone = "eu-west-1a"
  size              = 10
  encrypted         = false
}
"""
NEW_VOLUME = """
resource "aws_ebs_volume" "new" {
  availability_zone = "eu-west-1a"
  size              = 10
  encrypted         = false
}
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
                          check=True, capture_output=True, text=True).stdout


def make_repo(tmp_path: Path, base: dict[str, str], head: dict[str, str | None]) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for stage in (base, head):
        for path, text in stage.items():
            target = repo / path
            if text is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "--allow-empty", "-m", "commit")
    return repo


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_check_reports_only_the_new_volume_on_its_encrypted_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path, {"infra/main.tf": OLD_VOLUME}, {"infra/main.tf": OLD_VOLUME + NEW_VOLUME})
    code, out, _ = run(capsys, "check", "--repo", str(repo), "--base", "HEAD~1", "--format", "json")
    report = json.loads(out)
    jsonschema.validate(report, SCHEMA)
    assert code == 1
    assert report["conclusion"] == "failure"
    assert [(f["path"], f["line"], f["resource"]) for f in report["findings"]] == [
        ("infra/main.tf", 10, "aws_ebs_volume.new")]
    finding = report["findings"][0]
    assert finding["suggestion"] == "  encrypted         = true"
    assert finding["controls"], "every finding names the regulation controls it enforces"


def test_check_defaults_base_to_the_default_branch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path, {"infra/main.tf": OLD_VOLUME}, {})
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "infra" / "main.tf").write_text(OLD_VOLUME + NEW_VOLUME)
    git(repo, "commit", "-q", "-am", "add volume")
    code, out, err = run(capsys, "check", "--repo", str(repo))
    assert code == 1
    assert out.splitlines()[0] == "infra/main.tf:10 CB-AWS-001 high EBS volume is not encrypted (encrypted = false)."
    assert "infra/main.tf:4" not in out  # the untouched old volume
    main_sha, feature_sha = git(repo, "rev-parse", "main").strip(), git(repo, "rev-parse", "feature").strip()
    assert err.splitlines() == [f"compliance-bot: base main@{main_sha[:7]} ... head feature@{feature_sha[:7]}, 1 file"]


def test_clean_change_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fixed = OLD_VOLUME + NEW_VOLUME.replace("false", "true")
    repo = make_repo(tmp_path, {"infra/main.tf": OLD_VOLUME}, {"infra/main.tf": fixed})
    code, out, _ = run(capsys, "check", "--repo", str(repo), "--base", "HEAD~1", "--format", "json")
    assert code == 0
    assert json.loads(out)["conclusion"] == "success"


def test_broken_terraform_is_an_error_naming_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path, {"infra/main.tf": OLD_VOLUME},
                     {"infra/broken.tf": 'resource "aws_s3_bucket" "b" {\n  bucket = "x"\n  acl = \n'})
    code, out, _ = run(capsys, "check", "--repo", str(repo), "--base", "HEAD~1", "--format", "json")
    report = json.loads(out)
    jsonschema.validate(report, SCHEMA)
    assert code == 1
    assert [e["path"] for e in report["errors"]] == ["infra/broken.tf"]
    assert report["conclusion"] == "failure"


def test_fail_on_raises_the_bar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path, {"infra/main.tf": OLD_VOLUME}, {"infra/main.tf": OLD_VOLUME + NEW_VOLUME})
    code, out, _ = run(capsys, "check", "--repo", str(repo), "--base", "HEAD~1", "--format", "json",
                       "--fail-on", "critical")
    report = json.loads(out)
    assert report["findings"] and all(f["severity"] != "critical" for f in report["findings"])
    assert code == 0 and report["conclusion"] == "success"


def test_sarif_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path, {"infra/main.tf": OLD_VOLUME}, {"infra/main.tf": OLD_VOLUME + NEW_VOLUME})
    code, out, _ = run(capsys, "check", "--repo", str(repo), "--base", "HEAD~1", "--format", "sarif")
    sarif = json.loads(out)
    assert code == 1 and sarif["version"] == "2.1.0"
    (result,) = sarif["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 10
    assert result["ruleId"] in {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", "--repo", "/nonexistent-dir-xyz"], "not a git repository"),
        (["check", "--base", "no-such-rev"], "unknown revision"),
        (["rules", "--framework", "nope"], "unknown framework"),
        (["scan", "/nonexistent-dir-xyz"], "not a directory"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path, {"a.txt": "a\n"}, {"a.txt": "b\n"})
    monkeypatch.chdir(repo)
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in err


def test_scan_reviews_every_resource(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "main.tf").write_text(OLD_VOLUME + NEW_VOLUME)
    code, out, _ = run(capsys, "scan", str(tmp_path), "--format", "json")
    report = json.loads(out)
    jsonschema.validate(report, SCHEMA)
    assert code == 1
    assert sorted(f["resource"] for f in report["findings"]) == ["aws_ebs_volume.new", "aws_ebs_volume.old"]


def test_rules_lists_rules_per_framework(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules", "--framework", "hipaa", "--format", "json")
    rules = json.loads(out)["rules"]
    assert code == 0 and rules
    assert all("hipaa" in r["controls"] for r in rules)


def test_rules_framework_prints_the_coverage_matrix(capsys: pytest.CaptureFixture[str]) -> None:
    from rules.registry import load_frameworks

    cis = next(f for f in load_frameworks() if f.key == "cis-aws")
    code, out, _ = run(capsys, "rules", "--framework", "cis-aws")
    lines = out.splitlines()
    assert code == 0
    assert lines[0] == "CIS Amazon Web Services Foundations Benchmark v3.0.0 (cis-aws)"
    at = lines.index('1.16   Ensure IAM policies that allow full "*:*" administrative privileges are not attached')
    assert lines[at + 1].split() == ["CB-AWS-022", "high", "IAM", "policy", "grants", "full", "administrative", "access"]
    root_mfa = lines.index("1.5    Ensure MFA is enabled for the 'root' user account")
    assert lines[root_mfa + 1].startswith("       out of scope: Root MFA is enrolled by a person")
    contact = lines.index("1.1    Maintain current contact details")
    assert lines[contact + 1].startswith("       manual: ")
    automated = sum(1 for c in cis.controls if c.automated)
    manual = sum(1 for c in cis.controls if c.coverage == "manual")
    scope = sum(1 for c in cis.controls if c.coverage == "out-of-scope")
    assert lines[-1] == f"62 controls, {automated} automated ({manual} manual, {scope} out of scope)"
    assert automated >= 12 and automated + manual + scope == 62


def test_rules_framework_json_lists_every_control_with_its_rules_or_why(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules", "--framework", "hipaa", "--format", "json")
    report = json.loads(out)
    assert code == 0
    assert report["framework"] == {"key": "hipaa", "name": "HIPAA Security Rule",
                                   "version": "45 CFR Part 164 Subpart C (as amended 2013)"}
    controls = {c["id"]: c for c in report["controls"]}
    encryption = controls["164.312(a)(2)(iv)"]
    assert encryption["coverage"] == "automated" and encryption["why"] is None
    assert {"id": "CB-AWS-016", "title": "EFS file system is not encrypted", "severity": "high"} in encryption["rules"]
    risk = controls["164.308(a)(1)(ii)(A)"]
    assert risk["coverage"] == "manual" and risk["rules"] == [] and risk["why"]
    assert controls["164.310(a)(1)"]["coverage"] == "out-of-scope"
    summary = report["summary"]
    assert summary["controls"] == len(report["controls"])
    assert summary["automated"] == sum(1 for c in report["controls"] if c["rules"])
    assert summary["automated"] + summary["manual"] + summary["out_of_scope"] == summary["controls"]


def test_demo_prints_the_review(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "demo")
    assert code == 0
    assert "aws_ebs_volume.customer_data" in out
    assert "aws_ebs_volume.legacy" not in out  # untouched resources are never reported
    assert "AKIAZ7QWERTYUIOPASDF" not in out  # a detected secret is never echoed
    assert "would conclude: failure" in out


HELM_TEMPLATE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}
  labels:
    {{- include "app.labels" . | nindent 4 }}
data:
  mode: {{ .Values.mode | quote }}
"""


def helm_and_bicep_change(tmp_path: Path, policy: str | None = None) -> Path:
    base = {"README.md": "x\n", **({".github/compliance.yml": policy} if policy else {})}
    return make_repo(tmp_path, base, {"charts/app/templates/pod.yaml": HELM_TEMPLATE,
                                      "infra/main.bicep": "param location string\n", "app.py": "x = 1\n"})


def test_check_text_lists_what_was_not_reviewed_before_the_verdict(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    repo = helm_and_bicep_change(tmp_path)
    code, out, _ = run(capsys, "check", "--repo", str(repo), "--base", "HEAD~1")
    lines = out.splitlines()
    assert code == 0
    assert lines[-3].startswith("not reviewed: charts/app/templates/pod.yaml (helm template): Go template (Helm)")
    assert lines[-2] == "not reviewed: infra/main.bicep (bicep): Azure Bicep is not parsed: the resources it deploys " \
                        "are not checked"
    assert lines[-1] == "0 finding(s), 0 unsuppressed, 0 error(s), 2 not reviewed: success"


def test_check_json_and_sarif_carry_the_not_reviewed_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = helm_and_bicep_change(tmp_path)
    code, out, _ = run(capsys, "check", "--repo", str(repo), "--base", "HEAD~1", "--format", "json")
    report = json.loads(out)
    jsonschema.validate(report, SCHEMA)
    assert code == 0 and report["conclusion"] == "success"
    assert [(n["path"], n["line"], n["what"], n["blocking"]) for n in report["not_reviewed"]] == [
        ("charts/app/templates/pod.yaml", None, "helm template", False), ("infra/main.bicep", None, "bicep", False)]
    code, out, _ = run(capsys, "check", "--repo", str(repo), "--base", "HEAD~1", "--format", "sarif")
    notifications = json.loads(out)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert code == 0
    assert [(n["level"], n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for n in notifications] == [
        ("note", "charts/app/templates/pod.yaml"), ("note", "infra/main.bicep")]


def test_the_policy_switch_makes_the_check_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = helm_and_bicep_change(tmp_path, "not_reviewed:\n  fail: [helm template]\n")
    code, out, _ = run(capsys, "check", "--repo", str(repo), "--base", "HEAD~1")
    assert code == 1
    assert "(helm template): Go template (Helm)" in out and "[fails the check: not_reviewed.fail in the policy]" in out
    assert out.splitlines()[-1] == "0 finding(s), 0 unsuppressed, 0 error(s), 2 not reviewed: failure"


def test_scan_finds_a_literal_privileged_container_in_a_helm_chart(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """A chart template is judged as written: the literal `privileged: true` in one branch of an
    if/else is a finding on its line; the file is still listed as a template only Helm renders."""
    chart = FIXTURES / "helm" / "web"
    for source in chart.rglob("*"):
        if source.is_file():
            target = tmp_path / "web" / source.relative_to(chart)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(source.read_text())
    code, out, _ = run(capsys, "scan", str(tmp_path), "--format", "json")
    report = json.loads(out)
    jsonschema.validate(report, SCHEMA)
    assert code == 1 and report["errors"] == []
    privileged = [f for f in report["findings"] if f["rule_id"] == "CB-K8S-001"]
    assert [(f["path"], f["line"]) for f in privileged] == [("web/templates/deployment.yaml", 31)]
    listed = {n["path"]: n for n in report["not_reviewed"]}
    assert listed["web/templates/deployment.yaml"]["what"] == "helm template"
    assert "reviewed as written" in listed["web/templates/deployment.yaml"]["reason"]


def test_scan_lists_binary_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (tmp_path / "main.tf").write_text(NEW_VOLUME.replace("false", "true"))
    code, out, _ = run(capsys, "scan", str(tmp_path), "--format", "json")
    report = json.loads(out)
    jsonschema.validate(report, SCHEMA)
    assert code == 0 and [(n["path"], n["what"]) for n in report["not_reviewed"]] == [("logo.png", "binary file")]


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        (b"fail_on: high\n# caf\xe9\n", "not UTF-8 text (byte 20)"),
        (b"suppressions:\n  - {rule: X, reason: y, expires: 2099-01-31 10:00:00}\n", "must be a date like 2027-01-31"),
        (b"a: " + b"[" * 10_000 + b"]" * 10_000, "nested deeper than 32 levels"),
    ],
)
def test_a_bad_policy_file_is_a_usage_error_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], policy: bytes, message: str
) -> None:
    (tmp_path / "main.tf").write_text('resource "aws_ebs_volume" "a" {\n  size = 1\n}\n')
    policy_file = tmp_path / "policy.yml"
    policy_file.write_bytes(policy)
    assert main(["scan", str(tmp_path), "--policy", str(policy_file)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


UNENCRYPTED_TF = 'resource "aws_ebs_volume" "v" {\n  size      = 1\n  encrypted = false\n}\n'


@pytest.mark.parametrize(
    "name",
    ["back\\slash.tf", "new\nline.tf", "tab\there.tf", 'quo"te.tf', "space here.tf", "caf\u00e9/main.tf",
     "form\ffeed.tf"],
    ids=["backslash", "newline", "tab", "quote", "space", "non-ascii dir", "form feed"],
)
def test_check_reads_names_git_would_quote(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    repo = make_repo(tmp_path, {"README.md": "x\n"}, {name: UNENCRYPTED_TF})
    code, out, err = run(capsys, "check", "--repo", str(repo), "--base", "HEAD~1", "--format", "json")
    report = json.loads(out)
    assert [(f["rule_id"], f["path"], f["line"]) for f in report["findings"]] == [("CB-AWS-001", name, 3)], err
    assert code == 1


def test_check_reads_a_renamed_file_with_an_odd_name_under_its_new_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    volume = UNENCRYPTED_TF.replace("encrypted = false", "encrypted = true")
    repo = make_repo(tmp_path, {"old\\name.tf": volume}, {"old\\name.tf": None, "new\tname.tf": UNENCRYPTED_TF})
    _code, out, _err = run(capsys, "check", "--repo", str(repo), "--base", "HEAD~1", "--format", "json")
    # followed through the rename: the base's encrypted volume makes the change a regression too
    assert sorted((f["rule_id"], f["path"], f["line"]) for f in json.loads(out)["findings"]) == [
        ("CB-AWS-001", "new\tname.tf", 3), ("CB-REG-001", "new\tname.tf", 3)]


def test_a_file_past_the_size_limit_is_an_error_and_its_patch_is_never_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli.git import GitTree, changed_files
    from bot.engine.tree import MAX_FILE_BYTES

    line = 'resource "aws_ebs_volume" "v" { size = 1 }\n'
    huge = line * (MAX_FILE_BYTES // len(line) + 10)
    repo = make_repo(tmp_path, {"README.md": "x\n"}, {"huge.tf": huge, "small.tf": UNENCRYPTED_TF})
    head = GitTree(repo, "HEAD")
    diffs = {d.path: d for d in changed_files(repo, "HEAD~1", "HEAD", head.too_large)}
    assert diffs["huge.tf"].complete is False and diffs["huge.tf"].hunks == ()
    assert diffs["small.tf"].complete and diffs["small.tf"].added_lines == frozenset({1, 2, 3, 4})
    code, out, _err = run(capsys, "check", "--repo", str(repo), "--base", "HEAD~1", "--format", "json")
    report = json.loads(out)
    assert code == 1
    assert [e["path"] for e in report["errors"]] == ["huge.tf"]
    assert [(f["path"], f["line"]) for f in report["findings"]] == [("small.tf", 3)]


def test_a_file_renamed_past_the_size_limit_keeps_the_listing_and_the_patches_aligned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.engine.tree import MAX_FILE_BYTES

    line = 'resource "aws_ebs_volume" "v" { size = 1 }\n'
    huge = line * (MAX_FILE_BYTES // len(line) + 10)
    repo = make_repo(tmp_path, {"a.tf": huge, "small.tf": "# x\n"},
                     {"a.tf": None, "b.tf": huge + "# more\n", "small.tf": UNENCRYPTED_TF})
    code, out, err = run(capsys, "check", "--repo", str(repo), "--base", "HEAD~1", "--format", "json")
    report = json.loads(out)
    assert code == 1
    assert [e["path"] for e in report["errors"]] == ["b.tf"], err
    assert [(f["path"], f["line"]) for f in report["findings"]] == [("small.tf", 3)]


def test_check_says_what_an_unread_file_is(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path, {"README.md": "x\n"}, {"common/vol.tf": UNENCRYPTED_TF, "bin.tf": "# \0\nx = 1\n"})
    (repo / "env").mkdir()
    (repo / "env" / "vol.tf").symlink_to("../common/vol.tf")
    commit = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{commit},vendor/modules")  # a submodule
    git(repo, "add", "env/vol.tf")
    git(repo, "commit", "-q", "-m", "links")
    code, out, _err = run(capsys, "check", "--repo", str(repo), "--base", "HEAD~2", "--format", "json")
    report = json.loads(out)
    assert code == 1
    assert [(e["path"], e["message"]) for e in report["errors"]] == [
        ("bin.tf", "file could not be read: binary (a NUL byte in its first 8 KiB)")]
    listed = {(n["path"], n["what"]) for n in report["not_reviewed"]}
    assert {("env/vol.tf", "symlink"), ("vendor/modules", "submodule")} <= listed
    assert [(f["path"], f["line"]) for f in report["findings"]] == [("common/vol.tf", 3)]


def test_scan_names_the_size_of_a_file_past_the_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.engine.tree import MAX_FILE_BYTES, MAX_SCAN_BYTES

    (tmp_path / "big.tf").write_text("# " + "x" * MAX_FILE_BYTES + "\n")
    (tmp_path / "huge.tf").write_text("# " + "x" * MAX_SCAN_BYTES + "\n")
    code, out, _err = run(capsys, "scan", str(tmp_path), "--format", "json")
    assert code == 1
    assert [(e["path"], e["message"]) for e in json.loads(out)["errors"]] == [
        ("huge.tf", "file could not be read: too large (16.8 MB; the limit is 16 MiB)"),
        ("big.tf", "file too large to review (5.0 MiB, limit 5 MiB)")]


def test_scan_reports_a_secret_in_a_file_whose_name_is_not_utf8(tmp_path: Path) -> None:
    name = os.fsdecode(b"caf\xe9.env")  # git and the file system keep names as bytes; Python escapes the byte
    (tmp_path / name).write_text("AWS_ACCESS_KEY_ID=AKIAIOSFODNN7ABCDEFG\n")
    for output in ("text", "json", "sarif"):
        done = subprocess.run([sys.executable, "-m", "bot.cli", "scan", str(tmp_path), "--format", output],
                              capture_output=True, timeout=120, check=False)
        assert done.returncode == 1, done.stderr[-2000:]  # was a UnicodeEncodeError traceback, nothing reported
        assert b"Traceback" not in done.stderr and b"CB-SECRET-001" in done.stdout


def test_check_never_honours_an_exception_the_change_adds_and_scan_honours_the_trees(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """Locally nobody can approve: an exception the change adds blocks (CB-EXC-001) and its finding
    stays; a scan takes the tree's exceptions as already approved."""
    policy = "exceptions:\n  approvers: [octo-org/security]\n"
    excepted = NEW_VOLUME.replace("encrypted         = false",
                                  'encrypted         = false  # compliance:ignore CB-AWS-001 reason="scratch disk"')
    repo = make_repo(tmp_path, {".github/compliance.yml": policy, "infra/main.tf": OLD_VOLUME},
                     {"infra/main.tf": OLD_VOLUME + excepted})
    code, out, _ = run(capsys, "check", "--repo", str(repo), "--base", "HEAD~1", "--format", "json")
    report = json.loads(out)
    jsonschema.validate(report, SCHEMA)
    assert code == 1 and [(f["rule_id"], f["line"], f["blocking"]) for f in report["findings"]] == [
        ("CB-AWS-001", 10, True), ("CB-EXC-001", 10, True)]
    assert [(e["status"], e["line"], e["reason"]) for e in report["exceptions"]] == [("needs_approval", 10, "scratch disk")]
    code, out, _ = run(capsys, "check", "--repo", str(repo), "--base", "HEAD~1")
    assert code == 1 and "exception: infra/main.tf:10 CB-AWS-001 (inline, needs approval): scratch disk" in out
    code, out, _ = run(capsys, "scan", str(repo / "infra"), "--policy", str(repo / ".github/compliance.yml"),
                       "--format", "json")
    scanned = json.loads(out)
    assert [(f["line"], f["suppressed"]) for f in scanned["findings"]] == [(4, False), (10, True)]
    assert scanned["exceptions"][0]["status"] == "honoured"


def test_the_json_evidence_names_the_blob_of_the_policy_the_check_read(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    policy = "not_reviewed:\n  fail: [helm template]\n"
    repo = helm_and_bicep_change(tmp_path, policy)
    code, out, _ = run(capsys, "check", "--repo", str(repo), "--base", "HEAD~1", "--format", "json")
    assert code == 1  # the policy was read: its switch fails the check
    blob = git(repo, "rev-parse", "HEAD~1:.github/compliance.yml").strip()
    named = json.loads(out)["evidence"]["policy"]
    assert (named["path"], named["blob_sha"], named["source"]) == (".github/compliance.yml", blob, "file")
    (tmp_path / "bare").mkdir()
    bare = make_repo(tmp_path / "bare", {"a.txt": "a\n"}, {"a.txt": "b\n"})
    code, out, _ = run(capsys, "check", "--repo", str(bare), "--base", "HEAD~1", "--format", "json")
    assert code == 0 and json.loads(out)["evidence"]["policy"]["blob_sha"] is None
