"""The terminal's output: compact lines, the summary, colour only where a person reads,
`--version`, what `check` says it compared, and the progress display on stderr."""

from __future__ import annotations

import io
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot import __version__
from bot.cli.main import main
from bot.cli.terminal import Progress, wants_colour
from tests.cli.main_test import NEW_VOLUME, OLD_VOLUME, UNENCRYPTED_TF, git, make_repo, run

ESC = "\x1b["
DOCKERFILE = "FROM ubuntu:latest\nUSER root\n"


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_compact_is_the_default_one_line_per_finding_then_the_summary(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "main.tf").write_text(OLD_VOLUME + NEW_VOLUME)
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    code, out, _err = run(capsys, "scan", str(tmp_path))
    lines = out.splitlines()
    assert code == 1 and ESC not in out  # captured stdout is no terminal: no colour
    assert lines[:2] == [
        ("Dockerfile:1 CB-DOCKER-004 medium Base image ubuntu:latest uses the latest tag: each build may get a "
         "different image, and whoever can push that tag decides what this one is built on."),
        "Dockerfile:2 CB-DOCKER-001 medium The final stage switches to USER root and runs as root.",
    ]
    assert [line.split()[:3] for line in lines[2:4]] == [["main.tf:4", "CB-AWS-001", "high"],
                                                         ["main.tf:10", "CB-AWS-001", "high"]]
    assert lines[-3] == "by severity: 2 high, 2 medium"
    assert lines[-2] == "by framework: CIS AWS 2, CIS Docker 1, HIPAA 4, PCI DSS 4.0 3, SOC 2 4"
    assert lines[-1] == "4 finding(s), 4 unsuppressed, 0 error(s): failure"


def test_markdown_and_its_old_name_text_give_the_comment_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "main.tf").write_text(NEW_VOLUME)
    _code, markdown, _err = run(capsys, "scan", str(tmp_path), "--format", "markdown")
    _code, text, _err = run(capsys, "scan", str(tmp_path), "--format", "text")
    assert markdown == text and "**CB-AWS-001: EBS volume is not encrypted** (high)" in markdown
    assert "```suggestion" in markdown


def test_a_hostile_file_name_stays_on_its_line_and_never_drives_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "evil\n\x1b[2Jname.tf"
    repo = make_repo(tmp_path, {"README.md": "x\n"}, {name: UNENCRYPTED_TF})
    code, out, _err = run(capsys, "check", "--repo", str(repo), "--base", "HEAD~1", "--color", "always")
    first = out.splitlines()[0]
    assert code == 1 and "evil\\x0a\\x1b[2Jname.tf:3" in first and "CB-AWS-001" in first
    assert "\x1b[2J" not in out  # the only escapes are the report's own colours
    assert out.count("\n") == 4  # the finding, two summary lines, the verdict


@pytest.mark.parametrize(
    ("choice", "tty", "environ", "expected"),
    [
        ("auto", True, {}, True),
        ("auto", False, {}, False),
        ("auto", True, {"NO_COLOR": "1"}, False),
        ("auto", True, {"NO_COLOR": ""}, True),  # set but empty: no effect (no-color.org)
        ("auto", False, {"FORCE_COLOR": "1"}, True),
        ("auto", False, {"FORCE_COLOR": "0"}, False),
        ("auto", True, {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),
        ("auto", True, {"TERM": "dumb"}, False),
        ("always", False, {"NO_COLOR": "1"}, True),
        ("never", True, {"FORCE_COLOR": "1"}, False),
    ],
)
def test_colour_follows_the_terminal_and_the_conventions(choice: str, tty: bool, environ: dict[str, str],
                                                         expected: bool) -> None:
    assert wants_colour(choice, Tty() if tty else io.StringIO(), environ) is expected


def _on_a_terminal(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run the CLI with stdout on a pseudo-terminal; its exit code and what the terminal got."""
    controller, terminal = os.openpty()
    clean = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", *argv], stdout=terminal, stderr=subprocess.DEVNULL,
                               env={**clean, "TERM": "xterm", **env})
    os.close(terminal)
    got = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 1)
        if ready:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the other side closed: everything was read
                break
            if not chunk:
                break
            got += chunk
        elif process.poll() is not None:
            break
    os.close(controller)
    return process.wait(timeout=60), got.decode()


def test_a_terminal_gets_colour_unless_no_color_and_machine_formats_never(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(NEW_VOLUME)
    code, shown = _on_a_terminal(["scan", str(tmp_path)], {})
    assert code == 1 and f"{ESC}31mhigh{ESC}0m" in shown and f"{ESC}1;31mfailure{ESC}0m" in shown
    code, shown = _on_a_terminal(["scan", str(tmp_path)], {"NO_COLOR": "1"})
    assert code == 1 and ESC not in shown and "CB-AWS-001 high" in shown
    code, shown = _on_a_terminal(["scan", str(tmp_path), "--format", "sarif"], {"FORCE_COLOR": "1"})
    assert code == 1 and ESC not in shown and json.loads(shown)


@pytest.mark.parametrize("machine", ["json", "sarif"])
def test_machine_formats_are_never_coloured(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch, machine: str) -> None:
    (tmp_path / "main.tf").write_text(NEW_VOLUME)
    monkeypatch.setenv("FORCE_COLOR", "1")
    code, out, _err = run(capsys, "scan", str(tmp_path), "--format", machine, "--color", "always")
    assert code == 1 and ESC not in out and json.loads(out)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0 and capsys.readouterr().out == f"compliance-bot {__version__}\n"
    assert __version__.count(".") == 2 and all(part.isdigit() for part in __version__.split("."))


def test_check_on_the_default_branch_warns_that_it_compares_a_commit_with_itself(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path, {"main.tf": OLD_VOLUME}, {})  # an unencrypted volume, committed on main
    code, out, err = run(capsys, "check", "--repo", str(repo))
    sha = git(repo, "rev-parse", "--short=7", "HEAD").strip()
    assert code == 0 and out.splitlines() == ["0 finding(s), 0 unsuppressed, 0 error(s): success"]
    assert err.splitlines() == [
        f"compliance-bot: base main@{sha} ... head main@{sha}, 0 files",
        (f"compliance-bot: warning: nothing to compare: base main@{sha} and head main@{sha} are the same commit; "
         "pass --base REV to compare with another commit, or --staged / --worktree to review changes not yet "
         "committed"),
    ]
    code, out, err = run(capsys, "check", "--repo", str(repo), "--format", "json")
    assert code == 0 and json.loads(out)["findings"] == [] and "nothing to compare" in err


def test_check_names_a_merge_base_that_is_not_the_base_tip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path, {"main.tf": "# x\n"}, {})
    fork = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "vol.tf").write_text(UNENCRYPTED_TF)
    git(repo, "add", "vol.tf")
    git(repo, "commit", "-q", "-m", "volume")
    git(repo, "checkout", "-q", "main")
    (repo / "other.md").write_text("y\n")
    git(repo, "add", "other.md")
    git(repo, "commit", "-q", "-m", "main moves on")
    code, _out, err = run(capsys, "check", "--repo", str(repo), "--head", "feature")
    feature = git(repo, "rev-parse", "--short=7", "feature").strip()
    assert code == 1
    assert err.splitlines() == [f"compliance-bot: base {fork[:7]} (merge-base with main) ... head feature@{feature}, 1 file"]


def _read_until(fd: int, wanted: bytes, seconds: float) -> bytes:
    got = b""
    deadline = time.monotonic() + seconds
    while wanted not in got and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            got += os.read(fd, 65536)
    return got


def test_progress_shows_on_a_terminal_after_its_delay_and_is_cleared() -> None:
    controller, terminal = os.openpty()
    with os.fdopen(terminal, "w", closefd=True) as stream:
        shown = Progress(stream, enabled=True, delay=0.05)
        shown.start()
        for n in [0, 1, 2, 0]:  # a file met again (parsed, then its rules run) is counted once
            shown.step(f"dir/file{n}.tf")
        drawn = _read_until(controller, b"3 file(s)", 10)
        assert shown.shown and b"reviewing" in drawn and b"3 file(s)" in drawn and b"4 file(s)" not in drawn
        shown.stop()
        assert not shown.shown
    os.close(controller)


def test_progress_never_shows_off_a_terminal_or_when_disabled() -> None:
    for stream, enabled in ((io.StringIO(), True), (Tty(), False)):
        shown = Progress(stream, enabled=enabled, delay=0)
        shown.start()
        shown.step("a.tf")
        time.sleep(0)  # only yields: nothing to wait for, no timer was started
        assert not shown.shown and stream.getvalue() == ""
        shown.stop()


def test_a_quick_review_never_flashes_the_progress_display() -> None:
    controller, terminal = os.openpty()
    with os.fdopen(terminal, "w", closefd=True) as stream:
        shown = Progress(stream, enabled=True, delay=30)
        shown.start()
        shown.step("a.tf")
        shown.stop()  # cancels the timer: nothing can be drawn after it
        assert not shown.shown
        assert select.select([controller], [], [], 0)[0] == []  # nothing was written to the terminal
    os.close(controller)
