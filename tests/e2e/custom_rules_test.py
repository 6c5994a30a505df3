"""End to end: an organisation's custom rules, from the default branch of its `.github` repository
(`.github/compliance/rules/*.yml`), reviewed by `compliance-bot serve` against the fake GitHub.

A good rule produces findings on a pull request like a built-in one; a rule whose examples fail
is refused with its file and line in the check run, which fails, while every other rule runs.
Each test uses its own organisation, so their `.github` repositories do not meet."""

from __future__ import annotations

from typing import Any

from tests.e2e.serving import App, completed_run
from tests.fakegithub import FakeGitHub, Repository
from tests.rules.spec.custom_samples import OWNER_TAG, UNTAGGED_BUCKET, line_of

RULES = ".github/compliance/rules"


def org_with_rules(fake: FakeGitHub, org: str, rules: dict[str, str]) -> Repository:
    return fake.create_repo(org, ".github", files={f"{RULES}/{name}": text for name, text in rules.items()})


def open_pr(fake: FakeGitHub, org: str, head: dict[str, str | None]) -> tuple[Repository, int]:
    repo = fake.create_repo(org, "infra", files={"README.md": "# infra\n"})
    repo.commit("feature", head, "change")
    return repo, repo.open_pull_request(head="feature", title="Change")


def custom_annotations(run: dict[str, Any], rule_id: str) -> list[tuple[str, int]]:
    return [(a["path"], a["start_line"]) for a in run["annotations"] if a["title"].startswith(f"{rule_id}:")]


def test_a_custom_rule_flags_a_pull_request_and_is_read_again_only_when_it_changes(fake: FakeGitHub, app: App) -> None:
    dotgithub = org_with_rules(fake, "acme", {"owner-tag.yml": OWNER_TAG, "README.md": "Our rules.\n"})
    repo, number = open_pr(fake, "acme", {"infra/main.tf": UNTAGGED_BUCKET})
    app.deliver(*fake.webhook("pull_request.opened", repo, number))

    run = completed_run(fake, repo, repo.branch_sha("feature"))
    assert run["conclusion"] == "failure"
    assert custom_annotations(run, "ACME-S3-001") == [("infra/main.tf", 1)]
    assert "Custom rule refused" not in str(run)
    (review,) = fake.reviews(repo, number)
    (comment,) = [c for c in review["comments"] if "ACME-S3-001" in c["body"]]
    assert comment["path"] == "infra/main.tf" and comment["line"] == 1
    assert "S3 bucket has no owner tag" in comment["body"] and "ACME-POLICY SEC-12" in comment["body"]
    assert fake.count("GET", r"/repos/acme/\.github/git/blobs/") == 1  # only the rule file, not the README

    # A push to the pull request: the rules did not change, so they are not read again.
    second = repo.push(number, {"infra/other.tf": UNTAGGED_BUCKET.replace("reports", "other")}, "another bucket")
    app.deliver(*fake.webhook("pull_request.synchronize", repo, number))
    run = completed_run(fake, repo, second)
    assert custom_annotations(run, "ACME-S3-001") == [("infra/main.tf", 1), ("infra/other.tf", 1)]
    assert fake.count("GET", r"/repos/acme/\.github/git/blobs/") == 1

    # The organisation breaks its rule on the default branch of .github: the next review says so.
    broken = OWNER_TAG.replace("lines: [1, 7]", "lines: [7]")
    dotgithub.commit("main", {f"{RULES}/owner-tag.yml": broken}, "tighten the owner rule")
    third = repo.push(number, {"infra/third.tf": UNTAGGED_BUCKET.replace("reports", "third")}, "a third bucket")
    app.deliver(*fake.webhook("pull_request.synchronize", repo, number))
    run = completed_run(fake, repo, third)
    assert run["conclusion"] == "failure" and custom_annotations(run, "ACME-S3-001") == []
    (refused,) = [a for a in run["annotations"] if a["title"] == "Custom rule refused"]
    assert (refused["path"], refused["start_line"]) == (f"{RULES}/owner-tag.yml", line_of(broken, "- path: main.tf"))
    assert fake.count("GET", r"/repos/acme/\.github/git/blobs/") == 2


def test_a_rule_whose_examples_fail_fails_the_check_with_its_file_and_line(fake: FakeGitHub, app: App) -> None:
    bad = OWNER_TAG.replace("ACME-S3-001", "GLOBEX-S3-001").replace('owner = "platform"', 'owner = "Platform"')
    good = OWNER_TAG.replace("ACME-S3-001", "GLOBEX-S3-002")
    org_with_rules(fake, "globex", {"bad.yml": bad, "good.yml": good})
    repo, number = open_pr(fake, "globex", {"docs/notes.md": "Nothing to judge here.\n"})
    app.deliver(*fake.webhook("pull_request.opened", repo, number))

    run = completed_run(fake, repo, repo.branch_sha("feature"))
    line = line_of(bad, "- path: main.tf", line_of(bad, "pass:"))
    assert run["conclusion"] == "failure"
    assert run["title"] == "0 blocking finding(s), 1 custom rule error(s)"
    assert [(a["path"], a["start_line"], a["annotation_level"], a["title"]) for a in run["annotations"]] == [
        (f"{RULES}/bad.yml", line, "failure", "Custom rule refused")]
    message = run["annotations"][0]["message"]
    assert message == (f"globex/.github: {RULES}/bad.yml:{line}: tests.pass[0] (main.tf) must pass, but the rule "
                       'flagged line 3: S3 bucket has no owner tag (tags.owner = "Platform").')
    assert f"`{RULES}/bad.yml:{line}`: tests.pass[0] (main.tf) must pass" in run["summary"]
    assert "**Custom rules refused** (in `globex/.github`" in run["summary"]
    assert fake.reviews(repo, number) == []  # nothing to say on the lines of the change


def test_the_accepted_rule_of_an_organisation_with_a_refused_one_still_runs(fake: FakeGitHub, app: App) -> None:
    bad = OWNER_TAG.replace("ACME-S3-001", "INITECH-S3-001").replace("regex: '[a-z][a-z0-9-]*'", r"regex: '(\w)\1'")
    good = OWNER_TAG.replace("ACME-S3-001", "INITECH-S3-002")
    org_with_rules(fake, "initech", {"bad.yml": bad, "good.yml": good, "old.yaml": good})
    repo, number = open_pr(fake, "initech", {"main.tf": UNTAGGED_BUCKET})
    app.deliver(*fake.webhook("pull_request.opened", repo, number))

    run = completed_run(fake, repo, repo.branch_sha("feature"))
    assert run["conclusion"] == "failure"
    assert custom_annotations(run, "INITECH-S3-002") == [("main.tf", 1)]
    refused = {(a["path"], a["start_line"]) for a in run["annotations"] if a["title"] == "Custom rule refused"}
    assert refused == {(f"{RULES}/bad.yml", line_of(bad, "check: {path: tags.owner")), (f"{RULES}/old.yaml", 1)}
    assert "rule files end in .yml (rename it old.yml)" in run["summary"]
