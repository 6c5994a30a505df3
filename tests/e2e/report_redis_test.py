"""End to end with Redis: a web-only server (`serve --no-worker`, PUBLIC_URL) and a worker
(`compliance-bot worker --metrics-port`). Each process's /metrics counts what it did; both read
the shared queue's depth; the report page the worker stored in Redis is served by the web process."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.report_test import VOLUME, delta, scrape_url
from tests.e2e.serving import completed_runs, free_port, serve, wait_for, work
from tests.fakegithub import FakeGitHub

# Server processes (and, in the Redis test, a worker and its engine process) start, and one review
# runs, inside the first test: on a loaded 2-core machine that alone can take over a minute.
pytestmark = pytest.mark.timeout(300)


def test_a_worker_serves_its_own_metrics_and_the_web_serves_its_reports(
        fake: FakeGitHub, redis_url: str, redis_names: dict[str, str], tmp_path: Path) -> None:
    web_port, metrics_port = free_port(), free_port()
    env = {"REDIS_URL": redis_url, "REDIS_NAMESPACE": redis_names["prefix"], "WORKER_HEARTBEAT": "1",
           "WORKER_CONCURRENCY": "1", "SHUTDOWN_GRACE": "0", "PUBLIC_URL": f"http://127.0.0.1:{web_port}"}
    repo = fake.create_repo("octo-org", "split-roles", files={"README.md": "infra\n"})
    repo.commit("feature", {"infra/main.tf": VOLUME}, "add a volume")
    number = repo.open_pull_request(head="feature", title="Add a volume")
    with serve(fake, tmp_path / "web.log", env=env, args=["--no-worker"], port=web_port) as web, \
            work(fake, tmp_path / "worker.log", env, args=["--metrics-port", str(metrics_port),
                                                           "--metrics-host", "127.0.0.1"]) as worker:
        worker_metrics = f"http://127.0.0.1:{metrics_port}/metrics"
        web_before, worker_before = scrape_url(f"{web.url}/metrics"), scrape_url(worker_metrics)
        assert web.deliver(*fake.webhook("pull_request.opened", repo, number)).status_code == 202
        sha = repo.branch_sha("feature")  # the worker spawns its first engine process now: slow on a busy box
        run = wait_for(lambda: completed_runs(fake, repo, sha), 240, "the review")[-1]
        worker_after = wait_for(lambda: (s := scrape_url(worker_metrics))
                                and delta(s, worker_before, "compliance_bot_jobs_total", outcome="done") and s,
                                30, "the worker to count the job")
        web_after = scrape_url(f"{web.url}/metrics")

        assert delta(web_after, web_before, "compliance_bot_webhook_deliveries_total", event="pull_request",
                     outcome="queued") == 1
        assert delta(web_after, web_before, "compliance_bot_jobs_total", outcome="done") == 0  # reviews nothing
        assert delta(worker_after, worker_before, "compliance_bot_findings_total", rule="CB-AWS-001",
                     severity="high") == 1
        assert delta(worker_after, worker_before, "compliance_bot_github_requests_total", method="POST",
                     route="/repos/{owner}/{repo}/check-runs", status="201") == 1
        for samples in (web_after, worker_after):  # both read the one queue in Redis
            assert samples[("compliance_bot_queue_up", ())] == 1
            assert samples[("compliance_bot_queue_jobs", (("state", "waiting"),))] == 0

        page = httpx.get(run["details_url"], timeout=10)
        assert run["details_url"].startswith(f"{web.url}/reports/") and page.status_code == 200
        assert "CB-AWS-001: EBS volume is not encrypted" in page.text and "infra/main.tf" in page.text
        worker.process.terminate()  # SIGTERM still stops the worker: the metrics server took no signal
        assert worker.process.wait(timeout=30) == 0
