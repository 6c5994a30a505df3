"""Parsing in a pool of processes (`bot.engine.parse_pool`): the same review as in one thread, the
per-file CPU budget still applies, and a worker that crashes or stalls is an error naming its
file (fail closed), never a hang; workers die with the process that started them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from bench.tf_tree import layout
from bot.engine import parse_pool
from bot.engine.budget import FileClock
from bot.engine.diff import whole_file_added
from bot.engine.model import FileError, ParsedFile
from bot.engine.parse_pool import Loaded, Parsing, load_all
from bot.engine.parsers.terraform.module import LoadedFile, load_file
from bot.engine.review import Engine
from bot.engine.tree import MemoryTree
from rules.registry import default_rule_set

ROOT = Path(__file__).resolve().parents[2]
SERIAL = Parsing(workers=1)
POOLED = Parsing(workers=2, min_files=1, min_bytes=0, min_file_bytes=0)

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
spec:
  template:
    spec:
      containers:
        - name: app
          image: example/app:{i}
          securityContext:
            privileged: {privileged}
"""
DOCKERFILE = "FROM python:3.{i}\nUSER root\nRUN pip install requests\n"


def _tree() -> dict[str, str]:
    """A generated repository: Terraform modules and the stacks calling them, manifests, Dockerfiles."""
    tree = layout(90)
    for i in range(12):
        tree[f"k8s/app{i}.yaml"] = DEPLOYMENT.format(i=i, privileged="true" if i % 3 == 0 else "false")
        tree[f"images/app{i}/Dockerfile"] = DOCKERFILE.format(i=i)
    tree["live/dev/stack000/broken.tf"] = 'resource "aws_s3_bucket" "b" {\n  bucket = \n'  # a parse error
    return tree


def test_a_scan_in_a_pool_is_the_scan_in_one_thread() -> None:
    tree = MemoryTree(_tree())
    serial = Engine(default_rule_set(), parsing=SERIAL).scan(tree)
    pooled = Engine(default_rule_set(), parsing=POOLED).scan(tree)
    assert len(serial.findings) > 20 and serial.errors  # the tree has something to find and an error
    assert pooled.findings == serial.findings  # the same findings in the same order
    assert (pooled.errors, pooled.not_reviewed, pooled.notes) == (serial.errors, serial.not_reviewed, serial.notes)
    assert pooled.stats.resources_parsed == serial.stats.resources_parsed


def test_a_big_change_in_a_pool_is_the_change_in_one_thread() -> None:
    head = _tree()
    diffs = [whole_file_added(path, text) for path, text in sorted(head.items())[::3]]
    serial = Engine(default_rule_set(), parsing=SERIAL).review_change(diffs, MemoryTree(head))
    pooled = Engine(default_rule_set(), parsing=POOLED).review_change(diffs, MemoryTree(head))
    assert serial.findings and pooled.findings == serial.findings
    assert (pooled.errors, pooled.not_reviewed) == (serial.errors, serial.not_reviewed)


def _files(count: int) -> dict[str, str]:
    return {f"m{i % 4}/f{i}.tf": f'resource "aws_ebs_volume" "v{i}" {{\n  size = {i}\n}}\n' for i in range(count)}


def test_files_are_parsed_by_other_processes_and_come_back_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse_pool, "load", _pid_load)  # forked workers inherit the patched module
    files = _files(12)
    loaded = load_all(files, FileClock(), POOLED)
    assert list(loaded) == list(files)
    pids = {_message(result) for result in loaded.values()}
    assert str(os.getpid()) not in pids and pids


def _pid_load(path: str, text: str) -> Loaded:
    return ParsedFile(path, errors=(FileError(path, None, str(os.getpid())),))


def _message(result: Loaded) -> str:
    assert isinstance(result, ParsedFile)
    return result.errors[0].message


def test_few_or_small_files_are_parsed_in_the_reviews_own_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pool pays only for big files (module docstring): many small ones stay in this process."""
    monkeypatch.setattr(parse_pool, "load", _pid_load)
    loaded = load_all(_files(2_000), FileClock(), Parsing(workers=2))
    assert {_message(result) for result in loaded.values()} == {str(os.getpid())}
    many_small = parse_pool.MIN_BYTES // 1024
    assert Parsing(workers=2).pool_size(many_small, parse_pool.MIN_BYTES) == 1  # 1 KB a file: small
    assert Parsing(workers=2).pool_size(1, 10 * parse_pool.MIN_BYTES) == 1  # one file: nothing to share
    assert Parsing(workers=2).pool_size(8, parse_pool.MIN_BYTES - 1) == 1
    assert Parsing(workers=2).pool_size(8, parse_pool.MIN_BYTES) == 2
    assert Parsing(workers=1).pool_size(10_000, 100 * parse_pool.MIN_BYTES) == 1


def _crashing_load(path: str, text: str) -> Loaded:
    if "crash" in path:
        os._exit(3)  # a worker dying mid-parse, as a segfault or the OOM killer would leave it
    return load_file(path, text)


def test_a_worker_that_dies_is_an_error_naming_its_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse_pool, "load", _crashing_load)
    files = _files(20)
    files["m1/crash.tf"] = 'resource "aws_ebs_volume" "c" {\n  size = 1\n}\n'
    files.update(_files(40))
    loaded = load_all(files, FileClock(), POOLED)
    assert list(loaded) == list(files)
    crashed = loaded["m1/crash.tf"]
    assert isinstance(crashed, FileError) and "process stopped" in crashed.message
    assert all(isinstance(loaded[p], LoadedFile) for p in files if p != "m1/crash.tf")  # every other file parsed


def test_a_crash_fails_the_review_naming_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse_pool, "load", _crashing_load)
    tree = _tree()
    tree["modules/bucket/crash.tf"] = 'resource "aws_ebs_volume" "c" {\n  size = 1\n}\n'
    review = Engine(default_rule_set(), parsing=POOLED).scan(MemoryTree(tree))
    named = [e for e in review.errors if e.path == "modules/bucket/crash.tf"]
    assert len(named) == 1 and "a bug in Compliance Bot" in named[0].message
    assert "Error" not in named[0].message  # no Python type names for users
    assert review.findings  # the other files were reviewed


def _stalling_load(path: str, text: str) -> Loaded:
    if "stall" in path:
        threading.Event().wait()  # no progress, no CPU: only the wall-clock deadline ends it
    return load_file(path, text)


def test_a_stalled_worker_is_an_error_naming_its_file_not_a_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse_pool, "load", _stalling_load)
    files = _files(10)
    files["m2/stall.tf"] = "x"
    files.update(_files(16))
    started = time.monotonic()
    loaded = load_all(files, FileClock(), Parsing(workers=2, min_files=1, min_bytes=0, min_file_bytes=0, stall_seconds=1.0))
    assert time.monotonic() - started < 30
    stalled = loaded["m2/stall.tf"]
    assert isinstance(stalled, FileError) and "no progress in 1 s" in stalled.message
    assert all(isinstance(loaded[p], LoadedFile) for p in files if p != "m2/stall.tf")


def test_the_per_file_cpu_limit_stops_a_parse_in_a_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    real_load = parse_pool.load
    monkeypatch.setattr(parse_pool, "load", lambda p, t: _spin_or(real_load, p, t))
    files = {f"k8s/a{i}.yaml": "kind: ConfigMap\n" for i in range(6)}
    files["k8s/spin.yaml"] = "kind: ConfigMap\n"
    clock = FileClock(limit=0.3)
    loaded = load_all(files, clock, POOLED)
    assert list(clock.stopped_paths()) == ["k8s/spin.yaml"]
    assert clock.stopped["k8s/spin.yaml"] >= 0.3
    assert loaded["k8s/spin.yaml"] == ParsedFile("k8s/spin.yaml")  # nothing of it is judged
    assert "stopped after" in clock.message("k8s/spin.yaml")


def _spin_or(real: object, path: str, text: str) -> Loaded:
    if "spin" in path:
        while True:
            pass
    assert callable(real)
    result = real(path, text)
    assert isinstance(result, LoadedFile | FileError | ParsedFile)
    return result


WORKERS_OUTLIVE = """
import os, sys, threading
from bot.engine import parse_pool
from bot.engine.budget import FileClock

folder = sys.argv[1]

def load(path, text):
    with open(os.path.join(folder, str(os.getpid())), "w") as f:
        f.write(path)
    threading.Event().wait()

parse_pool.load = load
parse_pool.load_all({f"f{i}.tf": "" for i in range(8)}, FileClock(), parse_pool.Parsing(workers=2, min_files=1, min_bytes=0, min_file_bytes=0))
"""


def test_workers_die_with_the_process_that_started_them(tmp_path: Path) -> None:
    parent = subprocess.Popen([sys.executable, "-c", textwrap.dedent(WORKERS_OUTLIVE), str(tmp_path)], cwd=ROOT)
    try:
        workers = _wait_for(lambda: {int(p.name) for p in tmp_path.iterdir()} if len(list(tmp_path.iterdir())) >= 2
                            else None)
    finally:
        parent.send_signal(signal.SIGKILL)  # no clean-up runs: only the kernel can stop the workers
        parent.wait(10)
    assert _wait_for(lambda: True if not any(_alive(pid) for pid in workers) else None)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _wait_for(condition: object, seconds: float = 30.0) -> set[int]:
    assert callable(condition)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found if isinstance(found, set) else {1}
        time.sleep(0.05)
    raise AssertionError("condition not met in time")
