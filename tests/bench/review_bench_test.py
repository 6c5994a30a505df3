"""A smoke run of bench/review_bench.py against the fake GitHub (small repositories, a small big
pull request), and the fake's added latency that the bench relies on."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest

from bench import review_bench
from tests.fakegithub import FakeGitHub


def test_repositories_have_the_size_asked_for_and_the_change_touches_three_files() -> None:
    for size in (50, 500):
        files = review_bench.repository_files(size)
        assert len(files) == size
        change = review_bench.three_file_change(1)
        assert len(change) == 3 and set(change) <= set(files)
        assert all(change[p] != files[p] for p in change)


def test_the_fakes_added_latency_delays_every_answer() -> None:
    with FakeGitHub() as fake:
        fake.latency = 0.2
        started = time.monotonic()
        try:
            urllib.request.urlopen(f"{fake.url}/meta").close()
        except urllib.error.HTTPError:
            pass  # whatever the answer: it came no sooner than the delay
        assert time.monotonic() - started >= 0.2
        assert [r.path for r in fake.requests] == ["/meta"]
        assert 0 < fake.served_cpu < 0.2  # its own work counted, not the time it slept
        fake.reset_requests()
        assert fake.served_cpu == 0


@pytest.mark.timeout(900)  # starts engine processes and reviews several pull requests on a shared machine
def test_the_smoke_run_reviews_and_reports(capsys: pytest.CaptureFixture[str]) -> None:
    assert review_bench.main(["--smoke"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith(("| 40 |", "| 60 |"))]
    assert len(rows) == 4  # two sizes, with and without added latency
    calls = {row.split("|")[6].strip() for row in rows}
    assert len(calls) == 1 and int(calls.pop()) > 5  # the same API calls whatever the repository's size
    assert "A 30-file pull request" in out and "Ratios" in out


@pytest.mark.timeout(900)
def test_a_kept_runner_reads_only_what_changed_since_its_first_review() -> None:
    """The bench's default (`--runner kept`) measures a running worker: texts of files no pull
    request changed come from its cache, so reading a repository's Terraform to find a module's
    callers costs API calls once, in the first review."""
    with FakeGitHub() as fake:
        repo = fake.create_repo("bench", "kept", files=review_bench.repository_files(500))
        runner = review_bench.new_runner(fake)
        first = review_bench.review(fake, repo, "first", review_bench.three_file_change(1), runner)
        again = review_bench.review(fake, repo, "again", review_bench.three_file_change(2), runner)
        fresh = review_bench.review(fake, repo, "fresh", review_bench.three_file_change(3))
    assert again.calls < first.calls and again.calls < fresh.calls
    assert again.github_cpu < first.github_cpu  # fewer and smaller answers: less of GitHub's side
