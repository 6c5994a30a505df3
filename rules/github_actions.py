"""GitHub Actions checks: untrusted code and text reaching privileged workflows, and the supply
chain. Named by the specs in rules/specs/github-actions through the table in
rules/spec/functions.py (the metadata lives in the specs).

A workflow is one resource (address "workflow"): its body is the whole file, so a rule sees
the triggers (`on`, kept as the source key "on") together with every job and step: pull request
code in privileged workflows, script injection, actions that are not pinned, the token's
permissions, secrets printed to the log, unsafe workflow commands, and scripts piped to a shell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from bot.engine.model import Node, Resource, Violation
from bot.engine.rule import RuleContext
from rules._shell import commands, describe_download, downloads_to_shell

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


def _jobs(workflow: Node) -> Iterator[tuple[str, Node]]:
    """(job id, job) for every job written as a mapping."""
    jobs = workflow.get("jobs")
    for job_id, job in jobs.items() if jobs is not None else []:
        if isinstance(job.value, dict):
            yield job_id, job


def _steps(workflow: Node) -> Iterator[tuple[str, Node]]:
    """(job id, step) for every step of every job."""
    for job_id, job in _jobs(workflow):
        steps = job.get("steps")
        for step in steps.children() if steps is not None else []:
            if isinstance(step.value, dict):
                yield job_id, step


def _environment_gated(job: Node) -> bool:
    """Whether a job deploys to an `environment:` (a name, or a mapping with a `name`).

    An environment's protection rules (required reviewers) live in the repository settings, which a
    pull request reviewer cannot read; a job that names one is taken to wait for that approval,
    which is the mitigation GitHub documents for workflows that must handle pull request code.
    """
    environment = job.get("environment")
    if environment is None:
        return False
    if isinstance(environment.value, dict):
        environment = environment.get("name")
    return environment is not None and isinstance(environment.value, str) and bool(environment.value.strip())


def _uses(step: Node, action: str) -> bool:
    uses = step.get("uses")
    return uses is not None and isinstance(uses.value, str) and uses.value.strip().lower().startswith(action + "@")


def _line_of(resource: Resource, node: Node, needle: str, start: int | None = None) -> int:
    """The line within a (possibly multi-line) scalar where `needle` appears (from `start` on)."""
    for line in range(max(node.line, start or node.line), node.end_line + 1):
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


def check_pwn_request(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    events = triggers(resource.body) & _PRIVILEGED_TRIGGERS
    if not events:
        return
    trigger = " / ".join(sorted(events))
    counts: dict[str, int] = {}
    gated = {job_id for job_id, job in _jobs(resource.body) if _environment_gated(job)}
    for job_id, step in _steps(resource.body):
        if job_id in gated:
            continue  # waits for a maintainer's approval of this run before it gets secrets
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


def check_script_injection(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
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


# A full commit SHA: 40 hex digits (SHA-1), or 64 in a SHA-256 repository.
_COMMIT_SHA = re.compile(r"[0-9a-fA-F]{40}(?:[0-9a-fA-F]{24})?")
_IMAGE_DIGEST = re.compile(r"@sha256:[0-9a-fA-F]{64}$")
# GitHub's own organisations: their actions come from the same vendor as the runner and the platform
# that run every job, so a compromise there compromises workflows whether or not they are pinned.
_GITHUB_OWNED = frozenset({"actions", "github"})


def _action_refs(workflow: Node) -> Iterator[tuple[str, Node]]:
    """(job id, `uses:` value) of every step action and every reusable workflow call."""
    for job_id, job in _jobs(workflow):
        uses = job.get("uses")
        if uses is not None and isinstance(uses.value, str):
            yield job_id, uses
    for job_id, step in _steps(workflow):
        uses = step.get("uses")
        if uses is not None and isinstance(uses.value, str):
            yield job_id, uses


def _mutable_ref(reference: str) -> str | None:
    """What an action reference floats on (`the tag v4`...), or None when it is immutable or ours.

    Local actions (`./...`) are part of the reviewed commit; `docker://image@sha256:...` is content
    addressed; an expression cannot be judged before the run.
    """
    ref = reference.strip()
    if ref.startswith(("./", ".\\")) or "${{" in ref:
        return None
    if ref.lower().startswith("docker://"):
        return None if _IMAGE_DIGEST.search(ref) else "an image tag"
    name, sep, version = ref.partition("@")
    if name.split("/", 1)[0].lower() in _GITHUB_OWNED:
        return None
    if not sep or not version:
        return "no ref at all"
    return None if _COMMIT_SHA.fullmatch(version) else f"`{version}`"


def check_unpinned(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    counts: dict[str, int] = {}
    for job_id, uses in _action_refs(resource.body):
        floating = _mutable_ref(uses.value)
        if floating is None:
            continue
        ident = f"{job_id}:{uses.value.strip()}"
        counts[ident] = counts.get(ident, 0) + 1
        yield Violation(
            message=f"Job `{job_id}` uses `{uses.value.strip()}`, pinned to {floating}: whoever controls "
            "that repository or tag decides what code runs with this job's token and secrets.",
            line=uses.line, end_line=uses.end_line, key=f"{ident}:{counts[ident]}",
        )


def _permissions(node: Node) -> Node | None:
    return node.get("permissions")


def check_write_all(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    places = [("the workflow", "workflow", resource.body)]
    places += [(f"job `{job_id}`", f"job:{job_id}", job) for job_id, job in _jobs(resource.body)]
    for where, key, node in places:
        permissions = _permissions(node)
        if permissions is not None and isinstance(permissions.value, str) \
                and permissions.value.strip().lower() == "write-all":
            yield Violation(
                message=f"`permissions: write-all` gives {where}'s GITHUB_TOKEN write access to every scope "
                "(contents, packages, deployments, pull requests, actions...).",
                line=permissions.line, end_line=permissions.end_line, key=key,
            )


def check_default_permissions(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    events = triggers(resource.body)
    if not events or events == {"workflow_call"}:
        return  # a called workflow's token is bounded by its caller's permissions
    if _permissions(resource.body) is not None:
        return
    open_jobs = [job_id for job_id, job in _jobs(resource.body) if _permissions(job) is None]
    if not open_jobs:
        return
    shown = ", ".join(f"`{job_id}`" for job_id in open_jobs[:5]) + (" ..." if len(open_jobs) > 5 else "")
    yield Violation(
        message=f"No `permissions:` for the workflow, nor for job(s) {shown}: their GITHUB_TOKEN gets the "
        "repository's default, read-write in repositories and organisations created before February 2023 "
        "or configured that way.",
        line=resource.line, end_line=resource.line, key="permissions",
    )


# Any expression reading a secret: `secrets.X`, `secrets['X']`, `toJSON(secrets)`, `github.token`.
_SECRET_READ = re.compile(r"\bsecrets\b|\bgithub\.token\b")
_SECRET_NAME = re.compile(r"\bsecrets\s*(?:\.\s*([A-Za-z_][\w-]{0,100})|\[\s*['\"]([^'\"]{1,100})['\"])")
_REDIRECT = re.compile(r"(?:\d?>>?|&>)\s*(&?[^\s;|&]+)")
_TO_LOG = frozenset({"&1", "&2", "/dev/stdout", "/dev/stderr", "/dev/tty"})
# Programs that print what they read: piping a secret into them still writes it to the log,
# often transformed so that GitHub's masking of the exact value no longer recognises it.
_REPRINTERS = frozenset({"base64", "xxd", "od", "hexdump", "rev", "tee", "cat", "sed", "tr", "awk", "cut", "fold",
                         "basenc", "openssl"})


def _printed_secret(line: str) -> str | None:
    """The secret an `echo`/`printf` on this script line writes to the job log, if any."""
    expressions: list[str] = []

    def hide(match: re.Match[str]) -> str:
        expressions.append(match.group(1))
        return f"\x00{len(expressions) - 1}\x00"

    text = _EXPRESSION.sub(hide, line)
    for segment in re.split(r"&&|\|\||;", text):
        stages = segment.split("|")
        words = next(commands(stages[0]), [])
        if not words or words[0] not in ("echo", "printf") or "::" in stages[0]:
            continue  # `echo "::add-mask::..."` and other workflow commands are not printed
        read = [expressions[int(i)] for i in re.findall(r"\x00(\d+)\x00", stages[0])
                if _SECRET_READ.search(expressions[int(i)])]
        if not read:
            continue
        targets = [m.group(1) for stage in stages for m in _REDIRECT.finditer(stage)]
        if any(target not in _TO_LOG for target in targets):
            continue  # written to a file (`>> $GITHUB_ENV`, `> key.pem`), not to the log
        consumer = next(commands(stages[1]), [""])[0] if len(stages) > 1 else None
        if consumer is not None and consumer not in _REPRINTERS:
            continue  # read by a program (`| docker login --password-stdin`), not printed
        name = _SECRET_NAME.search(read[0])
        return (name.group(1) or name.group(2)) if name else read[0].strip()
    return None


def check_printed_secrets(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    counts: dict[str, int] = {}
    for job_id, step in _steps(resource.body):
        run = step.get("run")
        if run is None or not isinstance(run.value, str):
            continue
        cursor = run.line
        for text in run.value.split("\n"):
            secret = _printed_secret(text)
            if secret is None:
                continue
            ident = f"{job_id}:{secret}"
            counts[ident] = counts.get(ident, 0) + 1
            line = _line_of(resource, run, text.strip()[:60], cursor)
            cursor = line + 1
            yield Violation(
                message=f"Job `{job_id}` prints `{secret}` to the job log: GitHub masks the exact value, not a "
                "transformed or partial one, and the log is readable by everyone who can read the repository's "
                "Actions.",
                line=line, key=f"{ident}:{counts[ident]}",
            )


def _env_places(workflow: Node) -> Iterator[tuple[str, Node]]:
    """(where, env mapping) for the workflow, every job and every step."""
    env = workflow.get("env")
    if env is not None:
        yield "the workflow", env
    for job_id, job in _jobs(workflow):
        env = job.get("env")
        if env is not None:
            yield f"job `{job_id}`", env
    for job_id, job in _jobs(workflow):
        steps = job.get("steps")
        for number, step in enumerate(steps.children() if steps is not None else []):
            env = step.get("env")
            if env is not None:
                yield f"step {number + 1} of job `{job_id}`", env


def check_unsecure_commands(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    for where, env in _env_places(resource.body):
        value = env.get("ACTIONS_ALLOW_UNSECURE_COMMANDS")
        if value is None:
            continue
        if value.value is True or (isinstance(value.value, str) and value.value.strip().lower() == "true"):
            yield Violation(
                message=f"ACTIONS_ALLOW_UNSECURE_COMMANDS is true for {where}: any output line "
                "`::set-env` or `::add-path` (a log line an attacker can often print) rewrites the environment "
                "of later steps.",
                line=value.line, end_line=value.end_line, key=where,
            )


def check_download_to_shell(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    counts: dict[str, int] = {}
    for job_id, step in _steps(resource.body):
        run = step.get("run")
        if run is None or not isinstance(run.value, str):
            continue
        for match in downloads_to_shell(run.value):
            counts[job_id] = counts.get(job_id, 0) + 1
            yield Violation(
                message=f"Job `{job_id}` pipes a {describe_download(match)}: the script runs with the job's "
                "token and secrets without anyone having seen or verified it.",
                line=_line_of(resource, run, match.group(0).split("\n", 1)[0][:40]),
                key=f"{job_id}:{counts[job_id]}",
            )
