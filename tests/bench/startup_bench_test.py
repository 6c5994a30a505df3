"""A tiny run of bench/startup_bench.py: fresh processes of `--help`, a three-file `check`, a
one-file Terraform `check` and reading one `.tf` file, figures per case, the machine, ratios last."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench.startup_bench import main, terraform_change, three_file_change


def test_the_change_it_reviews_touches_three_files(tmp_path: Path) -> None:
    repo = three_file_change(tmp_path)
    changed = subprocess.run(["git", "diff", "--name-only", "HEAD~1", "HEAD"], cwd=repo, capture_output=True,
                             text=True, check=True, timeout=60).stdout.split()
    assert sorted(changed) == ["Dockerfile", "app.env", "k8s/pod.yaml"]


def test_the_terraform_change_adds_a_resource_to_one_tf_file(tmp_path: Path) -> None:
    repo = terraform_change(tmp_path)
    diff = ["git", "diff", "HEAD~1", "HEAD"]
    changed = subprocess.run([*diff, "--name-only"], cwd=repo, capture_output=True, text=True, check=True,
                             timeout=60).stdout.split()
    added = subprocess.run(diff, cwd=repo, capture_output=True, text=True, check=True, timeout=60).stdout
    assert changed == ["main.tf"] and '+resource "aws_s3_bucket" "logs" {' in added


@pytest.mark.timeout(300)
def test_a_tiny_run_prints_both_commands_and_the_ratios(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--runs", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("machine: ")
    assert sum("wall" in line and "cpu" in line for line in out) == 10  # five commands, two cases
    assert out[-6] == "ratios (CPU; another case / this checkout with its cache warm):"
    assert out[-5].startswith("  python -c pass (the interpreter alone): this checkout, cache off: ")
    assert out[-4].startswith("  --help: this checkout, cache off: ")
    assert out[-3].startswith("  check (3 files): this checkout, cache off: ")
    assert out[-2].startswith("  check (1 .tf file): this checkout, cache off: ")
    assert out[-1].startswith("  read one .tf file (import the parser, load_file): this checkout, cache off: ")


def test_a_baseline_that_is_not_a_checkout_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--runs", "1", "--baseline", str(tmp_path)])
    assert stopped.value.code == 2
