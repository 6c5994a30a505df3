"""`compliance-bot`: the same engine as the App, run on a local git change or tree.

Exit codes: 0 nothing blocking, 1 blocking findings or errors (fail closed), or files not reviewed
of a kind the policy fails (`not_reviewed.fail`), 2 usage error (and, for `policy validate`, a
policy with errors).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

# Only what the parser needs is imported here: each command imports its own modules when it runs,
# so `--help` (and a command that needs no rules) does not pay for the engine, the rules and the App.
from bot import __version__
from bot.cli.errors import GitError, UsageError
from bot.cli.evidence_args import add_evidence_parser
from bot.cli.jobs import add_jobs_parser, run_jobs
from bot.engine.repo_paths import CUSTOM_RULES_DIR, POLICY_PATH
from bot.engine.severity import Severity

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    from bot.cli.compare import Comparison
    from bot.cli.git import GitTree
    from bot.engine.diff import FileDiff
    from bot.engine.policy import Policy, PolicyProblem
    from bot.engine.review import Engine, Review, RuleSet
    from bot.engine.rule import Rule
    from bot.report.evidence import PolicySource, Subject
    from rules.registry import Framework
    from rules.spec.custom import CustomRules

EXIT_OK, EXIT_BLOCKED, EXIT_USAGE = 0, 1, 2
FORMATS = ("compact", "markdown", "text", "json", "sarif")
MACHINE_FORMATS = ("json", "sarif")  # never coloured; progress only ever goes to stderr


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="compliance-bot", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"compliance-bot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def output_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--format", choices=FORMATS, default="compact",
                       help="compact (default): one line per finding, `path:line rule severity message`, and a "
                            "summary; markdown: each finding as the App's review comment reads; text: the same as "
                            "markdown (the old name, kept for scripts); json: the report schema; sarif: SARIF 2.1.0")
        p.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                       help="colour compact output: auto (default) when stdout is a terminal and NO_COLOR is unset, "
                            "or FORCE_COLOR is set; json and sarif are never coloured")
        p.add_argument("--no-progress", action="store_true",
                       help="never show the progress display (it goes to stderr, only when that is a terminal)")
        p.add_argument("--fail-on", choices=[s.value for s in Severity], default=None,
                       help="lowest severity that blocks (default: the policy's, else every finding)")
        p.add_argument("--policy", type=Path, default=None, help=f"policy file to use instead of {POLICY_PATH}")
        p.add_argument("--rules", type=Path, default=None, metavar="DIR",
                       help=f"also run the custom rules of DIR (its *.yml files, as in {CUSTOM_RULES_DIR}); "
                            "a rule that does not validate or whose examples fail is an error")

    check = sub.add_parser("check", help="review the change between two commits of a git repository, or the "
                                         "staged or uncommitted changes")
    check.add_argument("--repo", type=Path, default=Path("."))
    check.add_argument("--base", default=None,
                       help="base revision (default: merge-base with the default branch; with --staged or "
                            "--worktree: HEAD)")
    check.add_argument("--head", default=None, help="head revision (default: HEAD)")
    pending = check.add_mutually_exclusive_group()
    pending.add_argument("--staged", action="store_true",
                         help="review the staged changes (the index against HEAD), as a pre-commit hook does")
    pending.add_argument("--worktree", action="store_true",
                         help="review every uncommitted change (the working tree, new files too, against HEAD)")
    output_options(check)

    scan = sub.add_parser("scan", help="review every resource of a directory tree")
    scan.add_argument("path", type=Path)
    output_options(scan)

    rules = sub.add_parser("rules", help="list the rules, or a framework's coverage matrix")
    rules.add_argument("--framework", default=None,
                       help="show this framework's controls (e.g. hipaa): the rules automating each, or why none")
    rules.add_argument("--format", choices=("text", "json"), default="text")
    rules_sub = rules.add_subparsers(dest="rules_command")
    rules_test = rules_sub.add_parser("test", help="validate the custom rules of a folder and run their examples")
    rules_test.add_argument("folder", type=Path, metavar="DIR", help=f"a folder of rule files, such as {CUSTOM_RULES_DIR}")

    serve = sub.add_parser("serve", help="run the GitHub App webhook server")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--no-worker", action="store_true",
                       help="web only: verify, queue and answer; `compliance-bot worker` processes review (needs REDIS_URL)")

    worker = sub.add_parser("worker", help="review jobs from the Redis queue (REDIS_URL) until SIGTERM")
    worker.add_argument("--concurrency", type=int, default=None, metavar="N",
                        help="reviews at once (default WORKER_CONCURRENCY, 4)")
    worker.add_argument("--metrics-port", type=int, default=None, metavar="PORT",
                        help="serve this worker's GET /metrics (Prometheus) on PORT (default: none)")
    worker.add_argument("--metrics-host", default="0.0.0.0", metavar="HOST",
                        help="address --metrics-port listens on (default 0.0.0.0)")

    sub.add_parser("demo", help="review a bundled example change and print what the App would post")
    add_evidence_parser(sub)
    add_jobs_parser(sub)

    policy = sub.add_parser("policy", help="work with policy files (.github/compliance.yml)")
    policy_sub = policy.add_subparsers(dest="policy_command", required=True)
    validate = policy_sub.add_parser("validate", help="check a policy file: each error with file:line, exit 2 on any")
    validate.add_argument("file", type=Path, help="the repository's policy file")
    validate.add_argument("--org", type=Path, default=None,
                          help="the organisation's policy file (its .github repository's .github/compliance.yml): "
                               "also check that FILE only tightens it")
    return parser


def _read_policy_text(path: Path) -> str:
    """The file's text; PolicyError (naming it) when it is not UTF-8, UsageError when unreadable."""
    from bot.engine.policy import decode_policy

    try:
        return decode_policy(path.read_bytes(), str(path))
    except OSError as exc:
        raise UsageError(f"cannot read policy file {path}: {exc.strerror}") from None


def _load_policy(path: Path | None, fallback_text: str | None, fail_on: str | None) -> Policy:
    from bot.engine.policy import PolicyError, parse_policy

    try:
        if path is not None:
            policy = parse_policy(_read_policy_text(path), str(path))
        else:
            policy = parse_policy(fallback_text)
    except PolicyError as exc:
        raise UsageError(str(exc)) from None
    if fail_on is not None:
        from dataclasses import replace

        policy = replace(policy, fail_on=Severity(fail_on))
    return policy


def _custom_rules(folder: Path | None) -> CustomRules | None:
    """The custom rules of `folder`; None without one (and then their modules are never imported)."""
    if folder is None:
        return None
    return _rules_folder(folder)


def _rules_folder(folder: Path) -> CustomRules:
    from bot.cli.custom_rules import RulesFolderError, load_rules_folder

    try:
        return load_rules_folder(folder)
    except RulesFolderError as exc:
        raise UsageError(str(exc)) from None


def _rule_set(custom: CustomRules | None) -> RuleSet:
    from rules.registry import default_rule_set, with_custom_rules

    return with_custom_rules(default_rule_set(), custom.rules) if custom is not None else default_rule_set()


def _with_refusals(review: Review, custom: CustomRules | None) -> Review:
    """A refused custom rule fails the run like an unreadable file, naming its file and line."""
    if custom is None or not custom.errors:
        return review
    from dataclasses import replace

    from bot.cli.custom_rules import as_file_errors

    return replace(review, errors=(*as_file_errors(custom), *review.errors))


def _emit(review: Review, policy: Policy, output_format: str, engine: Engine,
          evidence: tuple[Subject, PolicySource] | None = None, colour: bool = False) -> int:
    from bot.cli.local_evidence import local_evidence
    from bot.report.compact import compact_report
    from bot.report.json_report import dumps, review_json
    from bot.report.sarif import review_sarif
    from bot.report.text import text_report

    if output_format == "json":
        record = local_evidence(review, policy, engine, *evidence) if evidence else None
        print(dumps(review_json(review, policy, record)))
    elif output_format == "sarif":
        print(dumps(review_sarif(review, engine.rule_set.rules, policy)))
    else:
        errors = [(e.path, e.line, e.message) for e in review.errors]
        failing = {n for n in review.not_reviewed if policy.fails_for(n)}
        if output_format == "compact":
            print(compact_report(review.findings, errors, review.conclusion(policy), review.notes,
                                 review.not_reviewed, failing, review.exceptions, engine.today, colour))
        else:
            print(text_report(review.findings, errors, review.conclusion(policy), review.notes, review.not_reviewed,
                              failing, review.exceptions, engine.today))
    return EXIT_BLOCKED if review.conclusion(policy) == "failure" else EXIT_OK


def _colour(args: argparse.Namespace) -> bool:
    from bot.cli.terminal import wants_colour

    return args.format not in MACHINE_FORMATS and wants_colour(args.color, sys.stdout, os.environ)


def _git_diff(repo: Path, base: str, head: GitTree) -> list[FileDiff]:
    from bot.cli.git import changed_files
    from bot.engine.diff import DiffError

    try:
        return changed_files(repo, base, head.commit, head.too_large)
    except DiffError as exc:
        raise UsageError(str(exc)) from None


class Checked(NamedTuple):
    """A check's review and what it compared; `evidence`: what the review's record names. (A
    named tuple: `dataclasses` costs `--help` some 7 ms of imports.)"""

    engine: Engine
    review: Review
    policy: Policy
    evidence: tuple[Subject, PolicySource]
    comparison: Comparison
    files: int


def check_change(repo: Path, base_rev: str | None, head_rev: str | None, policy_path: Path | None,
                 fail_on: str | None, custom: CustomRules | None = None, mode: str = "commits",
                 on_file: Callable[[str], None] | None = None) -> Checked:
    """Review base...head like the App reviews a pull request (against their merge-base), or the
    staged or uncommitted changes against HEAD (`mode`: see bot.cli.compare). The policy is read
    from the default branch when no base is given, else from the base: a change never loosens
    the policy it is judged by."""
    from bot.cli.compare import COMMITS, resolve
    from bot.cli.git import GitTree, run_git
    from bot.cli.local_evidence import committed_policy, file_policy, origin_repository
    from bot.engine.review import Engine
    from bot.report.evidence import Subject

    try:
        root = Path(run_git(repo, "rev-parse", "--show-toplevel").decode().strip())
    except GitError as exc:
        raise UsageError(f"{repo}: not a git repository ({exc})") from None
    if mode != COMMITS and head_rev is not None:
        raise UsageError("--head cannot be given with --staged or --worktree (the head is the index or the "
                         "working tree)")
    comparison = resolve(root, base_rev, head_rev or "HEAD", mode)
    head = comparison.head
    base = GitTree(root, comparison.base, kind="tree")
    policy_source = GitTree(root, comparison.default_branch) if comparison.default_branch else base
    policy = _load_policy(policy_path, policy_source.read(POLICY_PATH), fail_on)
    engine = Engine(_rule_set(custom), policy, progress=on_file)
    diffs = _git_diff(root, comparison.base, head)
    review = engine.review_change(diffs, head, base)
    subject = Subject(origin_repository(root), None, comparison.head_commit, comparison.base, comparison.base_name)
    source = file_policy(policy_path, committed_policy(policy_source))
    return Checked(engine, _with_refusals(review, custom), policy, (subject, source), comparison, len(diffs))


def _cmd_check(args: argparse.Namespace) -> int:
    from bot.cli.compare import COMMITS, STAGED, WORKTREE
    from bot.cli.terminal import progress

    custom = _custom_rules(args.rules)
    mode = STAGED if args.staged else WORKTREE if args.worktree else COMMITS
    with progress(sys.stderr, not args.no_progress) as on_file:
        checked = check_change(args.repo, args.base, args.head, args.policy, args.fail_on, custom, mode, on_file)
    print(f"compliance-bot: {checked.comparison.described(checked.files)}", file=sys.stderr)
    warning = checked.comparison.nothing_to_compare(checked.files)
    if warning is not None:
        print(f"compliance-bot: warning: {warning}", file=sys.stderr)
    return _emit(checked.review, checked.policy, args.format, checked.engine, checked.evidence, _colour(args))


def _cmd_scan(args: argparse.Namespace) -> int:
    from bot.cli.local import FsTree
    from bot.cli.local_evidence import file_policy
    from bot.cli.terminal import progress
    from bot.engine.review import Engine
    from bot.report.evidence import PolicySource, Subject, git_blob_sha

    if not args.path.is_dir():
        raise UsageError(f"{args.path}: not a directory")
    tree = FsTree(args.path)
    custom = _custom_rules(args.rules)
    text = tree.read(POLICY_PATH)
    policy = _load_policy(args.policy, text, args.fail_on)
    found = PolicySource(POLICY_PATH, git_blob_sha(text.encode("utf-8")) if text is not None else None)
    subject = Subject(None, None, None, None)
    with progress(sys.stderr, not args.no_progress) as on_file:
        engine = Engine(_rule_set(custom), policy, progress=on_file)
        review = engine.scan(tree)
    return _emit(_with_refusals(review, custom), policy, args.format, engine,
                 (subject, file_policy(args.policy, found)), _colour(args))


def _cmd_rules_test(folder: Path) -> int:
    """Each custom rule of `folder` validated and run against its examples: `file:line: why` for
    each one refused, exit 1 if any was."""
    custom = _rules_folder(folder)
    if not custom.rules and not custom.errors:
        raise UsageError(f"{folder}: no rule files (*.yml) here")
    for error in custom.errors:
        print(error)
    for rule in custom.rules:
        print(f"{rule.id:<15} {rule.severity.value:<8} {rule.title}: valid, its examples pass")
    print(f"{len(custom.rules)} rule(s) accepted, {len({e.path for e in custom.errors})} file(s) refused")
    return EXIT_BLOCKED if custom.errors else EXIT_OK


def _cmd_rules(args: argparse.Namespace) -> int:
    from bot.report.json_report import dumps
    from bot.report.text import controls_line
    from rules.registry import all_rules, default_controls, load_frameworks

    if args.rules_command == "test":
        return _cmd_rules_test(args.folder)

    frameworks = {f.key: f for f in load_frameworks()}
    if args.framework is not None and args.framework not in frameworks:
        raise UsageError(f"unknown framework {args.framework!r}; known: {', '.join(sorted(frameworks))}")
    controls = default_controls()
    selected = [r for r in all_rules() if args.framework is None or args.framework in controls.get(r.id, {})]
    listed = [{"id": r.id, "title": r.title, "severity": r.severity.value, "sources": sorted(r.sources),
               "types": sorted(r.types), "remediation": r.remediation,
               "controls": {k: list(v) for k, v in controls.get(r.id, {}).items()}} for r in selected]
    if args.framework is not None:
        return _coverage_matrix(frameworks[args.framework], {r.id: r for r in all_rules()}, listed, args.format)
    if args.format == "json":
        print(dumps({"rules": listed}))
        return EXIT_OK
    for rule in selected:
        mapped = dict(controls.get(rule.id, {}))
        print(f"{rule.id:<15} {rule.severity.value:<8} {rule.title}")
        if mapped:
            print(f"{'':<24} {controls_line(mapped)}")
    print(f"{len(selected)} rule(s)")
    return EXIT_OK


_COVERAGE_WORDS = {"manual": "manual", "out-of-scope": "out of scope", "unmapped": "not mapped"}


def _coverage_matrix(framework: Framework, rules: Mapping[str, Rule], listed: Sequence[Mapping[str, object]],
                     output_format: str) -> int:
    """Per control of one framework: the rules that automate it, or why a person (or nothing
    in a repository) has to cover it; then how many controls are automated."""
    from collections import Counter

    from bot.report.json_report import dumps

    enforcing = [[rules[i] for i in control.enforced_by if i in rules] for control in framework.controls]
    rows = [{"id": control.id, "name": control.name, "coverage": control.coverage, "why": control.why or None,
             "rules": [{"id": r.id, "title": r.title, "severity": r.severity.value} for r in enforced]}
            for control, enforced in zip(framework.controls, enforcing, strict=True)]
    counts = Counter(control.coverage for control in framework.controls)
    summary = {"controls": len(rows), "automated": counts["automated"], "manual": counts["manual"],
               "out_of_scope": counts["out-of-scope"]}
    if output_format == "json":
        print(dumps({"framework": {"key": framework.key, "name": framework.name, "version": framework.version},
                     "controls": rows, "summary": summary, "rules": listed}))
        return EXIT_OK
    print(f"{framework.name} {framework.version} ({framework.key})")
    width = max((len(control.id) for control in framework.controls), default=0)
    indent = " " * (width + 2)
    for control, enforced in zip(framework.controls, enforcing, strict=True):
        print(f"{control.id:<{width}}  {control.name}")
        for rule in enforced:
            print(f"{indent}{rule.id:<15} {rule.severity.value:<8} {rule.title}")
        if not enforced:
            print(f"{indent}{_COVERAGE_WORDS.get(control.coverage, control.coverage)}: {control.why or '-'}")
    others = ", ".join(f"{counts[k]} {_COVERAGE_WORDS[k]}" for k in ("manual", "out-of-scope", "unmapped") if counts[k])
    print(f"{summary['controls']} controls, {summary['automated']} automated" + (f" ({others})" if others else ""))
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace) -> int:
    from bot.app.runner import make_handler
    from bot.app.serve import run

    run(args.host, args.port, make_handler, worker=not args.no_worker)
    return EXIT_OK


def _cmd_worker(args: argparse.Namespace) -> int:
    from bot.app.runner import make_handler
    from bot.app.serve import run_worker

    if args.concurrency is not None and not 1 <= args.concurrency <= 256:
        raise UsageError("--concurrency must be between 1 and 256")
    if args.metrics_port is not None and not 1 <= args.metrics_port <= 65535:
        raise UsageError("--metrics-port must be between 1 and 65535")
    run_worker(make_handler, args.concurrency,
               metrics=(args.metrics_host, args.metrics_port) if args.metrics_port is not None else None)
    return EXIT_OK


def _copy_tree(source: Traversable, target: Path) -> None:
    for entry in source.iterdir():
        if entry.is_dir():
            (target / entry.name).mkdir(exist_ok=True)
            _copy_tree(entry, target / entry.name)
        else:
            (target / entry.name).write_bytes(entry.read_bytes())


def _cmd_demo(_: argparse.Namespace) -> int:
    """Make a two-commit repository from the bundled example and review it."""
    import tempfile
    from importlib import resources

    from bot.cli.git import run_git

    example = resources.files("bot") / "examples" / "demo"
    with tempfile.TemporaryDirectory(prefix="compliance-bot-demo-") as tmp:
        repo = Path(tmp)
        run_git(repo, "init", "-q", "-b", "main")
        identity = ("-c", "user.name=Compliance Bot demo", "-c", "user.email=demo@example.invalid")
        for stage in ("base", "head"):
            for child in repo.iterdir():
                if child.name != ".git":
                    import shutil

                    shutil.rmtree(child) if child.is_dir() else child.unlink()
            _copy_tree(example / stage, repo)
            run_git(repo, "add", "-A")
            run_git(repo, *identity, "commit", "-q", "-m", f"demo {stage}")
        print("Reviewing the bundled example pull request (base: main~1, head: main).")
        print("Each finding below reads as the inline comment the App would post.\n")
        checked = check_change(repo, "HEAD~1", "HEAD", None, None)
        review, policy = checked.review, checked.policy
        code = _emit(review, policy, "markdown", checked.engine)
    print(f"\nThe 'compliance' check run would conclude: {review.conclusion(policy)} "
          f"(compliance-bot check exits {code}).")
    return EXIT_OK


def _parsed(path: Path) -> tuple[Policy | None, tuple[PolicyProblem, ...]]:
    from bot.engine.policy import PolicyError, parse_policy

    try:
        return parse_policy(_read_policy_text(path), str(path)), ()
    except PolicyError as exc:
        return None, exc.problems


def _unknown_rules(policy: Policy, known: frozenset[str]) -> list[str]:
    """Rule ids the policy names that no rule has (a typo leaves the rule as it was)."""
    named = [(rule, policy.line_of("rules.disable", rule)) for rule in sorted(policy.disabled_rules)]
    named += [(rule, policy.line_of(f"rules.modes.{rule}")) for rule in sorted(policy.rule_modes)]
    named += [(s.rule, s.line) for s in policy.suppressions if s.rule != "*"]
    return [f"{policy.source}:{line or 1}: warning: no rule is called {rule}" for rule, line in named if rule not in known]


def _cmd_policy(args: argparse.Namespace) -> int:
    """`policy validate FILE [--org FILE]`: every problem as `file:line: message`, exit 2 on any."""
    from bot.engine.policy import Policy
    from bot.engine.policy_merge import resolve_policy
    from rules.registry import all_rules

    repo, problems = _parsed(args.file)
    org: Policy | None = None
    if args.org is not None:
        org, org_problems = _parsed(args.org)
        problems += org_problems
    if not problems and args.org is not None:
        problems = resolve_policy(repo, org, None, str(args.org)).problems
    for problem in problems:
        print(f"{problem.source}:{problem.line or 1}: {problem.message}")
    if problems:
        return EXIT_USAGE
    known = frozenset(i for r in all_rules() for i in (r.id, *r.aliases))
    for warning in [*_unknown_rules(repo or Policy(), known), *(_unknown_rules(org, known) if org else [])]:
        print(warning)
    beneath = f" (beneath {args.org})" if args.org is not None else ""
    print(f"{args.file}: valid{beneath}")
    return EXIT_OK


def _cmd_evidence(args: argparse.Namespace) -> int:
    from bot.cli.evidence import run_evidence

    return run_evidence(args)


COMMANDS = {"check": _cmd_check, "scan": _cmd_scan, "rules": _cmd_rules, "serve": _cmd_serve, "worker": _cmd_worker,
            "demo": _cmd_demo, "evidence": _cmd_evidence, "policy": _cmd_policy, "jobs": run_jobs}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"compliance-bot: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except GitError as exc:
        print(f"compliance-bot: git: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `compliance-bot check | head`: the reader left, nothing to report
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
