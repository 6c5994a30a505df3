"""The unit of work that crosses the queue: one review of one pull request head.

Webhook routing makes it, the queue carries it (as JSON, so Redis can hold it), and the review
job consumes it. It holds only what the webhook told us; everything else is fetched by the job.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class ReviewJob:
    """Review `head_sha` of pull request `pull_number` in `owner/repo`.

    - `delivery_id`: the X-GitHub-Delivery header, for logs and de-duplication.
    - `trigger`: "<event>.<action>" that caused it, e.g. "pull_request.synchronize".
    - `check_run_id`: set when GitHub asked to re-run an existing check run.
    - `is_draft`: the PR is a draft (policy decides whether drafts are reviewed).
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

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"

    @property
    def dedup_key(self) -> str:
        """Same PR head + same trigger kind = same work, so a redelivery is not reviewed twice."""
        return f"{self.full_name}#{self.pull_number}@{self.head_sha}:{self.check_run_id or ''}:{self.delivery_id}"

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, raw: str | bytes) -> ReviewJob:
        data: dict[str, Any] = json.loads(raw)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
