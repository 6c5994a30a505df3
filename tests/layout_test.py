"""The layout keeps its promises: no module shadows the standard library (running a file by path
puts its folder first on sys.path), and every module file sits in a layer's folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("engine", "report", "github", "app", "cli")


def modules() -> list[Path]:
    return sorted(p for folder in ("bot", "rules") for p in (ROOT / folder).rglob("*.py"))


def test_no_module_shadows_the_standard_library() -> None:
    shadowing = [p.relative_to(ROOT).as_posix() for p in modules() if p.stem in sys.stdlib_module_names]
    assert shadowing == []


def test_every_bot_module_lives_in_a_layer() -> None:
    outside = [p.relative_to(ROOT).as_posix() for p in (ROOT / "bot").rglob("*.py")
               if p.relative_to(ROOT / "bot").parts[0] not in LAYERS and p.name != "__init__.py"]
    assert outside == []


def test_the_cli_runs_when_started_by_its_file_path() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "bot" / "cli" / "main.py"), "rules"], check=False,
                          capture_output=True, text=True, timeout=60, cwd=ROOT / "bot" / "cli")
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("rule(s)")
