"""What `scan` and `check` read for secrets: big text files up to the scan limit (a 6 MB `.env`
was skipped as "too large" and the run passed), files past it as errors naming them (fail
closed), and files with a NUL byte (`# \\0` on the first line of an `.env` made it "binary", never
scanned)."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from bot.cli.local import FsTree
from bot.engine.review import Engine
from bot.engine.tree import MAX_FILE_BYTES, MAX_SCAN_BYTES
from rules.registry import default_rule_set
from tests.cli.main_test import make_repo, run
from tests.rules.linearity import assert_linear

KEY = "AKIAUJZDE8GXD6NCF10E"  # fake


def big_env(size: int) -> str:
    """About `size` bytes of short `NAME=value` lines, then an access key on the last line."""
    line = "SETTING_{:07d}=value-{:07d}\n"
    count = size // len(line.format(0, 0))
    return "".join(line.format(i, i) for i in range(count)) + f"AWS_ACCESS_KEY_ID={KEY}\n"


def last_line(text: str) -> int:
    return text.count("\n")


def findings(out: str) -> list[tuple[str, str, int]]:
    return [(f["rule_id"], f["path"], f["line"]) for f in json.loads(out)["findings"]]


def test_scan_reads_a_6_mb_env_and_finds_the_key_on_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = big_env(6_000_000)
    assert MAX_FILE_BYTES < len(text) < MAX_SCAN_BYTES
    (tmp_path / ".env").write_text(text)
    code, out, _ = run(capsys, "scan", str(tmp_path), "--format", "json")
    assert findings(out) == [("CB-SECRET-001", ".env", last_line(text))]
    assert json.loads(out)["not_reviewed"] == [] and code == 1


def test_check_reads_a_6_mb_env_whole(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = big_env(6_000_000)
    repo = make_repo(tmp_path, {"README.md": "x\n"}, {"config/.env": text})
    code, out, _ = run(capsys, "check", "--repo", str(repo), "--base", "HEAD~1", "--format", "json")
    assert findings(out) == [("CB-SECRET-001", "config/.env", last_line(text))]
    assert code == 1


def test_a_file_past_the_scan_limit_fails_the_scan_and_the_rest_is_reviewed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "dump.sql").write_text("-- " + "x" * MAX_SCAN_BYTES + "\n")
    (tmp_path / ".env").write_text(f"AWS_ACCESS_KEY_ID={KEY}\n")
    code, out, _ = run(capsys, "scan", str(tmp_path), "--format", "json")
    report = json.loads(out)
    assert code == 1 and report["conclusion"] == "failure"
    assert [(e["path"], e["message"]) for e in report["errors"]] == [
        ("dump.sql", "not scanned for secrets: too large (16.8 MB; the limit is 16 MiB)")]
    assert findings(out) == [("CB-SECRET-001", ".env", 1)]


def test_check_fails_on_a_file_past_the_scan_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path, {"README.md": "x\n"}, {"data/dump.csv": "a," * (MAX_SCAN_BYTES // 2 + 1) + "\n"})
    code, out, _ = run(capsys, "check", "--repo", str(repo), "--base", "HEAD~1", "--format", "json")
    assert code == 1
    assert [(e["path"], e["message"]) for e in json.loads(out)["errors"]] == [
        ("data/dump.csv", "not scanned for secrets: too large (16.8 MB; the limit is 16 MiB)")]


def test_the_policy_can_skip_a_large_file_knowingly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "dump.sql").write_text("-- " + "x" * MAX_SCAN_BYTES + "\n")
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "compliance.yml").write_text("paths:\n  ignore: [dump.sql]\n")
    code, out, _ = run(capsys, "scan", str(tmp_path), "--format", "json")
    assert code == 0 and json.loads(out)["errors"] == []


NUL_ENV = f"# \0 exported by a tool\nAWS_ACCESS_KEY_ID={KEY}\nDB_PASSWORD=Zq7Wm2Lp9Xr4Tb6Vn1Hc\n"


def test_scan_finds_secrets_in_an_env_with_a_nul_byte(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".env").write_text(NUL_ENV)
    code, out, _ = run(capsys, "scan", str(tmp_path), "--format", "json")
    assert findings(out) == [("CB-SECRET-001", ".env", 2), ("CB-SECRET-008", ".env", 3)]
    assert json.loads(out)["not_reviewed"] == [] and code == 1


def test_check_finds_secrets_in_an_env_git_calls_binary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path, {"README.md": "x\n"}, {"config/.env": NUL_ENV})
    code, out, _ = run(capsys, "check", "--repo", str(repo), "--base", "HEAD~1", "--format", "json")
    assert findings(out) == [("CB-SECRET-001", "config/.env", 2), ("CB-SECRET-008", "config/.env", 3)]
    assert code == 1


def _scan_file(text: str) -> object:
    return Engine(default_rule_set()).scan(_OneFile(text))


class _OneFile(FsTree):
    """A tree of one `.env` held in memory, read as FsTree reads (so `decode_text` applies)."""

    def __init__(self, text: str) -> None:
        self._text = text

    def paths(self) -> list[str]:  # type: ignore[override]
        return [".env"]

    def read(self, path: str) -> str | None:
        return self._text if path == ".env" else None

    def size_of(self, path: str) -> int | None:
        return len(self._text) if path == ".env" else None


@pytest.mark.timeout(300)
def test_a_whole_file_scan_is_linear_in_the_file() -> None:
    assert_linear("scan: one .env of short lines", big_env, _scan_file, 60_000)


def test_a_big_file_is_scanned_in_bounded_memory() -> None:
    """Lines become objects a chunk at a time: scanning 3 MB of short lines takes less memory
    than its text beyond the text itself (was: about 20 times the text, an object per line of a
    diff and of the text)."""
    text = big_env(3_000_000)
    engine = Engine(default_rule_set())
    tracemalloc.start()
    try:
        review = engine.scan(_OneFile(text))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [f.rule_id for f in review.findings] == ["CB-SECRET-001"]
    assert peak < len(text), f"peak {peak / 1e6:.1f} MB for {len(text) / 1e6:.1f} MB of text"
