"""`compliance-bot policy validate FILE [--org FILE]`: "FILE: valid", or every problem as
`file:line: message` and exit 2; never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli.main import main


def validate(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: bytes, org: bytes | None = None
             ) -> tuple[int, str, str, Path]:
    policy = tmp_path / "compliance.yml"
    policy.write_bytes(text)
    argv = ["policy", "validate", str(policy)]
    if org is not None:
        (tmp_path / "org.yml").write_bytes(org)
        argv += ["--org", str(tmp_path / "org.yml")]
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err, policy


def test_a_valid_policy_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err, policy = validate(tmp_path, capsys, b"fail_on: high\nrules:\n  modes: {CB-AWS-017: monitor}\n"
                                                        b"frameworks: [hipaa, {name: pci-dss, when: {topics: [pci]}}]\n")
    assert (code, out, err) == (0, f"{policy}: valid\n", "")


def test_every_error_is_printed_with_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err, policy = validate(tmp_path, capsys, b"fail-on: high\nsuppressions:\n  - rule: CB-AWS-001\n"
                                                        b"    reason: migrating\n    expires: 2027-13-01\n")
    assert code == 2 and err == ""
    assert out.splitlines() == [
        f"{policy}:1: 'fail-on' is not a setting; did you mean 'fail_on'?",
        f"{policy}:5: 'suppressions[0].expires' must be a date like 2027-01-31, not '2027-13-01'",
    ]


@pytest.mark.parametrize(("text", "line"), [
    (b"fail_on: high\n# caf\xe9\n", "2: not UTF-8 text (byte 20)"),
    (b"a: " + b"[" * 10_000 + b"]" * 10_000, "1: nested deeper than 32 levels"),
    (b"fail_on: [high\n", "2: not valid YAML"),
])
def test_hostile_files_are_errors_not_tracebacks(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: bytes,
                                                 line: str) -> None:
    code, out, err, policy = validate(tmp_path, capsys, text)
    assert code == 2 and out.startswith(f"{policy}:{line}") and "Traceback" not in out + err


def test_with_the_organisation_policy_each_loosening_is_an_error(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _, policy = validate(tmp_path, capsys, b"extends: org\nfail_on: critical\nrules:\n  disable: [CB-AWS-001]\n",
                                    b"fail_on: medium\n")
    assert code == 2
    assert out.splitlines() == [
        (f"{policy}:2: fail_on: critical would block less than the organisation policy's medium; a repository may "
        "only lower it"),
        f"{policy}:4: rules.disable: CB-AWS-001 is required by the organisation policy",
    ]
    code, out, _, policy = validate(tmp_path, capsys, b"extends: org\nfail_on: high\n", b"fail_on: critical\n")
    assert (code, out) == (0, f"{policy}: valid (beneath {tmp_path / 'org.yml'})\n")


def test_an_invalid_organisation_policy_is_named_as_such(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _, _ = validate(tmp_path, capsys, b"extends: org\n", b"fail_on: high\nextends: org\n")
    assert code == 2 and out == f"{tmp_path / 'org.yml'}:2: extends: an organisation policy is the base of every " \
                                "repository's; it extends nothing\n"
    code, out, _, _ = validate(tmp_path, capsys, b"extends: org\n", b"fail_on: hgh\n")
    assert code == 2 and out.startswith(f"{tmp_path / 'org.yml'}:1: 'fail_on' must be one of")


def test_rule_ids_no_rule_has_are_warned_about(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _, policy = validate(tmp_path, capsys, b"rules:\n  disable: [CB-AWS-001, CB-AWS-0001]\n"
                                                      b"  modes:\n    CB-K8S-9: monitor\n")
    assert code == 0
    assert out.splitlines() == [f"{policy}:2: warning: no rule is called CB-AWS-0001",
                                f"{policy}:4: warning: no rule is called CB-K8S-9", f"{policy}: valid"]


def test_a_missing_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "validate", str(tmp_path / "absent.yml")]) == 2
    assert "cannot read policy file" in capsys.readouterr().err
