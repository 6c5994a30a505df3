"""End to end: the App reviews a pull request against the fake GitHub, the pull request is merged,
and `compliance-bot evidence` writes the per-control CSV from the App's store, SQLite
(EVIDENCE_DB) and PostgreSQL (DATABASE_URL) alike, and, with no store, from the check runs read
back through GitHub's API; `evidence verify` passes, then names a record edited past the
database's append-only triggers."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app.evidence_postgres import PostgresEvidenceStore
from bot.app.evidence_store import EvidenceStore, SqliteEvidenceStore
from bot.report.evidence_block import parse_evidence_block
from bot.report.evidence_chain import canonical_json
from tests.app.evidence_raw import Raw, bypassing_triggers, postgres_raw, sqlite_raw
from tests.e2e.app_test import NEW_VOLUME, OLD_VOLUME, open_pr
from tests.e2e.serving import REPO_ROOT, App, completed_run, serve, wait_for
from tests.fakegithub import FakeGitHub

CONTROL_FILE = "hipaa_164.312_a_2_iv.csv"  # hipaa:164.312(a)(2)(iv), encryption at rest (CB-AWS-001)


@dataclass(frozen=True)
class Backend:
    """One evidence store as the App and the CLI are told about it, and the way past it."""

    name: str
    env: dict[str, str]  # the store's settings, for `serve` and `compliance-bot evidence`
    store_flags: tuple[str, ...]  # the same store named on the command line (`evidence verify --database-url ...`)
    open: Callable[[], EvidenceStore]
    raw: Raw


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        path = tmp_path / "evidence.sqlite3"
        return Backend("sqlite", {"EVIDENCE_DB": str(path), "DATABASE_URL": ""}, ("--evidence-db", str(path)),
                       lambda: SqliteEvidenceStore(path), sqlite_raw(path))
    url, schema = request.getfixturevalue("postgres_url"), request.getfixturevalue("postgres_schema")
    return Backend("postgresql", {"DATABASE_URL": url, "DATABASE_SCHEMA": schema}, ("--database-url", url),
                   lambda: PostgresEvidenceStore(url, schema), postgres_raw(url, schema))


@pytest.fixture
def evidence_app(fake: FakeGitHub, backend: Backend, tmp_path: Path) -> Iterator[App]:
    with serve(fake, tmp_path / "server.log", backend.env) as running:
        yield running


def cli(*args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("EVIDENCE_DB", "DATABASE_URL", "DATABASE_SCHEMA", "APP_ID")}
    return subprocess.run([sys.executable, "-m", "bot.cli.main", "evidence", *args], env={**clean, **env},
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)


def rows(path: Path) -> dict[str, dict[str, str]]:
    return {row["pr"]: row for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))}


def test_reviewed_merged_pr_is_in_the_control_csv_from_the_store_and_from_github(
        fake: FakeGitHub, backend: Backend, evidence_app: App, tmp_path: Path) -> None:
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    slug = f"octo-org/audited-{backend.name}"  # one fake GitHub per module: a repository per store
    repo, number = open_pr(fake, slug.partition("/")[2], {"infra/main.tf": OLD_VOLUME},
                           {"infra/main.tf": OLD_VOLUME + NEW_VOLUME})
    head = repo.branch_sha("feature")
    assert evidence_app.deliver(*fake.webhook("pull_request.opened", repo, number)).status_code == 202
    run = completed_run(fake, repo, head)
    copy = parse_evidence_block(run["text"])
    assert copy is not None and (copy["pull_request"], copy["head_sha"], copy["conclusion"]) == (number, head, "failure")
    assert copy["check"]["run_id"] == run["id"] and copy["policy"]["source"] == "default: no policy file"
    store = backend.open()
    stored = wait_for(lambda: [e for e in store.entries(slug) if e.kind == "review"], 30,
                      "the review's evidence record in the store")
    assert stored[0].record() == copy  # the check run's copy is the whole record here

    # A second pull request merged without any review (no webhook reached the App), a third closed unmerged.
    repo.commit("hotfix", {"infra/hotfix.tf": NEW_VOLUME}, "hotfix")
    unreviewed = repo.open_pull_request(head="hotfix", title="merged while the App was down")
    repo.commit("other", {"README.md": "x\n"}, "docs")
    closed = repo.open_pull_request(head="other", title="abandoned")
    repo.close_pull_request(closed)
    reply = evidence_app.deliver(*fake.webhook("pull_request.closed", repo, closed))
    assert reply.status_code == 202 and reply.json() == {"ignored": "pull_request.closed: closed without merging"}
    repo.close_pull_request(number, merged=True)
    reply = evidence_app.deliver(*fake.webhook("pull_request.closed", repo, number))
    assert reply.status_code == 202 and reply.json()["recorded"] == "merge"
    repo.close_pull_request(unreviewed, merged=True)
    assert evidence_app.deliver(*fake.webhook("pull_request.closed", repo, unreviewed)).status_code == 202

    exported = cli("--repo", slug, "--since", since, "--out", str(tmp_path / "store"), env=backend.env)
    assert exported.returncode == 0, exported.stderr
    assert f"from {store.description}:" in exported.stdout  # read from this store, not another
    from_store = rows(tmp_path / "store" / CONTROL_FILE)
    row = from_store[str(number)]
    assert (row["head_sha"], row["conclusion"], row["evaluated"]) == (head, "failure", "yes")
    assert row["findings"].startswith("CB-AWS-001 high infra/main.tf:") and row["findings"].endswith(" blocking")
    assert row["record_hash"] == stored[0].hash and row["evidence_source"] == f"store record {stored[0].seq}"
    assert row["rule_set_version"] == copy["rule_set_version"] and row["policy_sha"] == "default: no policy file"
    assert from_store[str(unreviewed)]["conclusion"].startswith("no evidence record")
    assert set(from_store) == {str(number), str(unreviewed)}  # the closed, unmerged one is not evidence

    # The store named on the command line (the schema still from DATABASE_SCHEMA) verifies ...
    flag_env = {k: v for k, v in backend.env.items() if k == "DATABASE_SCHEMA"}
    verified = cli("verify", *backend.store_flags, env=flag_env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith(f"evidence chain intact in {store.description}: 3 record(s)")
    # ... until someone who owns the database turns the failed review into a pass behind the triggers.
    seq = stored[0].seq
    backend.raw(bypassing_triggers(store, "UPDATE evidence_records SET body = replace(body, "
                                          f"'\"conclusion\":\"failure\"', '\"conclusion\":\"success\"') WHERE seq = {seq}"))
    assert [e.record()["conclusion"] for e in backend.open().entries(slug) if e.seq == seq] == ["success"]
    broken = cli("verify", *backend.store_flags, env=flag_env)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert broken.stdout.strip() == (f"evidence chain BROKEN in {store.description}: record {seq}: was edited: "
                                     f"its content no longer matches its hash ({seq - 1} record(s) before it intact)")

    # No store: the same evidence, read back from the check runs through the API.
    read_back = cli("--repo", slug, "--since", since, "--out", str(tmp_path / "api"),
                    "--source", "github", env={**fake.app_env(), "EVIDENCE_DB": "off"})
    assert read_back.returncode == 0, read_back.stderr
    from_api = rows(tmp_path / "api" / CONTROL_FILE)
    api_row = from_api[str(number)]
    assert {k: api_row[k] for k in ("head_sha", "conclusion", "evaluated", "findings", "rule_set_version", "policy_sha")} \
        == {k: row[k] for k in ("head_sha", "conclusion", "evaluated", "findings", "rule_set_version", "policy_sha")}
    assert api_row["record_hash"] == "sha256:" + hashlib.sha256(canonical_json(copy).encode()).hexdigest()
    assert api_row["evidence_source"] == f"check run {run['id']}"
    assert from_api[str(unreviewed)]["conclusion"] == (
        "no evidence record: no completed 'compliance' check run on the merged head")
    assert set(from_api) == {str(number), str(unreviewed)}
