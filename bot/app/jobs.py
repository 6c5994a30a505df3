"""The unit of work that crosses the queue: one review of one pull request head.

Webhook routing makes it, the queue carries it (as JSON, so Redis can hold it), and the review
job consumes it. It holds only what the webhook told us; everything else is fetched by the job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any

RERUN_TRIGGERS = frozenset({"check_suite.rerequested", "check_run.rerequested", "check_run.requested_action"})


@dataclass(frozen=True)
class ReviewJob:
    """Review `head_sha` of pull request `pull_number` in `owner/repo`.

    - `delivery_id`: the X-GitHub-Delivery header; the queue drops a delivery id it has seen.
    - `trigger`: "<event>.<action>" that caused it, e.g. "pull_request.synchronize".
    - `check_run_id`: set when GitHub asked to re-run an existing check run.
    - `retry`: how many times a transient failure re-scheduled this job (`bot.app.retries`).
    - `is_draft`: what the webhook said; the job reads the pull request's state from GitHub anyway
      (check_* payloads carry no draft flag, and a PR may change between delivery and review).
    """

    delivery_id: str
    trigger: str
    installation_id: int
    owner: str
    repo: str
    pull_number: int
    head_sha: str
    base_sha: str
    base_ref: str
    default_branch: str
    is_draft: bool = False
    check_run_id: int | None = None
    retry: int = 0

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"

    @property
    def is_rerun(self) -> bool:
        """Someone asked GitHub to re-run the check: a new check run, whatever ran before."""
        return self.trigger in RERUN_TRIGGERS

    @property
    def is_merge_group(self) -> bool:
        """A merge queue's group (`pull_number` 0): the change from `base_sha` to `head_sha` is
        reviewed for the required check on the group's head; no pull request to comment on."""
        return self.trigger.startswith("merge_group.")

    @property
    def pull_request_key(self) -> str:
        """Names the pull request across processes (the lease key): `<installation>/<owner>/<repo>#<n>`."""
        return f"{self.installation_id}/{self.owner.lower()}/{self.repo.lower()}#{self.pull_number}"

    def to_json(self) -> str:
        # Every field is a scalar: a shallow dict is the same JSON as `asdict`'s deep copy, at a
        # tenth of its cost on the webhook's path.
        return json.dumps({f.name: getattr(self, f.name) for f in fields(self)}, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str | bytes) -> ReviewJob:
        data: dict[str, Any] = json.loads(raw)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


class JobFailed(Exception):
    """A review that ended for a reason already reported (its check run failed with the cause):
    the worker logs the cause in one line, without a traceback, since nothing here is a bug."""
