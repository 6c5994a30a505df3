"""The App on GitHub Enterprise Server 3.19: REST under /api/v3, GraphQL at /api/graphql, every call
checked against GHES 3.19's own description (`FakeGitHub(flavor="ghes-3.19")`).

The App is configured as a GHES user would (`GITHUB_API_URL=https://HOST/api/v3`, here the fake's
`http://127.0.0.1:PORT/api/v3`) and runs `ReviewRunner` on a real webhook delivery.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest

from bot.app.jobs import ReviewJob
from bot.app.runner import make_handler
from bot.app.settings import load_settings
from bot.app.webhooks import route
from tests.fakegithub import FakeGitHub, Repository
from tests.fakegithub.plugin import checked_fake

BASE = 'resource "aws_ebs_volume" "old" {\n  availability_zone = "a"\n  size              = 1\n}\n'
VIOLATION = '\nresource "aws_ebs_volume" "new" {\n  availability_zone = "a"\n  size              = 1\n  encrypted         = false\n}\n'
ENCRYPTED_LINE = (BASE + VIOLATION).splitlines().index("  encrypted         = false") + 1


@pytest.fixture
def ghes() -> Iterator[FakeGitHub]:
    with checked_fake(flavor="ghes-3.19") as fake:
        yield fake


def test_the_fake_speaks_ghes(ghes: FakeGitHub) -> None:
    assert ghes.url.endswith("/api/v3") and ghes.graphql_url == ghes.root_url + "/api/graphql"
    assert ghes.spec.flavor == "ghes-3.19" and ghes.spec.document["info"]["x-github-plan"] == "ghes"


def run_app(ghes: FakeGitHub, repo: Repository, number: int, event: str = "pull_request.opened") -> None:
    """Deliver `event` and run the App's job handler, built from settings as a GHES user sets them."""
    headers, body = ghes.webhook(event, repo, number)
    assert json.loads(body)["pull_request"]["url"] == f"{ghes.url}/repos/{repo.full_name}/pulls/{number}"
    job = route(headers["X-GitHub-Event"], headers["X-GitHub-Delivery"], json.loads(body))
    assert isinstance(job, ReviewJob)
    settings = load_settings(ghes.app_env())
    assert settings.github_api_url == ghes.url  # https://HOST/api/v3, as a GHES user configures it
    handler = make_handler(settings)

    async def run_review() -> None:
        await handler(job)

    asyncio.run(run_review())


def violating_pr(ghes: FakeGitHub, name: str) -> tuple[Repository, int]:
    repo = ghes.create_repo("ghes-org", name, files={"infra/main.tf": BASE, ".github/compliance.yml": "fail_on: low\n"})
    repo.commit("feature", {"infra/main.tf": BASE + VIOLATION}, "Add an unencrypted volume")
    return repo, repo.open_pull_request(head="feature", title="Add a volume")


def test_app_reviews_a_violating_pull_request_on_ghes(ghes: FakeGitHub) -> None:
    repo, number = violating_pr(ghes, "infra")
    head = repo.branch_sha("feature")
    run_app(ghes, repo, number)

    [run] = [r for r in ghes.check_runs(repo) if r["head_sha"] == head]
    assert (run["name"], run["status"], run["conclusion"]) == ("compliance", "completed", "failure")
    assert [(a["path"], a["start_line"]) for a in run["annotations"]] == [("infra/main.tf", ENCRYPTED_LINE)]
    [review] = ghes.reviews(repo, number)
    assert review["commit_id"] == head
    [comment] = review["comments"]
    assert (comment["path"], comment["line"], comment["side"]) == ("infra/main.tf", ENCRYPTED_LINE, "RIGHT")
    assert "aws_ebs_volume.new" in comment["body"]

    # Every call went to GHES's roots and was one of GHES 3.19's operations (or GraphQL).
    assert ghes.requests and all(
        r.path.startswith("/api/v3/") or r.path == "/api/graphql" for r in ghes.requests
    ), sorted({r.path for r in ghes.requests})
    assert all(r.operation_id is not None for r in ghes.requests)
    assert any(r.path == "/api/graphql" and r.status == 200 for r in ghes.requests)
    ghes.assert_contract_ok(include_requests=True)


def test_without_graphql_the_rest_fallbacks_are_ghes_operations_too(ghes: FakeGitHub) -> None:
    repo, number = violating_pr(ghes, "nographql")
    ghes.inject("POST", r"^/api/graphql$", status=404, times=1000, body={"message": "Not Found"})
    run_app(ghes, repo, number)
    repo.push(number, {"infra/main.tf": BASE + VIOLATION.replace("false", "true")}, "Encrypt it")
    run_app(ghes, repo, number, "pull_request.synchronize")

    runs = [r for r in ghes.check_runs(repo) if r["status"] == "completed"]
    assert [r["conclusion"] for r in runs] == ["failure", "success"]
    used = {r.operation_id for r in ghes.requests if not r.injected}
    assert {"git/get-tree", "repos/get-content", "pulls/list-review-comments"} <= used  # GraphQL's REST stand-ins
    assert all(r.path.startswith("/api/v3/") for r in ghes.requests if not r.injected)
    ghes.assert_contract_ok(include_requests=True)


def test_ghes_answers_only_its_own_roots_and_api_version(ghes: FakeGitHub) -> None:
    repo = ghes.create_repo("ghes-org", "roots")
    assert repo.installation_id is not None
    auth = {"Authorization": f"token {ghes.installation_token(repo.installation_id)}"}
    with httpx.Client(base_url=ghes.root_url, headers=auth, timeout=10) as c:
        assert c.get("/api/v3/repos/ghes-org/roots").status_code == 200
        assert c.get("/repos/ghes-org/roots").status_code == 404  # github.com's root is not GHES's
        assert c.post("/graphql", json={"query": "{ viewer { login } }"}).status_code == 404
        unversioned = c.get("/api/v3/repos/ghes-org/roots", headers={"X-GitHub-Api-Version": "2026-03-10"})
        assert unversioned.status_code == 400  # GHES 3.19's description knows 2022-11-28 only
    kinds = [v.kind for v in ghes.contract_violations]
    assert kinds == ["unknown_operation", "unknown_operation", "request"]
    ghes.contract_violations.clear()
