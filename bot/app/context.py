"""One job's context, as Probot's `Context`: what every step of a review job needs, in one place.

It replaces the (client, job, check run id) that used to be threaded through every method. Log
lines of the job carry its delivery id, repository, pull request and head through
`bot.app.logs.job_scope`, whichever module writes them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bot.app.jobs import ReviewJob
from bot.app.lease import Lease
from bot.engine.policy import Policy
from bot.github.client import InstallationClient
from bot.report.evidence import PolicySource


@dataclass
class JobContext:
    """- `job`: what the webhook asked for; `gh`: the installation's client;
    - `lease`: this job's hold on its pull request (checked before every write to GitHub);
    - `check_run_id`: the check run this review reports to, once found again or created;
    - `base_sha`, `policy`, `policy_source`, `review_key`: what the review learnt on the way, for
      its evidence record (the job's own values until then);
    - `started`: when the job started (monotonic seconds), for the review duration metric."""

    job: ReviewJob
    gh: InstallationClient
    lease: Lease
    check_run_id: int | None = None
    base_sha: str | None = None
    policy: Policy | None = None
    policy_source: PolicySource | None = None
    review_key: str | None = None
    started: float = field(default_factory=time.monotonic)
