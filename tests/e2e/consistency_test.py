"""End to end, the verdict holds when GitHub moves under the App: a push landing during a review,
a draft marked ready moments after it was opened, and two servers sharing one Redis receiving
GitHub's two deliveries for one new head at once."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

from tests.e2e.serving import App, completed_run, serve, wait_for
from tests.fakegithub import FakeGitHub, Repository
from tests.fakegithub.messages import Response

OLD_VOLUME = 'resource "aws_ebs_volume" "old" {\n  availability_zone = "eu-west-1a"\n  size              = 10\n}\n'
ENCRYPTED = '\nresource "aws_ebs_volume" "new" {\n  availability_zone = "eu-west-1a"\n  size              = 10\n  encrypted         = true\n}\n'
UNENCRYPTED = ENCRYPTED.replace("true", "false")
EBS_LINE = (OLD_VOLUME + UNENCRYPTED).splitlines().index("  encrypted         = false") + 1


def open_pr(fake: FakeGitHub, name: str, head: dict[str, str | None], draft: bool = False) -> tuple[Repository, int]:
    repo = fake.create_repo("octo-org", name, files={"infra/main.tf": OLD_VOLUME})
    repo.commit("feature", head, "change infrastructure")
    return repo, repo.open_pull_request(head="feature", title="Infra change", draft=draft)


def annotated_lines(run: dict[str, Any]) -> list[tuple[str, int]]:
    return [(a["path"], a["start_line"]) for a in run["annotations"]]


def test_a_push_landing_during_a_review_never_lets_the_new_head_pass(fake: FakeGitHub, app: App) -> None:
    repo, number = open_pr(fake, "push-during-review", {"infra/main.tf": OLD_VOLUME + ENCRYPTED})
    first = repo.branch_sha("feature")
    opened = fake.webhook("pull_request.opened", repo, number)  # describes the first head
    pushed: list[str] = []

    def push_while_reviewing(operation_id: str | None, response: Response) -> None:
        if operation_id == "checks/create" and not pushed:  # the first head's review is under way
            pushed.append(repo.push(number, {"infra/main.tf": OLD_VOLUME + UNENCRYPTED}, "drop encryption"))

    fake.response_hook = push_while_reviewing
    try:
        assert app.deliver(*opened).status_code == 202
        run = completed_run(fake, repo, first)
    finally:
        fake.response_hook = None
    assert run["conclusion"] == "success"  # the first head itself is clean
    assert fake.reviews(repo, number) == []  # and it is no longer the head: no inline comments for it

    (second,) = pushed
    assert app.deliver(*fake.webhook("pull_request.synchronize", repo, number)).status_code == 202
    run = completed_run(fake, repo, second)
    assert run["conclusion"] == "failure"
    assert annotated_lines(run) == [("infra/main.tf", EBS_LINE)]
    (review,) = fake.reviews(repo, number)
    assert review["commit_id"] == second and [(c["path"], c["line"]) for c in review["comments"]] == [
        ("infra/main.tf", EBS_LINE)]


def test_a_draft_marked_ready_within_a_minute_gets_a_full_review(fake: FakeGitHub, app: App) -> None:
    repo, number = open_pr(fake, "draft-then-ready", {"infra/main.tf": OLD_VOLUME + UNENCRYPTED}, draft=True)
    sha = repo.branch_sha("feature")
    assert app.deliver(*fake.webhook("pull_request.opened", repo, number)).status_code == 202
    assert completed_run(fake, repo, sha)["conclusion"] == "neutral"

    repo.set_draft(number, False)
    assert app.deliver(*fake.webhook("pull_request.ready_for_review", repo, number)).status_code == 202
    run = completed_run(fake, repo, sha, count=2)
    assert run["conclusion"] == "failure" and annotated_lines(run) == [("infra/main.tf", EBS_LINE)]
    (review,) = fake.reviews(repo, number)
    assert [(c["path"], c["line"]) for c in review["comments"]] == [("infra/main.tf", EBS_LINE)]


def test_two_servers_on_one_redis_review_each_head_once(fake: FakeGitHub, tmp_path: Path, redis_url: str) -> None:
    """GitHub sends `pull_request.opened` and `check_suite.requested` for every new head; here each
    lands on a different server. One consumer each, so both servers take jobs, and the two jobs of
    one head often run at once in two processes: the Redis lease and the check run's key must
    still make exactly one check run and one review per head."""
    prs = [open_pr(fake, f"two-servers-{i}", {"infra/main.tf": OLD_VOLUME + UNENCRYPTED}) for i in range(4)]
    env = {"REDIS_URL": redis_url, "REDIS_NAMESPACE": f"compliance-bot-test-{uuid.uuid4().hex[:12]}",
           "WORKER_CONCURRENCY": "1"}
    with serve(fake, tmp_path / "a.log", env) as first, serve(fake, tmp_path / "b.log", env) as second:
        deliveries = []
        for i, (repo, number) in enumerate(prs):
            servers = (first, second) if i % 2 == 0 else (second, first)
            deliveries += [(servers[0], fake.webhook("pull_request.opened", repo, number)),
                           (servers[1], fake.webhook("check_suite.requested", repo, number))]
        answers: list[int] = []
        threads = [threading.Thread(target=lambda a=server, d=delivery: answers.append(a.deliver(*d).status_code))
                   for server, delivery in deliveries]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert answers == [202] * len(deliveries)
        # Every job ends: one per head reviewed it, the other found that review done on GitHub.
        logs = (first.log, second.log)
        wait_for(lambda: sum(log.read_text().count("already reviewed (") for log in logs) == len(prs), 90,
                 "every second job to find its head reviewed")
    for repo, number in prs:
        (run,) = fake.check_runs(repo)
        assert run["status"] == "completed" and run["conclusion"] == "failure"
        (review,) = fake.reviews(repo, number)
        assert [(c["path"], c["line"]) for c in review["comments"]] == [("infra/main.tf", EBS_LINE)]
