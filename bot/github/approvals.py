"""Who approved a pull request at its head, among the policy's approver teams.

An exception a pull request adds counts only with an approval that GitHub still shows as one:
the reviewer's latest deciding review (approve, request changes, or a dismissal of either) must
be an approval, given on the current head commit (a push after it needs a new one), by a member
of one of the `exceptions.approvers` teams (an invitation not yet accepted is no membership).
Bots never approve. Each reviewer costs one membership request per team until one says yes.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.engine.exceptions import Approval
from bot.github.client import InstallationClient
from bot.github.records import PullReview

DECIDING_STATES = frozenset({"APPROVED", "CHANGES_REQUESTED", "DISMISSED"})


def latest_approvals(reviews: Sequence[PullReview], head_sha: str) -> list[PullReview]:
    """Reviews whose author's latest deciding review is an approval of `head_sha`, oldest first."""
    latest: dict[str, PullReview] = {}
    for review in reviews:
        if review.state.upper() in DECIDING_STATES and review.login and review.user_type != "Bot":
            latest[review.login.lower()] = review
    return sorted((r for r in latest.values()
                   if r.state.upper() == "APPROVED" and (r.commit_id or "").lower() == head_sha.lower()),
                  key=lambda r: (r.submitted_at or "", r.id))


async def approvals_at_head(gh: InstallationClient, owner: str, repo: str, number: int, head_sha: str,
                            teams: Sequence[str]) -> tuple[Approval, ...]:
    """The approvals that make the pull request's exceptions count, oldest first."""
    if not teams:
        return ()
    found: list[Approval] = []
    for review in latest_approvals(await gh.list_reviews(owner, repo, number), head_sha):
        for team in teams:
            org, slug = team.split("/", 1)
            if await gh.team_membership(org, slug, review.login) == "active":
                found.append(Approval(review.login, review.submitted_at or "", team, review.id))
                break
    return tuple(found)
