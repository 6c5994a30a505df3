"""`check --staged` (the index against HEAD) and `check --worktree` (every uncommitted change),
on real repositories: what each reviews, renames and deletions, the user's index left alone."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest

from bot.cli.main import main
from bot.report.json_report import report_schema
from tests.cli.main_test import UNENCRYPTED_TF, git, make_repo, run

ENCRYPTED_TF = UNENCRYPTED_TF.replace("encrypted = false", "encrypted = true")


def findings(out: str) -> list[tuple[str, str, int]]:
    return sorted((f["rule_id"], f["path"], f["line"]) for f in json.loads(out)["findings"])


def test_staged_reviews_the_index_only_and_worktree_everything_uncommitted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path, {"a.tf": ENCRYPTED_TF, ".gitignore": "ignored.tf\n"}, {})
    (repo / "staged.tf").write_text(UNENCRYPTED_TF)
    git(repo, "add", "staged.tf")
    (repo / "a.tf").write_text(UNENCRYPTED_TF)  # modified, not staged
    (repo / "untracked.tf").write_text(UNENCRYPTED_TF)
    (repo / "ignored.tf").write_text(UNENCRYPTED_TF)
    code, out, err = run(capsys, "check", "--repo", str(repo), "--staged", "--format", "json")
    head = git(repo, "rev-parse", "--short=7", "HEAD").strip()
    assert code == 1 and findings(out) == [("CB-AWS-001", "staged.tf", 3)]
    report = json.loads(out)
    jsonschema.validate(report, report_schema())
    assert report["evidence"]["head_sha"] is None  # the index is no commit
    assert report["evidence"]["base_sha"] == git(repo, "rev-parse", "HEAD").strip()
    assert err.splitlines() == [f"compliance-bot: base main@{head} ... head index (staged changes), 1 file"]
    code, out, err = run(capsys, "check", "--repo", str(repo), "--worktree", "--format", "json")
    assert code == 1
    assert [p for _r, p, _l in findings(out) if _r == "CB-AWS-001"] == ["a.tf", "staged.tf", "untracked.tf"]
    assert err.splitlines() == [f"compliance-bot: base main@{head} ... head working tree (uncommitted changes), 3 files"]


def test_worktree_leaves_the_index_and_the_files_as_they_were(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path, {"a.tf": ENCRYPTED_TF}, {})
    (repo / "new.tf").write_text(UNENCRYPTED_TF)
    (repo / "a.tf").write_text(UNENCRYPTED_TF)
    index = (repo / ".git" / "index").read_bytes()
    status = git(repo, "status", "--porcelain")
    code, _out, _err = run(capsys, "check", "--repo", str(repo), "--worktree")
    assert code == 1
    assert (repo / ".git" / "index").read_bytes() == index and git(repo, "status", "--porcelain") == status


def test_staged_renames_and_deletions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path, {"old name.tf": UNENCRYPTED_TF, "gone.tf": ENCRYPTED_TF, "README.md": "x\n"}, {})
    git(repo, "mv", "old name.tf", "new#name.tf")
    git(repo, "rm", "-q", "gone.tf")
    code, out, err = run(capsys, "check", "--repo", str(repo), "--staged", "--format", "json")
    report = json.loads(out)
    assert report["errors"] == [] and code == 0  # a pure rename adds no line: nothing of it is new
    assert err.splitlines()[0].endswith("head index (staged changes), 2 files")
    (repo / "new#name.tf").write_text(UNENCRYPTED_TF.replace("size      = 1", "size      = 2"))
    git(repo, "add", "new#name.tf")
    code, out, _err = run(capsys, "check", "--repo", str(repo), "--staged", "--format", "json")
    assert code == 1 and ("CB-AWS-001", "new#name.tf", 3) in findings(out)


def test_staged_in_a_repository_with_no_commit_yet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "fresh"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "main.tf").write_text(UNENCRYPTED_TF)
    git(repo, "add", "main.tf")
    code, out, err = run(capsys, "check", "--repo", str(repo), "--staged")
    assert code == 1 and out.splitlines()[0].startswith("main.tf:3 CB-AWS-001 high ")
    assert err.splitlines() == ["compliance-bot: base (no commit yet) ... head index (staged changes), 1 file"]


def test_nothing_staged_warns_and_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path, {"a.tf": UNENCRYPTED_TF}, {})
    (repo / "b.tf").write_text(UNENCRYPTED_TF)  # not staged
    code, out, err = run(capsys, "check", "--repo", str(repo), "--staged")
    assert code == 0 and out.splitlines()[-1] == "0 finding(s), 0 unsuppressed, 0 error(s): success"
    assert "compliance-bot: warning: nothing to compare: nothing is staged" in err


def test_head_with_staged_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path, {"a.tf": UNENCRYPTED_TF}, {})
    code, _out, err = run(capsys, "check", "--repo", str(repo), "--staged", "--head", "HEAD")
    assert code == 2 and "--head cannot be given with --staged or --worktree" in err
    with pytest.raises(SystemExit) as exited:
        main(["check", "--repo", str(repo), "--staged", "--worktree"])
    assert exited.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_staged_with_a_merge_conflict_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path, {"a.tf": "# one\n"}, {})
    git(repo, "checkout", "-q", "-b", "other")
    (repo / "a.tf").write_text("# two\n")
    git(repo, "commit", "-q", "-am", "two")
    git(repo, "checkout", "-q", "main")
    (repo / "a.tf").write_text("# three\n")
    git(repo, "commit", "-q", "-am", "three")
    merged = subprocess.run(["git", "-C", str(repo), "merge", "-q", "other"], capture_output=True, check=False)
    assert merged.returncode != 0  # the conflict this test is about
    code, _out, err = run(capsys, "check", "--repo", str(repo), "--staged")
    assert code == 2 and "cannot read the staged changes" in err and "resolve any merge conflict" in err
    assert "Error" not in err
    code, out, _err = run(capsys, "check", "--repo", str(repo), "--worktree", "--format", "json")
    # the file is reviewed as it stands, conflict markers and all: not Terraform, so an error (fail closed)
    assert code == 1 and [e["path"] for e in json.loads(out)["errors"]] == ["a.tf"]


def test_staged_under_git_commit_all_reviews_the_index_being_committed(tmp_path: Path) -> None:
    """`git commit -a` stages into a temporary index (GIT_INDEX_FILE) and runs the hook on it: the
    check must read that index, not .git/index, which still lacks the change."""
    import shutil
    import sys

    command = shutil.which("compliance-bot", path=str(Path(sys.executable).parent))
    assert command is not None
    repo = make_repo(tmp_path, {"a.tf": ENCRYPTED_TF}, {})
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\nexec '{command}' check --staged --no-progress\n")
    hook.chmod(0o755)
    (repo / "a.tf").write_text(UNENCRYPTED_TF)
    before = git(repo, "rev-parse", "HEAD")
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    done = subprocess.run(["git", "-C", str(repo), *identity, "commit", "-qam", "unencrypt"], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 1 and "a.tf:3 CB-AWS-001 high" in done.stderr, done.stderr  # git shows a hook's output on stderr
    assert git(repo, "rev-parse", "HEAD") == before  # the commit was refused
