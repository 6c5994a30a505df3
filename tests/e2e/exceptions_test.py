"""End to end: governed exceptions. `compliance-bot serve` as its own process against the fake
GitHub; a pull request adding an inline exception fails until a member of the policy's approver
team approves it at its head (the App reviews again on the `pull_request_review` webhook), and
the approver is recorded in the check run; a non-member's approval does not count, a push after
the approval and a dismissal of it fail the check again, and an exception past its date brings
its finding back."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.report.evidence_block import parse_evidence_block
from tests.e2e.serving import App, completed_run, completed_runs, wait_for
from tests.fakegithub import FakeGitHub, Repository

ORG = "octo-org"
POLICY = f"exceptions:\n  approvers: [{ORG}/security]\n  require_expiry: true\n"
BASE = """\
resource "aws_ebs_volume" "scratch" {
  availability_zone = "eu-west-1a"
  size              = 10
}
"""
UNTIL = (dt.date.today() + dt.timedelta(days=60)).isoformat()
EXCEPTED = BASE.replace(
    "  size              = 10\n",
    "  size              = 10\n"
    f'  encrypted         = false  # compliance:ignore CB-AWS-001 reason="scratch data only" until={UNTIL}\n')
EXCEPTION_LINE = 4


def open_pr(fake: FakeGitHub, name: str, head: dict[str, str | None], base: dict[str, str] | None = None
            ) -> tuple[Repository, int]:
    repo = fake.create_repo(ORG, name, files={".github/compliance.yml": POLICY, "infra/main.tf": BASE, **(base or {})})
    repo.commit("feature", head, "change infrastructure")
    return repo, repo.open_pull_request(head="feature", title="Infra change")


def members(fake: FakeGitHub) -> None:
    fake.set_team_members(ORG, "security", {"sec-alice": "member"})


def review_event(fake: FakeGitHub, app: App, repo: Repository, number: int, action: str, review_id: int) -> str:
    """Deliver the review webhook; its delivery id."""
    headers, body = fake.webhook(f"pull_request_review.{action}", repo, number, review_id=review_id)
    response = app.deliver(headers, body)
    assert response.status_code == 202 and response.json()["queued"] is True
    return headers["X-GitHub-Delivery"]


def annotated(run: dict[str, Any]) -> set[tuple[str, int, str, str]]:
    return {(a["path"], a["start_line"], a["title"].split(":", 1)[0], a["annotation_level"]) for a in run["annotations"]}


def test_an_inline_exception_counts_once_a_security_team_member_approves(fake: FakeGitHub, app: App) -> None:
    members(fake)
    repo, number = open_pr(fake, "approved", {"infra/main.tf": EXCEPTED})
    sha = repo.branch_sha("feature")
    app.deliver(*fake.webhook("pull_request.opened", repo, number))
    run = completed_run(fake, repo, sha)
    assert run["conclusion"] == "failure"
    assert annotated(run) == {("infra/main.tf", EXCEPTION_LINE, "CB-AWS-001", "failure"),
                                ("infra/main.tf", EXCEPTION_LINE, "CB-EXC-001", "failure")}
    needs = next(a for a in run["annotations"] if a["title"].startswith("CB-EXC-001"))
    assert f"@{ORG}/security" in needs["message"] and "scratch data only" in needs["message"]
    (posted,) = fake.reviews(repo, number)
    assert {c["body"].split("**")[1] for c in posted["comments"]} == {
        "CB-AWS-001: EBS volume is not encrypted", "CB-EXC-001: Exception needs approval"}

    approval = repo.submit_review(number, "sec-alice")
    review_event(fake, app, repo, number, "submitted", approval.id)
    run = completed_run(fake, repo, sha, count=2)
    assert run["conclusion"] == "success"
    assert annotated(run) == {("infra/main.tf", EXCEPTION_LINE, "CB-AWS-001", "notice")}
    assert f"approved by sec-alice ({ORG}/security)" in run["summary"]
    assert f"approved at {approval.submitted_at}" in run["summary"]
    record = parse_evidence_block(run["text"])  # what an auditor exports: who accepted it, why, until when
    assert record is not None
    [granted] = [e for e in record["exceptions"] if e["kind"] == "suppression"]
    assert (granted["rule"], granted["reason"], granted["expires"], granted["approver"], granted["approved_at"]) == (
        "CB-AWS-001", "scratch data only", UNTIL, "sec-alice", approval.submitted_at)
    # The threads of the exception's request and of the suppressed finding are resolved.
    assert all(t["is_resolved"] for t in fake.review_threads(repo, number))
    assert len(fake.reviews(repo, number)) == 2  # the App's first review and the approval: nothing new posted


def test_a_non_members_approval_does_not_count(fake: FakeGitHub, app: App) -> None:
    members(fake)
    repo, number = open_pr(fake, "outsider", {"infra/main.tf": EXCEPTED})
    sha = repo.branch_sha("feature")
    app.deliver(*fake.webhook("pull_request.opened", repo, number))
    completed_run(fake, repo, sha)
    approval = repo.submit_review(number, "mallory")
    delivery = review_event(fake, app, repo, number, "submitted", approval.id)
    wait_for(lambda: f"delivery={delivery} review done" in app.log.read_text(), 60, "the review job")
    # The membership was asked, and refused (404): the same inputs, so nothing new to review.
    assert fake.count("GET", rf"/orgs/{ORG}/teams/security/memberships/mallory$", status=404) == 1
    (run,) = completed_runs(fake, repo, sha)
    assert run["conclusion"] == "failure"
    assert ("infra/main.tf", EXCEPTION_LINE, "CB-EXC-001", "failure") in annotated(run)


def test_a_push_after_the_approval_needs_a_new_one(fake: FakeGitHub, app: App) -> None:
    members(fake)
    repo, number = open_pr(fake, "pushed", {"infra/main.tf": EXCEPTED})
    first = repo.branch_sha("feature")
    app.deliver(*fake.webhook("pull_request.opened", repo, number))
    completed_run(fake, repo, first)
    approval = repo.submit_review(number, "sec-alice")
    review_event(fake, app, repo, number, "submitted", approval.id)
    assert completed_run(fake, repo, first, count=2)["conclusion"] == "success"

    second = repo.push(number, {"README.md": "the volume is scratch space\n"}, "docs")
    app.deliver(*fake.webhook("pull_request.synchronize", repo, number))
    run = completed_run(fake, repo, second)
    assert run["conclusion"] == "failure"
    assert ("infra/main.tf", EXCEPTION_LINE, "CB-EXC-001", "failure") in annotated(run)

    again = repo.submit_review(number, "sec-alice")
    review_event(fake, app, repo, number, "submitted", again.id)
    assert completed_run(fake, repo, second, count=2)["conclusion"] == "success"


def test_dismissing_the_approval_fails_the_check_again(fake: FakeGitHub, app: App) -> None:
    members(fake)
    repo, number = open_pr(fake, "dismissed", {"infra/main.tf": EXCEPTED})
    sha = repo.branch_sha("feature")
    app.deliver(*fake.webhook("pull_request.opened", repo, number))
    completed_run(fake, repo, sha)
    approval = repo.submit_review(number, "sec-alice")
    review_event(fake, app, repo, number, "submitted", approval.id)
    assert completed_run(fake, repo, sha, count=2)["conclusion"] == "success"

    repo.dismiss_review(number, approval.id)
    review_event(fake, app, repo, number, "dismissed", approval.id)
    run = completed_run(fake, repo, sha, count=3)
    assert run["conclusion"] == "failure"
    assert ("infra/main.tf", EXCEPTION_LINE, "CB-EXC-001", "failure") in annotated(run)
    assert "approved by" not in run["summary"]


def test_an_expired_exception_brings_its_finding_back(fake: FakeGitHub, app: App) -> None:
    """The exception was approved when it was added; it expired since. A pull request touching the
    resource for another reason sees its finding again (an inline exception, and a policy one)."""
    past = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    merged = EXCEPTED.replace(f"until={UNTIL}", f"until={past}")
    volume = ('resource "aws_ebs_volume" "logs" {\n  availability_zone = "eu-west-1a"\n  size = 10\n'
              '  encrypted = false\n}\n')
    policy = POLICY + f'suppressions:\n  - {{rule: CB-AWS-001, resource: aws_ebs_volume.logs, reason: "log disk", expires: {past}}}\n'
    repo, number = open_pr(fake, "expired", {"infra/main.tf": merged.replace("size              = 10", "size              = 20"),
                                             "infra/logs.tf": volume.replace("size = 10", "size = 20")},
                           base={"infra/logs.tf": volume, "infra/main.tf": merged, ".github/compliance.yml": policy})
    sha = repo.branch_sha("feature")
    app.deliver(*fake.webhook("pull_request.opened", repo, number))
    run = completed_run(fake, repo, sha)
    assert run["conclusion"] == "failure"
    assert annotated(run) == {("infra/main.tf", EXCEPTION_LINE, "CB-AWS-001", "failure"),
                                ("infra/logs.tf", 4, "CB-AWS-001", "failure")}
    assert f"expired on {past}; its finding is back" in run["summary"]
    assert f"expired on {past}: 1 finding(s) it suppressed are back" in run["summary"]
