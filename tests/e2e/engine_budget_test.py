"""End to end, the engine's hard budget: a review that would run for seconds is killed at
REVIEW_SECONDS in its own process, its check run completed `failure` naming the file, while the
web process goes on answering at once."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import httpx

from tests.e2e.serving import completed_run, serve, wait_for
from tests.fakegithub import FakeGitHub

# About 10 s of engine work here (2,000 documents measured 3.6 s): far past a 3 s budget.
DOCUMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api{i}
spec:
  template:
    spec:
      containers:
        - name: api
          image: example/api:1.0
          securityContext:
            privileged: true
---
"""
BIG = "".join(DOCUMENT.format(i=i) for i in range(6000))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "\nState:\tZ" in status.read_text())


def test_a_review_past_its_time_budget_is_killed_and_fails_its_check_while_webhooks_are_answered(
        fake: FakeGitHub, tmp_path: Path) -> None:
    repo = fake.create_repo("octo-org", "budget", files={"README.md": "x\n"})
    repo.commit("feature", {"k8s/big.yaml": BIG}, "many deployments")
    number = repo.open_pull_request(head="feature", title="Big change")
    sha = repo.branch_sha("feature")
    log = tmp_path / "server.log"
    with serve(fake, log, {"REVIEW_SECONDS": "3", "WORKER_CONCURRENCY": "1"}) as app:
        assert app.deliver(*fake.webhook("pull_request.opened", repo, number)).status_code == 202
        wait_for(lambda: any(r["head_sha"] == sha for r in fake.check_runs(repo)), 60, "the check run to exist")
        latencies = []
        while all(r["status"] != "completed" for r in fake.check_runs(repo) if r["head_sha"] == sha):
            started = time.perf_counter()
            assert httpx.get(f"{app.url}/healthz", timeout=5).status_code == 200
            latencies.append(time.perf_counter() - started)
        run = completed_run(fake, repo, sha)
        text = log.read_text()
    assert latencies, "no request was made while the review ran"
    assert max(latencies) < 0.5, latencies  # the engine never held the event loop
    assert run["conclusion"] == "failure" and run["title"] == "Review exceeded its time budget"
    assert "review exceeded its time budget (3 s): k8s/big.yaml" in run["summary"]
    assert len([r for r in fake.check_runs(repo) if r["head_sha"] == sha]) == 1
    (pid,) = {int(p) for p in re.findall(r"engine process (\d+) killed", text)}
    assert not _alive(pid), "the engine process outlived its budget"
