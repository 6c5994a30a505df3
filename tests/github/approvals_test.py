"""Which approvals make a pull request's exceptions count: the reviewer's latest deciding review
is an approval of the current head, by an active member of an approver team; never a bot."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from bot.engine.exceptions import Approval
from bot.github.approvals import approvals_at_head, latest_approvals
from bot.github.client import GitHubApp, GitHubError
from bot.github.records import PullReview
from tests.fakegithub import FakeGitHub, Repository

HEAD, OLD = "a" * 40, "b" * 40


def review(id_: int, login: str, state: str, commit: str = HEAD, user_type: str = "User") -> PullReview:
    return PullReview(id_, login, user_type, state, commit, f"2026-06-01T10:00:{id_:02d}Z")


def test_only_the_latest_deciding_review_of_each_reviewer_on_the_head_counts() -> None:
    reviews = [
        review(1, "alice", "APPROVED"),
        review(2, "alice", "COMMENTED"),  # a later comment leaves the approval standing
        review(3, "bob", "APPROVED"),
        review(4, "bob", "CHANGES_REQUESTED"),  # ...a later request for changes does not
        review(5, "carol", "APPROVED", commit=OLD),  # an approval of an earlier push
        review(6, "dave", "APPROVED"),
        review(7, "Dave", "DISMISSED"),  # dismissed (logins compare without case)
        review(8, "compliance-bot[bot]", "APPROVED", user_type="Bot"),
        review(9, "erin", "APPROVED", commit=HEAD.upper()),
    ]
    assert [r.id for r in latest_approvals(reviews, HEAD)] == [1, 9]


def approvals(fake: FakeGitHub, repo: Repository, number: int, teams: Sequence[str]) -> tuple[Approval, ...]:
    async def run() -> tuple[Approval, ...]:
        assert repo.installation_id is not None
        async with GitHubApp(fake.app_id, fake.private_key_pem, fake.url, 10.0).installation(repo.installation_id) as gh:
            return await approvals_at_head(gh, repo.owner.login, repo.name, number, repo.head_sha(repo.pull(number)), teams)

    return asyncio.run(run())


def pull_request(fake: FakeGitHub, org: str, permissions: dict[str, str] | None = None) -> tuple[Repository, int]:
    repo = fake.create_repo(org, "infra", files={"README.md": "x\n"}, permissions=permissions)
    repo.commit("feature", {"main.tf": "# x\n"}, "change")
    return repo, repo.open_pull_request(head="feature")


def test_members_of_an_approver_team_approve_and_others_do_not(fake_github: FakeGitHub) -> None:
    repo, number = pull_request(fake_github, "octo-org")
    fake_github.set_team_members("octo-org", "security", {"sec-alice": "member"})
    fake_github.set_team_members("octo-org", "leads", {"lead-bob": "maintainer"})
    first = repo.submit_review(number, "mallory")  # no member of any team
    alice = repo.submit_review(number, "sec-alice")
    bob = repo.submit_review(number, "lead-bob")
    found = approvals(fake_github, repo, number, ["octo-org/security", "octo-org/leads"])
    assert [(a.login, a.team, a.review_id, a.approved_at) for a in found] == [
        ("sec-alice", "octo-org/security", alice.id, alice.submitted_at),
        ("lead-bob", "octo-org/leads", bob.id, bob.submitted_at)]
    assert first.id not in {a.review_id for a in found}
    # Each reviewer's teams are asked in order until one says yes; mallory was asked about both.
    assert fake_github.count("GET", r"/memberships/mallory$", status=404) == 2
    assert fake_github.count("GET", r"/teams/leads/memberships/sec-alice$") == 0

    repo.push(number, {"main.tf": "# y\n"}, "a new head")
    assert approvals(fake_github, repo, number, ["octo-org/security"]) == ()  # approvals of the old head


def test_no_teams_no_requests(fake_github: FakeGitHub) -> None:
    repo, number = pull_request(fake_github, "quiet-org")
    repo.submit_review(number, "sec-alice")
    fake_github.reset_requests()
    assert approvals(fake_github, repo, number, []) == ()
    assert fake_github.count() == 0


def test_without_members_read_the_check_fails_closed_with_the_reason(fake_github: FakeGitHub) -> None:
    repo, number = pull_request(fake_github, "no-members-org",
                                {"checks": "write", "contents": "read", "metadata": "read", "pull_requests": "write"})
    repo.submit_review(number, "sec-alice")
    with pytest.raises(GitHubError) as caught:
        approvals(fake_github, repo, number, ["no-members-org/security"])
    assert caught.value.status == 403 and not caught.value.transient
    assert str(caught.value).startswith("check membership of team no-members-org/security: HTTP 403")
