"""`compliance-bot evidence`: the evidence of merged pull requests, one file per control, and
`compliance-bot evidence verify`: the store's hash chain, walked.

    compliance-bot evidence --repo OWNER/NAME --since 2026-01-01 [--control pci-dss:3.5.1]
                            [--format csv|json] [--out DIR] [--source auto|store|github]
    compliance-bot evidence verify [--database-url URL] [--evidence-db PATH] [--anchor SEQ:HASH]

Records come from the evidence store (DATABASE_URL, else the EVIDENCE_DB file, when it exists;
the merges are the store's merge events) or, without one (`--source github`), from GitHub: the
merged pull requests' heads' check runs, with the App's credentials (APP_ID, PRIVATE_KEY).
Exit codes: 0 written / chain intact, 1 chain broken, 2 usage error or unreachable store.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.app.evidence_store import EvidenceStore, EvidenceStoreError, SqliteEvidenceStore
from bot.app.settings import SettingsError, load_api_settings, load_store_settings
from bot.cli.errors import UsageError
from bot.report.evidence_export import (
    CONTROL_COLUMNS,
    POSTURE_COLUMNS,
    ControlRef,
    MergedChange,
    control_row,
    file_stem,
    github_time,
    merged_from_store,
    parse_since,
    posture_row,
    record_digest,
    to_csv,
)

EXIT_OK, EXIT_BROKEN, EXIT_USAGE = 0, 1, 2
_REPO = re.compile(r"^(?P<owner>[A-Za-z0-9_.-]+)/(?P<name>[A-Za-z0-9_.-]+)$")


def run_evidence(args: argparse.Namespace) -> int:
    if args.evidence_action == "verify":
        return _verify(args)
    return _export(args)


# -- the store -------------------------------------------------------------------------------------


def _open_store(args: argparse.Namespace) -> tuple[EvidenceStore | None, str]:
    """The configured store, or None and why there is none (a missing SQLite file is not created)."""
    try:
        settings = load_store_settings()
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    url = args.database_url or (settings.database_url.get_secret_value() if settings.database_url else None)
    try:
        if url:
            from bot.app.evidence_postgres import PostgresEvidenceStore

            return PostgresEvidenceStore(url, settings.database_schema), ""
        path = args.evidence_db or settings.evidence_db_path
        if path is None:
            return None, "EVIDENCE_DB is off and DATABASE_URL is not set"
        if not Path(path).is_file():
            return None, f"no evidence store at {path} (set DATABASE_URL or EVIDENCE_DB)"
        return SqliteEvidenceStore(Path(path)), ""
    except EvidenceStoreError as exc:
        raise UsageError(str(exc)) from None


def _anchor(text: str | None) -> tuple[int, str] | None:
    if text is None:
        return None
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise UsageError(f"--anchor: expected SEQ:HASH as verify prints it (e.g. 12:{'0' * 64}), got {text!r}")
    return int(seq), digest


def _verify(args: argparse.Namespace) -> int:
    anchor = _anchor(args.anchor)
    store, why = _open_store(args)
    if store is None:
        raise UsageError(why)
    try:
        report = store.verify(anchor)
    except EvidenceStoreError as exc:
        raise UsageError(str(exc)) from None
    if not report.intact:
        print(f"evidence chain BROKEN in {store.description}: {report.problem} "
              f"({report.count} record(s) before it intact)")
        return EXIT_BROKEN
    print(f"evidence chain intact in {store.description}: {report.count} record(s); "
          f"anchor {report.count}:{report.head_hash}")
    return EXIT_OK


# -- the export ------------------------------------------------------------------------------------


def _controls(selected: str | None) -> list[ControlRef]:
    from rules.registry import load_frameworks

    controls = [ControlRef(f.key, c.id, c.name, c.coverage, c.enforced_by)
                for f in load_frameworks() for c in f.controls]
    if selected is None:
        return controls
    chosen = [c for c in controls if c.key == selected.strip()]
    if not chosen:
        framework = selected.partition(":")[0]
        known = sorted({c.framework for c in controls})
        hint = (f"see `compliance-bot rules --framework {framework}`" if framework in known
                else f"frameworks: {', '.join(known)}")
        raise UsageError(f"--control: unknown control {selected!r} (FRAMEWORK:ID; {hint})")
    return chosen


def _from_github(owner: str, name: str, since: dt.datetime) -> list[MergedChange]:
    from bot.github.client import GitHubApp, GitHubError
    from bot.github.evidence import read_back

    try:
        settings = load_api_settings()
    except SettingsError as exc:
        raise UsageError(f"reading evidence from GitHub needs the App's credentials: {exc}") from None
    app = GitHubApp(settings.app_id, settings.private_key.get_secret_value() if settings.private_key else "",
                    settings.github_api_url, settings.http_timeout)

    async def read() -> list[MergedChange]:
        installation = await app.repository_installation(owner, name)
        async with app.installation(installation) as gh:
            found = await read_back(gh, owner, name, github_time(since), settings.check_name)
        return [MergedChange(f"{owner}/{name}", r.pull.number, r.pull.head_sha, r.pull.merged_at, r.record,
                             record_digest(r.record) if r.record else None,
                             f"check run {r.run.id}" if r.run else "github", r.problem) for r in found]

    try:
        return asyncio.run(read())
    except GitHubError as exc:
        raise UsageError(str(exc)) from None


def _changes(args: argparse.Namespace, repository: str, since: dt.datetime) -> tuple[list[MergedChange], str]:
    owner, _, name = repository.partition("/")
    if args.source != "github":
        store, why = _open_store(args)
        if store is not None:
            try:
                return merged_from_store(store.entries(repository), since), store.description
            except EvidenceStoreError as exc:
                raise UsageError(str(exc)) from None
        if args.source == "store":
            raise UsageError(why)
        print(f"compliance-bot: {why}: reading the check runs on GitHub", file=sys.stderr)
    return _from_github(owner, name, since), "GitHub check runs"


def _write(out: Path, stem: str, output_format: str, rows: Sequence[dict[str, str]], columns: Sequence[str],
           extra: dict[str, Any]) -> Path:
    path = out / f"{stem}.{output_format}"
    if output_format == "csv":
        path.write_text(to_csv(rows, columns), encoding="utf-8")
    else:
        path.write_text(json.dumps({**extra, "rows": list(rows)}, indent=2) + "\n", encoding="utf-8")
    return path


def _export(args: argparse.Namespace) -> int:
    if not args.repo or not _REPO.match(args.repo):
        raise UsageError("--repo OWNER/NAME is required (the repository whose merged pull requests to export)")
    if not args.since:
        raise UsageError("--since DATE is required (e.g. --since 2026-01-01)")
    try:
        since = parse_since(args.since)
    except ValueError:
        raise UsageError(f"--since: not a date like 2026-01-31 or an ISO 8601 time: {args.since!r}") from None
    controls = _controls(args.control)
    changes, source = _changes(args, args.repo, since)
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        written = []
        for control in controls:
            if args.control is None and control.coverage != "automated":
                continue  # a manual control has no per-change evidence; the posture table lists it
            rows = [control_row(control, change) for change in changes]
            written.append(_write(args.out, file_stem(control), args.format, rows, CONTROL_COLUMNS,
                                  {"control": control.key, "name": control.name, "coverage": control.coverage,
                                   "source": source}))
        posture = [posture_row(control, changes) for control in controls]
        written.append(_write(args.out, "posture", args.format, posture, POSTURE_COLUMNS,
                              {"repository": args.repo, "since": github_time(since), "source": source}))
    except OSError as exc:
        raise UsageError(f"cannot write to {args.out}: {exc.strerror}") from None
    missing = [c for c in changes if c.record is None]
    print(f"{len(changes)} merged pull request(s) of {args.repo} since {github_time(since)} from {source}: "
          f"{len(written) - 1} control file(s) and {written[-1].name} in {args.out}")
    if missing:
        print(f"warning: {len(missing)} merged pull request(s) without an evidence record: "
              + ", ".join(f"#{c.pull_request} ({c.problem})" for c in missing), file=sys.stderr)
    return EXIT_OK
