"""Custom rule files for the tests of custom rules (the rules side, the CLI and the App): one that is
accepted, and helpers to find a line in it."""

from __future__ import annotations

OWNER_TAG = """\
id: ACME-S3-001
title: S3 bucket has no owner tag
severity: medium
rationale: >-
  Every bucket names the team that owns it, so an incident reaches someone who can act.
remediation: Add `tags = { owner = "<team>" }`, the team's name in lower case.
controls:
  acme-policy: [SEC-12]
bindings:
  - format: terraform
    types: [aws_s3_bucket]
    check: {path: tags.owner, regex: '[a-z][a-z0-9-]*'}
    message: S3 bucket has no owner tag
tests:
  flag:
    - path: main.tf
      lines: [1, 7]
      content: |
        resource "aws_s3_bucket" "logs" {
          bucket = "acme-logs"
        }

        resource "aws_s3_bucket" "data" {
          bucket = "acme-data"
          tags   = { owner = "Data Team" }
        }
  pass:
    - path: main.tf
      content: |
        resource "aws_s3_bucket" "logs" {
          bucket = "acme-logs"
          tags   = { owner = "platform" }
        }
"""
UNTAGGED_BUCKET = 'resource "aws_s3_bucket" "reports" {\n  bucket = "acme-reports"\n}\n'


def line_of(text: str, fragment: str, start: int = 0) -> int:
    """The 1-based number of the first line at or after line `start` (0-based) holding `fragment`."""
    lines = text.splitlines()
    return next(n for n in range(start, len(lines)) if fragment in lines[n]) + 1
