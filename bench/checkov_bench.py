"""Compliance Bot against Checkov: time and peak memory on the same Terraform, medians of
interleaved runs, ratios last.

    python bench/checkov_bench.py [--real DIR ...] [--runs 5] [--files 120] [--no-checkov] [--smoke]

What is timed, each a fresh process:
- on a generated repository (`bench/tf_tree.py`: modules, stacks calling them, common AWS
  types, some violations): `checkov -d TREE --framework terraform --quiet --skip-download`
  against `compliance-bot scan TREE`;
- on a 3-file change of that repository (a git commit): `compliance-bot check` (what the bot
  does on a pull request) against Checkov on the whole tree (Checkov has no diff mode: a CI job
  scans the directory) and against Checkov on just the 3 changed files (`-f`, which loses the
  module calls);
- on each `--real DIR` (real Terraform, never committed): the same scan pair.
`--skip-download` keeps Checkov off the network (it would otherwise wait on its platform's API).

Checkov is installed into its own virtualenv under `.cache/bench-checkov` (git-ignored), pinned,
the first time; `--no-checkov` times only Compliance Bot, and `--smoke` is a one-run check of the
script on a small tree (no Checkov, no install).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import venv
from collections.abc import Mapping, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.measure import Figure, interleaved, machine, table
from bench.tf_tree import MIN_FILES, change, generate

CHECKOV_VERSION = "3.2.533"  # the last 3.2 release; installs from PyPI on Python 3.11
ROOT = Path(__file__).resolve().parents[1]
CHECKOV_ENV = ROOT / ".cache" / "bench-checkov"


def checkov() -> Path:
    """The pinned Checkov, installed into its own virtualenv if it is not there yet."""
    binary = CHECKOV_ENV / "bin" / "checkov"
    python = CHECKOV_ENV / "bin" / "python"
    if binary.exists():
        shown = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False).stdout
        if shown.strip() == CHECKOV_VERSION:
            return binary
    print(f"installing checkov=={CHECKOV_VERSION} into {CHECKOV_ENV} (a few minutes) ...", file=sys.stderr)
    venv.create(CHECKOV_ENV, with_pip=True, clear=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", f"checkov=={CHECKOV_VERSION}"], check=True)
    return binary


def bot() -> list[str]:
    """This checkout's command line, run by the interpreter running this script."""
    return [sys.executable, "-m", "bot.cli"]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
                        "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"})


def repository(root: Path, files: int) -> list[str]:
    """A git repository of the generated tree: the tree, then a commit changing 3 files."""
    generate(root, files)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "generated tree")
    changed = change(root)
    _git(root, "commit", "-q", "-am", "a 3-file change")
    return changed


Commands = dict[str, tuple[Sequence[str], Mapping[str, str] | None]]


def commands(tree: Path, changed: Sequence[str], real: Sequence[Path], binary: Path | None) -> list[Commands]:
    """The groups of commands compared with each other, each group run interleaved."""
    quiet = ["--framework", "terraform", "--quiet", "--skip-download"]
    scan: Commands = {"compliance-bot scan (generated)": ([*bot(), "scan", str(tree)], None)}
    check: Commands = {"compliance-bot check (3-file change)":
                       ([*bot(), "check", "--repo", str(tree), "--base", "HEAD~1", "--head", "HEAD"], None)}
    if binary is not None:
        scan["checkov -d (generated)"] = ([str(binary), "-d", str(tree), *quiet], None)
        check["checkov -d (3-file change: whole tree)"] = ([str(binary), "-d", str(tree), *quiet], None)
        files = [arg for path in changed for arg in ("-f", str(tree / path))]
        check["checkov -f (3-file change: the 3 files)"] = ([str(binary), *files, *quiet], None)
    groups = [scan, check]
    for folder in real:
        group: Commands = {f"compliance-bot scan ({folder.name})": ([*bot(), "scan", str(folder)], None)}
        if binary is not None:
            group[f"checkov -d ({folder.name})"] = ([str(binary), "-d", str(folder), *quiet], None)
        groups.append(group)
    return groups


def ratios(figures: Sequence[Figure]) -> list[str]:
    """Checkov's time and memory over Compliance Bot's, per pair measured on the same input."""
    by_name = {f.name: f for f in figures}
    lines = []
    for name, figure in by_name.items():
        if not name.startswith("checkov"):
            continue
        subject = name.split("(", 1)[1]
        ours = next((f for n, f in by_name.items() if n.startswith("compliance-bot") and
                     (n.split("(", 1)[1] == subject or (subject.startswith("3-file") and "3-file" in n))), None)
        if ours is not None:
            lines.append(f"- {name} / {ours.name}: {figure.seconds / ours.seconds:.1f}x the wall-clock time, "
                         f"{figure.cpu_seconds / ours.cpu_seconds:.1f}x the CPU time, "
                         f"{figure.peak_mb / ours.peak_mb:.1f}x the peak memory")
    return lines


def _count_tf(folder: Path) -> int:
    return sum(1 for _ in folder.rglob("*.tf"))


def compile_project() -> str:
    """Compile the project's modules to bytecode first, as `pip install` does for Checkov's: an
    editable checkout run with PYTHONDONTWRITEBYTECODE set (this machine sets it) compiled every
    module again in every process, about 0.3 s of each `compliance-bot` run. What was done, in words."""
    done = subprocess.run([sys.executable, "-m", "compileall", "-q", "bot", "rules"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return f"the project's modules could not all be compiled ({done.stdout.strip()[-200:]}); timed as they are"
    return "the project's modules compiled ahead (`python -m compileall bot rules`), as pip does for an install"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, nargs="*", default=[], help="folders of real Terraform (never committed)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--files", type=int, default=120, help=".tf files of the generated tree")
    parser.add_argument("--no-checkov", action="store_true", help="time only Compliance Bot (no install)")
    parser.add_argument("--smoke", action="store_true", help="one run on a 36-file tree, no Checkov: checks the script")
    args = parser.parse_args(argv)
    if args.smoke:
        args.no_checkov, args.runs, args.files, args.real = True, 1, MIN_FILES, []
    if args.files < MIN_FILES:
        parser.error(f"--files: at least {MIN_FILES} (the modules and the two stacks the change edits)")
    missing = [str(p) for p in args.real if not p.is_dir()]
    if missing:
        print(f"not a folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    binary = None if args.no_checkov else checkov()
    compiled = compile_project()
    with tempfile.TemporaryDirectory(prefix="checkov-bench-") as scratch:
        tree = Path(scratch) / "tree"
        tree.mkdir()
        changed = repository(tree, args.files)
        shown = {str(tree): "TREE", sys.executable: "python", str(CHECKOV_ENV / "bin" / "checkov"): "checkov",
                 **{str(p): f"REAL/{p.name}" for p in args.real}}
        print("## Engine vs Checkov\n")
        print(f"Machine: {machine()}.\n")
        inputs = [(f"TREE = generated by bench/tf_tree.py ({args.files} .tf files, {len(changed)} changed in the "
                  "last commit)"), *(f"REAL/{p.name} = {_count_tf(p)} .tf files" for p in args.real),
                  f"Checkov {CHECKOV_VERSION}" if binary else "Checkov not run"]
        print(f"Inputs: {'; '.join(inputs)}.\n", flush=True)
        print(f"Bytecode: {compiled}.\n", flush=True)
        figures: list[Figure] = []
        for number, group in enumerate(commands(tree, changed, args.real, binary)):
            measured = interleaved(group, args.runs)
            figures.extend(measured)
            rows = table(measured)
            for row in rows if number == 0 else rows[2:]:  # each group's rows as soon as it is measured
                for path, label in sorted(shown.items(), key=lambda item: -len(item[0])):
                    row = row.replace(path, label)
                print(row, flush=True)
        failed = [f.name for f in figures if f.name.startswith("compliance-bot") and not f.codes <= {0, 1}]
        print()
        print("Ratios (Checkov / Compliance Bot, same input):")
        for line in ratios(figures) or ["- (Checkov not run)"]:
            print(line)
        if failed:
            print(f"compliance-bot failed (exit code not 0 or 1): {', '.join(failed)}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
