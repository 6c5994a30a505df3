"""Acceptance of scale-out (issue 11), end to end on a real Redis: two web-only servers
(`serve --no-worker`) and two workers (`compliance-bot worker`), all real processes.

Fifty signed deliveries of GitHub's own payload shape, for ten pull requests with several pushes
each and some deliveries sent twice (to the other server, as a GitHub redelivery would be), arrive
while no worker runs; then both workers start. The design (`bot.app.heads`): a job whose head is
no longer its pull request's latest, by the shared record and by GitHub, stops before any work and
creates no check run (it only completes `neutral` a run an earlier attempt left open, and here
there is none). So exactly: one check run per pull request, on its final head, completed, with the
findings; one review per final head; nothing for a superseded head; nothing left open.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.serving import App, completed_run, serve, wait_for, work
from tests.fakegithub import FakeGitHub, Repository

PULLS = 10
PUSHES = 3  # after the opening commit: four heads, four deliveries per pull request
DUPLICATES = PULLS * (PUSHES + 1) // 4  # every fourth delivery is sent twice
VOLUME = ('resource "aws_ebs_volume" "v{i}" {{\n  availability_zone = "eu-west-1a"\n  size = 1\n'
          '  encrypted = false\n}}\n')


def volumes(count: int) -> str:
    return "".join(VOLUME.format(i=i) for i in range(count))


@pytest.mark.timeout(400)  # four processes and forty reviews on a shared 2-core machine
def test_fifty_deliveries_for_ten_pulls_over_two_servers_and_two_workers(
        fake: FakeGitHub, redis_url: str, redis_names: dict[str, str], tmp_path: Path) -> None:
    env = {"REDIS_URL": redis_url, "REDIS_NAMESPACE": redis_names["prefix"], "WORKER_HEARTBEAT": "1",
           "WORKER_CONCURRENCY": "2", "SHUTDOWN_GRACE": "0"}
    pulls: list[tuple[Repository, int, list[str]]] = []
    deliveries: list[tuple[dict[str, str], bytes]] = []
    for p in range(PULLS):
        repo = fake.create_repo("octo-org", f"accept-{p}", files={"README.md": "x\n"})
        repo.commit("feature", {"main.tf": volumes(1)}, "first change")
        number = repo.open_pull_request(head="feature", title=f"Change {p}")
        heads = [repo.branch_sha("feature")]
        deliveries.append(fake.webhook("pull_request.opened", repo, number))
        for push in range(1, PUSHES + 1):
            repo.push(number, {"main.tf": volumes(push + 1)})
            heads.append(repo.branch_sha("feature"))
            deliveries.append(fake.webhook("pull_request.synchronize", repo, number))  # names this push's head
        pulls.append((repo, number, heads))
    sent = [*deliveries, *deliveries[::4]]  # the duplicates last: a redelivery comes after the original
    assert len(sent) == 50 and len(deliveries[::4]) == DUPLICATES
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    with serve(fake, tmp_path / "web-1.log", env, ["--no-worker"]) as one, \
            serve(fake, tmp_path / "web-2.log", env, ["--no-worker"]) as two:
        servers: list[App] = [one, two]
        answers = [servers[i % 2].deliver(headers, body) for i, (headers, body) in enumerate(sent)]
        assert [a.status_code for a in answers] == [202] * 50
        assert [a.json().get("duplicate", False) for a in answers] == [False] * 40 + [True] * DUPLICATES
        assert all(len(fake.check_runs(repo)) == 0 for repo, _, _ in pulls)  # nothing reviews yet
        with work(fake, logs[0], env), work(fake, logs[1], env):
            finals = [completed_run(fake, repo, heads[-1]) for repo, _, heads in pulls]
            guids = {headers["X-GitHub-Delivery"] for headers, _ in deliveries}

            def finished() -> set[str]:
                text = "".join(log.read_text(errors="replace") for log in logs)
                return set(re.findall(r"delivery=(\S+) review (?:done|failed)", text))

            wait_for(lambda: finished() >= guids, 90, "every delivery's job to finish")
            ran = re.findall(r"delivery=(\S+) review (?:done|failed)",
                             "".join(log.read_text(errors="replace") for log in logs))
    assert sorted(ran) == sorted(guids)  # each delivery ran once: no duplicate was queued
    assert "failed" not in " ".join(re.findall(r"review (?:done|failed)", "".join(
        log.read_text(errors="replace") for log in logs)))
    for (repo, number, heads), final in zip(pulls, finals, strict=True):
        runs = fake.check_runs(repo)
        assert [(r["head_sha"], r["status"]) for r in runs] == [(heads[-1], "completed")], repo.full_name
        assert final["conclusion"] == "failure"
        flagged = sorted({a["start_line"] for a in final["annotations"] if "CB-AWS-001" in str(a)})
        assert len(flagged) == PUSHES + 1  # every volume of the final head, each unencrypted
        (review,) = fake.reviews(repo, number)
        assert review["commit_id"] == heads[-1]
        assert len(review["comments"]) == PUSHES + 1
    for name in ("web-1.log", "web-2.log"):
        assert "review started" not in (tmp_path / name).read_text()  # web-only servers review nothing
    worked = [len(re.findall(r"review started", log.read_text())) for log in logs]
    assert sum(worked) == len(guids)
