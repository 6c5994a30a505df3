"""One job's context, as Probot's `Context`: what every step of a review job needs, in one place.

It replaces the (client, job, check run id) that used to be threaded through every method. Log
lines of the job carry its delivery id, repository, pull request and head through
`bot.app.logs.job_scope`, whichever module writes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.app.jobs import ReviewJob
from bot.app.lease import Lease
from bot.github.client import InstallationClient


@dataclass
class JobContext:
    """- `job`: what the webhook asked for; `gh`: the installation's client;
    - `lease`: this job's hold on its pull request (checked before every write to GitHub);
    - `check_run_id`: the check run this review reports to, once found again or created."""

    job: ReviewJob
    gh: InstallationClient
    lease: Lease
    check_run_id: int | None = None
