"""GitHub Actions: untrusted pull request code and text reaching privileged workflows.

A workflow is one resource (address "workflow"): its body is the whole file, so a rule sees
the triggers (`on`, kept as the source key "on") together with every job and step.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from bot.engine.model import Node, Resource, Severity, Violation
from bot.engine.rule import Rule, RuleContext

_SOURCES = frozenset({"github_actions"})
_PRIVILEGED_TRIGGERS = frozenset({"pull_request_target", "workflow_run"})

# `with: ref:` values that name the pull request's own (untrusted) code.
_PR_HEAD = re.compile(
    r"github\.event\.pull_request\.(?:head\.(?:sha|ref|repo\.full_name)|merge_commit_sha)|github\.head_ref\b"
    r"|refs/pull/|github\.event\.workflow_run\.head_(?:sha|branch)",
)
# Shell commands that fetch or check out the pull request's code.
_RUN_CHECKOUT = re.compile(
    r"\bgh\s+pr\s+checkout\b|\bgit\s+(?:fetch|checkout|pull|switch)\b[^\n]{0,200}"
    r"(?:refs/pull/|\bpull/(?:\d{1,10}|\$\{\{[^}]{1,80}\}\}|\$\{?\w{1,40}\}?)/(?:head|merge)|github\.event\.pull_request\.head\.(?:sha|ref)|github\.head_ref)",
)
_EXPRESSION = re.compile(r"\$\{\{([^}]{0,1000})\}\}")
_ANY_ITEM = r"(?:\[[^\]]{0,20}\]|\.\*)"
_AUTHOR = r"(?:author|committer)\.(?:email|name)"
# Contexts whose text an outside contributor chooses (GitHub Security Lab's list).
_UNTRUSTED = re.compile(
    r"\bgithub\.head_ref\b|\bgithub\.event\.(?:"
    r"issue\.(?:title|body)"
    r"|pull_request\.(?:title|body|head\.(?:ref|label|repo\.default_branch))"
    r"|(?:comment|review|review_comment)\.body"
    r"|discussion\.(?:title|body)"
    rf"|pages{_ANY_ITEM}\.page_name"
    rf"|commits{_ANY_ITEM}\.(?:message|{_AUTHOR})"
    rf"|head_commit\.(?:message|{_AUTHOR})"
    rf"|workflow_run\.(?:head_branch|display_title|head_commit\.(?:message|{_AUTHOR}))"
    r")\b"
)
# Expressions that only yield a boolean from untrusted text (`contains(github.event...)`).
_BOOLEAN_EXPRESSION = re.compile(r"^\s*!?\s*(?:contains|startsWith|endsWith)\s*\(|==|!=")


def triggers(workflow: Node) -> set[str]:
    """Event names of `on:` in any of its forms: a string, a list or a mapping."""
    on = workflow.get("on")
    if on is None:
        on = workflow.get("true")  # a hand-made tree that resolved the YAML 1.1 boolean key
    if on is None:
        return set()
    if isinstance(on.value, str):
        return {on.value}
    if isinstance(on.value, list):
        return {str(item.value) for item in on.value if isinstance(item.value, str)}
    return {key for key, _ in on.items()}


def _steps(workflow: Node) -> Iterator[tuple[str, Node]]:
    """(job id, step) for every step of every job."""
    jobs = workflow.get("jobs")
    for job_id, job in jobs.items() if jobs is not None else []:
        steps = job.get("steps")
        for step in steps.children() if steps is not None else []:
            if isinstance(step.value, dict):
                yield job_id, step


def _uses(step: Node, action: str) -> bool:
    uses = step.get("uses")
    return uses is not None and isinstance(uses.value, str) and uses.value.strip().lower().startswith(action + "@")


def _line_of(resource: Resource, node: Node, needle: str) -> int:
    """The line within a (possibly multi-line) scalar where `needle` appears."""
    for line in range(node.line, node.end_line + 1):
        text = resource.text_at(line)
        if text is not None and needle in text:
            return line
    return node.line


def _untrusted_checkout(step: Node) -> Node | None:
    """The `ref:` (else `repository:`) of an actions/checkout step that names the PR's code."""
    if not _uses(step, "actions/checkout"):
        return None
    for key in ("ref", "repository"):
        value = step.get("with", key)
        if value is not None and isinstance(value.value, str) and _PR_HEAD.search(value.value):
            return value
    return None


def _check_pwn_request(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    events = triggers(resource.body) & _PRIVILEGED_TRIGGERS
    if not events:
        return
    trigger = " / ".join(sorted(events))
    counts: dict[str, int] = {}
    for job_id, step in _steps(resource.body):
        value = _untrusted_checkout(step)
        if value is not None:
            counts[job_id] = counts.get(job_id, 0) + 1
            yield Violation(
                message=f"Job `{job_id}` runs on {trigger} (with secrets and a write token) and "
                "checks out the pull request's untrusted code.",
                line=value.line, end_line=value.end_line, key=f"{job_id}:checkout:{counts[job_id]}",
            )
        run = step.get("run")
        if run is not None and isinstance(run.value, str):
            match = _RUN_CHECKOUT.search(run.value)
            if match is not None:
                line = _line_of(resource, run, match.group(0).split("\n", 1)[0][:40])
                yield Violation(
                    message=f"Job `{job_id}` runs on {trigger} and fetches the pull request's untrusted "
                    "code in a script.",
                    line=line, key=f"{job_id}:run-checkout",
                )


def _scripts(workflow: Node) -> Iterator[tuple[str, str, Node]]:
    """(job id, what, script node) for every `run:` and every github-script `script:`."""
    for job_id, step in _steps(workflow):
        run = step.get("run")
        if run is not None and isinstance(run.value, str):
            yield job_id, "run", run
        script = step.get("with", "script")
        if _uses(step, "actions/github-script") and script is not None and isinstance(script.value, str):
            yield job_id, "script", script


def _check_script_injection(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    seen: dict[str, int] = {}
    reported: set[tuple[int, str]] = set()  # a YAML alias repeats a script: report its lines once
    for job_id, what, script in _scripts(resource.body):
        for match in _EXPRESSION.finditer(script.value):
            expression = match.group(1)
            context = _UNTRUSTED.search(expression)
            if context is None or _BOOLEAN_EXPRESSION.search(expression):
                continue
            line = _line_of(resource, script, match.group(0))
            if (line, context.group(0)) in reported:
                continue
            reported.add((line, context.group(0)))
            ident = f"{job_id}:{context.group(0)}"
            seen[ident] = seen.get(ident, 0) + 1
            yield Violation(
                message=f"`{context.group(0)}` is interpolated straight into a `{what}:` script of job "
                f"`{job_id}`: its author can inject commands.",
                line=line, key=f"{ident}:{seen[ident]}",
            )


RULES: tuple[Rule, ...] = (
    Rule(
        id="CB-GHA-001",
        title="Privileged workflow checks out pull request code",
        severity=Severity.CRITICAL,
        sources=_SOURCES,
        types=frozenset(),
        rationale="pull_request_target and workflow_run run with repository secrets and a write token; "
        "building or running the pull request's code there lets any outside contributor steal them "
        "or push to the repository (a 'pwn request').",
        remediation="Run untrusted code in a `pull_request` workflow without secrets; if results "
        "must be published, upload them as an artifact and consume them in a separate workflow_run "
        "job that never executes the pull request's code.",
        check=_check_pwn_request,
    ),
    Rule(
        id="CB-GHA-002",
        title="Script injection from untrusted event data",
        severity=Severity.HIGH,
        sources=_SOURCES,
        types=frozenset(),
        rationale="`${{ }}` expressions are pasted into the script before it runs, so an issue title, "
        "branch name or commit message containing `\"; curl ... | sh #` becomes code executed "
        "with the workflow's token and secrets.",
        remediation="Pass the value through an environment variable (`env: TITLE: ${{ "
        "github.event.issue.title }}`) and use it quoted in the script (`\"$TITLE\"`), or "
        "`process.env.TITLE` in github-script.",
        check=_check_script_injection,
    ),
)
