"""The repository's compliance policy (`.github/compliance.yml`), read from the default branch.

A pull request must never be able to weaken its own review, so the App reads this file from
the default branch only. Every field has a safe default: with no file, every finding blocks.

    fail_on: high            # critical | high | medium | low (default low: everything blocks)
    rules:
      disable: [CB-AWS-017]
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

`not_reviewed.fail`: what the engine lists as not reviewed (a Helm template, a Bicep file, a
binary file...; the kinds are `bot.engine.coverage.KINDS`) is shown in every report but passes by
default, since the change may be fine; a strict organisation names the kinds that must fail the
check instead (`all`: every kind). An unknown kind is an error, so a typo never makes a strict
policy lenient.

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
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from bot.engine.coverage import KINDS
from bot.engine.exceptions import ExceptionSettings, ExceptionSettingsError
from bot.engine.model import Finding, NotReviewed, Severity

POLICY_PATH = ".github/compliance.yml"
DEFAULT_MAX_COMMENTS = 30
MAX_POLICY_DEPTH = 32  # a policy is a few levels deep; more is an attack or a mistake
MAX_POLICY_BYTES = 256 * 1024
MAX_POLICY_NODES = 100_000  # values after alias expansion; a real policy has a few hundred
ALL_KINDS = "all"
REGRESSION_MODES = ("block", "notice")


class PolicyError(ValueError):
    """The policy file is invalid; the message names the field (and line where known)."""


@dataclass(frozen=True)
class Suppression:
    rule: str
    reason: str
    path: str | None = None
    resource: str | None = None
    expires: dt.date | None = None
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
    exceptions_settings: Mapping[str, Any] = field(default_factory=dict)  # `exceptions:`, validated, as written

    def ignores(self, path: str) -> bool:
        return any(path_matches(path, pattern) for pattern in self.ignore_paths)

    def suppression_for(self, finding: Finding, today: dt.date | None = None,
                        aliases: tuple[str, ...] = ()) -> Suppression | None:
        """The first suppression naming the finding's rule (or one of its earlier ids, `aliases`)."""
        today = today or dt.date.today()
        return next((s for s in self.suppressions if s.matches(finding, today, aliases)), None)

    def blocks(self, finding: Finding) -> bool:
        if finding.regression and self.regressions == "notice":
            return False
        return not finding.suppressed and finding.severity.at_least(self.fail_on)

    def fails_unknown(self, severity: Severity) -> bool:
        """Whether a control of this severity fails when its value cannot be known (`unknown.fail`)."""
        return self.fail_unknown is not None and severity.at_least(self.fail_unknown)

    def fails_for(self, entry: NotReviewed) -> bool:
        """Whether this not-reviewed entry fails the check (`not_reviewed.fail`); default never."""
        return ALL_KINDS in self.fail_not_reviewed or entry.what in self.fail_not_reviewed


def path_matches(path: str, pattern: str) -> bool:
    """Glob match where `**/` may match nothing and a trailing `/**` covers a whole folder."""
    if fnmatch.fnmatchcase(path, pattern):
        return True
    if pattern.startswith("**/") and fnmatch.fnmatchcase(path, pattern[3:]):
        return True
    return pattern.endswith("/**") and (path + "/").startswith(pattern[:-2])


def _expect(value: Any, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise PolicyError(f"{POLICY_PATH}: '{where}' must be a {names}")
    return value


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    items = _expect(value, list, where)
    return tuple(str(_expect(item, (str, int), where)) for item in items)


def _severity(value: Any) -> Severity:
    try:
        return Severity(str(value).lower())
    except ValueError:
        raise PolicyError(f"{POLICY_PATH}: 'fail_on' must be one of critical, high, medium, low") from None


def _suppression(item: Any, index: int) -> Suppression:
    where = f"suppressions[{index}]"
    _expect(item, dict, where)
    if not item.get("rule"):
        raise PolicyError(f"{POLICY_PATH}: '{where}.rule' is required")
    reason = str(item.get("reason") or "").strip()
    if not reason:
        raise PolicyError(f"{POLICY_PATH}: '{where}.reason' is required (say why the risk is accepted)")
    expires = item.get("expires")
    if isinstance(expires, dt.datetime):  # YAML reads `2099-01-31 10:00:00` as a timestamp: a day is meant
        raise PolicyError(f"{POLICY_PATH}: '{where}.expires' must be a date like 2027-01-31 (a day, no time)")
    if expires is not None and not isinstance(expires, dt.date):
        try:
            expires = dt.date.fromisoformat(str(expires))
        except ValueError:
            raise PolicyError(f"{POLICY_PATH}: '{where}.expires' must be a date like 2027-01-31") from None
    return Suppression(
        rule=str(item["rule"]),
        reason=reason,
        path=str(item["path"]) if item.get("path") else None,
        resource=str(item["resource"]) if item.get("resource") else None,
        expires=expires,
        ticket=str(item["ticket"]).strip() if item.get("ticket") is not None else None,
    )


def _not_reviewed_fail(value: Any) -> frozenset[str]:
    section = _expect(value or {}, dict, "not_reviewed")
    unknown = sorted(str(key) for key in section if key != "fail")
    if unknown:
        raise PolicyError(f"{POLICY_PATH}: 'not_reviewed.{unknown[0]}' is not a setting (the one setting is 'fail')")
    fail = section.get("fail")
    if fail is None:
        return frozenset()
    if isinstance(fail, str) and fail.strip().lower() == ALL_KINDS:
        return frozenset({ALL_KINDS})
    if not isinstance(fail, list):
        raise PolicyError(f"{POLICY_PATH}: 'not_reviewed.fail' must be 'all' or a list of kinds")
    kinds = [str(_expect(item, str, "not_reviewed.fail")).strip().lower() for item in fail]
    for kind in kinds:
        if kind not in KINDS and kind != ALL_KINDS:
            raise PolicyError(f"{POLICY_PATH}: 'not_reviewed.fail' names an unknown kind '{kind}' "
                              f"(known: {', '.join(sorted(KINDS))}, or all)")
    return frozenset(kinds)


def decode_policy(data: bytes) -> str:
    """The policy file's text. A file that is not UTF-8 is an error, never a garbled policy whose
    settings silently differ from what its author wrote."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(f"{POLICY_PATH}: not UTF-8 text (byte {exc.start + 1})") from None


def _check_shape(text: str) -> None:
    """Refuse nesting deeper than any policy needs, and more values than any policy needs once
    aliases are expanded, before building it: the YAML composer recurses per level (10,000
    brackets would end in a RecursionError), and a policy's values are turned into text (an alias
    bomb of a billion items as `fail_on` would take minutes and gigabytes). The event stream read
    here is produced without recursion, and an alias is counted at the size of what it names."""
    depth = nodes = 0
    open_nodes: list[tuple[str | None, int]] = []  # anchor and node count where each collection starts
    sizes: dict[str, int] = {}  # anchor -> values it stands for
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            nodes += sizes.get(event.anchor or "", 1)
        elif isinstance(event, yaml.ScalarEvent):
            nodes += 1
            if event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            nodes += 1
            open_nodes.append((event.anchor, nodes))
            if depth > MAX_POLICY_DEPTH:
                raise PolicyError(f"{POLICY_PATH}: line {_line_of(event)}: nested deeper than {MAX_POLICY_DEPTH} levels")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
            anchor, start = open_nodes.pop()
            if anchor:
                sizes[anchor] = nodes - start + 1
        if nodes > MAX_POLICY_NODES:
            raise PolicyError(f"{POLICY_PATH}: line {_line_of(event)}: more than {MAX_POLICY_NODES} values "
                              "once aliases are expanded")


def _impossible_date_line(text: str) -> int | None:
    """The line of the first plain value YAML reads as a date or time that does not exist."""
    constructor = yaml.constructor.SafeConstructor()
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.ScalarEvent) and event.implicit[0] \
                and constructor.timestamp_regexp.match(event.value):
            try:
                constructor.construct_yaml_timestamp(yaml.ScalarNode("tag:yaml.org,2002:timestamp", event.value))
            except (ValueError, OverflowError):
                return _line_of(event)
    return None


def _line_of(event: yaml.Event) -> int:
    return event.start_mark.line + 1 if event.start_mark is not None else 0


def parse_policy(text: str | None) -> Policy:
    """Parse the policy file; None or an empty file gives the default policy."""
    if text is None or not text.strip():
        return Policy()
    if len(text) > MAX_POLICY_BYTES:
        raise PolicyError(f"{POLICY_PATH}: larger than {MAX_POLICY_BYTES // 1024} KiB")
    if "\ufffd" in text:  # what a reader that replaces undecodable bytes leaves behind
        bad_line = text.count("\n", 0, text.index("\ufffd")) + 1
        raise PolicyError(f"{POLICY_PATH}: line {bad_line}: not UTF-8 text")
    try:
        _check_shape(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise PolicyError(f"{POLICY_PATH}:{line}: not valid YAML") from None
    except PolicyError:
        raise
    except (ValueError, OverflowError) as exc:  # `expires: 2027-01-51`: YAML's date reader raises these
        bad = _impossible_date_line(text)
        where = f" line {bad}:" if bad else ""
        raise PolicyError(f"{POLICY_PATH}:{where} not a date that exists ({exc})") from None
    if data is None:
        return Policy()
    _expect(data, dict, "top level")
    rules = _expect(data.get("rules") or {}, dict, "rules")
    paths = _expect(data.get("paths") or {}, dict, "paths")
    comments = _expect(data.get("comments") or {}, dict, "comments")
    max_comments = comments.get("max", DEFAULT_MAX_COMMENTS)
    if not isinstance(max_comments, int) or isinstance(max_comments, bool) or not 0 <= max_comments <= 100:
        raise PolicyError(f"{POLICY_PATH}: 'comments.max' must be a whole number from 0 to 100")
    drafts = data.get("drafts", False)
    if not isinstance(drafts, bool):
        raise PolicyError(f"{POLICY_PATH}: 'drafts' must be true or false")
    suppressions = _expect(data.get("suppressions") or [], list, "suppressions")
    terraform = _expect(data.get("terraform") or {}, dict, "terraform")
    regressions = data.get("regressions", "block")
    if regressions not in REGRESSION_MODES:
        raise PolicyError(f"{POLICY_PATH}: 'regressions' must be one of {', '.join(REGRESSION_MODES)}")
    return Policy(
        fail_on=_severity(data.get("fail_on", "low")),
        disabled_rules=frozenset(_str_list(rules.get("disable") or [], "rules.disable")),
        ignore_paths=_str_list(paths.get("ignore") or [], "paths.ignore"),
        max_comments=max_comments,
        review_drafts=drafts,
        suppressions=tuple(_suppression(item, i) for i, item in enumerate(suppressions)),
        var_files=_var_files(terraform.get("var_files") or {}),
        fail_not_reviewed=_not_reviewed_fail(data.get("not_reviewed")),
        fail_unknown=_unknown_fail(data.get("unknown")),
        regressions=regressions,
        show_secret_prefix=_show_secret_prefix(data.get("secrets")),
        exceptions_settings=_exceptions(data.get("exceptions")),
    )


def _exceptions(value: Any) -> dict[str, Any]:
    """`exceptions:`, checked by its own module and kept as written (see bot/engine/exceptions.py)."""
    try:
        ExceptionSettings.from_mapping(value)
    except ExceptionSettingsError as exc:
        raise PolicyError(f"{POLICY_PATH}: {exc}") from None
    return dict(value or {})


def _show_secret_prefix(value: Any) -> bool:
    """`secrets: {show_prefix: true}`: found secrets are shown with their first characters."""
    if value is None:
        return False
    section = _expect(value, dict, "secrets")
    unexpected = sorted(str(key) for key in section if key != "show_prefix")
    if unexpected:
        raise PolicyError(f"{POLICY_PATH}: 'secrets.{unexpected[0]}' is not a setting "
                          "(the setting is 'secrets.show_prefix')")
    shown = section.get("show_prefix", False)
    if not isinstance(shown, bool):
        raise PolicyError(f"{POLICY_PATH}: 'secrets.show_prefix' must be true or false")
    return shown


def _unknown_fail(value: Any) -> Severity | None:
    """`unknown: {fail: critical}`: a control of at least that severity whose value cannot be known
    before apply (a variable without a default, a resource attribute) fails the check, with where
    the value came from; by default such a control is not reported."""
    if value is None:
        return None
    section = _expect(value, dict, "unknown")
    unexpected = sorted(str(key) for key in section if key != "fail")  # keys may be numbers or null
    if unexpected:
        raise PolicyError(f"{POLICY_PATH}: 'unknown.{unexpected[0]}' is not a setting (the setting is 'unknown.fail')")
    level = section.get("fail")
    if level is None:
        return None
    try:
        return Severity(str(level).lower())
    except ValueError:
        raise PolicyError(f"{POLICY_PATH}: 'unknown.fail' must be one of critical, high, medium, low") from None


def _var_files(value: Any) -> dict[str, tuple[str, ...]]:
    """`terraform.var_files`: root module directory ("." for the repository's root) -> the variable
    files Terraform is run with there (as `-var-file`), loaded after the automatic ones, in order."""
    mapping = _expect(value, dict, "terraform.var_files")
    result: dict[str, tuple[str, ...]] = {}
    for directory, files in mapping.items():
        key = str(directory).strip().strip("/")
        result["" if key in (".", "") else key] = _str_list(files, f"terraform.var_files.{directory}")
    return result
