"""End to end: `compliance-bot serve` as its own process (real uvicorn on loopback) against the
fake GitHub, fed GitHub's webhook examples signed as GitHub signs them.

Each test asserts the exact review and check run the fake received.
"""

from __future__ import annotations

from tests.e2e.serving import App, completed_run, wait_for
from tests.fakegithub import FakeGitHub, Repository

OLD_VOLUME = """\
resource "aws_ebs_volume" "old" {
  availability_zone = "eu-west-1a"
  size              = 10
}
"""
NEW_VOLUME = """
resource "aws_ebs_volume" "new" {
  availability_zone = "eu-west-1a"
  size              = 10
  encrypted         = false
}
"""
# Hardened in every other respect (the Kubernetes pack also reports missing hardening), so the
# privileged container is the one finding.
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      automountServiceAccountToken: false
      securityContext:
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: api
          image: example/api:1.0@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31
          resources:
            limits: {cpu: 500m, memory: 256Mi}
          securityContext:
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
            privileged: true
"""
EBS_LINE = (OLD_VOLUME + NEW_VOLUME).splitlines().index("  encrypted         = false") + 1
PRIVILEGED_LINE = DEPLOYMENT.splitlines().index("            privileged: true") + 1


def open_pr(fake: FakeGitHub, name: str, base: dict[str, str], head: dict[str, str | None]) -> tuple[Repository, int]:
    repo = fake.create_repo("octo-org", name, files=base)
    repo.commit("feature", head, "change infrastructure")
    return repo, repo.open_pull_request(head="feature", title="Infra change")


def test_violating_pr_fails_with_inline_comments_on_the_right_lines(fake: FakeGitHub, app: App) -> None:
    repo, number = open_pr(fake, "violating", {"infra/main.tf": OLD_VOLUME},
                           {"infra/main.tf": OLD_VOLUME + NEW_VOLUME, "k8s/deploy.yaml": DEPLOYMENT})
    sha = repo.branch_sha("feature")
    response = app.deliver(*fake.webhook("pull_request.opened", repo, number))
    assert response.status_code == 202 and response.json()["queued"] is True

    run = completed_run(fake, repo, sha)
    assert run["name"] == "compliance" and run["conclusion"] == "failure"
    assert {(a["path"], a["start_line"]) for a in run["annotations"]} == {
        ("infra/main.tf", EBS_LINE), ("k8s/deploy.yaml", PRIVILEGED_LINE)}
    assert all(a["annotation_level"] == "failure" for a in run["annotations"])
    assert "| Rule | Severity | Findings | Controls |" in run["summary"]

    (review,) = fake.reviews(repo, number)
    assert review["event"] == "COMMENT" and review["commit_id"] == sha
    comments = {(c["path"], c["line"]): c["body"] for c in review["comments"]}
    assert set(comments) == {("infra/main.tf", EBS_LINE), ("k8s/deploy.yaml", PRIVILEGED_LINE)}
    ebs = comments[("infra/main.tf", EBS_LINE)]
    assert "aws_ebs_volume.new" in ebs and "(high)" in ebs and "**Controls:**" in ebs and "HIPAA" in ebs
    assert "**How to fix:**" in ebs and "```suggestion\n  encrypted         = true\n```" in ebs
    assert "aws_ebs_volume.old" not in str(review)  # untouched resources are never reported


def test_clean_pr_succeeds_without_a_review(fake: FakeGitHub, app: App) -> None:
    fixed = NEW_VOLUME.replace("false", "true")
    repo, number = open_pr(fake, "clean", {"infra/main.tf": OLD_VOLUME}, {"infra/main.tf": OLD_VOLUME + fixed})
    assert app.deliver(*fake.webhook("pull_request.opened", repo, number)).status_code == 202
    run = completed_run(fake, repo, repo.branch_sha("feature"))
    assert run["conclusion"] == "success" and run["annotations"] == []
    assert fake.reviews(repo, number) == []


def test_second_push_resolves_the_fixed_thread_without_duplicates(fake: FakeGitHub, app: App) -> None:
    repo, number = open_pr(fake, "pushes", {"infra/main.tf": OLD_VOLUME},
                           {"infra/main.tf": OLD_VOLUME + NEW_VOLUME, "k8s/deploy.yaml": DEPLOYMENT})
    first = repo.branch_sha("feature")
    app.deliver(*fake.webhook("pull_request.opened", repo, number))
    completed_run(fake, repo, first)

    second = repo.push(number, {"infra/main.tf": OLD_VOLUME + NEW_VOLUME.replace("false", "true")}, "encrypt")
    assert app.deliver(*fake.webhook("pull_request.synchronize", repo, number)).status_code == 202
    run = completed_run(fake, repo, second)
    assert run["conclusion"] == "failure"  # the privileged container is still there
    assert [(a["path"], a["start_line"]) for a in run["annotations"]] == [("k8s/deploy.yaml", PRIVILEGED_LINE)]

    reviews = fake.reviews(repo, number)
    assert len(reviews) == 1, "the second push posts no new review: nothing new to say"
    threads = {t["path"]: t for t in fake.review_threads(repo, number)}
    assert threads["infra/main.tf"]["is_resolved"] is True
    assert threads["k8s/deploy.yaml"]["is_resolved"] is False

    # A re-run of the same SHA posts nothing new either.
    app.deliver(*fake.webhook("check_suite.rerequested", repo, number))
    wait_for(lambda: len([r for r in fake.check_runs(repo) if r["head_sha"] == second
                          and r["status"] == "completed"]) == 2, 60, "the re-run")
    assert len(fake.reviews(repo, number)) == 1


def test_forged_signature_is_rejected_and_nothing_is_posted(fake: FakeGitHub, app: App) -> None:
    repo, number = open_pr(fake, "forged", {"infra/main.tf": OLD_VOLUME}, {"infra/main.tf": OLD_VOLUME + NEW_VOLUME})
    headers, body = fake.webhook("pull_request.opened", repo, number, secret="not-the-secret")
    assert app.deliver(headers, body).status_code == 401
    unsigned_headers, unsigned_body = fake.webhook("pull_request.opened", repo, number, secret="")
    assert app.deliver(unsigned_headers, unsigned_body).status_code == 401
    # The server answers 401 before routing, so nothing was queued; its log says so for each delivery.
    lines = app.log.read_text().splitlines()
    for sent, outcome in ((headers, "bad signature"), (unsigned_headers, "no signature")):
        assert any(f"delivery={sent['X-GitHub-Delivery']} " in line and f"status=401 outcome=rejected: {outcome}" in line
                   for line in lines), outcome
    assert fake.check_runs(repo) == [] and fake.reviews(repo, number) == []


def test_injected_502_and_rate_limit_still_land_the_review_once(fake: FakeGitHub, app: App) -> None:
    repo, number = open_pr(fake, "faults", {"infra/main.tf": OLD_VOLUME}, {"infra/main.tf": OLD_VOLUME + NEW_VOLUME})
    fake.inject("POST", r"/repos/octo-org/faults/pulls/\d+/reviews$", status=502, times=1)
    fake.inject_rate_limit("PATCH", r"/repos/octo-org/faults/check-runs/\d+$", times=1, retry_after=1)
    fake.inject("POST", r"/graphql$", status=502, times=1)
    app.deliver(*fake.webhook("pull_request.opened", repo, number))
    run = completed_run(fake, repo, repo.branch_sha("feature"))
    assert run["conclusion"] == "failure"
    (review,) = fake.reviews(repo, number)
    assert [(c["path"], c["line"]) for c in review["comments"]] == [("infra/main.tf", EBS_LINE)]
    assert fake.count("POST", r"/repos/octo-org/faults/pulls/\d+/reviews$", status=502) == 1
