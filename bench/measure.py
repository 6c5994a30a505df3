"""Shared by the bench scripts: run a command and measure it, take medians, describe the machine.

Each run is a fresh process, measured with `os.wait4`: wall-clock seconds, CPU seconds (user and
system: on a machine shared with other work the steadier figure) and the peak resident memory the kernel records for it (`ru_maxrss`: the largest of the process and the children it
waited for, not their sum; a tool that forks workers is counted by its largest process).
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu_seconds: float  # user + system, the process and the children it waited for
    peak_mb: float
    code: int


def run(command: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Run:
    """One run of `command`, its output thrown away."""
    started = time.perf_counter()
    process = subprocess.Popen(list(command), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=dict(env) if env is not None else None, cwd=cwd)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, process.returncode)


@dataclass(frozen=True)
class Figure:
    """Medians of repeated runs of one command."""

    name: str
    command: str
    seconds: float
    cpu_seconds: float
    peak_mb: float
    runs: int
    codes: frozenset[int]


def interleaved(commands: Mapping[str, tuple[Sequence[str], Mapping[str, str] | None]], runs: int) -> list[Figure]:
    """Each command `runs` times, taking turns (a burst of other work on a shared machine then
    hits every command alike), as medians."""
    results: dict[str, list[Run]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, (command, env) in commands.items():
            results[name].append(run(command, env))
    return [Figure(name, " ".join(commands[name][0]), statistics.median(r.seconds for r in rs),
                   statistics.median(r.cpu_seconds for r in rs), statistics.median(r.peak_mb for r in rs), len(rs),
                   frozenset(r.code for r in rs))
            for name, rs in results.items()]


def machine() -> str:
    """One line: CPU model, cores, memory, OS, Python, and how busy the machine was."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    load = ", load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()) if hasattr(os, "getloadavg") else ""
    return (f"{model}, {os.cpu_count()} cores{memory}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}{load}")


def table(figures: Sequence[Figure]) -> list[str]:
    """Markdown rows: what, median wall-clock and CPU seconds, median peak RSS, runs, the command."""
    rows = ["| what | median wall s | median CPU s | peak RSS MB | runs | command |",
            "| --- | ---: | ---: | ---: | ---: | --- |"]
    rows.extend(f"| {f.name} | {f.seconds:.2f} | {f.cpu_seconds:.2f} | {f.peak_mb:.0f} | {f.runs} | `{f.command}` |"
                for f in figures)
    return rows
