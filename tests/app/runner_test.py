"""The review job against the fake GitHub, in process: policy from the default branch, drafts,
comment caps, annotation batches, related resources in unchanged files, missing patches,
invalid policies and the number of API calls a review costs."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading
from collections.abc import Mapping
from typing import Any

import pytest

from bot.app.engine_process import EnginePool
from bot.app.job_queue import InProcessQueue
from bot.app.jobs import ReviewJob
from bot.app.logs import RedactingFormatter
from bot.app.runner import ReviewRunner
from bot.app.webhooks import route
from bot.app.worker import Worker
from bot.github import files
from bot.github.client import GitHubApp
from tests.app.redis_fixtures import eventually
from tests.fakegithub import FakeGitHub, Repository
from tests.fakegithub.messages import Response

UNENCRYPTED = 'resource "aws_ebs_volume" "v{i}" {{\n  availability_zone = "eu-west-1a"\n  size = 1\n  encrypted = false\n}}\n'
BUCKET = """\
resource "aws_s3_bucket" "records" {
  bucket = "patient-records"
  tags = {
    DataClassification = "PHI"
  }
}

resource "aws_s3_bucket_logging" "records" {
  bucket        = aws_s3_bucket.records.id
  target_bucket = "access-logs"
}
"""
SSE = """\
resource "aws_kms_key" "k" {
  enable_key_rotation = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "records" {
  bucket = aws_s3_bucket.records.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.k.arn
    }
  }
}
"""


def job_for(fake: FakeGitHub, repo: Repository, number: int, event: str = "pull_request.opened",
            overrides: dict[str, Any] | None = None) -> ReviewJob:
    headers, body = fake.webhook(event, repo, number, overrides=overrides)
    job = route(headers["X-GitHub-Event"], headers["X-GitHub-Delivery"], json.loads(body))
    assert isinstance(job, ReviewJob)
    return job


def review(fake: FakeGitHub, repo: Repository, number: int, event: str = "pull_request.opened") -> dict[str, Any]:
    app = GitHubApp(fake.app_id, fake.private_key_pem, fake.url, 10.0)
    runner = ReviewRunner(app, "compliance")
    asyncio.run(runner(job_for(fake, repo, number, event)))
    return fake.check_runs(repo)[-1]


def pr(fake: FakeGitHub, name: str, base: dict[str, str], head: Mapping[str, str | None], draft: bool = False
       ) -> tuple[Repository, int]:
    repo = fake.create_repo("octo-org", name, files=base)
    repo.commit("feature", head, "change")
    return repo, repo.open_pull_request(head="feature", draft=draft)


def test_policy_comes_from_the_default_branch_not_the_pull_request(fake_github: FakeGitHub) -> None:
    repo, number = pr(fake_github, "policy", {".github/compliance.yml": "fail_on: critical\n", "README.md": "x\n"},
                      {"main.tf": UNENCRYPTED.format(i=1), ".github/compliance.yml": "rules:\n  disable: [CB-AWS-001]\n"})
    run = review(fake_github, repo, number)
    assert run["conclusion"] == "success"  # high < critical: reported, not blocking
    assert [(a["path"], a["annotation_level"]) for a in run["annotations"]] == [("main.tf", "warning")]
    assert "applies after merge" in run["summary"]
    (posted,) = fake_github.reviews(repo, number)
    assert "CB-AWS-001" in posted["comments"][0]["body"]  # the PR's own policy did not disable it


def test_draft_is_neutral_until_ready(fake_github: FakeGitHub) -> None:
    repo, number = pr(fake_github, "draft", {"README.md": "x\n"}, {"main.tf": UNENCRYPTED.format(i=1)}, draft=True)
    run = review(fake_github, repo, number)
    assert run["conclusion"] == "neutral" and fake_github.reviews(repo, number) == []
    repo.set_draft(number, False)
    run = review(fake_github, repo, number, "pull_request.ready_for_review")
    assert run["conclusion"] == "failure" and len(fake_github.reviews(repo, number)) == 1


def test_many_findings_cap_comments_and_batch_annotations(fake_github: FakeGitHub) -> None:
    volumes = "".join(UNENCRYPTED.format(i=i) for i in range(60))
    repo, number = pr(fake_github, "many", {".github/compliance.yml": "comments:\n  max: 5\n"},
                      {"main.tf": volumes})
    run = review(fake_github, repo, number)
    assert run["conclusion"] == "failure"
    assert len(run["annotations"]) == 60  # every finding, sent 50 per request (the fake rejects more)
    (posted,) = fake_github.reviews(repo, number)
    assert len(posted["comments"]) == 5
    assert "55 over the comment cap" in run["summary"]


def test_removing_a_kms_configuration_rechecks_the_bucket_in_an_unchanged_file(fake_github: FakeGitHub) -> None:
    repo, number = pr(fake_github, "related", {"data/bucket.tf": BUCKET, "data/sse.tf": SSE},
                      {"data/sse.tf": None})
    run = review(fake_github, repo, number)
    assert run["conclusion"] == "failure"
    # The re-checked PHI bucket also has no bucket policy refusing plain HTTP (CB-AWS-071).
    assert [(a["path"], a["start_line"], a["title"].split(":")[0]) for a in run["annotations"]] == [
        ("data/bucket.tf", 1, "CB-AWS-009"), ("data/bucket.tf", 1, "CB-AWS-071")]
    assert fake_github.reviews(repo, number) == []  # bucket.tf is not in the diff: no inline comment
    assert "2 outside the diff" in run["summary"]


def test_file_without_a_patch_is_read_whole(fake_github: FakeGitHub) -> None:
    fake_github.patch_limit_bytes = 200
    big = "".join(f"line {i}\n" for i in range(50)) + "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8HbS2kQz\n"
    repo, number = pr(fake_github, "nopatch", {"README.md": "x\n"}, {"config/app.ini": big})
    run = review(fake_github, repo, number)
    assert run["conclusion"] == "failure"
    assert [(a["path"], a["start_line"]) for a in run["annotations"]] == [("config/app.ini", 51)]
    assert "wJalrXUtnFEMI" not in json.dumps(run) + json.dumps(fake_github.reviews(repo, number))


def test_invalid_policy_fails_closed_with_a_clear_message(fake_github: FakeGitHub) -> None:
    repo, number = pr(fake_github, "badpolicy", {".github/compliance.yml": "drafts: true\nfail-on: high\n"
                                                                          "comments: {max: lots}\n"},
                      {"main.tf": UNENCRYPTED.format(i=1)})
    run = review(fake_github, repo, number)
    assert run["conclusion"] == "failure" and run["title"] == "Invalid compliance policy"
    assert "- .github/compliance.yml: line 2: 'fail-on' is not a setting; did you mean 'fail_on'?\n" \
           "- .github/compliance.yml: line 3: 'comments.max' must be a whole number from 0 to 100, not 'lots'\n" \
           in run["summary"]
    assert "Traceback" not in run["summary"]
    assert fake_github.reviews(repo, number) == []  # nothing reviewed under a policy that cannot be read


def test_broken_file_is_an_error_annotation(fake_github: FakeGitHub) -> None:
    repo, number = pr(fake_github, "broken", {"README.md": "x\n"}, {"main.tf": 'resource "aws_s3_bucket" "b" {\n'})
    run = review(fake_github, repo, number)
    assert run["conclusion"] == "failure"
    assert [(a["path"], a["annotation_level"], a["title"]) for a in run["annotations"]] == [
        ("main.tf", "failure", "File could not be reviewed")]


# One request of each review lists the organisation's custom rules (`<owner>/.github`; a 404 here),
# and the policy costs 3: the default branch's head, the organisation's `.github` repository
# (none here: 404), the policy file at that head (cached per head for later jobs).
@pytest.mark.parametrize(("files", "most_calls"), [(3, 15), (100, 17)])
def test_api_calls_per_review_stay_flat(fake_github: FakeGitHub, files: int, most_calls: int) -> None:
    head = {f"mod{i % 10}/f{i}.tf": UNENCRYPTED.format(i=i) for i in range(files)}
    repo, number = pr(fake_github, f"calls{files}", {"README.md": "x\n"}, head)
    fake_github.reset_requests()
    review(fake_github, repo, number)
    assert fake_github.count() <= most_calls, [f"{r.method} {r.path}" for r in fake_github.requests]


def test_approver_teams_cost_the_reviews_and_one_membership_check_per_standing_approval(
    fake_github: FakeGitHub,
) -> None:
    policy = ".github/compliance.yml"
    plain, plain_number = pr(fake_github, "no-approvers", {"README.md": "x\n"}, {"main.tf": UNENCRYPTED.format(i=1)})
    repo, number = pr(fake_github, "approvers", {"README.md": "x\n", policy: "exceptions:\n  approvers: [octo-org/sec, "
                                                                            "octo-org/leads]\n"},
                      {"main.tf": UNENCRYPTED.format(i=1)})
    fake_github.set_team_members("octo-org", "leads", {"lead-bob": "member"})
    repo.submit_review(number, "lead-bob")
    fake_github.reset_requests()
    review(fake_github, plain, plain_number)
    baseline = fake_github.count()
    fake_github.reset_requests()
    review(fake_github, repo, number)
    extra = [f"{r.method} {r.path}" for r in fake_github.requests if "/reviews" in r.path and r.method == "GET"
             or "/memberships/" in r.path]
    assert extra == [f"GET /repos/octo-org/approvers/pulls/{number}/reviews",
                     "GET /orgs/octo-org/teams/sec/memberships/lead-bob",  # 404: not this team
                     "GET /orgs/octo-org/teams/leads/memberships/lead-bob"]
    assert fake_github.count() == baseline + len(extra)


def test_a_modules_unchanged_files_come_from_one_listing_of_the_head(fake_github: FakeGitHub) -> None:
    repo, number = pr(fake_github, "listing", {"m/vars.tf": 'variable "enc" {\n  default = false\n}\n'},
                      {"m/main.tf": 'resource "aws_ebs_volume" "v" {\n  availability_zone = "a"\n  size = 1\n'
                                    '  encrypted = var.enc\n}\n'})
    fake_github.inject("POST", r"/graphql$", status=200, times=1,
                       body={"data": None, "errors": [{"message": "Something went wrong while executing your query."}]})
    run = review(fake_github, repo, number)
    (listing,) = [r for r in fake_github.requests if "/git/trees/" in r.path]
    assert listing.path.endswith(f"/git/trees/{repo.branch_sha('feature')}") and listing.query == {"recursive": "1"}
    # var.enc's default lives in an unchanged file of the module: found through the listing, and named
    (annotation,) = run["annotations"]
    assert (annotation["path"], annotation["start_line"]) == ("m/main.tf", 4)
    assert annotation["raw_details"].startswith(
        "Where the value comes from: `var.enc` ← `default = false` in the default of variable `enc`, m/vars.tf:2\n")


def test_blob_missing_from_graphql_is_read_over_rest_at_the_same_commit(fake_github: FakeGitHub) -> None:
    deployment = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  automountServiceAccountToken: false\n"
                  "  securityContext: {seccompProfile: {type: RuntimeDefault}}\n  containers:\n    - name: c\n"
                  "      image: i@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31\n      resources: {limits: {cpu: 100m, memory: 64Mi}}\n"
                  "      securityContext:\n        readOnlyRootFilesystem: true\n        capabilities: {drop: [ALL]}\n"
                  "        privileged: true\n")  # hardened but for the one finding under test
    repo, number = pr(fake_github, "nullblob", {"README.md": "x\n"}, {"k8s/pod.yaml": deployment})
    fake_github.inject("POST", r"/graphql$", status=200, times=1, body={"data": {"repository": {"b0": None}}})
    run = review(fake_github, repo, number)
    (read,) = [r for r in fake_github.requests if r.method == "GET" and r.path.endswith("/contents/k8s/pod.yaml")]
    assert read.query == {"ref": repo.branch_sha("feature")}  # never a blob id a listing named: it may be another head's
    assert [(a["path"], a["start_line"]) for a in run["annotations"]] == [("k8s/pod.yaml", 15)]


def test_check_suite_requested_right_after_opened_does_not_review_twice(fake_github: FakeGitHub) -> None:
    repo, number = pr(fake_github, "twice", {"README.md": "x\n"}, {"main.tf": UNENCRYPTED.format(i=1)})
    runner = ReviewRunner(GitHubApp(fake_github.app_id, fake_github.private_key_pem, fake_github.url, 10.0), "compliance")
    for event in ("pull_request.opened", "check_suite.requested"):
        asyncio.run(runner(job_for(fake_github, repo, number, event)))
    assert len(fake_github.check_runs(repo)) == 1
    asyncio.run(runner(job_for(fake_github, repo, number, "check_suite.rerequested")))  # an explicit re-run runs
    assert len(fake_github.check_runs(repo)) == 2 and len(fake_github.reviews(repo, number)) == 1


def test_an_unexpected_error_fails_the_check_closed(fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    repo, number = pr(fake_github, "crash", {"README.md": "x\n"}, {"main.tf": UNENCRYPTED.format(i=1)})

    async def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("engine bug")

    monkeypatch.setattr("bot.app.runner.EnginePool.review", broken)
    with pytest.raises(KeyError):
        review(fake_github, repo, number)
    (run,) = fake_github.check_runs(repo)
    assert run["status"] == "completed" and run["conclusion"] == "failure"
    assert "internal error in Compliance Bot" in run["summary"] and "KeyError" not in run["summary"]


def test_listing_cut_at_githubs_file_limit_fails_closed(fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_github.files_max = 5
    monkeypatch.setattr("bot.github.files.MAX_PR_FILES", 5)
    repo, number = pr(fake_github, "toomany", {"README.md": "x\n"}, {f"f{i}.txt": "x\n" for i in range(7)})
    run = review(fake_github, repo, number)
    assert run["conclusion"] == "failure"  # files past the cap were never read: not a pass
    assert "**Not reviewed**" in run["summary"] and "at most 5 changed files" in run["summary"]


HELM_TEMPLATE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "app.fullname" . }}
  labels:
    {{- include "app.labels" . | nindent 4 }}
data:
  image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
"""
NOT_REVIEWED_HEAD: dict[str, str | bytes | None] = {
    "charts/app/templates/deployment.yaml": HELM_TEMPLATE, "infra/main.bicep": "param location string\n",
    "docs/logo.png": b"\x89PNG\r\n\x1a\n\x00\x00binary", "app/main.py": "print('hi')\n"}


def test_what_the_engine_cannot_review_is_listed_and_passes(fake_github: FakeGitHub) -> None:
    chart = {"charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.0.0\n", "config/values.yaml": "a: 1\n"}
    repo = fake_github.create_repo("octo-org", "unreviewed", files={"README.md": "x\n", **chart})
    repo.commit("feature", {**NOT_REVIEWED_HEAD, "charts/app/values.yaml": "securityContext:\n  privileged: true\n",
                            "config/values.yaml": "a: 2\n"}, "chart, bicep and a logo")
    run = review(fake_github, repo, repo.open_pull_request(head="feature"))
    assert run["conclusion"] == "success"  # listed, not failing: the default policy
    assert run["title"] == "No compliance issues, 4 not reviewed"
    listed = run["summary"].split("**Not reviewed** (listed; the check does not fail for these):")[1]
    assert "- `charts/app/templates/deployment.yaml` (helm template): Go template (Helm)" in listed
    assert "- `docs/logo.png` (binary file): " in listed and "- `infra/main.bicep` (bicep): " in listed
    assert "- `charts/app/values.yaml` (helm values): values of the Helm chart in `charts/app`" in listed
    assert "config/values.yaml" not in listed  # no Chart.yaml beside it (asked in the same read, found missing)
    assert "main.py" not in run["summary"] and run["annotations"] == []


def test_the_policy_fails_the_kinds_it_names(fake_github: FakeGitHub) -> None:
    policy = "not_reviewed:\n  fail: [helm template, remote module]\n"
    repo = fake_github.create_repo("octo-org", "strict", files={".github/compliance.yml": policy})
    repo.commit("feature", NOT_REVIEWED_HEAD, "chart, bicep and a logo")
    run = review(fake_github, repo, repo.open_pull_request(head="feature"))
    assert run["conclusion"] == "failure"
    assert run["title"] == "0 blocking finding(s), 3 not reviewed (failing by policy)"
    failing, listed = run["summary"].split("**Not reviewed** (listed; the check does not fail for these):")
    assert "**Not reviewed, and the policy fails the check for these** (`not_reviewed.fail`" in failing
    assert "`charts/app/templates/deployment.yaml` (helm template)" in failing and "bicep" not in failing
    assert "`infra/main.bicep` (bicep)" in listed and "helm template" not in listed


def test_without_graphql_the_review_still_lands_and_never_repeats(fake_github: FakeGitHub) -> None:
    repo, number = pr(fake_github, "nographql", {"m/vars.tf": 'variable "enc" {\n  default = false\n}\n'},
                      {"m/main.tf": UNENCRYPTED.format(i=1), "m/more.tf": UNENCRYPTED.format(i=2)})
    fake_github.inject("POST", r"/graphql$", status=404, times=1000, body={"message": "Not Found"})
    run = review(fake_github, repo, number)
    assert run["conclusion"] == "failure" and len(run["annotations"]) == 2
    assert fake_github.count("GET", r"/git/trees/") == 1 and fake_github.count("GET", r"/contents/m/") == 3
    (first,) = fake_github.reviews(repo, number)
    assert len(first["comments"]) == 2

    repo.push(number, {"m/more.tf": UNENCRYPTED.format(i=2).replace("false", "true")}, "fix one")
    run = review(fake_github, repo, number, "pull_request.synchronize")
    assert run["conclusion"] == "failure" and len(run["annotations"]) == 1
    assert len(fake_github.reviews(repo, number)) == 1  # the remaining finding was already commented
    assert "1 thread(s) of fixed findings could not be resolved automatically." in run["summary"]


def test_every_rest_call_names_the_api_version_it_was_written_for(fake_github: FakeGitHub) -> None:
    repo, number = pr(fake_github, "version", {"README.md": "x\n"}, {"main.tf": UNENCRYPTED.format(i=1)})
    fake_github.reset_requests()
    review(fake_github, repo, number)
    rest = [r for r in fake_github.requests if r.path != "/graphql" and "access_tokens" not in r.path]
    assert rest and all(r.headers.get("x-github-api-version") == "2022-11-28" for r in rest), [
        (r.method, r.path, r.headers.get("x-github-api-version")) for r in rest]


# -- one idempotence design: the check run is found again on GitHub by the review's key ---------


def test_a_check_run_left_in_progress_is_finished_by_the_next_job(fake_github: FakeGitHub,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    repo, number = pr(fake_github, "resume", {"README.md": "x\n"}, {"main.tf": UNENCRYPTED.format(i=1)})

    class ProcessDied(BaseException):
        """The process is gone mid-job (SIGKILL, a lost node): no code of the job runs any more. A
        cancellation is no such death: a cancelled job completes or re-queues its run."""

    async def dies(*args: object) -> None:
        raise ProcessDied

    with monkeypatch.context() as patched:
        patched.setattr("bot.app.runner.ReviewRunner._report", dies)
        with pytest.raises(ProcessDied):
            review(fake_github, repo, number)
    (left,) = fake_github.check_runs(repo)
    assert left["status"] == "in_progress"

    run = review(fake_github, repo, number, "pull_request.synchronize")  # a redelivery, or GitHub's next event
    assert len(fake_github.check_runs(repo)) == 1 and run["id"] == left["id"]
    assert run["status"] == "completed" and run["conclusion"] == "failure"


def test_a_check_run_created_despite_a_502_is_found_again_not_created_twice(fake_github: FakeGitHub) -> None:
    repo, number = pr(fake_github, "create502", {"README.md": "x\n"}, {"main.tf": UNENCRYPTED.format(i=1)})
    failed: list[int] = []

    def created_then_502(operation_id: str | None, response: Response) -> Response | None:
        if operation_id == "checks/create" and not failed:
            failed.append(response.status)  # GitHub made the run, then the answer was lost
            return Response(502, {"message": "Server Error"})
        return None

    fake_github.response_hook = created_then_502
    run = review(fake_github, repo, number)
    assert failed == [201]
    assert len(fake_github.check_runs(repo)) == 1 and run["conclusion"] == "failure"
    assert fake_github.count("POST", r"/check-runs$") == 1  # never blindly repeated


def test_retargeting_the_base_branch_is_a_new_review(fake_github: FakeGitHub) -> None:
    repo, number = pr(fake_github, "retarget", {"README.md": "x\n"}, {"main.tf": UNENCRYPTED.format(i=1)})
    repo.commit("release", {"CHANGELOG.md": "1.0\n"}, "a release branch")
    first = review(fake_github, repo, number)
    repo.pull(number).base_ref = "release"
    retargeted = {"changes": {"base": {"ref": {"from": "main"}, "sha": {"from": repo.branch_sha("main")}}}}
    edited = job_for(fake_github, repo, number, "pull_request.edited", retargeted)
    assert edited.base_ref == "release"
    app = GitHubApp(fake_github.app_id, fake_github.private_key_pem, fake_github.url, 10.0)
    asyncio.run(ReviewRunner(app, "compliance")(edited))
    runs = fake_github.check_runs(repo)
    assert [(r["status"], r["conclusion"]) for r in runs] == [("completed", "failure")] * 2  # reviewed again
    assert runs[0]["id"] == first["id"] and runs[0]["external_id"] != runs[1]["external_id"]


def test_a_stale_listing_is_replaced_by_a_comparison_at_the_head(fake_github: FakeGitHub,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    repo, number = pr(fake_github, "stale", {"README.md": "x\n"}, {"main.tf": UNENCRYPTED.format(i=1)})
    reviewed = repo.branch_sha("feature")
    job = job_for(fake_github, repo, number)
    repo.push(number, {"main.tf": UNENCRYPTED.format(i=1).replace("false", "true")}, "encrypt")
    newer = files.changes_at_head

    async def listing_of_the_newer_head(gh: Any, owner: str, name: str, pull: Any, head_sha: str) -> Any:
        # A listing that claims to be this head's but describes the newer one (what a race can give).
        current = await gh.get_pull(owner, name, pull.number)
        changes = await newer(gh, owner, name, current, current.head_sha)
        return files.HeadChanges(head_sha, changes.files, True, False, changes.limit)

    monkeypatch.setattr("bot.app.runner.changes_at_head", listing_of_the_newer_head)
    app = GitHubApp(fake_github.app_id, fake_github.private_key_pem, fake_github.url, 10.0)
    asyncio.run(ReviewRunner(app, "compliance")(job))
    (run,) = [r for r in fake_github.check_runs(repo) if r["head_sha"] == reviewed]
    assert run["conclusion"] == "failure"  # the reviewed head's own (unencrypted) text decided
    assert fake_github.count("GET", r"/compare/") == 1


def test_every_log_line_of_a_job_names_its_delivery(fake_github: FakeGitHub) -> None:
    repo, number = pr(fake_github, "logs", {"README.md": "x\n"}, {"main.tf": UNENCRYPTED.format(i=1)})
    job = job_for(fake_github, repo, number)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        app = GitHubApp(fake_github.app_id, fake_github.private_key_pem, fake_github.url, 10.0)
        asyncio.run(ReviewRunner(app, "compliance")(job))
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    lines = [line for line in stream.getvalue().splitlines() if line.strip()]
    job_lines = [line for line in lines if " bot." in line or " httpx:" in line]
    assert job_lines and any("bot.app.runner" in line for line in job_lines)
    assert all(f"delivery={job.delivery_id} repo=octo-org/logs pr={number} head={job.head_sha[:12]}" in line
               for line in job_lines), [line for line in job_lines if job.delivery_id not in line]


AUDIT_LOGS = 'resource "aws_cloudwatch_log_group" "audit" {{\n  name              = "/audit"\n' \
             '  retention_in_days = {days}\n  kms_key_id        = "arn:aws:kms:eu-west-1:111122223333:key/audit"\n}}\n'


@pytest.mark.parametrize(("policy", "conclusion", "level"), [
    ("fail_on: low\n", "failure", "failure"),
    ("regressions: notice\n", "success", "warning"),
])
def test_a_retention_cut_is_commented_on_its_line_and_blocks_unless_regressions_are_notices(
        fake_github: FakeGitHub, policy: str, conclusion: str, level: str) -> None:
    """365 -> 120 days passes the 90-day minimum, yet the control was weakened against the base."""
    name = "regression-" + conclusion
    repo, number = pr(fake_github, name, {".github/compliance.yml": policy, "logs/main.tf": AUDIT_LOGS.format(days=365)},
                      {"logs/main.tf": AUDIT_LOGS.format(days=120)})
    run = review(fake_github, repo, number)
    assert run["conclusion"] == conclusion
    assert [(a["path"], a["start_line"], a["annotation_level"], a["title"].split(":")[0]) for a in run["annotations"]] \
        == [("logs/main.tf", 3, level, "CB-REG-002")]
    assert "365 to 120 days (still ≥ 90)" in run["annotations"][0]["message"]
    (posted,) = fake_github.reviews(repo, number)
    (comment,) = posted["comments"]
    assert (comment["path"], comment["line"]) == ("logs/main.tf", 3)
    assert "```suggestion\n  retention_in_days = 365\n```" in comment["body"]


def test_a_module_argument_gets_the_inline_comment_with_where_the_value_came_from(fake_github: FakeGitHub) -> None:
    module = ('variable "encrypted" {\n  default = true\n}\n\nresource "aws_ebs_volume" "this" {\n'
              '  availability_zone = "a"\n  size              = 1\n  encrypted         = var.encrypted\n}\n')
    call = 'module "ledger" {\n  source = "./modules/volume"\n}\n'
    repo, number = pr(fake_github, "module-arg", {"modules/volume/main.tf": module, "main.tf": call},
                      {"main.tf": call.replace("}\n", "  encrypted = false\n}\n")})
    run = review(fake_github, repo, number)
    assert run["conclusion"] == "failure"
    (posted,) = fake_github.reviews(repo, number)
    (comment,) = posted["comments"]
    assert (comment["path"], comment["line"]) == ("main.tf", 3)
    assert "`module.ledger.aws_ebs_volume.this`" in comment["body"]
    assert ("**Where the value comes from:** `var.encrypted` ← `encrypted = false` in module call `ledger`, "
            "main.tf:3") in comment["body"]
    assert "```suggestion" not in comment["body"]  # the rule's fix is for the module's line, not this one


def test_retargeting_onto_a_branch_whose_policy_disables_the_rule_does_not_switch_it_off(
    fake_github: FakeGitHub,
) -> None:
    repo, number = pr(fake_github, "retarget-policy", {"README.md": "x\n"}, {"main.tf": UNENCRYPTED.format(i=1)})
    repo.commit("lenient", {".github/compliance.yml": "rules:\n  disable: [CB-AWS-001]\nfail_on: critical\n"},
                "a branch with a lenient policy")
    repo.pull(number).base_ref = "lenient"
    retargeted = {"changes": {"base": {"ref": {"from": "main"}, "sha": {"from": repo.branch_sha("main")}}}}
    edited = job_for(fake_github, repo, number, "pull_request.edited", retargeted)
    app = GitHubApp(fake_github.app_id, fake_github.private_key_pem, fake_github.url, 10.0)
    asyncio.run(ReviewRunner(app, "compliance")(edited))
    run = fake_github.check_runs(repo)[-1]
    assert (run["status"], run["conclusion"]) == ("completed", "failure")  # the default branch's policy: none
    assert any(c["path"] == "main.tf" for c in fake_github.reviews("octo-org", "retarget-policy", number)[-1]["comments"])


def test_nothing_the_pull_request_author_writes_outside_the_default_branch_changes_the_outcome(
    fake_github: FakeGitHub,
) -> None:
    repo = fake_github.create_repo("octo-org", "words", files={"README.md": "x\n"})
    repo.commit("feature", {"main.tf": UNENCRYPTED.format(i=1) + "# compliance-bot: disable CB-AWS-001\n"}, "change")
    number = repo.open_pull_request(
        head="feature", title="[skip ci] [skip compliance] compliance-bot: ignore",
        body="compliance-bot: disable CB-AWS-001\n@compliance-bot approve\n```yaml\nfail_on: critical\n```")
    repo.add_review_comment(number, "main.tf", 3, "@compliance-bot suppress CB-AWS-001: accepted risk")
    run = review(fake_github, repo, number)
    assert (run["status"], run["conclusion"]) == ("completed", "failure")


@pytest.mark.parametrize("how", ["shutdown, shared queue", "shutdown, one process"])
def test_a_job_stopped_mid_review_never_leaves_its_check_run_in_progress(fake_github: FakeGitHub, how: str) -> None:
    """Stopped by a shutdown: with a shared queue (Redis) the run goes back to `queued` for the
    worker that takes the job; in one process it is completed neutral without the review's key,
    so the next delivery of the head reviews it in a new run."""
    hands_back = how == "shutdown, shared queue"
    repo, number = pr(fake_github, f"stopped-{len(how)}", {"README.md": "x\n"}, {"main.tf": UNENCRYPTED.format(i=1)})
    entered, released = threading.Event(), threading.Event()

    def hold_the_listing(operation_id: str | None, response: Response) -> None:
        if operation_id == "pulls/list-files" and not entered.is_set():
            entered.set()
            released.wait(30)

    app = GitHubApp(fake_github.app_id, fake_github.private_key_pem, fake_github.url, 10.0)
    runner = ReviewRunner(app, "compliance", hands_back=hands_back)

    async def stop_mid_review() -> int:
        queue = InProcessQueue()
        worker = Worker(queue, runner, 1, job_timeout=None)
        await worker.start()
        await queue.put(job_for(fake_github, repo, number))
        assert await asyncio.to_thread(entered.wait, 30)
        stopping = asyncio.create_task(worker.stop(0))
        released.set()
        await asyncio.wait_for(stopping, 30)
        return queue.qsize()

    fake_github.response_hook = hold_the_listing
    try:
        handed_back = asyncio.run(stop_mid_review())
    finally:
        released.set()
        fake_github.response_hook = None
    (run,) = fake_github.check_runs(repo)
    if hands_back:
        assert run["status"] == "queued" and run["title"] == "Interrupted; re-queued"
    else:
        assert run["status"] == "completed" and run["conclusion"] == "neutral"
        assert run["external_id"].endswith(":interrupted")
    assert handed_back == 1
    asyncio.run(runner(job_for(fake_github, repo, number)))  # the job again (taken over, or redelivered)
    runs = fake_github.check_runs(repo)
    assert [r["status"] for r in runs] == ["completed"] * (1 if hands_back else 2)
    assert runs[-1]["conclusion"] == "failure" and len(fake_github.reviews(repo, number)) == 1


def test_a_job_past_the_workers_time_out_fails_its_check_and_leaves_no_engine_running(fake_github: FakeGitHub) -> None:
    slow = "".join(f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\nspec:\n  containers:\n"
                   f"    - name: c\n      image: x:1\n      securityContext:\n        privileged: true\n---\n"
                   for i in range(8000))  # many seconds of engine work
    repo, number = pr(fake_github, "timed-out", {"README.md": "x\n"}, {"k8s/pods.yaml": slow})
    engines = EnginePool(1)
    runner = ReviewRunner(GitHubApp(fake_github.app_id, fake_github.private_key_pem, fake_github.url, 10.0),
                          "compliance", engines=engines)

    async def time_out() -> None:
        queue = InProcessQueue()
        async with Worker(queue, runner, 1, job_timeout=5) as worker:
            await queue.put(job_for(fake_github, repo, number))
            (pid,) = await eventually(engines.live_pids, what="the job's engine process",
                                      timeout=60)
            await eventually(lambda: worker.failed == 1, what="the job to time out", timeout=60)
        assert queue.qsize() == 0  # failed, not handed back
        await eventually(lambda: pid not in engines.live_pids(), what="the engine process to be killed",
                         timeout=30)

    try:
        asyncio.run(time_out())
    finally:
        engines.close()
    (run,) = fake_github.check_runs(repo)
    assert run["status"] == "completed" and run["conclusion"] == "failure"
    assert "took longer than the worker allows" in run["summary"]


def test_a_job_completes_only_the_check_run_of_its_own_head(fake_github: FakeGitHub) -> None:
    repo, number = pr(fake_github, "own-head", {"README.md": "x\n"}, {"main.tf": UNENCRYPTED.format(i=1)})
    first_head = repo.branch_sha("feature")
    old_job = job_for(fake_github, repo, number)
    repo.push(number, {"main.tf": UNENCRYPTED.format(i=1).replace("false", "true")}, "encrypt")
    new_job = job_for(fake_github, repo, number, "pull_request.synchronize")
    app = GitHubApp(fake_github.app_id, fake_github.private_key_pem, fake_github.url, 10.0)
    runner = ReviewRunner(app, "compliance")
    asyncio.run(runner(new_job))
    asyncio.run(runner(old_job))  # the older head's job runs last, as a slow queue would have it
    runs = {r["head_sha"]: (r["status"], r["conclusion"]) for r in fake_github.check_runs(repo)}
    assert runs == {new_job.head_sha: ("completed", "success"), first_head: ("completed", "failure")}
