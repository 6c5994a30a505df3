"""End to end, `compliance-bot serve` as its own process with PUBLIC_URL: one review of a pull
request against the fake GitHub, then what an operator and a reviewer see of it: /metrics (read
with Prometheus' own parser), the JSON log lines of the job, and the report page the check run's
details_url opens (over HTTP, and in a real browser)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Dialog
from prometheus_client.parser import text_string_to_metric_families

from tests.browser import open_page as browser_page
from tests.e2e.serving import App, completed_run, free_port, serve, wait_for
from tests.fakegithub import FakeGitHub

# Server processes (and, in the Redis test, a worker and its engine process) start, and one review
# runs, inside the first test: on a loaded 2-core machine that alone can take over a minute.
pytestmark = pytest.mark.timeout(300)

HOSTILE = "infra/<script>alert(1)</script>.tf"  # a file name is repository content: hostile input
VOLUME = """\
resource "aws_ebs_volume" "data" {
  availability_zone = "eu-west-1a"
  size              = 10
  encrypted         = false
}
"""
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(app: App) -> Samples:
    return scrape_url(f"{app.url}/metrics")


def scrape_url(url: str) -> Samples:
    """Every sample of a /metrics page, read with Prometheus' own parser."""
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def delta(after: Samples, before: Samples, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


@dataclass
class Reviewed:
    app: App
    run: dict[str, Any]
    delivery: str
    head_sha: str
    number: int
    before: Samples
    after: Samples


@pytest.fixture(scope="module")
def public_app(fake: FakeGitHub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    port = free_port()
    with serve(fake, tmp_path_factory.mktemp("report") / "server.log",
               env={"PUBLIC_URL": f"http://127.0.0.1:{port}", "LOG_FORMAT": "json"}, port=port) as running:
        yield running


@pytest.fixture(scope="module")
def reviewed(fake: FakeGitHub, public_app: App) -> Reviewed:
    repo = fake.create_repo("octo-org", "observed", files={"README.md": "infra\n"})
    repo.commit("feature", {HOSTILE: VOLUME}, "add a volume")
    number = repo.open_pull_request(head="feature", title="Add a volume")
    sha = repo.branch_sha("feature")
    before = scrape(public_app)
    headers, body = fake.webhook("pull_request.opened", repo, number)
    assert public_app.deliver(headers, body).status_code == 202
    run = completed_run(fake, repo, sha)
    after = wait_for(lambda: (s := scrape(public_app)) and delta(s, before, "compliance_bot_jobs_total", outcome="done")
                     and s, 30, "the job to be counted")
    return Reviewed(public_app, run, headers["X-GitHub-Delivery"], sha, number, before, after)


def test_metrics_count_the_review_with_bounded_labels(reviewed: Reviewed) -> None:
    before, after = reviewed.before, reviewed.after
    assert delta(after, before, "compliance_bot_webhook_deliveries_total", event="pull_request", outcome="queued") == 1
    assert delta(after, before, "compliance_bot_jobs_total", outcome="done") == 1
    assert delta(after, before, "compliance_bot_check_runs_completed_total", conclusion="failure") == 1
    assert delta(after, before, "compliance_bot_findings_total", rule="CB-AWS-001", severity="high") == 1
    assert delta(after, before, "compliance_bot_review_duration_seconds_count") == 1
    assert delta(after, before, "compliance_bot_github_requests_total", method="POST",
                 route="/repos/{owner}/{repo}/check-runs", status="201") == 1
    assert delta(after, before, "compliance_bot_github_requests_total", method="PATCH",
                 route="/repos/{owner}/{repo}/check-runs/{check_run_id}", status="200") >= 1
    assert delta(after, before, "compliance_bot_github_requests_total", method="GET",
                 route="/repos/{owner}/{repo}/pulls/{pull_number}/files", status="200") >= 1
    assert 0 <= after[("compliance_bot_github_rate_limit_remaining", (("resource", "core"),))] < 5000
    assert after[("compliance_bot_queue_jobs", (("state", "waiting"),))] == 0
    assert after[("compliance_bot_queue_up", ())] == 1
    labels = {value for _, pairs in after for _, value in pairs}
    assert not any("octo-org" in v or "observed" in v or reviewed.head_sha in v for v in labels), labels


def test_every_log_line_of_the_job_is_json_naming_it(reviewed: Reviewed) -> None:
    lines = [line for line in reviewed.app.log.read_text().splitlines() if line.strip()]
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON log line: {line!r}")
    ours = [r for r in records if r.get("delivery_id") == reviewed.delivery]
    loggers = {r["logger"] for r in ours}
    assert {"bot.app.worker", "bot.app.runner"} <= loggers, loggers
    for record in ours:
        assert (record["repository"], record["pull_number"], record["head_sha"]) == (
            "octo-org/observed", reviewed.number, reviewed.head_sha), record
    # every line the runner wrote for this head is one of the job's lines
    assert [r for r in records if r["logger"] == "bot.app.runner" and reviewed.head_sha[:12] in r["message"]
            and r.get("delivery_id") != reviewed.delivery] == []


def test_details_url_opens_the_report_page_with_escaped_repository_text(reviewed: Reviewed) -> None:
    details_url = reviewed.run["details_url"]
    assert details_url.startswith(f"{reviewed.app.url}/reports/")
    response = httpx.get(details_url, timeout=10)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "private, no-store"
    html = response.text
    assert "<script>alert(1)</script>" not in html
    assert "infra/&lt;script&gt;alert(1)&lt;/script&gt;.tf" in html
    for text in ("Findings by framework and control", "CB-AWS-001: EBS volume is not encrypted", "HIPAA",
                 "How to fix:", "Not reviewed", "Exceptions", "Evidence record", reviewed.head_sha):
        assert text in html, text


def test_unknown_and_malformed_tokens_get_a_clear_404(reviewed: Reviewed) -> None:
    for token in (secrets.token_urlsafe(32), "not-a-token", "%3Cscript%3E"):
        response = httpx.get(f"{reviewed.app.url}/reports/{token}", timeout=10)
        assert response.status_code == 404 and "Report not found" in response.text
        assert "expired" in response.text


def test_the_report_page_in_a_browser(reviewed: Reviewed, tmp_path: Path) -> None:
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:  # an alert() would mean the file name ran as script
        dialogs.append(dialog.message)
        dialog.dismiss()

    with browser_page() as page:
        page.on("dialog", on_dialog)
        response = page.goto(reviewed.run["details_url"])
        assert response is not None and response.status == 200
        framework = page.locator("section.framework", has_text="HIPAA").first
        assert framework.is_visible()
        assert framework.locator(".finding", has_text="CB-AWS-001: EBS volume is not encrypted").first.is_visible()
        assert page.get_by_text(HOSTILE, exact=False).first.is_visible()  # shown as text, never run
        shot = tmp_path / "report-page.png"
        page.screenshot(path=str(shot), full_page=True)
    assert dialogs == []
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
