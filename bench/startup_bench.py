"""What the CLI costs before and around its work: `compliance-bot --help`, `compliance-bot check`
of a three-file change (an `.env` file, a Kubernetes manifest, a Dockerfile; no Terraform) and of
a one-file Terraform change, and reading one `.tf` file (importing the Terraform parser, no CLI),
each a fresh process, wall clock and CPU.

    python bench/startup_bench.py [--runs N] [--baseline CHECKOUT]

Cases, taken in turn in every run (interleaved, so a change in the machine's load touches them
all): this checkout with its catalog cache warm, the same with the cache off
(`COMPLIANCE_BOT_CACHE=off`: every spec read from YAML), and with `--baseline` another checkout
of the project run by the same interpreter (its `bot` and `rules` first on the path), such as the
main branch before this change. Bytecode is written (to a temporary folder), as an installed
package has it. Each figure is a median; ratios are printed last.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid", *args], cwd=repo,
                   check=True, capture_output=True, timeout=60)


def three_file_change(folder: Path) -> Path:
    """A repository whose last commit changes three files: what a small pull request holds."""
    repo = folder / "repo"
    (repo / "k8s").mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    (repo / "app.env").write_text("HOME=/srv\n")
    (repo / "k8s" / "pod.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n"
                                           "  containers:\n    - name: app\n      image: nginx:1.25\n")
    (repo / "Dockerfile").write_text("FROM python:3.11-slim\nUSER app\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    with (repo / "app.env").open("a") as out:
        out.write("LOG_LEVEL=info\n")
    with (repo / "k8s" / "pod.yaml").open("a") as out:
        out.write("      securityContext:\n        runAsNonRoot: true\n")
    with (repo / "Dockerfile").open("a") as out:
        out.write("RUN echo ready\n")
    _git(repo, "commit", "-qam", "change")
    return repo


# A small module's file: a variable, a local interpolating it, a resource using the local.
TF_FILE = ('variable "mode" {\n  default = "read"\n}\n\nlocals {\n  acl = "public-${var.mode}"\n}\n\n'
           'resource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n  acl    = local.acl\n}\n')


def terraform_change(folder: Path) -> Path:
    """A repository whose last commit adds a resource to its one `.tf` file."""
    repo = folder / "tf-repo"
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    (repo / "main.tf").write_text(TF_FILE.split("\nresource", 1)[0])
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    (repo / "main.tf").write_text(TF_FILE)
    _git(repo, "commit", "-qam", "change")
    return repo


def _run(command: Sequence[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, timeout=300, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cases(baseline: Path | None, bytecode: Path) -> dict[str, tuple[dict[str, str], Path]]:
    """Name -> (environment, working folder) of each way of running the CLI. Bytecode is written
    (under `bytecode`, not in the checkouts), as an installed package has it: without it every
    process compiles every module again, which is what PYTHONDONTWRITEBYTECODE measures instead."""
    dropped = ("PYTHONPATH", "COMPLIANCE_BOT_CACHE", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in dropped} | {"PYTHONPYCACHEPREFIX": str(bytecode)}
    found = {"this checkout, cache warm": ({**env, "PYTHONPATH": str(ROOT)}, ROOT),
             "this checkout, cache off": ({**env, "PYTHONPATH": str(ROOT), "COMPLIANCE_BOT_CACHE": "off"}, ROOT)}
    if baseline is not None:
        found[f"baseline {baseline}"] = ({**env, "PYTHONPATH": str(baseline)}, baseline)
    return found


def measure(runs: int, baseline: Path | None, folder: Path) -> dict[str, dict[str, tuple[float, float]]]:
    """Per command, per case: median wall and CPU seconds."""
    repo, tf_repo = three_file_change(folder), terraform_change(folder)
    read_tf = ("from bot.engine.parsers.terraform.module import load_file\n"
               f"assert not hasattr(load_file('main.tf', {TF_FILE!r}), 'message')")
    commands = {"python -c pass (the interpreter alone)": [sys.executable, "-c", "pass"],
                "--help": [sys.executable, "-m", "bot.cli.main", "--help"],
                "check (3 files)": [sys.executable, "-m", "bot.cli.main", "check", "--repo", str(repo),
                                    "--base", "HEAD~1"],
                "check (1 .tf file)": [sys.executable, "-m", "bot.cli.main", "check", "--repo", str(tf_repo),
                                       "--base", "HEAD~1"],
                "read one .tf file (import the parser, load_file)": [sys.executable, "-c", read_tf]}
    ways = cases(baseline, folder / "bytecode")
    for env, cwd in ways.values():  # warm the caches (the catalog's, the interpreter's bytecode, lark's grammar)
        for warming in ("check (3 files)", "check (1 .tf file)"):
            _run(commands[warming], env, cwd)
    samples: dict[str, dict[str, list[tuple[float, float]]]] = {c: {w: [] for w in ways} for c in commands}
    for _ in range(runs):
        for command, argv in commands.items():
            for way, (env, cwd) in ways.items():
                samples[command][way].append(_run(argv, env, cwd))
    return {command: {way: (statistics.median(s[0] for s in values), statistics.median(s[1] for s in values))
                      for way, values in by_way.items()} for command, by_way in samples.items()}


def machine() -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return (f"{platform.machine()} {os.cpu_count()} CPU(s), Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}, load average {load[0]:.1f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--baseline", type=Path, default=None, metavar="CHECKOUT",
                        help="another checkout of the project (its bot/ and rules/) to compare with")
    args = parser.parse_args(argv)
    if args.baseline is not None and not (args.baseline / "bot" / "cli" / "main.py").is_file():
        parser.error(f"{args.baseline}: not a checkout of the project (no bot/cli/main.py)")
    with tempfile.TemporaryDirectory(prefix="startup-bench-") as folder:
        figures = measure(args.runs, args.baseline, Path(folder))
    print(f"compliance-bot start-up, median of {args.runs} interleaved runs (fresh process each)")
    print(f"machine: {machine()}")
    for command, by_way in figures.items():
        print(f"  {command}")
        for way, (wall, cpu) in by_way.items():
            print(f"    {way:<40} wall {wall * 1000:8.1f} ms   cpu {cpu * 1000:8.1f} ms")
    print("ratios (CPU; another case / this checkout with its cache warm):")
    for command, by_way in figures.items():
        warm = by_way["this checkout, cache warm"][1]
        for way, (_, cpu) in by_way.items():
            if way != "this checkout, cache warm":
                print(f"  {command}: {way}: {cpu / warm:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
