"""How long `compliance-bot scan` takes on a tree: median and spread of repeated runs.

    python bench/scan_bench.py [PATH] [--runs N]

Without PATH it builds a 100-file tree (Terraform modules, Kubernetes manifests, CloudFormation,
workflows, Dockerfiles and plain files) in a temporary folder. Timings are wall-clock for the
whole command in a fresh process (start-up included), so they are what a user waits for.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TF = '''variable "size_{i}" {{
  default = {i}
}}

resource "aws_ebs_volume" "data_{i}" {{
  availability_zone = "eu-west-1a"
  size              = var.size_{i}
  encrypted         = {enc}
}}

resource "aws_security_group" "sg_{i}" {{
  name = "sg-{i}"
  ingress {{
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }}
}}

resource "aws_cloudwatch_log_group" "logs_{i}" {{
  name              = "/app/{i}"
  retention_in_days = 365
}}
'''
K8S = '''apiVersion: apps/v1
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
            allowPrivilegeEscalation: false
'''
CFN = '''AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Volume{i}:
    Type: AWS::EC2::Volume
    Properties:
      Size: 10
      Encrypted: true
      AvailabilityZone: !Select [0, !GetAZs ""]
'''
WORKFLOW = '''name: ci-{i}
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make test
'''
DOCKER = '''FROM python:3.11-slim
RUN pip install app=={i}
USER app
'''


def build_tree(root: Path) -> None:
    """100 files: 40 .tf in 10 modules, 20 manifests, 10 templates, 10 workflows, 10 Dockerfiles, 10 text."""
    for i in range(40):
        module = root / "modules" / f"m{i % 10}"
        module.mkdir(parents=True, exist_ok=True)
        (module / f"f{i}.tf").write_text(TF.format(i=i, enc="true" if i % 3 else "false"))
    for i in range(20):
        (root / "k8s").mkdir(exist_ok=True)
        (root / "k8s" / f"app{i}.yaml").write_text(K8S.format(i=i))
    for i in range(10):
        (root / "cfn").mkdir(exist_ok=True)
        (root / "cfn" / f"stack{i}.yaml").write_text(CFN.format(i=i))
        (root / ".github" / "workflows").mkdir(parents=True, exist_ok=True)
        (root / ".github" / "workflows" / f"ci{i}.yml").write_text(WORKFLOW.format(i=i))
        (root / "images" / f"svc{i}").mkdir(parents=True, exist_ok=True)
        (root / "images" / f"svc{i}" / "Dockerfile").write_text(DOCKER.format(i=i))
        (root / "docs").mkdir(exist_ok=True)
        (root / "docs" / f"note{i}.md").write_text("Some notes.\n" * 50)


def time_scan(path: Path, runs: int) -> list[float]:
    command = [sys.executable, "-m", "bot.cli.main", "scan", str(path), "--format", "json"]
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False)
        timings.append(time.perf_counter() - started)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path", nargs="?", type=Path)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.path or Path(tmp)
        if args.path is None:
            build_tree(path)
        files = sum(1 for p in path.rglob("*") if p.is_file() and ".git" not in p.parts)
        lines = sum(len(p.read_bytes().splitlines()) for p in path.rglob("*") if p.is_file() and ".git" not in p.parts)
        timings = time_scan(path, args.runs)
    print(f"tree: {files} files, {lines} lines; runs: {args.runs}")
    print(f"scan wall time: median {statistics.median(timings):.3f} s, min {min(timings):.3f} s, "
          f"max {max(timings):.3f} s")


if __name__ == "__main__":
    main()
