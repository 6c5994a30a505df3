"""The review engine: a change (or a whole tree) in, one frozen `Review` out.

It knows nothing of GitHub or of git: callers hand it `FileDiff`s and `Tree`s, and the rule set
(the registry lives in `rules`, which depends on the engine, never the reverse). The pipeline
reads as: plan reads → ask the tree → parse → select touched resources → run rules → findings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from bot.engine.context import ModuleContext
from bot.engine.diff import FileDiff, FileStatus, whole_file_added
from bot.engine.model import FileError, Finding, Node, NotReviewed, ParsedFile, Resource, Violation
from bot.engine.parsers import (
    DOCKERFILE,
    JSON,
    TERRAFORM,
    YAML,
    classify,
    module_dir,
    parse_one,
    parse_terraform,
)
from bot.engine.policy import Policy
from bot.engine.rule import Rule
from bot.engine.selection import Seeds, base_seeds, expand_related, group_key, touched_resources
from bot.engine.tree import MemoryTree, Tree, WalkableTree

MAX_TEXT_LINE = 4096  # longer lines are cut before the secrets rules see them


@dataclass(frozen=True)
class ReadPlan:
    """What a review reads first: changed files, the Terraform modules (directories) they belong
    to, and the base files whose lost lines may have removed or edited resources."""

    head: frozenset[str]
    module_dirs: frozenset[str]
    base: frozenset[str]


@dataclass(frozen=True)
class ReviewStats:
    files_changed: int = 0
    files_parsed: int = 0
    resources_parsed: int = 0
    resources_checked: int = 0
    seconds: float = 0.0


def conclusion_of(findings: Iterable[Finding], errors: Sequence[FileError], policy: Policy) -> str:
    """failure on a blocking finding or any error (fail closed), else success."""
    return "failure" if errors or any(policy.blocks(f) for f in findings) else "success"


@dataclass(frozen=True)
class Review:
    """The outcome of one review, before any reporter decides how to show it. Frozen: what a
    caller adds (its own errors and notes) travels in the caller's own record."""

    findings: tuple[Finding, ...] = ()
    errors: tuple[FileError, ...] = ()
    notes: tuple[str, ...] = ()
    stats: ReviewStats = field(default_factory=ReviewStats)
    not_reviewed: tuple[NotReviewed, ...] = ()

    def conclusion(self, policy: Policy) -> str:
        return conclusion_of(self.findings, self.errors, policy)


class RuleSet:
    """Rules indexed by source, with their regulation controls attached."""

    def __init__(self, rules: Sequence[Rule], controls: Mapping[str, Mapping[str, tuple[str, ...]]]) -> None:
        self.rules = tuple(rules)
        self.controls = controls
        self._by_source: dict[str, list[Rule]] = defaultdict(list)
        for rule in self.rules:
            for source in rule.sources:
                self._by_source[source].append(rule)
        self.digest = _digest(self.rules, controls)

    def for_resource(self, resource: Resource, disabled: frozenset[str]) -> Iterable[Rule]:
        return (r for r in self._by_source.get(resource.source, ()) if r.id not in disabled and r.applies_to(resource))


def _digest(rules: Sequence[Rule], controls: Mapping[str, Mapping[str, tuple[str, ...]]]) -> str:
    """What the rule set would report, in 12 characters: a review made by another rule set is
    another review (its findings may differ), even on the same head and policy."""
    parts = sorted(f"{r.id}:{r.severity.value}:{sorted(r.sources)}:{sorted(r.types)}:{sorted(controls.get(r.id, {}).items())}"
                   for r in rules)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def plan_reads(diffs: Sequence[FileDiff], policy: Policy) -> ReadPlan:
    """What a review of `diffs` reads first.

    Head: every changed parseable file, and any changed file whose patch is missing (the
    secrets rules must then read it whole). Modules: the directory of every changed .tf or .tf.json
    file (its variables, locals and related resources live beside it). Base: changed Terraform,
    YAML and JSON files that lost lines, to find resources the change deleted or edited.
    """
    head: set[str] = set()
    base: set[str] = set()
    modules: set[str] = set()
    for diff in diffs:
        if policy.ignores(diff.path) or diff.status == FileStatus.BINARY:
            continue
        family = classify(diff.path)
        if diff.exists_at_head and (family is not None or not diff.complete):
            head.add(diff.path)
        if family == TERRAFORM:
            modules.add(module_dir(diff.path))
        base_path = diff.base_path
        if base_path and family in (TERRAFORM, YAML, JSON) and (diff.removed_base_lines or not diff.complete):
            base.add(base_path)
    return ReadPlan(frozenset(head), frozenset(modules), frozenset(base))


def module_files(plan: ReadPlan, listing: Iterable[str], policy: Policy) -> frozenset[str]:
    """The .tf and .tf.json files of the changed modules, from a listing of their directories."""
    return frozenset(p for p in listing if classify(p) == TERRAFORM and module_dir(p) in plan.module_dirs
                     and not policy.ignores(p))


def text_resource(path: str, numbered_lines: Iterable[tuple[int, str]]) -> Resource | None:
    """The resource the secrets rules read: the given lines of one file, keyed by line number."""
    body = {str(n): Node(text[:MAX_TEXT_LINE], n, n) for n, text in numbered_lines}
    if not body:
        return None
    lines = sorted(int(k) for k in body)
    return Resource(
        source="text",
        kind="file",
        type="text",
        address=path,
        path=path,
        line=lines[0],
        end_line=lines[-1],
        body=Node(body, lines[0], lines[-1]),
    )


def _parse_files(contents: Mapping[str, str]) -> dict[str, ParsedFile]:
    terraform = {p: t for p, t in contents.items() if classify(p) == TERRAFORM}
    parsed = parse_terraform(terraform)
    for path, text in contents.items():
        if classify(path) in (YAML, JSON, DOCKERFILE):
            parsed[path] = parse_one(path, text)
    return parsed


def _groups(resources: Iterable[Resource]) -> dict[str, list[Resource]]:
    groups: dict[str, list[Resource]] = defaultdict(list)
    for resource in resources:
        groups[group_key(resource)].append(resource)
    return groups


class Engine:
    """Runs a rule set under a policy; one instance can review many changes."""

    def __init__(self, rule_set: RuleSet, policy: Policy | None = None, today: dt.date | None = None) -> None:
        self.rule_set = rule_set
        self.policy = policy or Policy()
        self.today = today

    def review_change(self, diffs: Sequence[FileDiff], head: Tree, base: Tree | None = None) -> Review:
        """Review only what `diffs` touched, asking `head` (and `base`) for the context it needs."""
        started = time.perf_counter()
        errors: list[FileError] = []
        notes: list[str] = []
        diffs = [d for d in diffs if not self.policy.ignores(d.path)]
        plan = plan_reads(diffs, self.policy)
        listing = head.list_dirs(sorted(plan.module_dirs)) if plan.module_dirs else []
        wanted = plan.head | module_files(plan, listing, self.policy)
        head_text = _texts(head.read_many(sorted(wanted)))
        changed_head = {d.path: d for d in diffs if d.exists_at_head}
        parsed = _parse_files(head_text)
        for path, result in parsed.items():
            if path in changed_head:
                errors.extend(result.errors)
            elif result.errors:
                notes.append(f"{path}: not parsed ({result.errors[0].message}); related resources may be missed")
        for diff in diffs:
            unread = diff.exists_at_head and diff.path in plan.head and head_text.get(diff.path) is None
            if unread and classify(diff.path) in (TERRAFORM, YAML, DOCKERFILE):  # JSON may be anything: no claim
                errors.append(FileError(diff.path, None, "file could not be read (binary or too large)"))
        head_resources = [r for result in parsed.values() for r in result.resources]
        groups = _groups(head_resources)
        seeds: dict[str, Seeds] = {}
        if base is not None and plan.base:
            by_base_path = {d.base_path: d for d in diffs if d.base_path}
            base_text = _texts(base.read_many(sorted(plan.base)))
            notes.extend(f"{path}: its base version could not be read; resources the change removed there "
                         "were not followed" for path in sorted(plan.base - base_text.keys()))
            base_parsed = _parse_files(base_text)
            seeds = base_seeds((r for res in base_parsed.values() for r in res.resources), by_base_path)
        selected = expand_related(touched_resources(head_resources, changed_head), groups, seeds)
        for diff in changed_head.values():
            if diff.status == FileStatus.BINARY:
                continue
            numbered = diff.added_texts() if diff.complete else _all_lines(head_text.get(diff.path))
            lines_resource = text_resource(diff.path, numbered)
            if lines_resource is not None:
                selected.append(lines_resource)
        stats = ReviewStats(files_changed=len(diffs), files_parsed=len(parsed), resources_parsed=len(head_resources),
                            resources_checked=len(selected), seconds=time.perf_counter() - started)
        return Review(tuple(self._run_rules(selected, groups)), tuple(errors), tuple(notes), stats)

    def scan(self, tree: WalkableTree) -> Review:
        """Review every resource and every line of a tree, as if the whole tree were new."""
        started = time.perf_counter()
        paths = [p for p in tree.paths() if not self.policy.ignores(p)]
        diffs = []
        texts: dict[str, str] = {}
        unread: list[FileError] = []
        for path, text in tree.read_many(paths).items():
            if text is None:
                if classify(path) in (TERRAFORM, YAML, DOCKERFILE):
                    unread.append(FileError(path, None, "file could not be read (unreadable, binary or too large)"))
                continue
            texts[path] = text
            diffs.append(whole_file_added(path, text))
        review = self.review_change(diffs, MemoryTree(texts), None)
        return replace(review, errors=(*unread, *review.errors),
                       stats=replace(review.stats, seconds=time.perf_counter() - started))

    def _run_rules(self, resources: Sequence[Resource], groups: Mapping[str, Sequence[Resource]]) -> list[Finding]:
        context = ModuleContext(groups)
        findings: dict[tuple[str, int, str], Finding] = {}
        for resource in resources:
            for rule in self.rule_set.for_resource(resource, self.policy.disabled_rules):
                try:
                    violations = list(rule.check(resource, context))
                except Exception as exc:  # noqa: BLE001 - a rule bug is reported on the resource, never a crash
                    violations = [Violation(f"rule failed on this resource ({type(exc).__name__}); please report it",
                                            resource.line)]
                for violation in violations:
                    finding = self._finding(rule, resource, violation)
                    findings.setdefault((finding.fingerprint, finding.line, finding.rule_id), finding)
        return sorted(findings.values(), key=lambda f: (f.path, f.line, f.rule_id, f.resource or ""))

    def _finding(self, rule: Rule, resource: Resource, violation: Violation) -> Finding:
        end_line = max(violation.end_line or violation.line, violation.line)
        finding = Finding(
            rule_id=rule.id,
            title=rule.title,
            severity=rule.severity,
            path=resource.path,
            line=violation.line,
            end_line=end_line,
            resource=None if resource.source == "text" else resource.address,
            message=violation.message,
            remediation=rule.remediation,
            rationale=rule.rationale,
            controls=dict(self.rule_set.controls.get(rule.id, {})),
            suggestion=violation.suggestion,
            key=violation.key,
            resource_span=None if resource.source == "text" else (resource.line, resource.end_line),
        )
        suppression = self.policy.suppression_for(finding, self.today)
        if suppression is not None:
            finding = replace(finding, suppressed=True, suppression_reason=suppression.reason)
        return finding


def _texts(read: Mapping[str, str | None]) -> dict[str, str]:
    return {path: text for path, text in read.items() if text is not None}


def _all_lines(text: str | None) -> list[tuple[int, str]]:
    return list(enumerate(text.splitlines(), start=1)) if text else []

