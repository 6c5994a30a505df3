"""Applies exceptions to a review's findings, under the policy's `exceptions:` rules.

What happens to an inline exception (a `compliance:ignore` comment, or a migrated Checkov, tfsec
or Trivy one), in order:

1. It must name a rule we know (a migrated one naming a check we have no equivalent of is the
   other tool's business and is left alone), and be complete: a reason, an expiry that is a real
   date within `max_days` (required with `require_expiry`), a ticket of the policy's form
   (required with `require_ticket`). One the change adds must also match a finding.
   Otherwise it is never honoured, and when the change adds it each problem is a `CB-EXC-*`
   finding on its line.
2. Past its `until=` date it is expired: its findings are back.
3. With no `exceptions.approvers` in the policy, no inline exception is honoured at all.
4. One the change adds or edits is honoured only once a member of an approver team approved the
   pull request at its current head (`approvals`); until then a `CB-EXC-001` finding on its line
   names the teams, and the finding it is for still blocks.
5. Otherwise it suppresses the findings of its rule on its line, the line below it (when the
   comment has a line of its own), or anywhere in the resource that holds it.

An exception already in the repository that covers none of the review's findings is left alone:
it is not this change's business.

Policy suppressions are checked the same way (naming a known rule, expiry and ticket rules); one
that fails is not honoured and is a finding on the policy file. A change of the policy's
`suppressions` or `exceptions` in the pull request needs an approval too, when the policy names
approvers (it takes effect only after the merge, but it is decided in review).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from bot.engine.diff import FileDiff
from bot.engine.exceptions import (
    ACTIVE,
    EXPIRED,
    EXPIRY_RULE,
    EXPIRY_WARNING_DAYS,
    HONOURED,
    IGNORED,
    INLINE,
    INVALID,
    MAX_REASON_CHARS,
    NEEDS_APPROVAL,
    NEEDS_APPROVAL_RULE,
    NO_REASON_RULE,
    POLICY,
    POLICY_CHANGE,
    TICKET_RULE,
    UNKNOWN_RULE_RULE,
    UNUSED,
    UNUSED_RULE,
    Approval,
    ExceptionRecord,
    ExceptionSettings,
    ForeignIds,
    exception_rule,
)
from bot.engine.inline_exceptions import COMPLIANCE, MAX_MARKERS_PER_FILE, Marker, parse_markers
from bot.engine.model import Finding
from bot.engine.policy import POLICY_PATH, Policy, Suppression
from bot.engine.rule import Rule

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class RuleIndex:
    """Which rule an exception means: our ids and earlier ids (aliases), and other tools' ids."""

    canonical: Mapping[str, str]  # id or alias -> id
    aliases: Mapping[str, tuple[str, ...]]  # id -> its earlier ids
    foreign: ForeignIds = field(default_factory=ForeignIds)

    @classmethod
    def of(cls, rules: Iterable[Rule], foreign: ForeignIds | None = None) -> RuleIndex:
        canonical: dict[str, str] = {}
        aliases: dict[str, tuple[str, ...]] = {}
        for rule in rules:
            canonical[rule.id.upper()] = rule.id
            aliases[rule.id] = rule.aliases
            for alias in rule.aliases:
                canonical.setdefault(alias.upper(), rule.id)
        return cls(canonical, aliases, foreign or ForeignIds())

    def resolve(self, tool: str, written: str) -> tuple[str, ...]:
        """Our rule ids an exception written as `written` by `tool` stands for; () if none."""
        if tool == COMPLIANCE:
            found = self.canonical.get(written.upper())
            return (found,) if found is not None else ()
        return tuple(r for r in self.foreign.rules_for(tool, written) if r.upper() in self.canonical)

    def knows(self, rule: str) -> bool:
        return rule == "*" or rule.upper() in self.canonical


@dataclass(frozen=True)
class SuppressionProblem:
    """A policy suppression that the `exceptions:` rules refuse: it is not honoured."""

    index: int
    suppression: Suppression
    rule_id: str  # the CB-EXC rule it breaks
    detail: str


@dataclass(frozen=True)
class Governed:
    findings: tuple[Finding, ...]
    records: tuple[ExceptionRecord, ...]
    notes: tuple[str, ...]


def suppression_problems(policy: Policy, settings: ExceptionSettings, index: RuleIndex,
                         today: dt.date) -> list[SuppressionProblem]:
    """What is wrong with each policy suppression under the `exceptions:` rules."""
    problems: list[SuppressionProblem] = []
    for i, suppression in enumerate(policy.suppressions):
        if not index.knows(suppression.rule):
            problems.append(SuppressionProblem(i, suppression, UNKNOWN_RULE_RULE,
                                               f"it names `{suppression.rule}`, which is no rule"))
        if suppression.expires is None or suppression.expires >= today:  # an expired one simply ends
            expiry = settings.expiry_problem(suppression.expires, today)
            if expiry:
                problems.append(SuppressionProblem(i, suppression, EXPIRY_RULE, expiry.replace("`until=`", "`expires:`")))
        ticket = settings.ticket_problem(suppression.ticket)
        if ticket:
            problems.append(SuppressionProblem(i, suppression, TICKET_RULE, ticket.replace("`ticket=`", "`ticket:`")))
    return problems


@dataclass
class _Review:
    """What one application of the exceptions works on and builds."""

    findings: list[Finding]
    settings: ExceptionSettings
    approvals: Sequence[Approval]
    today: dt.date
    disabled: frozenset[str]
    raised: list[Finding] = field(default_factory=list)
    records: list[ExceptionRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _by_line: dict[tuple[str, str, int], list[int]] = field(default_factory=dict)
    _in_resources: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Findings indexed by (path, rule): those of a resource to be walked, the others (a line of
        text: a secret) by line, so a file of many secrets and many markers is no quadratic walk."""
        for i, found in enumerate(self.findings):
            if found.resource_span is not None:
                self._in_resources.setdefault((found.path, found.rule_id), []).append(i)
            else:
                for line in range(found.line, min(found.end_line, found.line + 50) + 1):
                    self._by_line.setdefault((found.path, found.rule_id, line), []).append(i)

    def candidates(self, path: str, rule: str, marker: Marker) -> set[int]:
        """The findings a marker may cover (the caller checks `_covers`)."""
        near = {i for line in {marker.line, marker.target} for i in self._by_line.get((path, rule, line), ())}
        return near | set(self._in_resources.get((path, rule), ()))

    def raise_finding(self, rule_id: str, path: str, line: int, message: str, resource: str | None,
                      key: str) -> None:
        if rule_id in self.disabled:
            return
        rule = exception_rule(rule_id)
        self.raised.append(Finding(
            rule_id=rule.id, title=rule.title, severity=rule.severity, path=path, line=line, end_line=line,
            resource=resource, message=message, remediation=rule.remediation, rationale=rule.rationale,
            controls=dict(rule.controls), key=key,
        ))


def govern(findings: Sequence[Finding], texts: Mapping[str, str], changed: Mapping[str, FileDiff],
           policy: Policy, settings: ExceptionSettings, index: RuleIndex, approvals: Sequence[Approval],
           today: dt.date, problems: Sequence[SuppressionProblem] = (), whole_tree: bool = False,
           policy_changed: int | None = None) -> Governed:
    """Apply the inline exceptions written in `texts` (the head's files: changed ones, and those
    findings landed in) to `findings`, and account for the policy's suppressions.

    `changed`: the change's files at head, to tell the exceptions it adds (which need an approval)
    from those already there; `whole_tree`: a scan of a tree, where nothing is added.
    `problems`: the policy suppressions refused (`suppression_problems`), raised as findings.
    `policy_changed`: the first line the change adds to the policy file when it changes the
    policy's suppressions or exceptions (0 when no line can be named), else None."""
    state = _Review(list(findings), settings, approvals, today, policy.disabled_rules)
    tools = frozenset({COMPLIANCE, *settings.migrate})
    for path in sorted(texts):
        markers, cut = parse_markers(path, texts[path], tools)
        if cut:
            state.notes.append(f"{path}: more than {MAX_MARKERS_PER_FILE:,} exception comments; the rest are "
                               "not honoured")
        for marker in markers:
            added = not whole_tree and _added(changed.get(marker.path), marker.line)
            _apply_marker(state, marker, index, added)
    _account_for_policy(state, policy, index, problems)
    if policy_changed is not None:
        _policy_change(state, policy_changed)
    all_findings = sorted((*state.findings, *state.raised), key=lambda f: (f.path, f.line, f.rule_id, f.resource or ""))
    return Governed(tuple(all_findings), tuple(state.records), tuple(state.notes))


def _added(diff: FileDiff | None, line: int) -> bool:
    """Whether the change adds (or edits) this line: a file without a patch counts as all new."""
    if diff is None:
        return False
    return not diff.complete or line in diff.added_lines


def _covers(marker: Marker, finding: Finding) -> bool:
    """A marker covers a finding on its target line, on its own line, or anywhere in the resource
    it is written in (or heads, from the line above it)."""
    if finding.path != marker.path:
        return False
    if finding.line <= marker.target <= finding.end_line or finding.line == marker.line:
        return True
    span = finding.resource_span
    return span is not None and (span[0] <= marker.line <= span[1] or span[0] == marker.target)


def _apply_marker(state: _Review, marker: Marker, index: RuleIndex, added: bool) -> None:
    rules = index.resolve(marker.tool, marker.written)
    if marker.tool != COMPLIANCE and not rules:
        return  # another tool's check we have no equivalent of: that tool's business
    covered = sorted(i for rule in rules for i in state.candidates(marker.path, rule, marker)
                     if _covers(marker, state.findings[i]))
    if not covered and (marker.tool != COMPLIANCE or not added):
        return  # it changes nothing in this review (another tool's may still need it)
    expires, problems = _marker_problems(marker, rules, state.settings, state.today)
    if added and rules and not covered:
        unused = f"it matches no {rules[0]} finding on line {marker.target} or in the resource it is written in"
        problems.append((UNUSED_RULE, unused))
    subject = _subject(marker)
    resource = state.findings[covered[0]].resource if covered else None
    fingerprints = tuple(state.findings[i].fingerprint for i in covered)
    record = ExceptionRecord(
        source=INLINE if marker.tool == COMPLIANCE else marker.tool, rule_id=rules[0] if rules else None,
        written=marker.written, path=marker.path, line=marker.line, reason=marker.reason, status=HONOURED,
        expires=expires, ticket=marker.ticket, added=added, findings=fingerprints)
    key = f"{marker.tool}:{marker.written}:{_digest(marker.reason)}"
    if problems:
        expired = expires is not None and expires < state.today and len(problems) == 1
        status = EXPIRED if expired else UNUSED if [r for r, _ in problems] == [UNUSED_RULE] else INVALID
        detail = "; ".join(d for _, d in problems)
        state.records.append(replace(record, status=status, detail=detail))
        if added:
            by_rule: dict[str, list[str]] = defaultdict(list)
            for rule_id, text in problems:
                by_rule[rule_id].append(text)
            for rule_id, texts in by_rule.items():
                state.raise_finding(rule_id, marker.path, marker.line, f"{subject}: {'; '.join(texts)}.",
                                    resource, f"{key}:{rule_id}")
        elif covered:
            back = "its finding is back" if expired else "it is not honoured"
            state.notes.append(f"{subject} at {marker.path}:{marker.line}: {detail}; {back}.")
        return
    if not state.settings.approvers:
        state.records.append(replace(record, status=IGNORED, detail="no approvers configured"))
        state.notes.append(f"Inline exception ignored: no approvers configured ({subject} at "
                           f"{marker.path}:{marker.line}; the policy's `exceptions.approvers` names none).")
        return
    if added and not state.approvals:
        teams = ", ".join(f"@{team}" for team in state.settings.approvers)
        state.records.append(replace(record, status=NEEDS_APPROVAL, detail=f"waiting for an approval by {teams}"))
        state.raise_finding(
            NEEDS_APPROVAL_RULE, marker.path, marker.line,
            f"{subject} (reason: {marker.reason}) is not honoured until a member of {teams} approves this pull "
            "request at its current head commit; until then its finding still blocks.", resource, key)
        return
    approval = state.approvals[0] if added else None
    by = f", approved by {approval.login} ({approval.team}) at {approval.approved_at}" if approval else ""
    reason = f"{marker.reason} (exception at {marker.path}:{marker.line}{by})"
    for i in covered:
        state.findings[i] = replace(state.findings[i], suppressed=True, suppression_reason=reason)
    state.records.append(replace(record, approver=approval.login if approval else None,
                                 approved_at=approval.approved_at if approval else None,
                                 detail=f"approved by {approval.login} ({approval.team})" if approval
                                 else "already in the repository"))


def _marker_problems(marker: Marker, rules: tuple[str, ...], settings: ExceptionSettings, today: dt.date
                     ) -> tuple[dt.date | None, list[tuple[str, str]]]:
    """The marker's expiry date (when it reads) and what is wrong with it, by CB-EXC rule."""
    problems: list[tuple[str, str]] = [(NO_REASON_RULE, problem) for problem in marker.problems]
    if not marker.written:
        problems.append((UNKNOWN_RULE_RULE, "it names no rule"))
    elif not rules:
        problems.append((UNKNOWN_RULE_RULE, f"it names `{marker.written}`, which is no rule"))
    if not marker.reason:
        problems.append((NO_REASON_RULE, 'it gives no reason (write reason="why the risk is accepted")'))
    elif len(marker.reason) > MAX_REASON_CHARS:
        problems.append((NO_REASON_RULE, f"its reason is longer than {MAX_REASON_CHARS} characters"))
    expires = _date(marker.until)
    if marker.until is not None and expires is None:
        problems.append((EXPIRY_RULE, f"`until={marker.until[:40]}` is not a date like 2026-09-30"))
    elif expires is not None and expires < today:
        problems.append((EXPIRY_RULE, f"it expired on {expires.isoformat()}"))
    elif marker.until is None or expires is not None:
        expiry = settings.expiry_problem(expires, today)
        if expiry:
            problems.append((EXPIRY_RULE, expiry))
    ticket = settings.ticket_problem(marker.ticket)
    if ticket:
        problems.append((TICKET_RULE, ticket))
    return expires, problems


def _date(text: str | None) -> dt.date | None:
    if text is None or not _DATE.match(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _subject(marker: Marker) -> str:
    if marker.tool == COMPLIANCE:
        return f"Inline exception for {marker.written or '(no rule)'}"
    return f"Migrated {marker.tool} exception for {marker.written}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def _account_for_policy(state: _Review, policy: Policy, index: RuleIndex,
                        problems: Sequence[SuppressionProblem]) -> None:
    """Records for the policy's suppressions this review used, found expired, refused, or that
    expire soon; a finding for each refused one, on the policy file."""
    refused = {p.index for p in problems}
    for problem in problems:
        state.raise_finding(problem.rule_id, POLICY_PATH, 1,
                            f"Policy suppression `suppressions[{problem.index}]` ({problem.suppression.rule}) is not "
                            f"honoured: {problem.detail}.", None, f"suppressions[{problem.index}]:{problem.rule_id}")
    for i, suppression in enumerate(policy.suppressions):
        base = ExceptionRecord(source=POLICY, rule_id=index.canonical.get(suppression.rule.upper(), suppression.rule),
                               written=suppression.rule, path=POLICY_PATH, line=None, reason=suppression.reason,
                               status=HONOURED, detail=f"suppressions[{i}]", expires=suppression.expires,
                               ticket=suppression.ticket)
        if i in refused:
            details = "; ".join(p.detail for p in problems if p.index == i)
            state.records.append(replace(base, status=INVALID, detail=f"suppressions[{i}]: {details}"))
            continue
        used = [f.fingerprint for f in state.findings
                if f.suppressed and f.suppression_reason == suppression.reason
                and suppression.matches(f, state.today, index.aliases.get(f.rule_id, ()))]
        if used:
            state.records.append(replace(base, findings=tuple(used)))
            continue
        expired = suppression.expires is not None and suppression.expires < state.today
        back = [f for f in state.findings if expired and not f.suppressed
                and suppression.matches(f, suppression.expires or state.today, index.aliases.get(f.rule_id, ()))]
        if back:
            state.records.append(replace(base, status=EXPIRED, findings=tuple(f.fingerprint for f in back),
                                         detail=f"suppressions[{i}] expired on {suppression.expires}"))
            state.notes.append(f"Policy suppression `suppressions[{i}]` ({suppression.rule}) expired on "
                               f"{suppression.expires}: {len(back)} finding(s) it suppressed are back.")
        elif suppression.expires is not None and 0 <= (suppression.expires - state.today).days <= EXPIRY_WARNING_DAYS:
            state.records.append(replace(base, status=ACTIVE))


def _policy_change(state: _Review, line: int) -> None:
    """The change edits the policy's suppressions or exceptions: with approvers, it needs one."""
    record = ExceptionRecord(source=POLICY_CHANGE, rule_id=None, written="suppressions/exceptions", path=POLICY_PATH,
                             line=line or None, reason="the pull request changes the policy's exceptions",
                             status=HONOURED, added=True)
    if not state.settings.approvers:
        state.records.append(replace(record, status=IGNORED, detail="no approvers configured"))
        return
    if not state.approvals:
        teams = ", ".join(f"@{team}" for team in state.settings.approvers)
        state.records.append(replace(record, status=NEEDS_APPROVAL, detail=f"waiting for an approval by {teams}"))
        state.raise_finding(
            NEEDS_APPROVAL_RULE, POLICY_PATH, line or 1,
            f"This pull request changes the policy's `suppressions` or `exceptions`: a member of {teams} must "
            "approve it at its current head commit (the new policy applies after the merge).", None, "policy-change")
        return
    approval = state.approvals[0]
    state.records.append(replace(record, approver=approval.login, approved_at=approval.approved_at,
                                 detail=f"approved by {approval.login} ({approval.team})"))
