"""Scale-out figures on a real Redis and the fake GitHub: review throughput per worker, and how fast
the webhook endpoint answers under load.

    python bench/scaleout_bench.py [--runs 3] [--jobs 12] [--latency-ms 0 50] [--rates 100 500]
                                   [--duration 2] [--large-files 300] [--modes built-in redis]
                                   [--worker-nice 0] [--fake-nice 10]

1. Throughput: `compliance-bot worker` processes (1, then 2; WORKER_CONCURRENCY=2 each) on one
   Redis; `--jobs` pull requests (3 Terraform files each) are queued at once and timed until each
   has a completed check run. With 0 ms and with `--latency-ms` added to every GitHub answer
   (`FakeGitHub.latency`). Jobs per second, median of `--runs`; the 1 -> 2 worker ratio last.
2. Ingest: a load generator in its own process (Node, bench/loadgen.js) sends signed `pull_request.synchronize` deliveries
   at a fixed rate (open loop: a late answer does not slow the schedule) for `--duration` seconds,
   and reports each answer's latency. Built-in mode (one `serve`, reviewing in process) and Redis
   mode (`serve --no-worker` and two workers); idle, and while two large pull requests
   (`--large-files` files each) are being reviewed. p50 / p99 in ms, median of `--runs`.

The fake GitHub runs in this process, its threads `--fake-nice` (default 10) lower than the App's
processes: it stands in for GitHub, which is another machine.

Needs REDIS_URL (default redis://127.0.0.1:6379/0). Keys go under a fresh namespace, deleted at the end.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.redis_keys import delete_namespace
from tests.e2e.serving import App, serve, wait_for, work
from tests.fakegithub import FakeGitHub, Repository

VOLUME = 'resource "aws_ebs_volume" "v{i}" {{\n  availability_zone = "eu-west-1a"\n  size = 1\n  encrypted = false\n}}\n'
QUIET = {"LOG_LEVEL": "INFO", "WORKER_HEARTBEAT": "1", "SHUTDOWN_GRACE": "0"}
CONCURRENCY = 2  # consumers per worker process


def renice_threads(pid: int | str, niceness: int, keep: frozenset[int] = frozenset()) -> int:
    """Schedule each thread of process `pid` ("self": this one) but those in `keep` `niceness`
    lower; Linux schedules threads one by one, and what a thread starts later inherits its
    priority. How many threads were changed."""
    changed = 0
    for entry in os.listdir(f"/proc/{pid}/task"):
        if niceness > 0 and int(entry) not in keep:
            os.setpriority(os.PRIO_PROCESS, int(entry), niceness)
            changed += 1
    return changed


def lower_fake_priority(niceness: int) -> int:
    """The fake GitHub's threads (every thread of this process but the main one, which starts the
    servers and workers at the usual priority): it stands in for GitHub, another machine, and its
    schema checks must not take the CPU of the App it answers."""
    main = threading.main_thread().native_id
    return renice_threads("self", niceness, keep=frozenset({main} if main is not None else ()))


def lower_priority(pid: int, niceness: int) -> None:
    """A worker process: `--worker-nice` stands in for workers on machines of their own."""
    renice_threads(pid, niceness)


def machine() -> str:
    cpus = os.cpu_count() or 0
    try:
        load = " load {:.1f}/{:.1f}/{:.1f}".format(*os.getloadavg())
    except OSError:
        load = ""
    return f"{platform.machine()} {cpus} CPU(s), {platform.system()} {platform.release()}, Python {platform.python_version()}{load}"


def open_pr(fake: FakeGitHub, name: str, files: int) -> tuple[Repository, int]:
    repo = fake.create_repo("bench", name, files={"README.md": "x\n"})
    repo.commit("feature", {f"mod{i % 10}/f{i}.tf": VOLUME.format(i=i) for i in range(files)}, "change")
    return repo, repo.open_pull_request(head="feature")


@contextlib.contextmanager
def namespace(url: str) -> Iterator[dict[str, str]]:
    prefix = f"bench:compliance-bot:{uuid.uuid4().hex}"
    try:
        yield {"REDIS_URL": url, "REDIS_NAMESPACE": prefix}
    finally:
        delete_namespace(url, prefix)


def completed(fake: FakeGitHub, repos: list[Repository]) -> bool:
    return all(any(r["status"] == "completed" for r in fake.check_runs(repo)) for repo in repos)


# -- 1. throughput ---------------------------------------------------------------------------------


def throughput(fake: FakeGitHub, url: str, workers: int, jobs: int, tmp: Path, tag: str) -> float:
    """Jobs per second `workers` worker processes sustain on `jobs` queued pull requests."""
    pulls = [open_pr(fake, f"tp-{tag}-{i}", 3) for i in range(jobs)]
    with namespace(url) as names, contextlib.ExitStack() as stack:
        env = {**QUIET, **names, "WORKER_CONCURRENCY": str(CONCURRENCY)}
        web = stack.enter_context(serve(fake, tmp / f"web-{tag}.log", env, ["--no-worker"]))
        for w in range(workers):
            stack.enter_context(work(fake, tmp / f"worker-{tag}-{w}.log", env))
        # Warm-up: one review per consumer (engine processes started, imports done).
        warm = [open_pr(fake, f"warm-{tag}-{w}", 1) for w in range(workers * CONCURRENCY)]
        for repo, number in warm:
            web.deliver(*fake.webhook("pull_request.opened", repo, number))
        wait_for(lambda: completed(fake, [r for r, _ in warm]), 300, "the warm-up reviews")
        deliveries = [fake.webhook("pull_request.opened", repo, number) for repo, number in pulls]
        started = time.perf_counter()
        for headers, body in deliveries:
            web.deliver(headers, body)
        wait_for(lambda: completed(fake, [r for r, _ in pulls]), 600, "every review to complete")
        return jobs / (time.perf_counter() - started)


# -- 2. ingest -------------------------------------------------------------------------------------


LOADGEN = Path(__file__).resolve().parent / "loadgen.js"  # Node: cheaper per request than the server it measures


def load(app: App, rate: int, duration: float, headers: dict[str, str], body: bytes) -> tuple[float, float, dict[str, int]]:
    """(p50 ms, p99 ms, answers by status) of `rate` deliveries/s for `duration` s from another process,
    after up to a second of the same load unrecorded (bench/loadgen.js says why)."""
    spec = {"url": f"{app.url}/webhook", "rate": rate, "duration": duration, "warmup": min(1.0, duration),
            "headers": headers,
            "body_b64": base64.b64encode(body).decode("ascii")}
    node = shutil.which("node")
    if node is None:
        raise SystemExit("the ingest figures need Node.js (`node` on PATH) for the load generator, bench/loadgen.js")
    done = subprocess.run([node, str(LOADGEN)], input=json.dumps(spec), capture_output=True, text=True,
                          timeout=120 + duration * 4, check=True)
    result = json.loads(done.stdout)
    latencies = sorted(result["latencies"])
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    return p50, p99, {str(k): int(v) for k, v in result["statuses"].items()}


def ingest(fake: FakeGitHub, url: str, mode: str, busy: bool, rates: list[int], duration: float, large: int,
           tmp: Path, tag: str, worker_nice: int = 0) -> dict[int, tuple[float, float, dict[str, int]]]:
    noise, noise_number = open_pr(fake, f"noise-{tag}", 1)
    headers, body = fake.webhook("pull_request.synchronize", noise, noise_number)
    figures: dict[int, tuple[float, float, dict[str, int]]] = {}
    with namespace(url) as names, contextlib.ExitStack() as stack:
        if mode == "redis":
            env = {**QUIET, **names, "WORKER_CONCURRENCY": "2"}
            app = stack.enter_context(serve(fake, tmp / f"web-{tag}.log", env, ["--no-worker"]))
            for w in range(2):
                worker = stack.enter_context(work(fake, tmp / f"worker-{tag}-{w}.log", env))
                lower_priority(worker.pid, worker_nice)
        else:
            app = stack.enter_context(serve(fake, tmp / f"web-{tag}.log", {**QUIET, "WORKER_CONCURRENCY": "2"}))
        # Warm-up: the first review of a process imports and starts what later ones reuse (measured
        # cold, the first job's start-up stalls the built-in server's answers for about a second).
        app.deliver(*fake.webhook("pull_request.synchronize", noise, noise_number))
        wait_for(lambda: completed(fake, [noise]), 300, "the warm-up review")
        for rate in rates:
            big: list[Repository] = []
            if busy:
                for b in range(2):
                    repo, number = open_pr(fake, f"large-{tag}-{rate}-{b}", large)
                    app.deliver(*fake.webhook("pull_request.opened", repo, number))
                    big.append(repo)
                wait_for(lambda big=big: all(fake.check_runs(r) for r in big), 300,  # type: ignore[misc]
                         "the large reviews to start")
            figures[rate] = load(app, rate, duration, headers, body)
            if busy and completed(fake, big):
                figures[rate][2]["note: large reviews ended before the load did"] = 1
            if big:
                wait_for(lambda big=big: completed(fake, big), 600, "the large reviews to end")  # type: ignore[misc]
    return figures


def median3(values: list[tuple[float, float, dict[str, int]]]) -> tuple[float, float, dict[str, int]]:
    statuses: dict[str, int] = {}
    for _, _, s in values:
        for k, v in s.items():
            statuses[k] = statuses.get(k, 0) + v
    return statistics.median(v[0] for v in values), statistics.median(v[1] for v in values), statuses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=12)
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[0.0, 50.0])
    parser.add_argument("--rates", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--duration", type=float, default=2.0)
    parser.add_argument("--large-files", type=int, default=300)
    parser.add_argument("--modes", nargs="+", choices=["built-in", "redis"], default=["built-in", "redis"])
    parser.add_argument("--worker-nice", type=int, default=0,
                        help="Redis mode's ingest: how much lower the worker processes are scheduled (0: alike, "
                             "sharing the cores with the web server; 10 stands in for workers on their own machines)")
    parser.add_argument("--fake-nice", type=int, default=10,
                        help="how much lower the fake GitHub's threads are scheduled (0: alike)")
    args = parser.parse_args(argv)
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    print(f"machine: {machine()}")
    print(f"redis: {url}; runs: {args.runs} (medians)")
    ratios: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="scaleout-bench-"))
    print(f"logs: {tmp}")
    with FakeGitHub() as fake:
        threads = lower_fake_priority(args.fake_nice)
        print(f"fake GitHub: {threads} thread(s) at nice {args.fake_nice} (GitHub is another machine; "
              "the App's engine processes run at ENGINE_NICENESS, default 10)")
        for latency in args.latency_ms:
            fake.latency = latency / 1000
            per: dict[int, float] = {}
            for workers in (1, 2):
                rates = [throughput(fake, url, workers, args.jobs, tmp, f"{int(latency)}-{workers}-{r}")
                         for r in range(args.runs)]
                per[workers] = statistics.median(rates)
                print(f"throughput: {workers} worker(s), +{latency:g} ms per API call: "
                      f"{per[workers]:.2f} jobs/s (runs: {', '.join(f'{r:.2f}' for r in rates)})")
            ratios.append(f"ratio 2/1 workers, +{latency:g} ms per API call: {per[2] / per[1]:.2f}x")
        fake.latency = 0.0
        for mode in args.modes:
            for busy in (False, True):
                runs = [ingest(fake, url, mode, busy, args.rates, args.duration, args.large_files, tmp,
                               f"{mode}-{busy}-{r}", args.worker_nice) for r in range(args.runs)]
                for rate in args.rates:
                    p50, p99, statuses = median3([run[rate] for run in runs])
                    state = "while 2 large reviews run" if busy else "idle"
                    if mode == "redis" and args.worker_nice:
                        state += f", workers at nice {args.worker_nice}"
                    verdict = "ok" if p99 < 25 else "over the 25 ms target"
                    print(f"ingest: {mode} mode, {state}, {rate}/s: p50 {p50:.1f} ms, p99 {p99:.1f} ms "
                          f"({verdict}; answers {json.dumps(statuses, sort_keys=True)})")
    for line in ratios:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
