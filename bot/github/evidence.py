"""Evidence records read back from GitHub, for an export without an evidence store: the merged
pull requests since a date, and for each the record in its head's latest check run of this App
(`bot.report.evidence_block`). What cannot be read is said per pull request, never skipped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.github.client import InstallationClient
from bot.github.records import CheckRunInfo, MergedPull
from bot.report.evidence_block import EvidenceUnreadable, parse_evidence_block


@dataclass(frozen=True)
class ReadBack:
    """One merged pull request and its head's evidence: `record` None with `problem` saying why."""

    pull: MergedPull
    run: CheckRunInfo | None
    record: dict[str, Any] | None
    problem: str | None = None


async def read_back(gh: InstallationClient, owner: str, repo: str, since: str, check_name: str) -> list[ReadBack]:
    found = []
    for pull in await gh.list_merged_pulls(owner, repo, since):
        runs = [r for r in await gh.list_check_runs(owner, repo, pull.head_sha, check_name) if r.status == "completed"]
        if not runs:
            found.append(ReadBack(pull, None, None, f"no completed {check_name!r} check run on the merged head"))
            continue
        try:
            record = parse_evidence_block(runs[0].text)
        except EvidenceUnreadable as exc:
            found.append(ReadBack(pull, runs[0], None, f"check run {runs[0].id}: {exc}"))
            continue
        if record is None:
            found.append(ReadBack(pull, runs[0], None, f"check run {runs[0].id} carries no evidence record"))
        elif record.get("pull_request") != pull.number:  # another pull request with the same head
            found.append(ReadBack(pull, runs[0], None, f"the merged head's check run {runs[0].id} reviewed pull "
                                                       f"request #{record.get('pull_request')}, not this one"))
        else:
            found.append(ReadBack(pull, runs[0], record))
    return found
