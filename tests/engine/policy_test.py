"""The policy file: defaults, every field, and clear errors naming the field."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.engine.model import Finding, NotReviewed, Severity
from bot.engine.policy import Policy, PolicyError, parse_policy, path_matches


def _finding(rule: str = "CB-AWS-001", path: str = "legacy/a.tf", resource: str | None = "aws_ebs_volume.old",
             severity: Severity = Severity.HIGH) -> Finding:
    return Finding(rule, "t", severity, path, 1, 1, resource, "m", "fix")


def test_no_file_means_everything_blocks() -> None:
    policy = parse_policy(None)
    assert policy == Policy()
    assert policy.blocks(_finding(severity=Severity.LOW))


def test_every_field() -> None:
    policy = parse_policy(
        """
fail_on: high
rules:
  disable: [CB-AWS-017]
paths:
  ignore: ["examples/**", "**/*.md"]
comments:
  max: 5
drafts: true
suppressions:
  - rule: CB-AWS-001
    path: legacy/**
    resource: aws_ebs_volume.old
    reason: Migration tracked in OPS-12
    expires: 2027-01-31
"""
    )
    assert policy.fail_on == Severity.HIGH
    assert policy.disabled_rules == {"CB-AWS-017"}
    assert policy.ignores("examples/x/main.tf") and policy.ignores("README.md") and not policy.ignores("main.tf")
    assert policy.max_comments == 5 and policy.review_drafts
    assert not policy.blocks(_finding(severity=Severity.MEDIUM))
    suppression = policy.suppression_for(_finding(), today=dt.date(2027, 1, 31))
    assert suppression is not None and suppression.reason == "Migration tracked in OPS-12"
    assert policy.suppression_for(_finding(), today=dt.date(2027, 2, 1)) is None  # expired
    assert policy.suppression_for(_finding(resource="aws_ebs_volume.new"), today=dt.date(2026, 1, 1)) is None
    assert policy.suppression_for(_finding(path="prod/a.tf"), today=dt.date(2026, 1, 1)) is None


def test_regressions_block_by_default_and_notice_never_blocks() -> None:
    regression = Finding("CB-REG-002", "t", Severity.MEDIUM, "a.tf", 1, 1, "r", "m", "fix", regression=True)
    minimum = _finding(severity=Severity.MEDIUM)
    assert parse_policy("fail_on: low\n").regressions == "block"
    assert parse_policy("regressions: block\n").blocks(regression)
    notice = parse_policy("regressions: notice\n")
    assert notice.regressions == "notice"
    assert not notice.blocks(regression) and notice.blocks(minimum)  # minimums still block
    assert not parse_policy("fail_on: high\n").blocks(regression)  # severity still counts under block


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fail_on: urgent", "line 1: 'fail_on' must be one of critical, high, medium, low, not 'urgent'"),
        ("rules: [a]", "line 1: 'rules' must be a mapping with disable and modes, not a list"),
        ("comments: {max: 1000}", "'comments.max' must be a whole number from 0 to 100, not 1000"),
        ("drafts: maybe", "'drafts' must be true or false"),
        ("regressions: warn", "'regressions' must be one of block, notice"),
        ("regressions: [notice]", "'regressions' must be one of block, notice"),
        ("suppressions:\n  - rule: CB-AWS-001\n", "line 2: 'suppressions[0].reason' is required (say why the risk is accepted)"),
        ("suppressions:\n  - reason: x\n", "line 2: 'suppressions[0].rule' is required"),
        ("suppressions:\n  - {rule: X, reason: y, expires: soon}\n",
         "line 2: 'suppressions[0].expires' must be a date like 2027-01-31, not 'soon'"),
        ("suppressions:\n  - rule: X\n    reason: y\n    expires: 2027-13-01\n",
         "line 4: 'suppressions[0].expires' must be a date like 2027-01-31, not '2027-13-01'"),
        ("suppressions:\n  - {rule: X, reason: '  '}\n", "'suppressions[0].reason' must be text saying why"),
        ("a: [b\nc: d", "line 2: not valid YAML"),
        ("- just\n- a list", "line 1: the policy must be a mapping of settings, such as `fail_on: high`, not a list"),
        ("not_reviewed: [helm template]", "'not_reviewed' must be a mapping with fail, not a list"),
        ("not_reviewed: {fail: sometimes}", "'not_reviewed.fail' must be 'all' or a list of kinds, not 'sometimes'"),
        ("not_reviewed: {fail: [helm templates]}", "'not_reviewed.fail[0]' must be a kind: arm template, bicep"),
        ("not_reviewed: {fail: [helm templates]}", "or all, not 'helm templates'"),
        ("not_reviewed: {fail: [3]}", "'not_reviewed.fail[0]' must be a kind: arm template"),
        ("not_reviewed: {fails: all}", "'not_reviewed.fails' is not a setting; did you mean 'not_reviewed.fail'?"),
        ("fail-on: high", "line 1: 'fail-on' is not a setting; did you mean 'fail_on'?"),
        ("\n\nrule:\n  disable: [X]\n", "line 3: 'rule' is not a setting; did you mean 'rules'?"),
        ("rules:\n  disabled: [X]\n", "line 2: 'rules.disabled' is not a setting; did you mean 'rules.disable'?"),
        ("fail_on: high\nfail_on: low\n", "line 2: 'fail_on' is set twice (first on line 1)"),
        ("drafts: true\nzzz: 1\n", "line 2: 'zzz' is not a setting (the settings are: comments, data_classification"),
    ],
)
def test_errors_name_the_field(text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=r".*") as info:
        parse_policy(text)
    assert message in str(info.value)
    assert str(info.value).startswith(".github/compliance.yml")


def test_not_reviewed_is_listed_by_default_and_fails_only_the_kinds_named() -> None:
    helm, remote = NotReviewed("t.yaml", None, "helm template", "r"), NotReviewed("m.tf", 3, "remote module", "r")
    bicep = NotReviewed("main.bicep", None, "bicep", "r")
    assert not any(Policy().fails_for(n) for n in (helm, remote, bicep))
    strict = parse_policy("not_reviewed:\n  fail: [Helm Template, remote module]\n")
    assert strict.fails_for(helm) and strict.fails_for(remote) and not strict.fails_for(bicep)
    assert parse_policy("not_reviewed:\n  fail: all\n").fails_for(bicep)
    assert parse_policy("not_reviewed:\n  fail: []\n") == Policy() == parse_policy("not_reviewed: {}\n")


@pytest.mark.parametrize(
    ("path", "pattern", "matches"),
    [
        ("examples/a/b.tf", "examples/**", True),
        ("examples", "examples/**", True),
        ("other/examples/a.tf", "examples/**", False),
        ("main.tf", "**/*.tf", True),
        ("a/b/main.tf", "**/*.tf", True),
        ("a/b/main.tf", "*.yaml", False),
    ],
)
def test_path_matches(path: str, pattern: str, matches: bool) -> None:
    assert path_matches(path, pattern) is matches


def test_unknown_values_fail_from_a_severity_the_policy_names() -> None:
    assert parse_policy("unknown:\n  fail: critical\n").fail_unknown is Severity.CRITICAL
    assert parse_policy("fail_on: low\n").fail_unknown is None
    with pytest.raises(PolicyError, match="'unknown.fail' must be one of critical, high, medium, low, not 'sometimes'"):
        parse_policy("unknown:\n  fail: sometimes\n")
    with pytest.raises(PolicyError, match="'unknown.fails' is not a setting; did you mean 'unknown.fail'"):
        parse_policy("unknown:\n  fails: critical\n")


def test_variable_files_per_root_module() -> None:
    policy = parse_policy("terraform:\n  var_files:\n    envs/prod: [envs/prod/prod.tfvars]\n    .: [common.tfvars]\n")
    assert policy.var_files == {"envs/prod": ("envs/prod/prod.tfvars",), "": ("common.tfvars",)}
    with pytest.raises(PolicyError, match="terraform.var_files"):
        parse_policy("terraform:\n  var_files: [a.tfvars]\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: " + "[" * 10_000 + "]" * 10_000, "nested deeper than"),
        ("a:\n" + "".join("  " * i + "- \n" for i in range(1, 300)), "nested deeper than"),
        ("suppressions:\n  - {rule: X, reason: y, expires: 2099-01-31 10:00:00}\n",
         "'suppressions[0].expires' must be a date like 2027-01-31"),
    ],
)
def test_hostile_policies_are_errors_naming_the_file(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(text)
    assert message in str(info.value)
    assert str(info.value).startswith(".github/compliance.yml")


def test_a_policy_that_is_not_utf8_is_an_error_not_a_garbled_policy() -> None:
    from bot.engine.policy import decode_policy

    with pytest.raises(PolicyError, match="not UTF-8 text"):
        decode_policy(b"fail_on: high\n# caf\xe9\n")
    assert decode_policy(b"fail_on: high\n") == "fail_on: high\n"


def test_a_policy_read_with_replaced_bytes_is_an_error_naming_the_line() -> None:
    text = b"fail_on: high\n# caf\xe9\n".decode("utf-8", errors="replace")
    with pytest.raises(PolicyError, match=r"line 2: not UTF-8 text"):
        parse_policy(text)


def test_an_alias_bomb_is_refused_before_any_value_is_built() -> None:
    """10**8 strings behind one alias took 18 s (10**9: minutes and gigabytes) to be told that
    `fail_on` is not a severity; now the event stream counts aliases at the size they stand for."""
    lines = ["x0: &a0 [" + ", ".join(['"aaaaaaaaaa"'] * 10) + "]"]
    lines += [f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    with pytest.raises(PolicyError, match=r"line 5: more than 100000 values once aliases are expanded"):
        parse_policy("\n".join([*lines, "fail_on: *a8"]) + "\n")
    anchored = parse_policy('x-why: &why "tracked in OPS-1"\nsuppressions:\n  - {rule: CB-AWS-001, reason: *why}\n')
    assert anchored.suppressions[0].reason == "tracked in OPS-1"  # a few aliases are still fine


def test_unknown_settings_of_any_key_type_are_named() -> None:
    """`unknown: {1: 2, a: 3}` raised TypeError (sorting numbers with text): a traceback in the CLI.
    A key is named as it is written (`null`, not a Python word for it)."""
    with pytest.raises(PolicyError, match=r"'unknown\.1' is not a setting"):
        parse_policy("unknown: {1: 2, a: 3}\n")
    with pytest.raises(PolicyError, match=r"'unknown\.null' is not a setting \(the settings of 'unknown' are: fail\)"):
        parse_policy("unknown: {null: 2, fail_on: 3}\n")


@pytest.mark.parametrize(("text", "message"), [
    ("suppressions:\n  - rule: CB-AWS-001\n    reason: x\n    expires: 2027-01-51\n",
     "line 4: 'suppressions[0].expires' must be a date like 2027-01-31, not '2027-01-51'"),
    ("fail_on: high\nx-when: 2027-02-30 10:00:00\n", None),  # dates are text until the schema reads them
    ("fail_on: high\nx-when: !!timestamp 2027-02-30\n", "line 2: '2027-02-30' is not a valid timestamp, as its tag says"),
])
def test_a_date_that_does_not_exist_is_named_with_its_line(text: str, message: str | None) -> None:
    """YAML's date reader raised ValueError (a traceback in the CLI, "internal error" for every pull
    request in the App); found by atheris. Dates now stay text and the schema names the wrong one."""
    if message is None:
        assert parse_policy(text).fail_on is Severity.HIGH
        return
    with pytest.raises(PolicyError) as raised:
        parse_policy(text)
    assert str(raised.value) == f".github/compliance.yml: {message}"
