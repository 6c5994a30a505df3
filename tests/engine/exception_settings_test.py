"""The policy's `exceptions:` section: each setting read, each mistake an error naming its key,
and a ticket pattern that cannot make a review hang."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bot.engine.exceptions import ExceptionSettings, ExceptionSettingsError
from bot.engine.policy import PolicyError, parse_policy

FULL = """\
exceptions:
  approvers: ["@octo-org/security", octo-org/platform-leads, octo-org/security]
  require_expiry: true
  max_days: 90
  require_ticket: true
  ticket_pattern: "[A-Z]+-[0-9]+"
  migrate: [checkov, TFSEC]
  allow_repository: false
"""


def test_every_setting_is_read_and_kept_raw_on_the_policy() -> None:
    policy = parse_policy(FULL)
    assert policy.exceptions_settings["max_days"] == 90  # kept as written for the org policy merge
    settings = ExceptionSettings.from_mapping(policy.exceptions_settings)
    assert settings.approvers == ("octo-org/security", "octo-org/platform-leads")  # `@` dropped, once each
    assert (settings.require_expiry, settings.max_days, settings.require_ticket) == (True, 90, True)
    assert settings.ticket_pattern == "[A-Z]+-[0-9]+" and settings.migrate == frozenset({"checkov", "tfsec"})


def test_the_default_is_the_safe_one() -> None:
    for settings in (ExceptionSettings.from_mapping(None), ExceptionSettings.from_mapping(parse_policy("").exceptions_settings)):
        assert settings == ExceptionSettings() and settings.approvers == () and settings.migrate == frozenset()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "'exceptions' must be a mapping of settings"),
        ({"approver": ["a/b"]}, "'exceptions.approver' is not a setting"),
        ({"approvers": "octo-org/security"}, "'exceptions.approvers' must be a list of teams"),
        ({"approvers": ["security"]}, "'exceptions.approvers' items must be teams written org/team-slug"),
        ({"approvers": ["octo org/security"]}, "items must be teams written org/team-slug"),
        ({"approvers": [7]}, "items must be teams written org/team-slug"),
        ({"approvers": [f"o/t{i}" for i in range(21)]}, "names more than 20 teams"),
        ({"require_expiry": "yes"}, "'exceptions.require_expiry' must be true or false"),
        ({"require_ticket": 1}, "'exceptions.require_ticket' must be true or false"),
        ({"allow_repository": None}, "'exceptions.allow_repository' must be true or false"),
        ({"max_days": 0}, "'exceptions.max_days' must be a whole number from 1 to 3650"),
        ({"max_days": True}, "'exceptions.max_days' must be a whole number"),
        ({"max_days": "90"}, "'exceptions.max_days' must be a whole number"),
        ({"max_days": 4000}, "from 1 to 3650"),
        ({"ticket_pattern": ""}, "'exceptions.ticket_pattern' must be a non-empty string"),
        ({"ticket_pattern": 12}, "'exceptions.ticket_pattern' must be a non-empty string"),
        ({"ticket_pattern": "A" * 201}, "'exceptions.ticket_pattern' is longer than 200 characters"),
        ({"ticket_pattern": "[A-Z"}, "'exceptions.ticket_pattern' is not a valid pattern (missing ]: [A-Z)"),
        ({"ticket_pattern": r"(A)\1"}, "'exceptions.ticket_pattern' is not a valid pattern (invalid escape sequence"),
        ({"ticket_pattern": "(?=A)A"}, "'exceptions.ticket_pattern' is not a valid pattern"),
        ({"migrate": "checkov"}, "'exceptions.migrate' must be a list of checkov, tfsec, trivy"),
        ({"migrate": ["kics"]}, "'exceptions.migrate' names an unknown tool 'kics'"),
    ],
)
def test_each_mistake_names_its_key(raw: Any, message: str) -> None:
    with pytest.raises(ExceptionSettingsError) as caught:
        ExceptionSettings.from_mapping(raw)
    assert message in str(caught.value) and str(caught.value).startswith("'exceptions")  # names the key


def test_a_bad_exceptions_section_is_a_policy_error_naming_the_file_and_key() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy("exceptions:\n  max_days: forever\n")
    assert str(caught.value) == (".github/compliance.yml: line 2: 'exceptions.max_days' must be a whole number of days "
                                 "from 1 to 3650, not 'forever'")
    with pytest.raises(PolicyError, match="'exceptions' must be a mapping"):
        parse_policy("exceptions: [octo-org/security]\n")


def test_a_suppression_may_name_its_ticket() -> None:
    policy = parse_policy('suppressions:\n  - {rule: CB-AWS-001, reason: "legacy", ticket: OPS-12}\n')
    assert policy.suppressions[0].ticket == "OPS-12"


def test_ticket_and_expiry_checks() -> None:
    settings = ExceptionSettings(require_ticket=True, ticket_pattern="OPS-[0-9]+", require_expiry=True, max_days=30)
    assert settings.ticket_problem("OPS-12") is None
    assert settings.ticket_problem("OPS-12x") == "ticket `OPS-12x` does not match the policy's ticket_pattern `OPS-[0-9]+`"
    assert settings.ticket_problem(None) == "no ticket (the policy requires `ticket=`)"
    assert settings.ticket_problem("OPS-" + "1" * 100) == "the ticket is longer than 100 characters"
    today = dt.date(2026, 6, 1)
    assert settings.expiry_problem(dt.date(2026, 7, 1), today) is None
    assert "more than 30 days ahead" in (settings.expiry_problem(dt.date(2026, 7, 2), today) or "")
    assert settings.expiry_problem(None, today) == "no expiry date (the policy requires `until=`)"
    assert ExceptionSettings().ticket_problem(None) is None and ExceptionSettings().expiry_problem(None, today) is None


@pytest.mark.timeout(10)
def test_a_pattern_that_backtracks_in_pythons_re_is_matched_in_linear_time() -> None:
    """`(A+)+$` takes Python's `re` exponential time on `AAAA…!`; RE2 answers at once."""
    settings = ExceptionSettings(ticket_pattern="(A+)+$")
    assert settings.ticket_problem("A" * 99 + "!") is not None
    assert settings.ticket_problem("A" * 99) is None
