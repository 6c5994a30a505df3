"""The organisation's policy (its `.github` repository) under the review job, against the fake
GitHub: it applies beneath the repository's, loosening it fails the check on the line, the
policy files are read once per default-branch head, and frameworks follow topics and custom
properties."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.app.runner import ReviewRunner
from bot.github.client import GitHubApp
from rules.registry import default_controls
from tests.app.runner_test import UNENCRYPTED, job_for
from tests.fakegithub import FakeGitHub, Repository

POLICY = ".github/compliance.yml"
CONTENTS = r"/contents/\.github/compliance\.yml$"
CONTROLS = default_controls()


def runner(fake: FakeGitHub) -> ReviewRunner:
    return ReviewRunner(GitHubApp(fake.app_id, fake.private_key_pem, fake.url, 10.0), "compliance")


def run_job(fake: FakeGitHub, review_runner: ReviewRunner, repo: Repository, number: int,
            event: str = "pull_request.opened") -> dict[str, Any]:
    asyncio.run(review_runner(job_for(fake, repo, number, event)))
    return fake.check_runs(repo)[-1]


def org_repo(fake: FakeGitHub, owner: str, policy: str, **options: Any) -> Repository:
    return fake.create_repo(owner, ".github", files={POLICY: policy, "README.md": "org defaults\n"}, **options)


def test_the_organisation_policy_applies_to_a_repository_without_one(fake_github: FakeGitHub) -> None:
    org_repo(fake_github, "org-alone", "fail_on: critical\n")
    repo = fake_github.create_repo("org-alone", "infra", files={"README.md": "x\n"})
    repo.commit("feature", {"main.tf": UNENCRYPTED.format(i=1)}, "change")
    run = run_job(fake_github, runner(fake_github), repo, repo.open_pull_request(head="feature"))
    assert run["conclusion"] == "success"  # high < critical: the organisation's threshold
    assert "The organisation policy (org-alone/.github/.github/compliance.yml) applies; this repository has no " \
           "policy of its own." in run["summary"]


def test_a_repository_cannot_loosen_the_organisation_policy(fake_github: FakeGitHub) -> None:
    org_repo(fake_github, "org-strict", "fail_on: high\n")
    repo = fake_github.create_repo("org-strict", "loose", files={
        POLICY: "extends: org\nfail_on: critical\nrules:\n  disable: [CB-AWS-001]\n"})
    repo.commit("feature", {"main.tf": UNENCRYPTED.format(i=1)}, "change")
    number = repo.open_pull_request(head="feature")
    run = run_job(fake_github, runner(fake_github), repo, number)
    assert run["conclusion"] == "failure"
    assert run["title"] == "1 blocking finding(s), 2 policy setting(s) refused"
    assert "- `.github/compliance.yml` line 2: fail_on: critical would block less than the organisation policy's " \
           "high; a repository may only lower it" in run["summary"]
    assert "- `.github/compliance.yml` line 4: rules.disable: CB-AWS-001 is required by the organisation policy" \
           in run["summary"]
    refused = [(a["path"], a["start_line"], a["title"]) for a in run["annotations"] if a["path"] == POLICY]
    assert refused == [(POLICY, 2, "Policy setting refused"), (POLICY, 4, "Policy setting refused")]
    blocking = [a for a in run["annotations"] if a["path"] == "main.tf"]
    assert [(a["title"].split(":")[0], a["annotation_level"]) for a in blocking] == [("CB-AWS-001", "failure")]
    assert any("CB-AWS-001" in c["body"] for c in fake_github.reviews(repo, number)[0]["comments"])


def test_policy_files_are_read_once_per_default_branch_head(fake_github: FakeGitHub) -> None:
    org = org_repo(fake_github, "org-cache", "fail_on: low\n")
    repo = fake_github.create_repo("org-cache", "cached", files={POLICY: "extends: org\n"})
    repo.commit("feature", {"main.tf": UNENCRYPTED.format(i=1)}, "change")
    number = repo.open_pull_request(head="feature")
    shared = runner(fake_github)
    fake_github.reset_requests()
    run_job(fake_github, shared, repo, number)
    assert fake_github.count("GET", r"/repos/org-cache/cached" + CONTENTS) == 1
    assert fake_github.count("GET", r"/repos/org-cache/\.github" + CONTENTS) == 1

    fake_github.reset_requests()
    repo.push(number, {"other.tf": UNENCRYPTED.format(i=2)}, "another head, same default branch")
    run_job(fake_github, shared, repo, number, "pull_request.synchronize")
    assert fake_github.count("GET", CONTENTS) == 0  # both policies came from the cache
    assert fake_github.count("GET", r"/git/ref/heads/main$") == 2  # where each default branch is, and no more

    fake_github.reset_requests()
    repo.commit("main", {POLICY: "extends: org\nfail_on: low\n"}, "the repository's policy moves")
    repo.push(number, {"third.tf": UNENCRYPTED.format(i=3)}, "a third head")
    run_job(fake_github, shared, repo, number, "pull_request.synchronize")
    assert fake_github.count("GET", r"/repos/org-cache/cached" + CONTENTS) == 1
    assert fake_github.count("GET", r"/repos/org-cache/\.github" + CONTENTS) == 0

    fake_github.reset_requests()
    org.commit("main", {POLICY: "fail_on: medium\n"}, "the organisation's policy moves")
    repo.push(number, {"fourth.tf": UNENCRYPTED.format(i=4)}, "a fourth head")
    run_job(fake_github, shared, repo, number, "pull_request.synchronize")
    assert fake_github.count("GET", r"/repos/org-cache/cached" + CONTENTS) == 0
    assert fake_github.count("GET", r"/repos/org-cache/\.github" + CONTENTS) == 1


def test_a_new_organisation_policy_is_a_new_review_of_the_same_head(fake_github: FakeGitHub) -> None:
    org = org_repo(fake_github, "org-rekey", "fail_on: low\n")
    repo = fake_github.create_repo("org-rekey", "infra", files={POLICY: "extends: org\n"})
    repo.commit("feature", {"main.tf": UNENCRYPTED.format(i=1)}, "change")
    number = repo.open_pull_request(head="feature")
    shared = runner(fake_github)
    assert run_job(fake_github, shared, repo, number)["conclusion"] == "failure"
    run_job(fake_github, shared, repo, number, "pull_request.synchronize")
    assert len(fake_github.check_runs(repo)) == 1  # same head, same policies: already reviewed
    org.commit("main", {POLICY: "fail_on: critical\n"}, "relax the organisation")
    run = run_job(fake_github, shared, repo, number, "pull_request.synchronize")
    assert run["conclusion"] == "success" and len(fake_github.check_runs(repo)) == 2


def test_extends_org_without_an_organisation_policy_fails_naming_the_line(fake_github: FakeGitHub) -> None:
    fake_github.create_repo("org-none", ".github", installed=False, files={POLICY: "fail_on: low\n"})
    repo = fake_github.create_repo("org-none", "infra", files={POLICY: "fail_on: critical\nextends: org\n"})
    repo.commit("feature", {"README.md": "docs\n"}, "change")
    run = run_job(fake_github, runner(fake_github), repo, repo.open_pull_request(head="feature"))
    assert run["conclusion"] == "failure"
    assert "- `.github/compliance.yml` line 2: extends: org, but no organisation policy was found in " \
           "org-none/.github" in run["summary"]  # the App is not installed there: GitHub says 404


def test_an_invalid_organisation_policy_fails_closed_naming_its_file_and_line(fake_github: FakeGitHub) -> None:
    org_repo(fake_github, "org-broken", "fail_on: high\nrules:\n  disable: CB-AWS-001\n")
    repo = fake_github.create_repo("org-broken", "infra", files={"README.md": "x\n"})
    repo.commit("feature", {"main.tf": UNENCRYPTED.format(i=1)}, "change")
    run = run_job(fake_github, runner(fake_github), repo, repo.open_pull_request(head="feature"))
    assert (run["conclusion"], run["title"]) == ("failure", "Invalid compliance policy")
    assert "- org-broken/.github/.github/compliance.yml: line 3: 'rules.disable' must be a list of rule ids, " \
           "not 'CB-AWS-001'" in run["summary"]


def test_frameworks_follow_topics_and_custom_properties(fake_github: FakeGitHub) -> None:
    org_repo(fake_github, "org-scope", "frameworks:\n  - {name: pci-dss, when: {properties: {scope: cardholder}}}\n"
                                       "  - {name: cis-docker, when: {topics: [containers]}}\n")
    repo = fake_github.create_repo("org-scope", "infra", files={"README.md": "x\n"})
    repo.commit("feature", {"main.tf": UNENCRYPTED.format(i=1), "Dockerfile": "FROM alpine:latest\n"}, "change")
    number = repo.open_pull_request(head="feature")
    shared = runner(fake_github)

    everything = run_job(fake_github, shared, repo, number)  # no entry applies: every rule
    assert {a["title"].split(":")[0] for a in everything["annotations"]} >= {"CB-AWS-001", "CB-DOCKER-001",
                                                                          "CB-DOCKER-004"}
    assert any(a["path"] == "Dockerfile" for a in everything["annotations"])

    repo.set_topics(["containers"])
    docker_only = run_job(fake_github, shared, repo, number, "pull_request.synchronize")
    assert docker_only["annotations"] and all(a["path"] == "Dockerfile" for a in docker_only["annotations"])
    assert all("cis-docker" in CONTROLS[a["title"].split(":")[0]] for a in docker_only["annotations"])
    assert "CB-DOCKER-004" not in {a["title"].split(":")[0] for a in docker_only["annotations"]}  # SOC 2, HIPAA only
    assert "Only rules mapping to cis-docker were evaluated" in docker_only["summary"]

    repo.set_topics([])
    repo.set_custom_properties({"scope": "cardholder"})
    pci = run_job(fake_github, shared, repo, number, "pull_request.synchronize")
    reported = {a["title"].split(":")[0] for a in pci["annotations"]}
    assert "CB-AWS-001" in reported and all("pci-dss" in CONTROLS[rule] for rule in reported)
    assert reported < {a["title"].split(":")[0] for a in everything["annotations"]}
    assert fake_github.count("GET", r"/repos/org-scope/infra/properties/values$") >= 1


def test_data_classification_spares_untagged_resources_as_notices(fake_github: FakeGitHub) -> None:
    org_repo(fake_github, "org-phi", "frameworks: [hipaa]\ndata_classification:\n  tag: data-classification\n"
                                     "  frameworks: {hipaa: [phi]}\n")
    tagged = UNENCRYPTED.format(i=2).replace("  size = 1\n", '  size = 1\n  tags = {\n    data-classification = "phi"\n  }\n')
    repo = fake_github.create_repo("org-phi", "infra", files={"README.md": "x\n"})
    repo.commit("feature", {"plain.tf": UNENCRYPTED.format(i=1), "phi.tf": tagged}, "change")
    number = repo.open_pull_request(head="feature")
    run = run_job(fake_github, runner(fake_github), repo, number)
    levels = {(a["path"], a["title"].split(":")[0]): a["annotation_level"] for a in run["annotations"]}
    assert levels[("phi.tf", "CB-AWS-001")] == "failure" and levels[("plain.tf", "CB-AWS-001")] == "notice"
    commented = {c["path"] for c in fake_github.reviews(repo, number)[0]["comments"]}
    assert "plain.tf" not in commented and "phi.tf" in commented
