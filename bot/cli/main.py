"""`compliance-bot`: the same engine as the App, run on a local git change or tree.

Exit codes: 0 nothing blocking, 1 blocking findings or errors (fail closed), or files not reviewed
of a kind the policy fails (`not_reviewed.fail`), 2 usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

from bot.cli.git import GitError, GitTree, changed_files, run_git
from bot.cli.local import FsTree
from bot.engine.diff import DiffError, FileDiff
from bot.engine.model import Severity
from bot.engine.policy import POLICY_PATH, Policy, PolicyError, decode_policy, parse_policy
from bot.engine.review import Engine, Review
from bot.engine.rule import Rule
from bot.report.json_report import dumps, review_json
from bot.report.sarif import review_sarif
from bot.report.text import controls_line, text_report
from rules.registry import Framework, default_rule_set

EXIT_OK, EXIT_BLOCKED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad arguments or an unusable repository: exit 2 with one clear line."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="compliance-bot", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def output_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--format", choices=("text", "json", "sarif"), default="text")
        p.add_argument("--fail-on", choices=[s.value for s in Severity], default=None,
                       help="lowest severity that blocks (default: the policy's, else every finding)")
        p.add_argument("--policy", type=Path, default=None, help=f"policy file to use instead of {POLICY_PATH}")

    check = sub.add_parser("check", help="review the change between two commits of a git repository")
    check.add_argument("--repo", type=Path, default=Path("."))
    check.add_argument("--base", default=None, help="base revision (default: merge-base with the default branch)")
    check.add_argument("--head", default="HEAD")
    output_options(check)

    scan = sub.add_parser("scan", help="review every resource of a directory tree")
    scan.add_argument("path", type=Path)
    output_options(scan)

    rules = sub.add_parser("rules", help="list the rules, or a framework's coverage matrix")
    rules.add_argument("--framework", default=None,
                       help="show this framework's controls (e.g. hipaa): the rules automating each, or why none")
    rules.add_argument("--format", choices=("text", "json"), default="text")

    serve = sub.add_parser("serve", help="run the GitHub App webhook server")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=3000)

    sub.add_parser("demo", help="review a bundled example change and print what the App would post")
    return parser


def _load_policy(path: Path | None, fallback_text: str | None, fail_on: str | None) -> Policy:
    try:
        if path is not None:
            try:
                text: str | None = decode_policy(path.read_bytes())
            except OSError as exc:
                raise UsageError(f"cannot read policy file {path}: {exc.strerror}") from None
        else:
            text = fallback_text
        policy = parse_policy(text)
    except PolicyError as exc:
        raise UsageError(str(exc)) from None
    if fail_on is not None:
        from dataclasses import replace

        policy = replace(policy, fail_on=Severity(fail_on))
    return policy


def _emit(review: Review, policy: Policy, output_format: str, engine: Engine) -> int:
    if output_format == "json":
        print(dumps(review_json(review, policy)))
    elif output_format == "sarif":
        print(dumps(review_sarif(review, engine.rule_set.rules, policy)))
    else:
        errors = [(e.path, e.line, e.message) for e in review.errors]
        failing = {n for n in review.not_reviewed if policy.fails_for(n)}
        print(text_report(review.findings, errors, review.conclusion(policy), review.notes, review.not_reviewed,
                          failing, review.exceptions, engine.today))
    return EXIT_BLOCKED if review.conclusion(policy) == "failure" else EXIT_OK


def _default_branch(repo: Path) -> str:
    """origin's HEAD when the clone knows it, else the first of main/master that exists."""
    candidates = ["main", "master", "origin/main", "origin/master"]
    with contextlib.suppress(GitError):
        ref = run_git(repo, "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD").decode().strip()
        candidates.insert(0, ref.removeprefix("refs/remotes/"))
    for candidate in candidates:
        try:
            run_git(repo, "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}")
            return candidate
        except GitError:
            continue
    raise UsageError("cannot tell the default branch (no origin/HEAD, main or master); pass --base")


def _git_diff(repo: Path, base: str, head: GitTree) -> list[FileDiff]:
    try:
        return changed_files(repo, base, head.commit, head.too_large)
    except DiffError as exc:
        raise UsageError(str(exc)) from None


def check_change(repo: Path, base_rev: str | None, head_rev: str, policy_path: Path | None,
                 fail_on: str | None) -> tuple[Engine, Review, Policy]:
    """Review base...head like the App reviews a pull request (against their merge-base)."""
    try:
        root = Path(run_git(repo, "rev-parse", "--show-toplevel").decode().strip())
    except GitError as exc:
        raise UsageError(f"{repo}: not a git repository ({exc})") from None
    try:
        head = GitTree(root, head_rev)
    except GitError:
        raise UsageError(f"unknown revision: {head_rev}") from None
    default_branch = _default_branch(root) if base_rev is None else None
    base_name = base_rev or default_branch or "HEAD"
    try:
        merge_base = run_git(root, "merge-base", base_name, head.commit).decode().strip()
    except GitError:
        raise UsageError(f"unknown revision or no common history: {base_name}") from None
    base = GitTree(root, merge_base)
    policy_source = GitTree(root, default_branch) if default_branch else base
    policy = _load_policy(policy_path, policy_source.read(POLICY_PATH), fail_on)
    engine = Engine(default_rule_set(), policy)
    review = engine.review_change(_git_diff(root, merge_base, head), head, base)
    return engine, review, policy


def _cmd_check(args: argparse.Namespace) -> int:
    engine, review, policy = check_change(args.repo, args.base, args.head, args.policy, args.fail_on)
    return _emit(review, policy, args.format, engine)


def _cmd_scan(args: argparse.Namespace) -> int:
    if not args.path.is_dir():
        raise UsageError(f"{args.path}: not a directory")
    tree = FsTree(args.path)
    policy = _load_policy(args.policy, tree.read(POLICY_PATH), args.fail_on)
    engine = Engine(default_rule_set(), policy)
    return _emit(engine.scan(tree), policy, args.format, engine)


def _cmd_rules(args: argparse.Namespace) -> int:
    from rules.registry import all_rules, default_controls, load_frameworks

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

    run(args.host, args.port, make_handler)
    return EXIT_OK


def _copy_tree(source: resources.abc.Traversable, target: Path) -> None:
    for entry in source.iterdir():
        if entry.is_dir():
            (target / entry.name).mkdir(exist_ok=True)
            _copy_tree(entry, target / entry.name)
        else:
            (target / entry.name).write_bytes(entry.read_bytes())


def _cmd_demo(_: argparse.Namespace) -> int:
    """Make a two-commit repository from the bundled example and review it."""
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
        engine, review, policy = check_change(repo, "HEAD~1", "HEAD", None, None)
        code = _emit(review, policy, "text", engine)
    print(f"\nThe 'compliance' check run would conclude: {review.conclusion(policy)} "
          f"(compliance-bot check exits {code}).")
    return EXIT_OK


COMMANDS = {"check": _cmd_check, "scan": _cmd_scan, "rules": _cmd_rules, "serve": _cmd_serve, "demo": _cmd_demo}


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
