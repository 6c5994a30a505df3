"""The review engine: a change (or a whole tree) in, one frozen `Review` out.

It knows nothing of GitHub or of git: callers hand it `FileDiff`s and `Tree`s, and the rule set
(the registry lives in `rules`, which depends on the engine, never the reverse). The pipeline
reads as: plan reads → ask the tree → parse → select touched resources → run rules → findings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import posixpath
import re
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from bot.engine import coverage, limits
from bot.engine.budget import BudgetedTree, FileClock, ReadBudget
from bot.engine.classification import notice_reason
from bot.engine.context import BaseVersions, ModuleContext
from bot.engine.diff import DiffError, FileDiff, FileStatus, reconstruct_base, whole_file_added
from bot.engine.exceptions import Approval, ExceptionRecord, ExceptionSettings, ForeignIds
from bot.engine.generated import BINARY, GENERATED, TEXT, machine_written
from bot.engine.governance import RuleIndex, govern, suppression_problems
from bot.engine.landing import Landing, landing
from bot.engine.model import (
    SECRET_SLOT,
    FileError,
    Finding,
    Node,
    NotReviewed,
    ParsedFile,
    Resource,
    Violation,
)
from bot.engine.parse_pool import Parsing, load_all, parseable
from bot.engine.parsers import (
    DOCKERFILE,
    JSON,
    MAX_PARSE_BYTES,
    TERRAFORM,
    YAML,
    classify,
    evaluate_terraform,
    module_dir,
    parse_terraform,
)
from bot.engine.policy import MONITOR, POLICY_PATH, Policy, PolicyError, parse_policy
from bot.engine.rule import Rule
from bot.engine.selection import Seeds, base_seeds, expand_related, group_key, touched_resources
from bot.engine.tree import (
    BINARY_CONTENT,
    MAX_FILE_BYTES,
    SUBMODULE,
    SYMLINK,
    BinaryText,
    MemoryTree,
    Tree,
    WalkableTree,
    unread_reason,
)

MAX_TERRAFORM_FILES = limits.TERRAFORM_FILES  # read to find module callers; past it only the changed modules are read
TEXT_CHUNK_LINES = 2000  # lines of one text resource: a big file is scanned chunk by chunk
_INFRASTRUCTURE = (TERRAFORM, YAML, DOCKERFILE)  # an unreadable one is an error (JSON may be anything)
_DECLARES_VALUES = re.compile(r"^\s*(?:variable|locals)\b", re.MULTILINE)  # blocks that resolve values


@dataclass(frozen=True)
class ReadPlan:
    """What a review reads first: changed files, the Terraform modules (directories) they belong
    to, and the base files whose lost lines may have removed or edited resources (a file that
    only gained lines is rebuilt from its head and patch instead: see `_base_files`). `charts`: the
    `Chart.yaml` beside each changed values file, read in the same batch (never parsed) to tell
    a Helm chart's values from any other YAML."""

    head: frozenset[str]
    module_dirs: frozenset[str]
    base: frozenset[str]
    charts: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ReviewStats:
    files_changed: int = 0
    files_parsed: int = 0
    resources_parsed: int = 0
    resources_checked: int = 0
    seconds: float = 0.0


def conclusion_of(findings: Iterable[Finding], errors: Sequence[FileError], policy: Policy,
                  not_reviewed: Iterable[NotReviewed] = ()) -> str:
    """failure on a blocking finding, any error (fail closed) or a not-reviewed kind the policy
    fails (`not_reviewed.fail`), else success: by default what was not reviewed is only listed."""
    if errors or any(policy.blocks(f) for f in findings) or any(policy.fails_for(n) for n in not_reviewed):
        return "failure"
    return "success"


@dataclass(frozen=True)
class Review:
    """The outcome of one review, before any reporter decides how to show it. Frozen: what a
    caller adds (its own errors, notes and not-reviewed entries) travels in the caller's own record.

    `not_reviewed`: changed files (or parts, with a line) the engine could not judge, each shown
    by every reporter; they fail the review only where the policy says so.
    `rules_applied`: the ids of the rules that judged at least one resource or line of the change,
    sorted: what an evidence record lists as evaluated (a rule of another format never ran).
    `exceptions`: what became of each exception the review met (`bot.engine.governance`)."""

    findings: tuple[Finding, ...] = ()
    errors: tuple[FileError, ...] = ()
    notes: tuple[str, ...] = ()
    stats: ReviewStats = field(default_factory=ReviewStats)
    not_reviewed: tuple[NotReviewed, ...] = ()
    rules_applied: tuple[str, ...] = ()
    exceptions: tuple[ExceptionRecord, ...] = ()

    def conclusion(self, policy: Policy) -> str:
        return conclusion_of(self.findings, self.errors, policy, self.not_reviewed)


class RuleSet:
    """Rules indexed by source and type, with their regulation controls attached: a resource
    meets only the rules that judge its type (and those judging every type of its source).

    `migrations`: tool ("tfsec", "trivy") -> that tool's check id -> our equivalent rules, for the
    policy's `exceptions.migrate`; Checkov's ids come from the rules' own `peers`."""

    def __init__(self, rules: Sequence[Rule], controls: Mapping[str, Mapping[str, tuple[str, ...]]],
                 version: str | None = None, migrations: Mapping[str, Mapping[str, Sequence[str]]] | None = None
                 ) -> None:
        self.rules = tuple(rules)
        self.controls = controls
        self.migrations = migrations or {}
        self.foreign = _foreign_ids(self.rules, self.migrations)
        self._any_type: dict[str, list[Rule]] = defaultdict(list)
        self._by_type: dict[tuple[str, str], list[Rule]] = defaultdict(list)
        self._order = {id(rule): n for n, rule in enumerate(self.rules)}
        for rule in self.rules:
            for source in rule.sources:
                if rule.types:
                    for type_ in rule.types:
                        self._by_type[(source, type_)].append(rule)
                else:
                    self._any_type[source].append(rule)
        self._cache: dict[tuple[str, str, frozenset[str]], tuple[Rule, ...]] = {}
        self.digest = _digest(self.rules, controls)
        # What evidence records name the rule set by: the shipped catalog's hash (rules.registry),
        # else this digest of what the rules would report.
        self.version = version or self.digest

    def for_resource(self, resource: Resource, disabled: frozenset[str]) -> Iterable[Rule]:
        """The rules judging `resource`, but those `disabled` names (by id or by an earlier id)."""
        key = (resource.source, resource.type, disabled)
        if key not in self._cache:
            found = [*self._any_type.get(resource.source, ()), *self._by_type.get((resource.source, resource.type), ())]
            found.sort(key=lambda rule: self._order[id(rule)])
            self._cache[key] = tuple(r for r in found if r.id not in disabled and disabled.isdisjoint(r.aliases))
        return self._cache[key]


def _foreign_ids(rules: Sequence[Rule], migrations: Mapping[str, Mapping[str, Sequence[str]]]) -> ForeignIds:
    by_tool: dict[str, dict[str, tuple[str, ...]]] = defaultdict(dict)
    for rule in rules:
        for check in rule.peers.get("checkov", ()):
            by_tool["checkov"][check.upper()] = (*by_tool["checkov"].get(check.upper(), ()), rule.id)
    for tool, table in migrations.items():
        for check, rule_ids in table.items():
            by_tool[tool][check.upper()] = tuple(rule_ids)
    return ForeignIds({tool: dict(table) for tool, table in by_tool.items()})


def _digest(rules: Sequence[Rule], controls: Mapping[str, Mapping[str, tuple[str, ...]]]) -> str:
    """What the rule set would report, in 12 characters: a review made by another rule set is
    another review (its findings may differ), even on the same head and policy."""
    parts = sorted(f"{r.id}:{r.severity.value}:{sorted(r.sources)}:{sorted(r.types)}:{sorted(controls.get(r.id, {}).items())}"
                   for r in rules)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def plan_reads(diffs: Sequence[FileDiff], policy: Policy) -> ReadPlan:
    """What a review of `diffs` reads first.

    Head: every changed parseable file, and any changed file whose patch is missing (a binary
    diff, or one too large: the secrets rules must then read it whole). Modules: the directory
    of every changed Terraform file (.tf, .tf.json, variable files: its variables, locals and
    related resources live beside it), and each root module whose policy `var_files` the change
    touched, wherever they live.
    Base: changed Terraform, YAML and JSON files that lost lines, to find resources the change
    deleted or edited. Charts: the `Chart.yaml` beside each changed values file, asked for with
    the head's texts (no extra request) so the values of a Helm chart are listed as not reviewed.
    """
    head: set[str] = set()
    base: set[str] = set()
    modules: set[str] = set()
    charts: set[str] = set()
    for diff in diffs:
        if policy.ignores(diff.path):
            continue
        family = classify(diff.path)
        if diff.exists_at_head and (family is not None or not diff.complete):
            head.add(diff.path)
        chart = coverage.chart_of(diff.path) if diff.exists_at_head else None
        if chart is not None:
            charts.add(chart)
        if family == TERRAFORM:
            modules.add(module_dir(diff.path))
        base_path = diff.base_path
        if base_path and family in (TERRAFORM, YAML, JSON) and (diff.removed_base_lines or not diff.complete):
            base.add(base_path)
    changed = {p for d in diffs if not policy.ignores(d.path) for p in (d.path, d.base_path) if p}
    for root, files in policy.var_files.items():
        if changed.intersection(files):
            modules.add(root)  # a variable file the policy names for it, wherever it lives, sets its values
    return ReadPlan(frozenset(head), frozenset(modules), frozenset(base), frozenset(charts))


def _base_values(base_text: Mapping[str, str], diffs_by_base_path: Mapping[str, FileDiff],
                 var_files: Mapping[str, Sequence[str]]) -> list[Resource]:
    """The values that lines a change removed from a policy's variable file set at the base (an
    assignment deleted leaves the variable to its default)."""
    named = {path for files in var_files.values() for path in files if path in base_text and path in diffs_by_base_path}
    if not named:
        return []
    from bot.engine.parsers.terraform.varfiles import load_variable_file  # only when such a file changed

    return [r for path in sorted(named) for r in load_variable_file(path, base_text[path]).parsed.resources
            if diffs_by_base_path[path].touches_base_span(r.line, r.end_line)]


def _variables_set_elsewhere(touched: Sequence[Resource], resources: Sequence[Resource],
                             var_files: Mapping[str, Sequence[str]]) -> list[Resource]:
    """The `variable` blocks of each root module whose policy `var_files` the change set values
    in, when such a file lives outside the root's folder (the values it sets belong to the root's
    instance, not to the file's folder): they count as touched, so whatever reads them is judged
    again, through locals too. A variable file beside its root is that root's already.
    `touched` holds the variable values a change added or edited, and those it removed (read
    from the base: the variable then takes its default)."""
    named: dict[str, set[str]] = defaultdict(set)  # root module dir -> variables a changed line sets
    for resource in touched:
        if resource.kind != "variable_value":
            continue
        for root, files in var_files.items():
            if resource.path in files and module_dir(resource.path) != root:
                named[root].add(resource.address)
    return [r for r in resources if r.kind == "variable" and not r.calls and r.address in named.get(module_dir(r.path), ())]


def text_resource(path: str, numbered_lines: Iterable[tuple[int, str]], type_: str = "text") -> Resource | None:
    """The resource the secrets rules read: the given lines of one file, keyed by line number, whole
    (a secret may sit anywhere on a line of any length: the rules' patterns are linear in it).
    `type_`: "text", "binary" for binary content (`BinaryText` that does not look like text), or
    "generated" for a file a tool writes (`bot.engine.generated`): in those two only the rules
    whose specs name the type look (credentials of a recognisable format)."""
    body = {str(n): Node(text, n, n) for n, text in numbered_lines}
    if not body:
        return None
    lines = sorted(int(k) for k in body)
    return Resource(
        source="text",
        kind="file",
        type=type_,
        address=path,
        path=path,
        line=lines[0],
        end_line=lines[-1],
        body=Node(body, lines[0], lines[-1]),
    )


def text_resources(path: str, numbered_lines: Iterable[tuple[int, str]], type_: str = "text",
                   max_lines: int = TEXT_CHUNK_LINES) -> Iterator[Resource]:
    """The text resources of one file, `max_lines` lines each, made as the rules ask for them, so
    a big file never has an object per line all at once. A chunk never ends on a line opening a
    PEM block (`-----BEGIN`): the private-key rule reads the line after it."""
    chunk: list[tuple[int, str]] = []
    for number, text in numbered_lines:
        if not text or text.isspace():
            continue  # a blank line holds no secret, and a file of millions of them must cost nothing
        chunk.append((number, text))
        if len(chunk) >= max_lines and "-----BEGIN" not in text:
            resource = text_resource(path, chunk, type_)
            chunk = []
            if resource is not None:
                yield resource
    resource = text_resource(path, chunk, type_)
    if resource is not None:
        yield resource


def _text_type(path: str, text: str | None) -> str:
    """The text resource type of a file: binary content, a file a tool writes, or text."""
    if isinstance(text, BinaryText) and not text.looks_like_text:
        return BINARY
    return GENERATED if machine_written(path) else TEXT


def _parse_files(contents: Mapping[str, str], evaluate_from: Collection[str] | None = None,
                 var_files: Mapping[str, Sequence[str]] | None = None, clock: FileClock | None = None,
                 parsing: Parsing | None = None) -> tuple[dict[str, ParsedFile], tuple[NotReviewed, ...]]:
    """Parse what was read. With `evaluate_from` (the changed Terraform directories), Terraform is
    evaluated as Terraform instantiates it, through module calls, over the directories those
    changes reach; without, each module is parsed on its own (what the base side needs).

    Each file is first read on its own (`parse_pool.load_all`: in a pool of processes when there
    are many), each parse charged to `clock`; then Terraform modules are put together here."""
    terraform = {p: t for p, t in contents.items() if classify(p) == TERRAFORM}
    if evaluate_from is not None and terraform:
        from bot.engine.parsers.terraform.stack import needed_directories  # only when Terraform was read

        needed = needed_directories(evaluate_from, terraform)
        named = {path for paths in (var_files or {}).values() for path in paths}  # may live elsewhere
        terraform = {p: t for p, t in terraform.items() if module_dir(p) in needed or p in named}
    others = [p for p in contents if classify(p) in (YAML, JSON, DOCKERFILE)]
    wanted = {p: t for p, t in terraform.items() if parseable(p) and len(t) <= MAX_PARSE_BYTES}
    wanted.update((p, contents[p]) for p in others)
    loaded = load_all(wanted, clock or FileClock(), parsing)
    not_reviewed: tuple[NotReviewed, ...] = ()
    parsed: dict[str, ParsedFile] = {}
    if terraform:  # else the Terraform parser (and lark) is not even imported
        from bot.engine.parsers.terraform.module import LoadedFile

        read_terraform = {p: r for p, r in loaded.items() if isinstance(r, LoadedFile | FileError)}
        if evaluate_from is None:
            parsed = parse_terraform(terraform, read_terraform)
        else:
            parsed, not_reviewed = evaluate_terraform(terraform, var_files, read_terraform, evaluate_from)
    for path in others:
        result = loaded[path]
        parsed[path] = result if isinstance(result, ParsedFile) else ParsedFile(path)
    return parsed, not_reviewed


def _base_files(diffs: Sequence[FileDiff], plan: ReadPlan, head_text: Mapping[str, str],
                read: Mapping[str, str]) -> dict[str, str]:
    """The changed files as they were at base, for seeds and for the base versions rules compare.

    Files that lost lines come from the base tree (`read`). A file that only gained lines can
    still have been weakened (an added `retention_in_days = 120` where logs never expired): its
    base is its head without the added lines, rebuilt from the patch with no read.

    The unchanged .tf files of those modules are the same at base: the ones declaring variables
    or locals come along to resolve values, and all of them when the change edits a variable or
    local (an unchanged reader's base value is then another), so a plain edit of a big module
    does not parse it twice.
    """
    texts = dict(read)
    for diff in diffs:
        base_path = diff.base_path
        if (base_path is None or base_path in plan.base or not diff.complete or not diff.exists_at_head
                or classify(base_path) not in (TERRAFORM, YAML, JSON) or diff.path not in head_text):
            continue
        try:
            texts[base_path] = reconstruct_base(head_text[diff.path], diff)
        except DiffError:
            continue  # the patch does not fit the head text: no base version, so nothing compared
    changed = {d.path for d in diffs} | {d.base_path for d in diffs if d.base_path}
    modules = {module_dir(p) for p in texts if classify(p) == TERRAFORM}
    values_changed = {module_dir(p) for p, t in [*texts.items(), *head_text.items()]
                      if p in changed and classify(p) == TERRAFORM and _DECLARES_VALUES.search(t)}
    texts.update((p, t) for p, t in head_text.items()
                 if p not in changed and classify(p) == TERRAFORM and module_dir(p) in modules
                 and (module_dir(p) in values_changed or _DECLARES_VALUES.search(t)))
    return texts


def _groups(resources: Iterable[Resource]) -> dict[str, list[Resource]]:
    groups: dict[str, list[Resource]] = defaultdict(list)
    for resource in resources:
        groups[group_key(resource)].append(resource)
    return groups


class Engine:
    """Runs a rule set under a policy; one instance can review many changes."""

    def __init__(self, rule_set: RuleSet, policy: Policy | None = None, today: dt.date | None = None,
                 approvals: Sequence[Approval] = (), progress: Callable[[str], None] | None = None,
                 parsing: Parsing | None = None) -> None:
        """`approvals`: approving reviews of the pull request at its head by members of the policy's
        approver teams (the App fetches them); they make the exceptions the change adds count.
        `parsing`: how many processes parse a big review's files (`bot.engine.parse_pool`)."""
        self.rule_set = rule_set
        self.parsing = parsing or Parsing()
        self.progress = progress  # told the path of each file the review starts working on
        self.policy = policy or Policy()
        self.today = today
        self.approvals = tuple(approvals)
        self.exception_settings = ExceptionSettings.from_mapping(self.policy.exceptions_settings)
        self._rule_index = RuleIndex.of(rule_set.rules, rule_set.foreign)
        day = today or dt.date.today()
        self._refused = suppression_problems(self.policy, self.exception_settings, self._rule_index, day)
        refused = {p.index for p in self._refused}
        # The suppressions in force: those the `exceptions:` rules refuse suppress nothing.
        self._suppressing = replace(self.policy, suppressions=tuple(
            s for i, s in enumerate(self.policy.suppressions) if i not in refused))
        self.frameworks = self.policy.active_frameworks  # None: every rule is evaluated
        self._out_of_scope = frozenset() if self.frameworks is None else frozenset(
            r.id for r in rule_set.rules if self.frameworks.isdisjoint(rule_set.controls.get(r.id, {})))

    def _scope_notes(self) -> list[str]:
        if self.frameworks is None:
            return []
        return [(f"Only rules mapping to {', '.join(sorted(self.frameworks))} were evaluated (`frameworks` in the "
                f"policy): {len(self.rule_set.rules) - len(self._out_of_scope)} of {len(self.rule_set.rules)} rules.")]

    def _rule_frameworks(self, rule: Rule) -> frozenset[str]:
        """The frameworks a rule serves here: those it maps to, of those in force."""
        mapped = frozenset(self.rule_set.controls.get(rule.id, {}))
        return mapped if self.frameworks is None else mapped & self.frameworks

    def review_change(self, diffs: Sequence[FileDiff], head: Tree, base: Tree | None = None) -> Review:
        """Review only what `diffs` touched, asking `head` (and `base`) for the context it needs,
        within one review's byte budget (`limits.REVIEW_BYTES`, both sides together)."""
        budget = ReadBudget()
        return self._review(diffs, BudgetedTree(head, budget), BudgetedTree(base, budget) if base else None,
                            whole_tree=False)

    def _review(self, diffs: Sequence[FileDiff], head: Tree, base: Tree | None, whole_tree: bool) -> Review:
        started = time.perf_counter()
        clock = FileClock(on_file=self.progress)
        errors: list[FileError] = []
        notes: list[str] = self._scope_notes()
        policy_diff = next((d for d in diffs if POLICY_PATH in (d.path, d.base_path)), None)
        diffs = [d for d in diffs if not self.policy.ignores(d.path)]
        plan = plan_reads(diffs, self.policy)
        terraform: list[str] = []
        if plan.module_dirs:
            terraform, listing_notes = self._terraform_paths(plan, head)
            notes.extend(listing_notes)
        wanted = plan.head | set(terraform)
        read = _texts(head.read_many(sorted(wanted | plan.charts)))
        scanned = {p: t for p, t in read.items() if p in wanted}  # what the secrets rules read
        read = _parseable(read)  # binary content is scanned for secrets, never parsed
        chart_dirs = {posixpath.dirname(p) for p in plan.charts if p in read}
        head_text = {p: t for p, t in read.items() if p in wanted}  # a chart is looked for, never parsed
        changed_head = {d.path: d for d in diffs if d.exists_at_head}
        parsed, not_reviewed = _parse_files(head_text, plan.module_dirs, self.policy.var_files, clock, self.parsing)
        for path, result in parsed.items():
            if path in changed_head:
                errors.extend(result.errors)
            elif result.errors:
                notes.append(f"{path}: not parsed ({result.errors[0].message}); related resources may be missed")
        links: dict[str, NotReviewed] = {}
        for diff in diffs:
            text = scanned.get(diff.path)
            unread = diff.exists_at_head and diff.path in plan.head and text is None
            reason = unread_reason(head, diff.path) if diff.exists_at_head and diff.path not in scanned else ""
            infrastructure = classify(diff.path) in _INFRASTRUCTURE
            if diff.exists_at_head and reason in (SYMLINK, SUBMODULE):  # listed, not an error: nothing to read
                what = coverage.SYMLINK if reason == SYMLINK else coverage.SUBMODULE
                links[diff.path] = coverage.entry(diff.path, what, reason)
            elif unread and (infrastructure or not diff.complete):  # not parsed, or not even scanned for secrets
                errors.append(FileError(diff.path, None, _unread_message(diff.path, reason)))
            elif diff.exists_at_head and isinstance(text, BinaryText) and infrastructure:
                errors.append(FileError(diff.path, None, f"file could not be read: {BINARY_CONTENT}"))
        head_resources = [r for result in parsed.values() for r in result.resources]
        groups = _groups(head_resources)
        seeds: dict[str, Seeds] = {}
        base_versions = BaseVersions()
        base_values: list[Resource] = []  # what changed lines of variable files set at the base
        if base is not None:
            by_base_path = {d.base_path: d for d in diffs if d.base_path}
            base_text = _parseable(_texts(base.read_many(sorted(plan.base)))) if plan.base else {}
            notes.extend(f"{path}: its base version could not be read; resources the change removed there "
                         "were not followed" for path in sorted(plan.base - base_text.keys()))
            base_parsed, _ = _parse_files(_base_files(diffs, plan, head_text, base_text), parsing=self.parsing)
            base_resources = [r for res in base_parsed.values() for r in res.resources]
            seeds = base_seeds(base_resources, by_base_path)
            base_versions = BaseVersions(base_resources, {p: d.path for p, d in by_base_path.items() if d.exists_at_head})
            base_values = _base_values(base_text, by_base_path, self.policy.var_files)
        touched = touched_resources(head_resources, changed_head)
        touched += _variables_set_elsewhere([*touched, *base_values], head_resources, self.policy.var_files)
        selected = expand_related(touched, groups, seeds)
        selected_calls = {(r.path, r.line) for r in selected if r.kind == "module"}
        texts: list[Iterator[Resource]] = []  # the secrets rules' view of each changed file, made lazily
        for diff in changed_head.values():
            if diff.complete:
                texts.append(text_resources(diff.path, diff.added_texts(), _text_type(diff.path, None)))
            elif diff.path in scanned:
                text = scanned[diff.path]
                texts.append(text_resources(diff.path, _numbered_lines(text), _text_type(diff.path, text)))
        files_with_text = sum(1 for d in changed_head.values() if (d.added_lines if d.complete else scanned.get(d.path)))
        stats = ReviewStats(files_changed=len(diffs), files_parsed=len(parsed), resources_parsed=len(head_resources),
                            resources_checked=len(selected) + files_with_text, seconds=time.perf_counter() - started)
        unfollowed = (n for n in not_reviewed if (n.path, n.line) in selected_calls)  # remote modules the change reaches
        others = (d for d in changed_head.values() if d.path not in links)
        templated = {path for path, result in parsed.items() if result.templated}
        listed = tuple(sorted((*_not_reviewed(others, scanned, chart_dirs, errors, templated), *unfollowed,
                               *links.values()), key=_entry_order))
        applied: set[str] = set()
        findings = self._run_rules(itertools.chain(selected, *texts), groups, changed_head, base_versions,
                                   clock, applied)
        stopped = (FileError(path, None, clock.message(path)) for path in clock.stopped_paths())
        errors.extend(e for e in stopped if e not in errors)  # a stopped Terraform parse said so already
        with_markers = {*changed_head, *(f.path for f in findings)}
        marked = {p: t for p in with_markers if (t := scanned.get(p, head_text.get(p))) is not None
                  and _text_type(p, t) != BINARY}
        governed = govern(findings, marked, changed_head, self.policy, self.exception_settings, self._rule_index,
                          self.approvals, self.today or dt.date.today(), self._refused, whole_tree,
                          None if whole_tree or policy_diff is None else _policy_change(policy_diff, head, base))
        return Review(governed.findings, tuple(errors), (*notes, *governed.notes), stats, listed,
                      rules_applied=tuple(sorted(applied)), exceptions=governed.records)

    def _terraform_paths(self, plan: ReadPlan, head: Tree) -> tuple[list[str], list[str]]:
        """Every Terraform file of the repository (a changed module's callers and the modules it
        calls are among them), or only the changed modules' past MAX_TERRAFORM_FILES."""
        paths, complete = head.list_all()
        terraform = sorted(p for p in paths if classify(p) == TERRAFORM and not self.policy.ignores(p))
        cut = "The repository's file list was cut short: module calls from files beyond it were not followed."
        notes = [] if complete else [cut]
        if len(terraform) > MAX_TERRAFORM_FILES:
            notes.append(f"The repository holds {len(terraform):,} Terraform files: only the changed modules were "
                         "read, so calls into them from elsewhere were not followed.")
            terraform = [p for p in terraform if module_dir(p) in plan.module_dirs]
        return terraform, notes

    def scan(self, tree: WalkableTree) -> Review:
        """Review every resource and every line of a tree, as if the whole tree were new.

        A file that could not be read is an error (fail closed): an infrastructure file is not
        reviewed, and any file is not even scanned for secrets. Infrastructure files are reviewed
        as wholly added; any other file (or one past MAX_FILE_BYTES) is handed over without a
        patch, so the engine reads it whole, chunk by chunk, without an object per line of a diff."""
        started = time.perf_counter()
        paths = [p for p in tree.paths() if not self.policy.ignores(p)]
        diffs = []
        texts: dict[str, str] = {}
        unread: list[FileError] = []
        budgeted = BudgetedTree(tree, ReadBudget())
        for path, text in budgeted.read_many(paths).items():
            family = classify(path)
            if text is None:
                unread.append(FileError(path, None, _unread_message(path, budgeted.unread_reason(path))))
                continue
            if isinstance(text, BinaryText) and family in _INFRASTRUCTURE:
                unread.append(FileError(path, None, f"file could not be read: {BINARY_CONTENT}"))
                continue
            texts[path] = text
            if family is not None and not isinstance(text, BinaryText) and len(text) <= MAX_FILE_BYTES:
                diffs.append(whole_file_added(path, text))
            else:
                diffs.append(FileDiff(path=path, old_path=None, status=FileStatus.ADDED, complete=False))
        review = self._review(diffs, MemoryTree(texts), None, whole_tree=True)  # already within the budget
        return replace(review, errors=(*unread, *review.errors),
                       stats=replace(review.stats, seconds=time.perf_counter() - started))

    def _run_rules(self, resources: Iterable[Resource], groups: Mapping[str, Sequence[Resource]],
                   changes: Mapping[str, FileDiff], base: BaseVersions, clock: FileClock, applied: set[str]
                   ) -> list[Finding]:
        """The findings of every rule on `resources`; `applied` gathers the ids of the rules run."""
        context = ModuleContext(groups, base)
        findings: dict[tuple[str, int, str], Finding] = {}
        for resource in resources:
            if not resource.exists:
                continue  # `count = 0` or an empty `for_each`: Terraform makes nothing to judge
            if clock.over(resource.path):
                continue  # this file has had its time: an error says so, the other files go on
            started = clock.now()
            for rule in self.rule_set.for_resource(resource, self.policy.disabled_rules):
                if rule.id in self._out_of_scope:
                    continue
                applied.add(rule.id)
                try:
                    violations = list(rule.check(resource, context))
                except Exception:  # noqa: BLE001 - a rule bug is reported on the resource, never a crash
                    violations = [Violation("rule failed on this resource, a bug in Compliance Bot (please report it)",
                                            resource.line)]
                for violation in violations:
                    if violation.undecided and not self.policy.fails_unknown(rule.severity):
                        continue  # cannot tell, and the policy does not ask to fail what cannot be told
                    finding = self._finding(rule, resource, violation, changes)
                    key = (finding.fingerprint, finding.line, finding.rule_id)
                    findings[key] = _merged(findings[key], finding) if key in findings else finding
            clock.charge(resource.path, started)
        return sorted(findings.values(), key=lambda f: (f.path, f.line, f.rule_id, f.resource or ""))

    def _finding(self, rule: Rule, resource: Resource, violation: Violation, changes: Mapping[str, FileDiff]
                 ) -> Finding:
        end_line = max(violation.end_line or violation.line, violation.line)
        text = resource.source == "text"
        # A line of text has no origin elsewhere and no module calls: it stays where it is found, so
        # a file holding thousands of secrets costs no walk of its lines per finding.
        where = (Landing(resource.path, violation.line, end_line, (violation.line, end_line), False, None,
                         resource.address) if text
                 else landing(resource, violation.line, end_line, changes, quote=violation.secret is None))
        message = violation.message
        if violation.secret is not None:
            message = message.replace(SECRET_SLOT, violation.secret.shown(self.policy.show_secret_prefix))
        finding = Finding(
            rule_id=rule.id,
            title=rule.title,
            severity=rule.severity,
            path=where.path,
            line=where.line,
            end_line=where.end_line,
            # One finding per place it lands: the instances of one module made by different callers
            # share it, and its provenance names each caller.
            resource=None if text else where.address,
            message=message,
            remediation=rule.remediation,
            rationale=rule.rationale,
            controls=dict(self.rule_set.controls.get(rule.id, {})),
            suggestion=None if where.moved else violation.suggestion,
            key=violation.key,
            resource_span=None if text else where.span,
            provenance=where.provenance,
            regression=rule.regression,
            mode=self.policy.mode_for(rule.id, rule.aliases),
        )
        reason = notice_reason(resource, self._rule_frameworks(rule), self.policy.data_classification)
        if reason is not None:
            finding = replace(finding, mode=MONITOR, mode_reason=reason)
        suppression = self._suppressing.suppression_for(finding, self.today, rule.aliases)
        if suppression is not None:
            finding = replace(finding, suppressed=True, suppression_reason=suppression.reason)
        return finding


def _policy_change(diff: FileDiff, head: Tree, base: Tree | None) -> int | None:
    """When the change edits the policy's `suppressions` or `exceptions` (whatever `paths.ignore`
    says): the first line it adds to the policy file (0 if none can be named); None when it
    leaves them as they were. A policy that does not parse on either side counts as changed."""
    after = head.read_many([POLICY_PATH]).get(POLICY_PATH) if diff.exists_at_head and diff.path == POLICY_PATH else None
    before = None
    if diff.base_path is not None and base is not None:
        before = base.read_many([diff.base_path]).get(diff.base_path)
    if _exception_sections(after) == _exception_sections(before):
        return None
    return min(diff.added_lines, default=0) if diff.path == POLICY_PATH else 0


def _exception_sections(text: str | None) -> object:
    try:
        policy = parse_policy(text)
    except PolicyError:
        return object()  # equal to nothing: an unreadable side is a change
    return policy.suppressions, policy.exceptions_settings


def _merged(first: Finding, other: Finding) -> Finding:
    """One finding on a module's line for several instances: it names every caller once."""
    if other.provenance is None or other.provenance == first.provenance:
        return first
    parts = dict.fromkeys([*(first.provenance or "").split("; "), *other.provenance.split("; ")])
    return replace(first, provenance="; ".join(p for p in parts if p))


def _not_reviewed(changed: Iterable[FileDiff], head_text: Mapping[str, str],
                  chart_dirs: Collection[str], errors: Sequence[FileError],
                  templated: Collection[str] = ()) -> tuple[NotReviewed, ...]:
    """One entry per changed file the engine could not judge. A file with an error is left out:
    the error already fails the review, louder than a listing. Binary content is listed (only
    credentials of a recognisable format were looked for there); text with a NUL byte is not (it
    was scanned as any text file is). Template text read with its values unknown (`templated`) is
    listed as reviewed only as written."""
    failed = {e.path for e in errors}
    changed = [d for d in changed if d.path not in failed]
    found: dict[str, NotReviewed] = {}
    patches: set[str] = set()
    for diff in changed:
        text = head_text.get(diff.path)
        if isinstance(text, BinaryText):
            if not text.looks_like_text:
                found[diff.path] = coverage.binary_file(diff.path)
            continue
        if text is None and not diff.complete:  # read was asked for, nothing came back
            found[diff.path] = coverage.binary_file(diff.path, coverage.UNREAD_REASON)
            continue
        listed = coverage.detect(diff.path, text, chart_dirs, diff.path in templated)
        if listed is not None:
            found[diff.path] = listed
            if listed.what == coverage.KUSTOMIZE and text is not None:
                patches |= coverage.kustomize_patches(diff.path, text)
    for diff in changed:
        if diff.path in patches and diff.path not in found:
            found[diff.path] = coverage.entry(diff.path, coverage.KUSTOMIZE_PATCH)
    return tuple(sorted(found.values(), key=_entry_order))


def _entry_order(entry: NotReviewed) -> tuple[str, int, str]:
    return entry.path, entry.line or 0, entry.what


def _texts(read: Mapping[str, str | None]) -> dict[str, str]:
    return {path: text for path, text in read.items() if text is not None}


def _parseable(texts: Mapping[str, str]) -> dict[str, str]:
    """The texts a parser may read: not binary content."""
    return {path: text for path, text in texts.items() if not isinstance(text, BinaryText)}


def _unread_message(path: str, reason: str) -> str:
    if classify(path) in _INFRASTRUCTURE:
        return f"file could not be read: {reason}"
    return f"not scanned for secrets: {reason}"


def _numbered_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line as git counts them (`git_lines`), one at a time."""
    start, number = 0, 0
    while start < len(text):
        end = text.find("\n", start)
        if end < 0:
            end = len(text)
        number += 1
        yield number, text[start:end].removesuffix("\r")
        start = end + 1
