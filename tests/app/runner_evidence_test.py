"""The review job's evidence, in process against the fake GitHub: every completed check run ends in
its record (a review, a draft, an invalid policy, a review that failed closed), the record goes to
the store, a store that fails does not fail the job, and a record the store missed is stored by
the next job on that head from the check run's copy."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from bot.app.evidence_store import EvidenceStore, EvidenceStoreError, SqliteEvidenceStore
from bot.app.jobs import JobFailed
from bot.app.runner import ReviewRunner
from bot.engine.policy import POLICY_PATH
from bot.github.client import GitHubApp
from bot.report.evidence import git_blob_sha
from bot.report.evidence_block import parse_evidence_block
from bot.report.evidence_chain import StoredEntry
from tests.app.runner_test import UNENCRYPTED, job_for, pr
from tests.fakegithub import FakeGitHub, Repository


def run_job(fake: FakeGitHub, repo: Repository, number: int, store: EvidenceStore | None,
            event: str = "pull_request.opened") -> dict[str, Any]:
    runner = ReviewRunner(GitHubApp(fake.app_id, fake.private_key_pem, fake.url, 10.0), "compliance", evidence=store)
    asyncio.run(runner(job_for(fake, repo, number, event)))
    return fake.check_runs(repo)[-1]


def record_of(run: Mapping[str, Any]) -> dict[str, Any]:
    record = parse_evidence_block(run["text"])
    assert record is not None, "the completed check run carries no evidence record"
    return record


def test_a_review_records_its_evidence_in_the_check_run_and_the_store(fake_github: FakeGitHub, tmp_path: Path) -> None:
    policy = "fail_on: low\n"
    repo, number = pr(fake_github, "recorded", {POLICY_PATH: policy}, {"main.tf": UNENCRYPTED.format(i=1)})
    store = SqliteEvidenceStore(tmp_path / "evidence.sqlite3")
    run = run_job(fake_github, repo, number, store)
    record = record_of(run)
    pull = repo.pull(number)
    assert (record["repository"], record["pull_request"], record["head_sha"]) == (
        "octo-org/recorded", number, repo.head_sha(pull))
    assert record["base_sha"] == repo.base_sha(pull) and record["base_ref"] == "main"
    assert record["check"] == {"name": "compliance", "run_id": run["id"], "external_id": run["external_id"]}
    assert record["policy"]["blob_sha"] == git_blob_sha(policy.encode()) and record["policy"]["source"] == "file"
    assert record["conclusion"] == "failure" == run["conclusion"]
    assert [f["rule"] for f in record["findings"]] == ["CB-AWS-001"] and "CB-AWS-001" in record["rules_evaluated"]
    (entry,) = store.entries()
    assert entry.record() == record and store.has_review(run["external_id"])


@pytest.mark.parametrize(("base", "draft", "title", "conclusion"), [
    ({"README.md": "x\n"}, True, "Draft pull request: not reviewed yet", "neutral"),
    ({POLICY_PATH: "fail_on: [nonsense\n"}, False, "Invalid compliance policy", "failure"),
])
def test_checks_that_ran_no_rules_record_why(fake_github: FakeGitHub, tmp_path: Path, base: dict[str, str],
                                             draft: bool, title: str, conclusion: str) -> None:
    repo, number = pr(fake_github, f"norules-{conclusion}", base, {"main.tf": UNENCRYPTED.format(i=1)}, draft=draft)
    store = SqliteEvidenceStore(tmp_path / "evidence.sqlite3")
    run = run_job(fake_github, repo, number, store)
    record = record_of(run)
    assert (run["title"], record["outcome"], record["conclusion"]) == (title, title, conclusion)
    assert record["rules_evaluated"] == [] and record["findings"] == []
    assert [e.record() for e in store.entries()] == [record]


def test_a_review_that_fails_closed_records_it(fake_github: FakeGitHub, tmp_path: Path) -> None:
    repo, number = pr(fake_github, "failclosed", {"README.md": "x\n"}, {"main.tf": UNENCRYPTED.format(i=1)})
    fake_github.inject("GET", r"/repos/octo-org/failclosed/pulls/\d+/files", status=404, times=10)
    store = SqliteEvidenceStore(tmp_path / "evidence.sqlite3")
    with pytest.raises(JobFailed, match="404"):
        run_job(fake_github, repo, number, store)
    run = fake_github.check_runs(repo)[-1]
    record = record_of(run)
    assert (run["conclusion"], record["conclusion"], record["outcome"]) == ("failure", "failure",
                                                                           "Review could not finish")
    assert store.entries()[0].record() == record


class BrokenStore(EvidenceStore):
    description = "a store that is down"

    def append(self, kind: str, record: Mapping[str, Any]) -> StoredEntry:
        raise EvidenceStoreError("cannot append to the evidence store a store that is down: connection refused")

    def entries(self, repository: str | None = None) -> list[StoredEntry]:
        return []

    def has_review(self, review_key: str) -> bool:
        raise EvidenceStoreError("cannot read the evidence store a store that is down: connection refused")


def test_a_store_that_is_down_does_not_fail_the_check_and_the_next_job_stores_the_record(
        fake_github: FakeGitHub, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    repo, number = pr(fake_github, "recovered", {"README.md": "x\n"}, {"main.tf": UNENCRYPTED.format(i=1)})
    with caplog.at_level(logging.ERROR):
        run = run_job(fake_github, repo, number, BrokenStore())
    assert run["status"] == "completed" and run["conclusion"] == "failure"
    assert "evidence record not stored (the check run holds it)" in caplog.text
    # A redelivery finds the review done; the store, back up, gets the record from the check run.
    store = SqliteEvidenceStore(tmp_path / "evidence.sqlite3")
    again = run_job(fake_github, repo, number, store, "pull_request.synchronize")
    assert again["id"] == run["id"] and len(fake_github.check_runs(repo)) == 1  # nothing reviewed twice
    (entry,) = store.entries()
    assert entry.record() == record_of(run)
    run_job(fake_github, repo, number, store, "pull_request.synchronize")
    assert len(store.entries()) == 1  # stored once
