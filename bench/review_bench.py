"""What one pull-request review costs as the repository grows, against the fake GitHub.

    python bench/review_bench.py [--sizes 50 500 5000] [--runs 3] [--latency-ms 50] [--big-pr 1000]
                                 [--change shared|stack] [--runner kept|fresh] [--smoke]

Part 1: repositories of 50, 500 and 5,000 files (Terraform modules with their stacks, manifests,
docs and code), each with a 3-file pull request (two modules and a stack). The App's review path
runs end to end (`ReviewRunner`: webhook job, GitHub reads, the engine in its own process, the
check run and the review); printed per size are medians of interleaved runs of wall-clock
seconds, the engine process's CPU seconds, and GitHub API calls, first as the fake answers
(loopback), then with `--latency-ms` added before every answer (`latency` of
the fake), as a network's round trip would. The target: the 5,000-file repository's review
within 1.2x of the 50-file one's. `--runner kept` (the default) reviews with one runner that has
reviewed each repository once, as a running worker has (its cache holds the texts of files no
pull request changed, by blob id); `--runner fresh`, with a new runner each time (a process's
first review, reading every text it needs through the API).

Part 2: one review of a `--big-pr`-file pull request in a fresh process: its time, and the peak
resident memory of the engine process (`VmHWM`) and of the engine with its parse workers
(the sum of their proportional set sizes, sampled every 20 ms), against the targets of 2 s and 150 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.measure import machine
from bench.tf_tree import layout
from bot.app.engine_process import shared_pool
from bot.app.jobs import ReviewJob
from bot.app.runner import ReviewRunner
from bot.app.webhooks import route
from bot.github.client import GitHubApp
from tests.fakegithub import FakeGitHub
from tests.fakegithub.state import Repository

README = "# service {i}\n\nHow to run service {i}: see the runbook.\n"
CODE = "def handler_{i}(event):\n    return {{'status': 200, 'id': {i}}}\n"
MANIFEST = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-{i}\ndata:\n  LEVEL: info\n"
VOLUME = ('resource "aws_ebs_volume" "pr_{i}" {{\n  availability_zone = "eu-west-1a"\n  size = {i}\n'
          "  encrypted = false\n}}\n")


def repository_files(size: int) -> dict[str, str | bytes | None]:
    """`size` files: a third Terraform (the generated modules and stacks), the rest manifests,
    docs and code, as a service monorepo holds them."""
    terraform = max(36, size // 3)
    files: dict[str, str | bytes | None] = dict(layout(terraform))
    i = 0
    while len(files) < size:
        kind = i % 3
        folder = f"services/svc{i // 30:03d}"
        path, text = ((f"{folder}/README{i}.md", README) if kind == 0 else
                      (f"{folder}/handler{i}.py", CODE) if kind == 1 else (f"deploy/{folder}/cm{i}.yaml", MANIFEST))
        files[path] = text.format(i=i)
        i += 1
    return files


def three_file_change(run: int) -> dict[str, str | bytes | None]:
    """a module gains a resource, a module every stack calls changes a variable, a stack its log retention"""
    trees = layout(36)
    return {
        "modules/volume/main.tf": str(trees["modules/volume/main.tf"]) + VOLUME.format(i=run + 1),
        "modules/key/variables.tf": str(trees["modules/key/variables.tf"]).replace("managed by terraform",
                                                                                  f"managed by terraform ({run})"),
        "live/staging/stack000/main.tf": str(trees["live/staging/stack000/main.tf"]).replace(
            "retention_in_days = 400", f"retention_in_days = {10 + run}"),
    }


def stack_change(run: int) -> dict[str, str | bytes | None]:
    """3 files of one stack, a root module nobody calls: no module's callers to evaluate again"""
    trees = layout(36)
    base = "live/dev/stack000"
    return {
        f"{base}/main.tf": str(trees[f"{base}/main.tf"]) + VOLUME.format(i=run + 1),
        f"{base}/variables.tf": str(trees[f"{base}/variables.tf"]).replace("platform-team", f"team-{run}"),
        f"{base}/providers.tf": str(trees[f"{base}/providers.tf"]).replace("eu-west-1", f"eu-west-{run % 3 + 1}"),
    }


CHANGES = {"shared": three_file_change, "stack": stack_change}
RUNNERS = {"kept": "by one runner that reviewed each repository once before (a running worker: the texts of "
                   "files no pull request changed are in its cache)",
           "fresh": "each by a fresh runner (a process's first review: every text read from the API)"}


def big_change(files: int) -> dict[str, str | bytes | None]:
    return {f"modules/m{i % 100:03d}/f{i}.tf": VOLUME.format(i=i) for i in range(files)}


@dataclass(frozen=True)
class Measured:
    seconds: float
    engine_cpu: float
    calls: int
    github_cpu: float = 0.0  # the fake GitHub's CPU answering the review's calls (GitHub's side of the wall time)


def _engine_pids() -> list[int]:
    return shared_pool().live_pids()


def _engine_cpu() -> dict[int, float]:
    return {pid: _cpu_of(pid) for pid in _engine_pids()}


def warm_up(fake: FakeGitHub, repo: Repository) -> None:
    """Review until every engine process of the pool has started (each loads the rules once)."""
    run = 0
    while len(_engine_pids()) < shared_pool().size:
        review(fake, repo, f"warm-up-{run}", three_file_change(0))
        run += 1


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of a process and its waited-for children (the parse workers)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = 100.0  # USER_HZ on Linux
    return sum(int(f) for f in fields[11:15]) / ticks  # utime, stime, cutime, cstime


def new_runner(fake: FakeGitHub) -> ReviewRunner:
    return ReviewRunner(GitHubApp(fake.app_id, fake.private_key_pem, fake.url, 30.0), "compliance")


def review(fake: FakeGitHub, repo: Repository, branch: str, changes: dict[str, str | bytes | None],
           runner: ReviewRunner | None = None) -> Measured:
    """One review; by a fresh runner (nothing cached: a process's first review) unless `runner`."""
    repo.commit(branch, changes, "change")
    number = repo.open_pull_request(head=branch)
    headers, body = fake.webhook("pull_request.opened", repo, number)
    job = route(headers["X-GitHub-Event"], headers["X-GitHub-Delivery"], json.loads(body))
    assert isinstance(job, ReviewJob)
    runner = runner or new_runner(fake)
    fake.reset_requests()
    cpu = _engine_cpu()
    started = time.perf_counter()
    asyncio.run(runner(job))
    seconds = time.perf_counter() - started
    spent = sum(seconds_now - cpu.get(pid, 0.0) for pid, seconds_now in _engine_cpu().items())
    runs = fake.check_runs(repo)
    if not runs or runs[-1].get("conclusion") not in ("success", "failure"):
        raise SystemExit(f"the review of {repo.full_name}#{number} did not conclude: {runs[-1] if runs else None}")
    return Measured(seconds, spent, len(fake.requests), fake.served_cpu)


def _variant(sizes: Sequence[int], size: int, run: int) -> int:
    """A change's number, different for every repository and run: the same edit made in two
    repositories gives the same blobs, which a kept runner has cached from the other one."""
    return 1000 * (sizes.index(size) + 1) + run


def scaling(sizes: Sequence[int], runs: int, latency: float, kind: str = "shared",
            kept: bool = False) -> tuple[list[str], list[float]]:
    """The table's rows, and per latency the largest repository's median time over the smallest's.
    `kept`: one runner reviews everything, as a long-running worker's does, and each repository is
    reviewed once before the measured runs (its blob texts are then in the runner's cache, as a
    repository's are after its first pull request); else a fresh runner per review."""
    ratios: list[float] = []
    header = ("| repository files | latency per call | median wall s | median engine CPU s | fake GitHub CPU s "
              "| API calls | vs smallest |")
    lines = [header, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    with FakeGitHub() as fake:
        repos = {size: fake.create_repo("bench", f"repo{size}", files=repository_files(size)) for size in sizes}
        warm_up(fake, repos[sizes[0]])
        runner = new_runner(fake) if kept else None
        if runner is not None:
            for size in sizes:
                review(fake, repos[size], "first-review", CHANGES[kind](_variant(sizes, size, 0)), runner)
        for delay in (0.0, latency):
            fake.latency = delay
            results: dict[int, list[Measured]] = {size: [] for size in sizes}
            for run in range(runs):
                for size in sizes:  # taking turns: a burst of other work hits every size alike
                    tag = f"{int(delay * 1000)}ms-{run}"
                    changes = CHANGES[kind](_variant(sizes, size, run + 1 + (runs + 1) * (delay > 0)))
                    results[size].append(review(fake, repos[size], f"pr-{tag}", changes, runner))
            smallest = statistics.median(m.seconds for m in results[sizes[0]])
            ratios.append(statistics.median(m.seconds for m in results[sizes[-1]]) / smallest)
            for size in sizes:
                wall = statistics.median(m.seconds for m in results[size])
                cpu = statistics.median(m.engine_cpu for m in results[size])
                calls = statistics.median(m.calls for m in results[size])
                github = statistics.median(m.github_cpu for m in results[size])
                lines.append(f"| {size:,} | {delay * 1000:.0f} ms | {wall:.2f} | {cpu:.2f} | {github:.2f} | {calls:.0f} | "
                             f"{wall / smallest:.2f}x |")
    return lines, ratios


class _Sampler:
    """Peak memory of the engine process with its children (the parse workers), sampled: the sum of
    their proportional set sizes, so the pages a fork shares are counted once."""

    def __init__(self) -> None:
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            for pid in _engine_pids():
                self.peak_kib = max(self.peak_kib, sum(_pss(p) for p in (pid, *_children(pid))))


def _status(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _pss(pid: int) -> int:
    """Proportional set size in KiB: pages shared with the forked workers counted once in all."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found.extend(int(c) for c in (task / "children").read_text().split())
    except OSError:
        pass
    return found


def big_pr(files: int) -> dict[str, float]:
    """One review of a `files`-file pull request (the engine process started and warmed first)."""
    with FakeGitHub() as fake:
        repo = fake.create_repo("bench", "big", files=repository_files(50))
        warm_up(fake, repo)
        before = {pid: _status(pid, "VmHWM") for pid in _engine_pids()}
        with _Sampler() as sampler:
            measured = review(fake, repo, "big", big_change(files))
        grown = [_status(pid, "VmHWM") for pid in _engine_pids() if _status(pid, "VmHWM") > before.get(pid, 0)]
        peak = max(grown or [_status(pid, "VmHWM") for pid in _engine_pids()] or [0])
        return {"seconds": measured.seconds, "engine_cpu": measured.engine_cpu, "calls": measured.calls,
                "github_cpu": measured.github_cpu,
                "engine_peak_mb": peak / 1024, "with_workers_peak_mb": sampler.peak_kib / 1024}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 500, 5000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--big-pr", type=int, default=1000, help="files of the big pull request (0: skip)")
    parser.add_argument("--change", choices=sorted(CHANGES), default="shared",
                        help="shared: two modules every stack calls and a stack; stack: 3 files of one stack")
    parser.add_argument("--runner", choices=["fresh", "kept"], default="kept",
                        help="kept: one runner for every review, each repository reviewed once first (a running "
                             "worker's steady state); fresh: a new runner per review (a process's first review)")
    parser.add_argument("--smoke", action="store_true", help="one run, sizes 40 and 60, a 30-file big PR")
    parser.add_argument("--one-big-pr", type=int, default=0, help=argparse.SUPPRESS)  # the fresh process of part 2
    args = parser.parse_args(argv)
    if args.one_big_pr:
        print(json.dumps(big_pr(args.one_big_pr)))
        return 0
    if args.smoke:
        args.sizes, args.runs, args.big_pr, args.latency_ms = [40, 60], 1, 30, 5.0
    sizes = sorted(args.sizes)
    print("## Review cost vs repository size\n")
    print(f"Machine: {machine()}.\n")
    print(f"`python bench/review_bench.py --sizes {' '.join(map(str, sizes))} --runs {args.runs} "
          f"--latency-ms {args.latency_ms:g} --big-pr {args.big_pr} --change {args.change} --runner {args.runner}`: "
          f"a 3-file pull request ({CHANGES[args.change].__doc__}), medians of {args.runs} interleaved reviews per "
          f"size, {RUNNERS[args.runner]}; engine CPU is the engine process's (with its parse workers).\n")
    rows, ratios = scaling(sizes, args.runs, args.latency_ms / 1000, args.change, kept=args.runner == "kept")
    for row in rows:
        print(row)
    if args.big_pr:
        out = subprocess.run([sys.executable, __file__, "--one-big-pr", str(args.big_pr)], capture_output=True,
                             text=True, check=False)
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            return 1
        big = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"\nA {args.big_pr:,}-file pull request, one review in a fresh process: {big['seconds']:.2f} s wall "
              f"(target < 2 s), engine CPU {big['engine_cpu']:.2f} s, {big['calls']:.0f} API calls, which took the "
              f"fake GitHub {big['github_cpu']:.2f} s of CPU to answer (in this process, sharing its interpreter "
              f"lock: GitHub's side of the wall time); peak RSS of the "
              f"engine process {big['engine_peak_mb']:.0f} MB (target < 150 MB); the engine with its parse "
              f"workers peaked at {big['with_workers_peak_mb']:.0f} MB (sum of PSS, sampled every 20 ms).")
    print(f"\nRatios, the {sizes[-1]:,}-file repository's review over the {sizes[0]:,}-file one's (target <= 1.2x): "
          f"{ratios[0]:.2f}x as the fake answers, {ratios[1]:.2f}x with {args.latency_ms:g} ms per call.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
