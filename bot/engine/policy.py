"""The repository's compliance policy (`.github/compliance.yml`), read from the default branch.

A pull request must never be able to weaken its own review, so the App reads this file from
the default branch only. Every field has a safe default: with no file, every finding blocks.

    fail_on: high            # critical | high | medium | low (default low: everything blocks)
    rules:
      disable: [CB-AWS-017]
      modes: {CB-AWS-020: monitor, CB-K8S-011: comment}   # block (default) | comment | monitor
    paths:
      ignore: ["examples/**"]
    comments:
      max: 30                # inline comments per review; the rest go to the check run
    drafts: false            # review draft pull requests too
    terraform:
      var_files:             # per root module: files Terraform runs with (-var-file), after the automatic ones
        envs/prod: [envs/prod/prod.tfvars]
    regressions: notice      # block (default) | notice: a control the change weakened against the
                             # base (CB-REG-*) is reported but never blocks; minimums still do
    suppressions:
      - rule: CB-AWS-001
        path: legacy/**          # glob, optional
        resource: aws_ebs_volume.old   # optional
        reason: "Migration tracked in OPS-12"   # required
        expires: 2027-01-31      # optional; an expired suppression no longer applies
        ticket: OPS-12           # optional; required with exceptions.require_ticket
    exceptions:                  # who may grant exceptions, and what one must say (bot/engine/exceptions.py)
      approvers: [octo-org/security]   # none (the default): inline exceptions are never honoured
      require_expiry: true
      max_days: 90
      require_ticket: true
      ticket_pattern: "[A-Z]+-[0-9]+"
      migrate: [checkov, tfsec, trivy]
    not_reviewed:
      fail: [helm template, remote module]   # or `fail: all`; default: listed, never failing
    unknown:
      fail: critical         # a control this severe fails when its value is not known before apply
    secrets:
      show_prefix: true      # show a secret's first characters (`Tr0****`); default: `****` only
    extends: org             # the organisation's policy (its `.github` repository) applies beneath
    frameworks: [soc2, {name: hipaa, when: {topics: [phi]}}]   # only rules mapping to these
    data_classification:     # HIPAA-only findings block only on resources tagged phi
      tag: data-classification
      frameworks: {hipaa: [phi]}
    exceptions:              # approved exceptions (read by their own module; see exceptions_settings)
      allow_repository: true # organisation policy only: repositories may list suppressions

`not_reviewed.fail`: what the engine lists as not reviewed (a Helm template, a Bicep file, a
binary file...; the kinds are `bot.engine.coverage.KINDS`) is shown in every report but passes by
default, since the change may be fine; a strict organisation names the kinds that must fail the
check instead (`all`: every kind). An unknown kind is an error, so a typo never makes a strict
policy lenient.

Every setting is checked against `policy.schema.json` (shipped beside this module): an unknown
setting is an error (`fail-on` is not `fail_on`), and every error names the file, the line and
the wrong value. How an organisation policy and a repository's combine is `policy_merge`'s job:
a repository may only tighten.

`rules.modes`: `monitor` shows a rule's findings as check-run annotations only (never blocking,
no inline comment), `comment` comments inline but never blocks, `block` blocks per `fail_on`.

`frameworks`: only rules mapping to at least one listed framework are evaluated; an entry with
`when` counts only for repositories with one of its topics (`topics: [phi]`, any of them) and
one of its values of every custom property it names (`properties: {compliance-scope: pci}`).
When no entry applies, every rule is evaluated. `data_classification`: a finding of a rule whose
frameworks (those in force here) are all listed blocks only on a resource whose `tag` (Terraform
`tags`/`labels`, CloudFormation `Tags`, Kubernetes `metadata.labels`) holds one of that
framework's classes; elsewhere it is a notice (as `monitor`).

`exceptions`: an exception is a policy suppression, or an inline comment on or above the
offending line (`# compliance:ignore CB-AWS-001 reason="..." until=2026-09-30 ticket=OPS-12`, in
any comment syntax). One that a pull request adds counts only once a member of an `approvers`
team approved that pull request at its head; with no approvers, inline exceptions are never
honoured. An incomplete one (no reason, a bad or past date, too far ahead, no ticket where
required), one naming no rule, and one matching nothing are findings (`CB-EXC-*`) that block.
`migrate` honours Checkov's, tfsec's and Trivy's ignore comments for our equivalent rules, under
the same rules. The section is validated by `ExceptionSettings.from_mapping` and kept raw on the
policy as `exceptions_settings`; `allow_repository` is read by the organisation policy merge.

`secrets.show_prefix`: a secret a rule found is shown as `****` wherever the finding is shown
(comments, annotations, logs, JSON, SARIF); with `true`, its first characters come first (at
most 4, and at most a quarter of it), which helps tell two secrets apart and costs some of the
secret's strength.
"""
from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.engine import repo_paths
from bot.engine.exceptions import ExceptionSettings, ExceptionSettingsError
from bot.engine.model import Finding, NotReviewed, Severity
from bot.engine.policy_schema import schema_problems, setting_name
from bot.engine.policy_yaml import LoadedYaml, YamlProblem, decode, load

POLICY_PATH = repo_paths.POLICY_PATH
DEFAULT_MAX_COMMENTS = 30
ALL_KINDS = "all"
REGRESSION_MODES = ("block", "notice")
MONITOR, COMMENT, BLOCK = "monitor", "comment", "block"
MODES = (MONITOR, COMMENT, BLOCK)  # loosest first: a repository may only move right
_LOWERCASE = (("fail_on",), ("unknown", "fail"), ("not_reviewed", "fail"),  # written in any case
              ("exceptions", "migrate"))


@dataclass(frozen=True)
class PolicyProblem:
    """One thing wrong with a policy file: which file (as a person finds it), which line."""

    source: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.source}: line {self.line}: {self.message}" if self.line else f"{self.source}: {self.message}"


class PolicyError(ValueError):
    """The policy file is invalid; each problem names the file, the line and the setting."""

    def __init__(self, problems: list[PolicyProblem] | tuple[PolicyProblem, ...]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Suppression:
    rule: str
    reason: str
    path: str | None = None
    resource: str | None = None
    expires: dt.date | None = None
    line: int | None = field(default=None, compare=False)
    ticket: str | None = None

    def matches(self, finding: Finding, today: dt.date, aliases: tuple[str, ...] = ()) -> bool:
        """`aliases`: earlier ids of the finding's rule, which a suppression may still name."""
        if self.rule not in (finding.rule_id, "*", *aliases):
            return False
        if self.expires is not None and today > self.expires:
            return False
        if self.path is not None and not path_matches(finding.path, self.path):
            return False
        return self.resource is None or self.resource == finding.resource


@dataclass(frozen=True)
class RepositoryFacts:
    """What GitHub says about the repository under review that a policy may be conditioned on:
    its topics and its custom property values (names and values compared in lower case). The
    App fetches them; the engine only reads them."""

    topics: frozenset[str] = frozenset()
    properties: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @staticmethod
    def of(topics: Any = (), properties: Mapping[str, Any] | None = None) -> RepositoryFacts:
        """From GitHub's shapes: a list of topics, and property name -> text, list of text or null."""
        values: dict[str, frozenset[str]] = {}
        for name, value in (properties or {}).items():
            items = value if isinstance(value, (list, tuple)) else ([] if value is None else [value])
            values[str(name).lower()] = frozenset(str(v).lower() for v in items)
        return RepositoryFacts(frozenset(str(t).lower() for t in topics), values)

    def digest(self) -> str:
        """Names these facts in a review's key: new topics may mean another policy in force."""
        text = "\x00".join([*sorted(self.topics), "\x01",
                            *(f"{k}={','.join(sorted(v))}" for k, v in sorted(self.properties.items()))])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class FrameworkScope:
    """One entry of `frameworks`: a framework, with the repositories it is for (`when`)."""

    name: str
    topics: frozenset[str] = frozenset()  # any of them
    properties: Mapping[str, frozenset[str]] = field(default_factory=dict)  # each property: any value
    line: int | None = field(default=None, compare=False)

    def applies(self, facts: RepositoryFacts) -> bool:
        if self.topics and not self.topics & facts.topics:
            return False
        return all(values & facts.properties.get(name, frozenset()) for name, values in self.properties.items())


@dataclass(frozen=True)
class DataClassification:
    """`data_classification`: the tag naming a resource's data class, and the classes each
    framework is about (`hipaa: [phi]`), in lower case."""

    tag: str
    frameworks: Mapping[str, frozenset[str]]
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Policy:
    fail_on: Severity = Severity.LOW
    disabled_rules: frozenset[str] = frozenset()
    ignore_paths: tuple[str, ...] = ()
    max_comments: int = DEFAULT_MAX_COMMENTS
    review_drafts: bool = False
    suppressions: tuple[Suppression, ...] = field(default_factory=tuple)
    var_files: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # root module dir -> variable files
    fail_not_reviewed: frozenset[str] = frozenset()  # kinds, or {"all"}
    fail_unknown: Severity | None = None  # controls at least this severe fail when their value is unknown
    regressions: str = "block"  # one of REGRESSION_MODES
    show_secret_prefix: bool = False  # `secrets.show_prefix`
    extends: str | None = None  # `extends: org`
    rule_modes: Mapping[str, str] = field(default_factory=dict)  # rule id -> one of MODES
    frameworks: tuple[FrameworkScope, ...] = ()
    data_classification: DataClassification | None = None
    exceptions_settings: Mapping[str, Any] = field(default_factory=dict)  # `exceptions`, as validated
    facts: RepositoryFacts = field(default_factory=RepositoryFacts)
    # Where each setting is written (`rules.disable[0]` -> 3) and in which file: for messages only.
    source: str = field(default=POLICY_PATH, compare=False)
    lines: Mapping[str, int] = field(default_factory=dict, compare=False)

    def ignores(self, path: str) -> bool:
        return any(path_matches(path, pattern) for pattern in self.ignore_paths)

    def suppression_for(self, finding: Finding, today: dt.date | None = None,
                        aliases: tuple[str, ...] = ()) -> Suppression | None:
        """The first suppression naming the finding's rule (or one of its earlier ids, `aliases`)."""
        today = today or dt.date.today()
        return next((s for s in self.suppressions if s.matches(finding, today, aliases)), None)

    def blocks(self, finding: Finding) -> bool:
        if finding.mode != BLOCK:  # `comment` or `monitor`, by `rules.modes` or data classification
            return False
        if finding.regression and self.regressions == "notice":
            return False
        return not finding.suppressed and finding.severity.at_least(self.fail_on)

    def mode_for(self, rule_id: str, aliases: tuple[str, ...] = ()) -> str:
        """The rule's mode (`rules.modes`), named by its id or an earlier id; `block` by default."""
        for name in (rule_id, *aliases):
            if name in self.rule_modes:
                return self.rule_modes[name]
        return BLOCK

    def fails_unknown(self, severity: Severity) -> bool:
        """Whether a control of this severity fails when its value cannot be known (`unknown.fail`)."""
        return self.fail_unknown is not None and severity.at_least(self.fail_unknown)

    def fails_for(self, entry: NotReviewed) -> bool:
        """Whether this not-reviewed entry fails the check (`not_reviewed.fail`); default never."""
        return ALL_KINDS in self.fail_not_reviewed or entry.what in self.fail_not_reviewed

    @property
    def active_frameworks(self) -> frozenset[str] | None:
        """The frameworks whose rules are evaluated for this repository; None: every rule."""
        names = frozenset(scope.name for scope in self.frameworks if scope.applies(self.facts))
        return names or None

    @property
    def needs_topics(self) -> bool:
        return any(scope.topics for scope in self.frameworks)

    @property
    def needs_properties(self) -> bool:
        return any(scope.properties for scope in self.frameworks)

    @property
    def allows_repository_exceptions(self) -> bool:
        """`exceptions.allow_repository` (in an organisation policy): repositories may suppress."""
        return self.exceptions_settings.get("allow_repository") is True

    def sets(self, setting: str) -> bool:
        """Whether the file writes this setting (`fail_on`, `secrets.show_prefix`) itself."""
        return setting in self.lines

    def line_of(self, setting: str, item: str | None = None) -> int | None:
        """The line of a setting, or of one item of a list setting by its value
        (`line_of("rules.disable", "CB-AWS-001")`); else the nearest setting above it."""
        names = [f"{setting}={item}"] if item is not None else []
        names += [setting, setting.split(".")[0]]
        return next((self.lines[name] for name in names if name in self.lines), None)


def path_matches(path: str, pattern: str) -> bool:
    """Glob match where `**/` may match nothing and a trailing `/**` covers a whole folder."""
    if fnmatch.fnmatchcase(path, pattern):
        return True
    if pattern.startswith("**/") and fnmatch.fnmatchcase(path, pattern[3:]):
        return True
    return pattern.endswith("/**") and (path + "/").startswith(pattern[:-2])


def decode_policy(data: bytes, source: str = POLICY_PATH) -> str:
    """The policy file's text. A file that is not UTF-8 is an error, never a garbled policy whose
    settings silently differ from what its author wrote."""
    try:
        return decode(data)
    except YamlProblem as exc:
        raise PolicyError([PolicyProblem(source, exc.line, exc.message)]) from None


def parse_policy(text: str | None, source: str = POLICY_PATH) -> Policy:
    """Parse the policy file; None or an empty file gives the default policy. `source` names the
    file in messages (an organisation's: `octo-org/.github/.github/compliance.yml`)."""
    if text is None or not text.strip():
        return Policy(source=source)
    try:
        loaded = load(text)
    except YamlProblem as exc:
        raise PolicyError([PolicyProblem(source, exc.line, exc.message)]) from None
    if loaded.data is None:
        return Policy(source=source)
    data = _lowercased(loaded.data)
    problems = schema_problems(LoadedYaml(data, loaded.lines))
    if problems:
        raise PolicyError([PolicyProblem(source, p.line, p.message) for p in problems])
    lines = {setting_name(path): line for path, line in loaded.lines.items() if path}
    for setting in (("rules", "disable"), ("paths", "ignore")):  # items found again by value
        for index, item in enumerate(((data.get(setting[0]) or {}).get(setting[1])) or ()):
            line = loaded.lines.get((*setting, index))
            if line is not None:
                lines.setdefault(f"{setting_name(setting)}={item}", line)
    return _policy(data, source, lines)


def _lowercased(data: Any) -> Any:
    """Severities and kinds may be written in any case (`fail_on: HIGH`, `Helm Template`)."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    for path in _LOWERCASE:
        holder: Any = data
        for key in path[:-1]:
            inner = holder.get(key) if isinstance(holder, dict) else None
            if not isinstance(inner, dict):
                break
            holder[key] = holder = dict(inner)
        else:
            value = holder.get(path[-1])
            if isinstance(value, str):
                holder[path[-1]] = value.strip().lower()
            elif isinstance(value, list):
                holder[path[-1]] = [v.strip().lower() if isinstance(v, str) else v for v in value]
    return data


def _policy(data: Mapping[str, Any], source: str, lines: Mapping[str, int]) -> Policy:
    """Build the policy from data the schema accepted: no check is left to do here."""
    rules = data.get("rules") or {}
    unknown = (data.get("unknown") or {}).get("fail")
    fail = (data.get("not_reviewed") or {}).get("fail")
    return Policy(
        fail_on=Severity(data.get("fail_on", "low")),
        disabled_rules=frozenset(rules.get("disable") or ()),
        ignore_paths=tuple((data.get("paths") or {}).get("ignore") or ()),
        max_comments=int((data.get("comments") or {}).get("max", DEFAULT_MAX_COMMENTS)),
        review_drafts=bool(data.get("drafts", False)),
        suppressions=tuple(_suppression(item, lines.get(f"suppressions[{i}]"))
                           for i, item in enumerate(data.get("suppressions") or ())),
        var_files=_var_files((data.get("terraform") or {}).get("var_files") or {}),
        fail_not_reviewed=frozenset([ALL_KINDS] if fail == ALL_KINDS else fail or ()),
        fail_unknown=Severity(unknown) if unknown else None,
        regressions=data.get("regressions", "block"),
        show_secret_prefix=bool((data.get("secrets") or {}).get("show_prefix", False)),
        extends=data.get("extends"),
        rule_modes=dict(rules.get("modes") or {}),
        frameworks=tuple(_scope(item, lines.get(f"frameworks[{i}]")) for i, item in enumerate(data.get("frameworks") or ())),
        data_classification=_classification(data.get("data_classification"), lines.get("data_classification")),
        exceptions_settings=_exceptions(data.get("exceptions"), source, lines.get("exceptions")),
        source=source,
        lines=lines,
    )


def _suppression(item: Mapping[str, Any], line: int | None) -> Suppression:
    expires = item.get("expires")
    return Suppression(
        rule=item["rule"],
        reason=item["reason"].strip(),
        path=item.get("path") or None,
        resource=item.get("resource") or None,
        expires=dt.date.fromisoformat(expires) if expires else None,
        line=line,
        ticket=str(item["ticket"]).strip() if item.get("ticket") is not None else None,
    )


def _exceptions(value: Any, source: str, line: int | None) -> dict[str, Any]:
    """`exceptions:`, checked beyond its shape by its own module (bot/engine/exceptions.py) and
    kept as written."""
    try:
        ExceptionSettings.from_mapping(value)
    except ExceptionSettingsError as exc:
        raise PolicyError([PolicyProblem(source, line, str(exc))]) from None
    return dict(value or {})


def _scope(item: str | Mapping[str, Any], line: int | None) -> FrameworkScope:
    if isinstance(item, str):
        return FrameworkScope(item, line=line)
    when = item.get("when") or {}
    properties = {str(name).lower(): frozenset(v.lower() for v in ([value] if isinstance(value, str) else value))
                  for name, value in (when.get("properties") or {}).items()}
    return FrameworkScope(item["name"], frozenset(t.lower() for t in when.get("topics") or ()), properties, line)


def _classification(value: Mapping[str, Any] | None, line: int | None) -> DataClassification | None:
    if value is None:
        return None
    return DataClassification(value["tag"], {name: frozenset(c.lower() for c in classes)
                                             for name, classes in value["frameworks"].items()}, line)


def _var_files(mapping: Mapping[str, list[str]]) -> dict[str, tuple[str, ...]]:
    """`terraform.var_files`: root module directory ("." for the repository's root) -> the variable
    files Terraform is run with there (as `-var-file`), loaded after the automatic ones, in order."""
    result: dict[str, tuple[str, ...]] = {}
    for directory, files in mapping.items():
        key = str(directory).strip().strip("/")
        result["" if key in (".", "") else key] = tuple(files)
    return result
