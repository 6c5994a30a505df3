"""Scale-out against a real Redis: two `compliance-bot serve` processes share one queue. Twenty
pushes to one pull request in quick succession cost at most two full reviews, the last one on the
last head, and every check run that was created is completed."""

from __future__ import annotations

import re
from pathlib import Path

from tests.app.redis_fixtures import RedisServer
from tests.e2e.serving import completed_run, serve, wait_for
from tests.fakegithub import FakeGitHub

UNENCRYPTED = 'resource "aws_ebs_volume" "v{i}" {{\n  availability_zone = "eu-west-1a"\n  size = 1\n  encrypted = false\n}}\n'
PUSHES = 20


def test_twenty_pushes_across_two_servers_cost_at_most_two_reviews(
        fake: FakeGitHub, redis_url: str, redis_names: dict[str, str], tmp_path: Path) -> None:
    repo = fake.create_repo("octo-org", "pushes", files={"README.md": "x\n"})
    repo.commit("feature", {"main.tf": UNENCRYPTED.format(i=0)}, "change")
    number = repo.open_pull_request(head="feature")
    env = {"REDIS_URL": redis_url, "REDIS_NAMESPACE": redis_names["prefix"], "WORKER_CONCURRENCY": "2"}
    logs = [tmp_path / "one.log", tmp_path / "two.log"]
    with serve(fake, logs[0], env) as one, serve(fake, logs[1], env) as two:
        delivered = []
        for i in range(1, PUSHES + 1):
            repo.push(number, {"main.tf": UNENCRYPTED.format(i=i)})
            headers, body = fake.webhook("pull_request.synchronize", repo, number)
            assert (one if i % 2 else two).deliver(headers, body).status_code == 202
            delivered.append(headers["X-GitHub-Delivery"])
        last = repo.branch_sha("feature")
        run = completed_run(fake, repo, last)

        def finished() -> bool:
            text = "".join(log.read_text(errors="replace") for log in logs)
            done = set(re.findall(r"delivery=(\S+) review (?:done|failed)", text))
            return done >= set(delivered)

        wait_for(finished, 60, "every delivery's job to finish")
    assert run["conclusion"] == "failure" and "CB-AWS-001" in str(run["annotations"])
    runs = fake.check_runs(repo)
    assert [r for r in runs if r["status"] != "completed"] == []
    full = [r for r in runs if r["conclusion"] != "neutral"]
    assert 1 <= len(full) <= 2 and full[-1]["head_sha"] == last
    assert all(r["title"].startswith("Superseded by ") for r in runs if r["conclusion"] == "neutral")
    assert len({r["head_sha"] for r in runs}) == len(runs)  # never two runs for one head
    assert len(fake.reviews(repo, number)) <= 2


def test_deliveries_refused_while_redis_is_down_are_redelivered_by_the_sweeper(
        fake: FakeGitHub, redis_server: RedisServer, tmp_path: Path) -> None:
    pulls = []
    for name in ("outage-a", "outage-b"):
        repo = fake.create_repo("octo-org", name, files={"README.md": "x\n"})
        repo.commit("feature", {"main.tf": UNENCRYPTED.format(i=1)}, "change")
        pulls.append((repo, repo.open_pull_request(head="feature")))
    env = {"REDIS_URL": redis_server.url, "SWEEP_INTERVAL": "0.5"}
    previous_url = fake.webhook_url
    try:
        with serve(fake, tmp_path / "server.log", env) as app:
            fake.webhook_url = f"{app.url}/webhook"
            redis_server.kill()
            refused = []
            for repo, number in pulls:
                headers, body = fake.webhook("pull_request.opened", repo, number)
                answer = app.deliver(headers, body)
                assert answer.status_code == 503
                fake.answered(headers, answer.status_code)
                refused.append(headers["X-GitHub-Delivery"])
            assert fake.check_runs(pulls[0][0]) == []
            redis_server.start()
            runs = [completed_run(fake, repo, repo.branch_sha("feature")) for repo, _ in pulls]
    finally:
        fake.webhook_url = previous_url
    assert [r["conclusion"] for r in runs] == ["failure", "failure"]
    redelivered = [d for d in fake.world.deliveries if d.redelivery and d.guid in refused]
    assert sorted(d.guid for d in redelivered) == sorted(refused)  # each asked for once
    assert {d.status_code for d in redelivered} == {202}
    for repo, number in pulls:
        assert len(fake.check_runs(repo)) == 1 and len(fake.reviews(repo, number)) == 1


def test_a_github_outage_on_the_check_run_is_retried_through_redis(
        fake: FakeGitHub, redis_url: str, redis_names: dict[str, str], tmp_path: Path) -> None:
    repo = fake.create_repo("octo-org", "retried", files={"README.md": "x\n"})
    repo.commit("feature", {"main.tf": UNENCRYPTED.format(i=1)}, "change")
    number = repo.open_pull_request(head="feature")
    # More 502s than the HTTP client's own retries of one request: only a job-level retry gets past.
    fake.inject("PATCH", r"/repos/octo-org/retried/check-runs/\d+$", status=502, times=8)
    env = {"REDIS_URL": redis_url, "REDIS_NAMESPACE": redis_names["prefix"]}
    log = tmp_path / "server.log"
    with serve(fake, log, env) as app:
        assert app.deliver(*fake.webhook("pull_request.opened", repo, number)).status_code == 202
        run = completed_run(fake, repo, repo.branch_sha("feature"))
    assert run["conclusion"] == "failure" and "CB-AWS-001" in str(run["annotations"])
    assert len(fake.check_runs(repo)) == 1 and fake.count("POST", r"/repos/octo-org/retried/check-runs$") == 1
    assert len(fake.reviews(repo, number)) == 1
    text = log.read_text()
    assert "retry 1 of 5 in " in text and "retry mover: 1 due retr(ies) queued again" in text
