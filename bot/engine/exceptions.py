"""Governed exceptions: the policy's `exceptions:` settings, the approvals that make an exception
count, what became of each exception in a review, and the findings an exception itself raises.

A developer must never be able to switch off a check in the very pull request under review, so
an exception (an inline `compliance:ignore` comment, or a migrated `checkov:skip` /
`tfsec:ignore` / `trivy:ignore`) is honoured only once a member of an approver team approved the
pull request at its current head. An exception that is incomplete (no reason, a bad date, no
ticket where one is required), names a rule that does not exist, or matches nothing is a finding
of its own (the `CB-EXC-*` rules below), and blocks like any other.

    exceptions:
      approvers: [octo-org/security]   # teams whose approval makes an exception count
      require_expiry: true             # every exception needs `until=` (policy: `expires:`)
      max_days: 90                     # ...at most this many days ahead
      require_ticket: true             # every exception needs `ticket=` (policy: `ticket:`)
      ticket_pattern: "[A-Z]+-[0-9]+"  # what a ticket looks like (RE2 syntax, whole ticket)
      migrate: [checkov, tfsec, trivy] # honour these tools' ignore comments for our equivalent rules
      allow_repository: false          # read by the organisation policy merge, not here

`ticket_pattern` is matched against text a pull request author writes, so it is compiled with
RE2, whose matching time is linear in the text: no pattern can make a review hang.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import re2  # type: ignore[import-untyped, unused-ignore]

from bot.engine.model import Resource, Severity, Violation
from bot.engine.rule import Rule, RuleContext

SETTING_KEYS = ("approvers", "require_expiry", "max_days", "require_ticket", "ticket_pattern", "migrate",
                "allow_repository")
MIGRATABLE = ("checkov", "tfsec", "trivy")
MAX_APPROVER_TEAMS = 20
MAX_DAYS_LIMIT = 3650  # ten years: longer is no expiry at all
MAX_PATTERN_CHARS = 200
MAX_TICKET_CHARS = 100
MAX_REASON_CHARS = 1000
EXPIRY_WARNING_DAYS = 14  # the check run warns of exceptions expiring this soon
_TEAM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class ExceptionSettingsError(ValueError):
    """The policy's `exceptions:` section is invalid; the message names the key."""


@dataclass(frozen=True)
class ExceptionSettings:
    """The policy's `exceptions:` section, validated. The default is the safe one: no approvers,
    so no inline exception is ever honoured."""

    approvers: tuple[str, ...] = ()  # "org/team-slug"
    require_expiry: bool = False
    max_days: int | None = None
    require_ticket: bool = False
    ticket_pattern: str | None = None
    migrate: frozenset[str] = frozenset()
    allow_repository: bool = False

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None) -> ExceptionSettings:
        """Validate the raw `exceptions:` mapping; ExceptionSettingsError names the key at fault."""
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            raise ExceptionSettingsError("'exceptions' must be a mapping of settings")
        unknown = sorted(str(key) for key in raw if key not in SETTING_KEYS)
        if unknown:
            raise ExceptionSettingsError(f"'exceptions.{unknown[0]}' is not a setting "
                                         f"(the settings are {', '.join(SETTING_KEYS)})")
        pattern = raw.get("ticket_pattern")
        if pattern is not None:
            if not isinstance(pattern, str) or not pattern.strip():
                raise ExceptionSettingsError("'exceptions.ticket_pattern' must be a non-empty string")
            if len(pattern) > MAX_PATTERN_CHARS:
                raise ExceptionSettingsError(f"'exceptions.ticket_pattern' is longer than {MAX_PATTERN_CHARS} characters")
            problem = pattern_problem(pattern)
            if problem:
                raise ExceptionSettingsError(f"'exceptions.ticket_pattern' is not a valid pattern ({problem})")
        return cls(
            approvers=_approvers(raw.get("approvers")),
            require_expiry=_flag(raw, "require_expiry"),
            max_days=_max_days(raw.get("max_days")),
            require_ticket=_flag(raw, "require_ticket"),
            ticket_pattern=pattern,
            migrate=_migrate(raw.get("migrate")),
            allow_repository=_flag(raw, "allow_repository"),
        )

    def ticket_problem(self, ticket: str | None) -> str | None:
        """Why `ticket` does not do, or None: missing where required, too long, or not the pattern."""
        if not ticket:
            return "no ticket (the policy requires `ticket=`)" if self.require_ticket else None
        if len(ticket) > MAX_TICKET_CHARS:
            return f"the ticket is longer than {MAX_TICKET_CHARS} characters"
        if self.ticket_pattern is not None and _compiled(self.ticket_pattern).fullmatch(ticket) is None:
            return f"ticket `{ticket}` does not match the policy's ticket_pattern `{self.ticket_pattern}`"
        return None

    def expiry_problem(self, expires: dt.date | None, today: dt.date) -> str | None:
        """Why this expiry does not do (an expiry in the past is not a problem here: it is expired)."""
        if expires is None:
            return "no expiry date (the policy requires `until=`)" if self.require_expiry else None
        if self.max_days is not None and (expires - today).days > self.max_days:
            return (f"it expires on {expires.isoformat()}, more than {self.max_days} days ahead "
                    f"(the policy's max_days)")
        return None


def pattern_problem(pattern: str) -> str | None:
    """Why RE2 refuses `pattern` (it has no backreferences or lookaround), or None."""
    try:
        _compiled(pattern)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else "refused"
        return detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
    return None


@functools.cache
def _compiled(pattern: str) -> Any:
    options = re2.Options()
    options.log_errors = False  # RE2 would print its own complaint on stderr: the error says it
    options.max_mem = 1 << 20
    return re2.compile(pattern, options=options)


def _flag(raw: Mapping[str, Any], key: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise ExceptionSettingsError(f"'exceptions.{key}' must be true or false")
    return value


def _approvers(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ExceptionSettingsError("'exceptions.approvers' must be a list of teams like octo-org/security")
    if len(value) > MAX_APPROVER_TEAMS:
        raise ExceptionSettingsError(f"'exceptions.approvers' names more than {MAX_APPROVER_TEAMS} teams")
    teams: list[str] = []
    for item in value:
        team = item.strip().removeprefix("@") if isinstance(item, str) else None
        if team is None or not _TEAM.match(team):
            raise ExceptionSettingsError("'exceptions.approvers' items must be teams written org/team-slug "
                                         "(e.g. octo-org/security)")
        teams.append(team)
    return tuple(dict.fromkeys(teams))


def _max_days(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS_LIMIT:
        raise ExceptionSettingsError(f"'exceptions.max_days' must be a whole number from 1 to {MAX_DAYS_LIMIT}")
    return value


def _migrate(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ExceptionSettingsError(f"'exceptions.migrate' must be a list of {', '.join(MIGRATABLE)}")
    tools = {item.strip().lower() for item in value}
    unknown = sorted(tools - set(MIGRATABLE))
    if unknown:
        raise ExceptionSettingsError(f"'exceptions.migrate' names an unknown tool '{unknown[0]}' "
                                     f"(known: {', '.join(MIGRATABLE)})")
    return frozenset(tools)


@dataclass(frozen=True)
class Approval:
    """An approving review that makes exceptions count: by a member of an approver team, on the
    pull request's current head commit (a later push needs a new approval)."""

    login: str
    approved_at: str  # when the review was submitted, as GitHub gives it (ISO 8601)
    team: str  # the approver team ("org/team-slug") the reviewer is a member of
    review_id: int


# What became of an exception in a review.
HONOURED = "honoured"  # it suppresses its findings
NEEDS_APPROVAL = "needs_approval"  # valid and added by the change, waiting for an approver
IGNORED = "ignored"  # inline exceptions are not honoured: the policy names no approvers
INVALID = "invalid"  # incomplete or naming no rule: a finding (when the change adds it), never honoured
EXPIRED = "expired"  # past its date: its findings are back
UNUSED = "unused"  # it matches no finding
ACTIVE = "active"  # a policy suppression that matched nothing in this review, listed as it expires soon
STATUSES = (HONOURED, NEEDS_APPROVAL, IGNORED, INVALID, EXPIRED, UNUSED, ACTIVE)

INLINE, POLICY, POLICY_CHANGE = "inline", "policy", "policy change"
SOURCES = (INLINE, *MIGRATABLE, POLICY, POLICY_CHANGE)


@dataclass(frozen=True)
class ExceptionRecord:
    """One exception as a review saw it, for every report and the evidence record.

    - `source`: "inline" (`compliance:ignore`), "checkov", "tfsec", "trivy" (migrated comments),
      "policy" (the policy's `suppressions:`) or "policy change" (a change of the policy's
      suppressions or exceptions in the pull request under review).
    - `rule_id`: our rule; `written`: the id as written (a Checkov id, an earlier id...).
    - `path`, `line`: where it is written (`line` None for a policy suppression).
    - `added`: the change under review adds or edits it, so it needs an approval.
    - `findings`: fingerprints of the findings it suppresses (or would, once approved).
    - `approver`, `approved_at`: who approved the pull request that made it count, and when.
    """

    source: str
    rule_id: str | None
    written: str
    path: str
    line: int | None
    reason: str
    status: str
    detail: str = ""
    expires: dt.date | None = None
    ticket: str | None = None
    added: bool = False
    findings: tuple[str, ...] = ()
    approver: str | None = None
    approved_at: str | None = None

    def expires_within(self, today: dt.date, days: int = EXPIRY_WARNING_DAYS) -> int | None:
        """Days left when this exception is in force and expires within `days`, else None."""
        if self.expires is None or self.status not in (HONOURED, ACTIVE, NEEDS_APPROVAL):
            return None
        left = (self.expires - today).days
        return left if 0 <= left <= days else None


# -- the rules an exception itself breaks ---------------------------------------------------------

NEEDS_APPROVAL_RULE = "CB-EXC-001"
NO_REASON_RULE = "CB-EXC-002"
EXPIRY_RULE = "CB-EXC-003"
TICKET_RULE = "CB-EXC-004"
UNKNOWN_RULE_RULE = "CB-EXC-005"
UNUSED_RULE = "CB-EXC-006"
_CONTROLS: Mapping[str, tuple[str, ...]] = {"soc2": ("CC8.1",)}  # changes are authorised before they take effect


def _never(resource: Resource, context: RuleContext) -> Iterable[Violation]:
    """These rules judge exceptions, never a resource: the engine raises their findings itself."""
    return ()


def _exception_rule(rule_id: str, title: str, rationale: str, remediation: str) -> Rule:
    return Rule(id=rule_id, title=title, severity=Severity.CRITICAL, sources=frozenset(), types=frozenset(),
                rationale=rationale, remediation=remediation, check=_never, controls=dict(_CONTROLS))


EXCEPTION_RULES: tuple[Rule, ...] = (
    _exception_rule(
        NEEDS_APPROVAL_RULE, "Exception needs approval",
        "A pull request must not switch off its own checks: an exception it adds counts only once someone "
        "the policy trusts has approved it.",
        "Ask a member of an approver team (the policy's `exceptions.approvers`) to approve the pull request; "
        "an approval counts for the commit it was given on, so a new push needs a new one."),
    _exception_rule(
        NO_REASON_RULE, "Exception has no reason",
        "An accepted risk must say why it is accepted, so an auditor and the next reader can judge it.",
        'Write why the risk is accepted: `reason="..."` after the rule id.'),
    _exception_rule(
        EXPIRY_RULE, "Exception expiry is missing, malformed, past or too far ahead",
        "An accepted risk is revisited: an exception ends on a date, within what the policy allows.",
        "Give `until=YYYY-MM-DD`, a real date from today on and within the policy's `exceptions.max_days`."),
    _exception_rule(
        TICKET_RULE, "Exception ticket is missing or malformed",
        "The work that removes an accepted risk is tracked, so the exception names its ticket.",
        "Give `ticket=` with the ticket tracking the fix, in the form the policy's `exceptions.ticket_pattern` asks."),
    _exception_rule(
        UNKNOWN_RULE_RULE, "Exception names an unknown rule",
        "An exception for a rule that does not exist suppresses nothing, and usually hides a typo.",
        "Name the rule as the finding shows it (e.g. CB-AWS-001); `compliance-bot rules` lists them."),
    _exception_rule(
        UNUSED_RULE, "Exception matches no finding",
        "An exception that suppresses nothing is noise that outlives its reason, or is in the wrong place.",
        "Put the comment on the offending line or on the line above it (or inside the resource), or remove it."),
)


def exception_rule(rule_id: str) -> Rule:
    return next(rule for rule in EXCEPTION_RULES if rule.id == rule_id)


@dataclass(frozen=True)
class ForeignIds:
    """Other tools' check ids -> our equivalent rules, for `exceptions.migrate`: Checkov's from the
    rules' own `peers`, tfsec's and Trivy's from the table `rules/migrations/tfsec-trivy.yml`.
    Ids are kept upper-case: the tools' own matching ignores case."""

    by_tool: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)

    def rules_for(self, tool: str, foreign_id: str) -> tuple[str, ...]:
        return self.by_tool.get(tool, {}).get(foreign_id.upper(), ())
