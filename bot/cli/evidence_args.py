"""The arguments of `compliance-bot evidence` (see bot/cli/evidence.py, which runs it), apart from
the command itself so that building the CLI's parser imports none of the App's store and settings."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["add_evidence_parser"]


def _store_options(parser: argparse.ArgumentParser, default: Any = None) -> None:
    parser.add_argument("--database-url", default=default, help="PostgreSQL store (default: DATABASE_URL)")
    parser.add_argument("--evidence-db", type=Path, default=default,
                        help="SQLite store (default: EVIDENCE_DB, else DATA_DIR/evidence.sqlite3)")


def add_evidence_parser(sub: Any) -> None:
    evidence = sub.add_parser("evidence", help="export the evidence of merged pull requests per control, "
                                               "or verify the evidence store")
    evidence.add_argument("--repo", help="OWNER/NAME")
    evidence.add_argument("--since", help="merged at or after this date (2026-01-31) or time (ISO 8601)")
    evidence.add_argument("--control", help="one control, FRAMEWORK:ID (e.g. pci-dss:3.5.1); default: every control")
    evidence.add_argument("--format", choices=("csv", "json"), default="csv")
    evidence.add_argument("--out", type=Path, default=Path("."), help="folder for the files (default: .)")
    evidence.add_argument("--source", choices=("auto", "store", "github"), default="auto",
                          help="auto: the store when there is one, else GitHub's check runs")
    _store_options(evidence)
    actions = evidence.add_subparsers(dest="evidence_action")
    verify = actions.add_parser("verify", help="walk the store's hash chain; exit 1 naming the first broken record")
    _store_options(verify, argparse.SUPPRESS)  # given before or after `verify`
    verify.add_argument("--anchor", help="SEQ:HASH an earlier verify printed: that record must still be there")
