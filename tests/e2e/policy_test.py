"""End to end: the policy as `compliance-bot serve` applies it against the fake GitHub. A
malformed policy fails the check naming the file and line; a pull request that edits its own
policy is still reviewed under the default branch's; a repository extending its organisation's
policy (in the organisation's `.github` repository) cannot loosen it."""

from __future__ import annotations

from typing import Any

from tests.e2e.serving import App, completed_run, wait_for
from tests.fakegithub import FakeGitHub, Repository

POLICY = ".github/compliance.yml"
VOLUME = """\
resource "aws_ebs_volume" "data" {
  availability_zone = "eu-west-1a"
  size              = 10
  encrypted         = false
}
"""
ENCRYPTED_LINE = VOLUME.splitlines().index("  encrypted         = false") + 1


def reviewed(fake: FakeGitHub, app: App, repo: Repository, head: dict[str, str | None]) -> tuple[dict[str, Any], int]:
    repo.commit("feature", head, "change infrastructure")
    number = repo.open_pull_request(head="feature", title="Infra change")
    assert app.deliver(*fake.webhook("pull_request.opened", repo, number)).status_code == 202
    return completed_run(fake, repo, repo.branch_sha("feature")), number


def test_a_malformed_policy_fails_the_check_naming_file_and_line(fake: FakeGitHub, app: App) -> None:
    repo = fake.create_repo("e2e-policy-bad", "infra", files={POLICY: "fail_on: high\nrules:\n  disable: [CB-AWS-001]\n"
                                                                      "suppressions:\n  - rule: CB-AWS-002\n"
                                                                      "    reason: legacy\n    expires: 2027-13-01\n"})
    run, number = reviewed(fake, app, repo, {"main.tf": VOLUME})
    assert (run["conclusion"], run["title"]) == ("failure", "Invalid compliance policy")
    assert "- .github/compliance.yml: line 7: 'suppressions[0].expires' must be a date like 2027-01-31, " \
           "not '2027-13-01'" in run["summary"]
    assert "Traceback" not in run["summary"] and fake.reviews(repo, number) == []


def test_a_pull_request_cannot_disable_a_rule_through_its_own_policy(fake: FakeGitHub, app: App) -> None:
    repo = fake.create_repo("e2e-policy-own", "infra", files={POLICY: "fail_on: low\n"})
    run, number = reviewed(fake, app, repo, {"main.tf": VOLUME, POLICY: "fail_on: critical\nrules:\n"
                                                                         "  disable: [CB-AWS-001]\n"})
    assert run["conclusion"] == "failure"
    assert ("main.tf", ENCRYPTED_LINE, "failure") in {(a["path"], a["start_line"], a["annotation_level"])
                                                      for a in run["annotations"]}
    assert f"This pull request changes `{POLICY}`: the new policy applies after merge" in run["summary"]
    (review,) = wait_for(lambda: fake.reviews(repo, number), 60, "the review")
    assert any(c["path"] == "main.tf" and c["body"].startswith("**CB-AWS-001") for c in review["comments"])


def test_a_repository_extending_the_organisation_policy_cannot_loosen_it(fake: FakeGitHub, app: App) -> None:
    fake.create_repo("e2e-policy-org", ".github", files={POLICY: "fail_on: high\nrules:\n  modes: {CB-AWS-003: monitor}\n"})
    repo = fake.create_repo("e2e-policy-org", "infra", files={
        POLICY: "extends: org\nfail_on: critical\nrules:\n  disable: [CB-AWS-001]\n  modes: {CB-AWS-003: block}\n"})
    run, number = reviewed(fake, app, repo, {"main.tf": VOLUME})
    assert run["conclusion"] == "failure"
    assert "2 policy setting(s) refused" in run["title"]
    assert "line 2: fail_on: critical would block less than the organisation policy's high" in run["summary"]
    assert "line 4: rules.disable: CB-AWS-001 is required by the organisation policy" in run["summary"]
    assert "The organisation policy (e2e-policy-org/.github/.github/compliance.yml) applies beneath this " \
           "repository's." in run["summary"]
    refused = {(a["path"], a["start_line"]) for a in run["annotations"] if a["title"] == "Policy setting refused"}
    assert refused == {(POLICY, 2), (POLICY, 4)}
    assert ("main.tf", ENCRYPTED_LINE, "failure") in {(a["path"], a["start_line"], a["annotation_level"])
                                                      for a in run["annotations"]}  # CB-AWS-001 still blocks
    (review,) = wait_for(lambda: fake.reviews(repo, number), 60, "the review")
    assert any(c["body"].startswith("**CB-AWS-001") for c in review["comments"])
