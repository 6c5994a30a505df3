"""The policy's JSON Schema: shipped with the package, valid JSON Schema, in step with what the
engine knows (frameworks, not-reviewed kinds), and the exceptions settings other modules read."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from bot.engine.coverage import KINDS
from bot.engine.policy import PolicyError, parse_policy
from bot.engine.policy_schema import SCHEMA_FILE, describe, policy_schema, setting_name
from rules.registry import load_frameworks

SCHEMA = policy_schema()
ROOT = Path(__file__).resolve().parents[2]


def test_the_schema_is_json_schema_and_is_shipped_in_the_package() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert any(fnmatch.fnmatch(SCHEMA_FILE, pattern) for pattern in data["bot.engine"])  # in the wheel too
    assert (ROOT / "bot" / "engine" / SCHEMA_FILE).is_file()


def test_the_schema_knows_every_framework_and_every_kind() -> None:
    properties = SCHEMA["properties"]
    named = properties["frameworks"]["items"]["anyOf"][0]["enum"]
    assert named == sorted(f.key for f in load_frameworks())
    assert properties["data_classification"]["properties"]["frameworks"]["propertyNames"]["enum"] == named
    kinds = properties["not_reviewed"]["properties"]["fail"]["anyOf"][2]["items"]["enum"]
    assert kinds == [*sorted(KINDS), "all"]


def test_exceptions_take_exactly_the_agreed_settings_and_are_kept_raw() -> None:
    assert set(SCHEMA["properties"]["exceptions"]["properties"]) == {
        "approvers", "require_expiry", "max_days", "require_ticket", "ticket_pattern", "migrate", "allow_repository"}
    policy = parse_policy("exceptions:\n  approvers: [octo-org/security]\n  require_expiry: true\n  max_days: 90\n"
                          "  require_ticket: true\n  ticket_pattern: '^SEC-[0-9]+$'\n  migrate: [checkov, tfsec, trivy]\n"
                          "  allow_repository: true\n")
    assert policy.exceptions_settings == {
        "approvers": ["octo-org/security"], "require_expiry": True, "max_days": 90, "require_ticket": True,
        "ticket_pattern": "^SEC-[0-9]+$", "migrate": ["checkov", "tfsec", "trivy"], "allow_repository": True}
    assert policy.allows_repository_exceptions
    assert parse_policy("fail_on: low\n").exceptions_settings == {}


@pytest.mark.parametrize(("text", "message"), [
    ("exceptions:\n  approvers: [security]\n", ("line 2: 'exceptions.approvers[0]' must be a team written org/team, "
                                              "not 'security'")),
    ("exceptions:\n  max_days: 0\n", "'exceptions.max_days' must be a whole number of days from 1 to 3650, not 0"),
    ("exceptions:\n  max_days: 1.5\n", "'exceptions.max_days' must be a whole number of days from 1 to 3650, not 1.5"),
    ("exceptions:\n  migrate: [snyk]\n", "'exceptions.migrate[0]' must be one of checkov, tfsec, trivy, not 'snyk'"),
    ("exceptions:\n  ticket_pattern: 42\n", "'exceptions.ticket_pattern' must be a regular expression, as text, not 42"),
    ("exceptions:\n  approver: [a/b]\n", "'exceptions.approver' is not a setting; did you mean 'exceptions.approvers'?"),
    ("exceptions:\n  allow_repository: yes please\n", "'exceptions.allow_repository' must be true or false"),
])
def test_exceptions_settings_are_checked(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(text)
    assert message in str(raised.value)


def test_messages_never_name_a_python_type() -> None:
    samples = ["rules: 3\n", "rules: {disable: {a: 1}}\n", "comments: {max: true}\n", "drafts: ~\n",
               "fail_on: !!binary aGk=\n", "suppressions: [[1]]\n", "paths: {ignore: [1.5]}\n", "frameworks: {a: b}\n"]
    for text in samples:
        with pytest.raises(PolicyError) as raised:
            parse_policy(text)
        words = str(raised.value)
        assert not any(name in words for name in ("dict", "list[", "NoneType", "str'", "int'", "bool", "bytes",
                                                  "Traceback", "<class")), words


def test_settings_and_values_read_as_written() -> None:
    assert setting_name(["suppressions", 0, "expires"]) == "suppressions[0].expires"
    assert setting_name([]) == ""
    assert [describe(v) for v in (None, True, 3, "x" * 100, [], [1], {}, {"a": 1}, b"x")] == [
        "empty", "true", "3", "'" + "x" * 59 + "…'", "an empty list", "a list", "an empty mapping", "a mapping",
        "binary data"]
