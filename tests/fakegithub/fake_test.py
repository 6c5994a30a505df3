"""The fake GitHub behaves like GitHub: auth, pagination, review rules, checks, GraphQL, faults, webhooks.

Every test talks to the running server over real HTTP with httpx, exactly as the app will.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest

from tests.fakegithub import FakeGitHub, Repository
from tests.fakegithub.auth import generate_key_pair

TF = 'resource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n  acl    = "private"\n}\n'


def client(fake: FakeGitHub, token: str | None = None, **headers: str) -> httpx.Client:
    if token:
        headers["Authorization"] = f"token {token}"
    headers.setdefault("X-GitHub-Api-Version", "2022-11-28")
    return httpx.Client(base_url=fake.url, headers=headers, timeout=10)


@pytest.fixture
def repo(fake_github: FakeGitHub) -> Repository:
    repo = fake_github.create_repo("octo-org", "infra", files={"README.md": "# infra\n", "main.tf": TF})
    return repo


@pytest.fixture
def gh(fake_github: FakeGitHub, repo: Repository) -> Iterator[httpx.Client]:
    assert repo.installation_id is not None
    with client(fake_github, fake_github.installation_token(repo.installation_id)) as c:
        yield c


def open_pr(repo: Repository) -> int:
    lines = TF.splitlines(keepends=True)
    changed = "".join(lines[:2]) + '  acl    = "public-read"\n' + lines[3] + "\n# tail\n"
    repo.commit("feature", {"main.tf": changed, "new.tf": "a\nb\nc\n"}, "Make logs public")
    return repo.open_pull_request(head="feature", base="main", title="Public logs")


# -- server ------------------------------------------------------------------------------------


def test_starts_fast_on_a_free_loopback_port() -> None:
    t0 = time.perf_counter()
    with FakeGitHub() as a, FakeGitHub() as b:
        elapsed = time.perf_counter() - t0
        assert a.url.startswith("http://127.0.0.1:") and a.url != b.url
        assert httpx.get(f"{a.url}/rate_limit").status_code == 200
    assert elapsed < 1.0


# -- app authentication -------------------------------------------------------------------------


def test_jwt_accepted_and_rejected_like_github(fake_github: FakeGitHub) -> None:
    now = int(time.time())
    with client(fake_github) as c:
        ok = c.get("/app", headers={"Authorization": f"Bearer {fake_github.make_jwt()}"})
        assert ok.status_code == 200
        assert ok.json()["id"] == fake_github.app_id and ok.json()["slug"] == fake_github.app_slug
        int_iss = fake_github.make_jwt(iss=fake_github.app_id)  # iss may be an int or a string
        assert c.get("/app", headers={"Authorization": f"Bearer {int_iss}"}).status_code == 200

        cases = {
            "expired": (fake_github.make_jwt(iat=now - 700, exp=now - 100), "'Expiration time' claim ('exp') must be"),
            "exp too far": (fake_github.make_jwt(iat=now, exp=now + 900), "is too far in the future"),
            "iat in the future": (fake_github.make_jwt(iat=now + 300, exp=now + 600), "'Issued at' claim"),
            "wrong key": (fake_github.make_jwt(private_key_pem=generate_key_pair().private_pem), "could not be decoded"),
            "other app": (fake_github.make_jwt(iss="1"), "could not be decoded"),
        }
        for name, (token, message) in cases.items():
            r = c.get("/app", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 401, name
            assert message in r.json()["message"], name
            assert r.json()["documentation_url"].startswith("https://docs.github.com/")
        drift = fake_github.make_jwt(iat=now + 30, exp=now + 400)  # 60 s of clock drift is tolerated
        assert c.get("/app", headers={"Authorization": f"Bearer {drift}"}).status_code == 200
        assert c.get("/app").status_code == 401


def test_installation_token_flow(fake_github: FakeGitHub, repo: Repository) -> None:
    other = fake_github.create_repo("someone-else", "secret")
    sibling = fake_github.create_repo("octo-org", "sibling")
    jwt = {"Authorization": f"Bearer {fake_github.make_jwt()}"}
    with client(fake_github) as c:
        found = c.get("/repos/octo-org/infra/installation", headers=jwt)
        assert found.status_code == 200 and found.json()["id"] == repo.installation_id
        r = c.post(f"/app/installations/{repo.installation_id}/access_tokens", headers=jwt)
        assert r.status_code == 201
        token = r.json()["token"]
        assert token.startswith("ghs_") and len(token) == 40
        expires = time.mktime(time.strptime(r.json()["expires_at"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        assert 3500 < expires - time.time() <= 3600

        for auth in (f"token {token}", f"Bearer {token}"):
            assert c.get("/repos/octo-org/infra", headers={"Authorization": auth}).status_code == 200
        assert c.get("/repos/octo-org/infra").status_code == 401
        assert c.get("/repos/octo-org/infra", headers={"Authorization": "token ghs_nope"}).json()["message"] == "Bad credentials"
        assert c.get("/repos/octo-org/infra", headers=jwt).status_code == 401  # a JWT is not an installation token
        assert c.get("/app", headers={"Authorization": f"token {token}"}).status_code == 401
        assert c.get("/repos/someone-else/secret", headers={"Authorization": f"token {token}"}).status_code == 404
        assert other.installation_id != repo.installation_id

        narrowed = c.post(
            f"/app/installations/{repo.installation_id}/access_tokens", headers=jwt, json={"repositories": ["sibling"]}
        ).json()["token"]
        assert c.get("/repos/octo-org/sibling", headers={"Authorization": f"token {narrowed}"}).status_code == 200
        assert c.get("/repos/octo-org/infra", headers={"Authorization": f"token {narrowed}"}).status_code == 404
        bad = c.post(f"/app/installations/{repo.installation_id}/access_tokens", headers=jwt, json={"permissions": {"administration": "write"}})
        assert bad.status_code == 422
        assert c.post("/app/installations/999/access_tokens", headers=jwt).status_code == 404
        assert sibling.installation_id == repo.installation_id

        fake_github.expire_tokens()
        assert c.get("/repos/octo-org/infra", headers={"Authorization": f"token {token}"}).status_code == 401


def test_token_permissions_are_enforced(fake_github: FakeGitHub) -> None:
    ro = fake_github.create_repo("read-only-org", "r", permissions={"contents": "read", "pull_requests": "read", "metadata": "read"})
    assert ro.installation_id is not None
    with client(fake_github, fake_github.installation_token(ro.installation_id)) as c:
        r = c.post("/repos/read-only-org/r/check-runs", json={"name": "x", "head_sha": ro.branch_sha("main")})
        assert r.status_code == 403 and r.json()["message"] == "Resource not accessible by integration"
        assert ro.check_runs == {}


# -- pull request files, diffs, contents ---------------------------------------------------------


def test_files_are_paginated_with_link_headers(fake_github: FakeGitHub, repo: Repository, gh: httpx.Client) -> None:
    repo.commit("many", {f"mod/f{i:03}.tf": f"# {i}\n" for i in range(250)}, "Many files")
    number = repo.open_pull_request(head="many")
    first = gh.get(f"/repos/octo-org/infra/pulls/{number}/files", params={"per_page": 100})
    assert first.status_code == 200 and len(first.json()) == 100
    assert first.links["next"]["url"].endswith("page=2") and "page=3" in first.links["last"]["url"]
    assert f"/repositories/{repo.id}/pulls/{number}/files" in first.links["next"]["url"]  # like GitHub
    names = [f["filename"] for f in first.json()]
    url: str | None = first.links["next"]["url"]
    while url:
        page = gh.get(url)
        names += [f["filename"] for f in page.json()]
        url = page.links.get("next", {}).get("url")
    assert names == sorted(f"mod/f{i:03}.tf" for i in range(250))
    third = gh.get(f"/repos/octo-org/infra/pulls/{number}/files", params={"per_page": 100, "page": 3})
    assert len(third.json()) == 50 and set(third.links) == {"prev", "first"}
    assert len(gh.get(f"/repos/octo-org/infra/pulls/{number}/files", params={"per_page": 1000}).json()) == 100
    assert gh.get(f"/repos/octo-org/infra/pulls/{number}/files").headers["link"].count("rel=") == 2  # 30 by default

    fake_github.files_max = 120  # GitHub stops at 3000 files; lowered here to keep the test fast
    capped = gh.get(f"/repos/octo-org/infra/pulls/{number}/files", params={"per_page": 100, "page": 2})
    assert len(capped.json()) == 20 and "next" not in capped.links


def test_file_entries_come_from_git(fake_github: FakeGitHub, repo: Repository, gh: httpx.Client) -> None:
    number = open_pr(repo)
    repo.push(number, {"logo.png": b"\x89PNG\r\n\x1a\n\x00\x00binary", "big.txt": "x" * 5000 + "\n", "README.md": None})
    fake_github.patch_limit_bytes = 2000
    files = {f["filename"]: f for f in gh.get(f"/repos/octo-org/infra/pulls/{number}/files").json()}
    assert files["main.tf"]["status"] == "modified"
    assert files["main.tf"]["patch"].startswith("@@ -1,4 +1,6 @@")
    assert '-  acl    = "private"\n+  acl    = "public-read"' in files["main.tf"]["patch"]
    assert (files["main.tf"]["additions"], files["main.tf"]["deletions"]) == (3, 1)
    assert files["new.tf"]["status"] == "added" and files["README.md"]["status"] == "removed"
    assert "patch" not in files["logo.png"] and "patch" not in files["big.txt"]  # binary, too large
    assert files["main.tf"]["sha"] == repo.git.resolve(f"{repo.branch_sha('feature')}:main.tf")


def test_diff_media_type_and_its_limits(fake_github: FakeGitHub, repo: Repository, gh: httpx.Client) -> None:
    number = open_pr(repo)
    accept = {"Accept": "application/vnd.github.diff"}
    r = gh.get(f"/repos/octo-org/infra/pulls/{number}", headers=accept)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.github.diff")
    assert r.text == repo.git.patch(repo.git.merge_base("main", "feature") or "", repo.branch_sha("feature"))
    assert r.text.startswith("diff --git a/main.tf b/main.tf")
    fake_github.diff_max_files = 1
    too_many = gh.get(f"/repos/octo-org/infra/pulls/{number}", headers=accept)
    assert too_many.status_code == 406 and "maximum number of files (1)" in too_many.json()["message"]
    fake_github.diff_max_files, fake_github.diff_max_lines = 300, 5
    assert gh.get(f"/repos/octo-org/infra/pulls/{number}", headers=accept).status_code == 406
    pr = gh.get(f"/repos/octo-org/infra/pulls/{number}").json()  # JSON is unaffected
    assert pr["head"]["sha"] == repo.branch_sha("feature") and pr["changed_files"] == 2


def test_contents_trees_and_blobs(repo: Repository, gh: httpx.Client) -> None:
    open_pr(repo)
    r = gh.get("/repos/octo-org/infra/contents/main.tf", params={"ref": "main"})
    assert r.status_code == 200 and base64.b64decode(r.json()["content"]).decode() == TF
    sha = r.json()["sha"]
    missing = gh.get("/repos/octo-org/infra/contents/new.tf", params={"ref": "main"})
    assert missing.status_code == 404 and missing.json()["message"] == "Not Found"
    assert gh.get("/repos/octo-org/infra/contents/new.tf", params={"ref": "feature"}).status_code == 200
    listing = gh.get("/repos/octo-org/infra/contents/", params={"ref": "feature"}).json()
    assert {e["name"] for e in listing} == {"README.md", "main.tf", "new.tf"}
    raw = gh.get("/repos/octo-org/infra/contents/main.tf", headers={"Accept": "application/vnd.github.raw+json"})
    assert raw.text == TF
    blob = gh.get(f"/repos/octo-org/infra/git/blobs/{sha}").json()
    assert base64.b64decode(blob["content"]).decode() == TF and blob["size"] == len(TF)
    tree = gh.get(f"/repos/octo-org/infra/git/trees/{repo.branch_sha('feature')}", params={"recursive": "1"}).json()
    assert {t["path"]: t["type"] for t in tree["tree"]} == {"README.md": "blob", "main.tf": "blob", "new.tf": "blob"}
    assert tree["truncated"] is False
    cmp = gh.get("/repos/octo-org/infra/compare/main...feature").json()
    assert cmp["status"] == "ahead" and cmp["ahead_by"] == 1 and {f["filename"] for f in cmp["files"]} == {"main.tf", "new.tf"}


def test_refs_topics_and_custom_properties(fake_github: FakeGitHub, repo: Repository, gh: httpx.Client) -> None:
    feature = repo.commit("feature/x", {"new.tf": TF}, "branch with a slash")
    ref = gh.get("/repos/octo-org/infra/git/ref/heads/feature/x")
    assert ref.status_code == 200 and ref.json()["ref"] == "refs/heads/feature/x"
    assert ref.json()["object"] == {"sha": feature, "type": "commit",
                                    "url": f"{fake_github.url}/repos/octo-org/infra/git/commits/{feature}"}
    assert gh.get("/repos/octo-org/infra/git/ref/heads/main").json()["object"]["sha"] == repo.branch_sha("main")
    assert gh.get("/repos/octo-org/infra/git/ref/heads/feature").status_code == 404  # exact names only
    assert gh.get("/repos/octo-org/infra/git/ref/main").status_code == 404  # heads/ or tags/ is required
    assert gh.get("/repos/octo-org/infra").json()["topics"] == []
    repo.set_topics(["phi", "payments"])
    assert gh.get("/repos/octo-org/infra").json()["topics"] == ["phi", "payments"]
    with pytest.raises(ValueError):
        repo.set_topics(["PHI"])
    assert gh.get("/repos/octo-org/infra/properties/values").json() == []
    repo.set_custom_properties({"scope": "pci", "teams": ["a", "b"]})
    repo.set_custom_properties({"teams": None, "tier": "1"})
    assert gh.get("/repos/octo-org/infra/properties/values").json() == [
        {"property_name": "scope", "value": "pci"}, {"property_name": "tier", "value": "1"}]
    assert fake_github.fatal_violations() == []


# -- reviews --------------------------------------------------------------------------------------


def test_review_comment_outside_the_diff_rejects_the_whole_review(
    fake_github: FakeGitHub, repo: Repository, gh: httpx.Client
) -> None:
    number = open_pr(repo)
    url = f"/repos/octo-org/infra/pulls/{number}/reviews"
    good = {"path": "main.tf", "line": 3, "body": "ACL must stay private"}
    outside = gh.post(url, json={"event": "COMMENT", "body": "Findings", "comments": [good, {"path": "main.tf", "line": 99, "body": "x"}]})
    assert outside.status_code == 422
    assert outside.json()["message"] == "Unprocessable Entity" and outside.json()["errors"] == ["Line could not be resolved"]
    assert fake_github.reviews("octo-org", "infra", number) == []
    assert gh.get(f"/repos/octo-org/infra/pulls/{number}/comments").json() == []

    rejected = {
        "unknown path": {"path": "nope.tf", "line": 1, "body": "x"},
        "start after line": {"path": "main.tf", "start_line": 4, "line": 3, "body": "x"},
        "LEFT side of an added line": {"path": "new.tf", "line": 1, "side": "LEFT", "body": "x"},
        "context line outside any hunk": {"path": "main.tf", "line": 7, "body": "x"},
    }
    for name, comment in rejected.items():
        assert gh.post(url, json={"event": "COMMENT", "comments": [comment]}).status_code == 422, name
    assert gh.post(url, json={"event": "COMMENT"}).status_code == 422  # a COMMENT needs a body or comments
    assert gh.post(url, json={"event": "COMMENT", "body": "x" * 65537}).status_code == 422
    stale = gh.post(url, json={"event": "COMMENT", "body": "x", "commit_id": repo.branch_sha("main")})
    assert stale.status_code == 422
    assert fake_github.reviews("octo-org", "infra", number) == []

    ok = gh.post(url, json={
        "commit_id": repo.branch_sha("feature"),
        "event": "REQUEST_CHANGES",
        "body": "Findings",
        "comments": [good, {"path": "main.tf", "start_line": 2, "line": 3, "body": "range"}, {"path": "main.tf", "line": 3, "side": "LEFT", "body": "old"}],
    })
    assert ok.status_code == 200, ok.text
    assert ok.json()["state"] == "CHANGES_REQUESTED" and ok.json()["user"]["login"] == "compliance-bot[bot]"
    [review] = fake_github.reviews("octo-org", "infra", number)
    assert review["event"] == "REQUEST_CHANGES" and review["commit_id"] == repo.branch_sha("feature")
    assert [(c["path"], c["line"], c["start_line"], c["side"]) for c in review["comments"]] == [
        ("main.tf", 3, None, "RIGHT"), ("main.tf", 3, 2, "RIGHT"), ("main.tf", 3, None, "LEFT")
    ]
    listed = gh.get(f"/repos/octo-org/infra/pulls/{number}/comments").json()
    assert [c["line"] for c in listed] == [3, 3, 3] and listed[0]["diff_hunk"].endswith('+  acl    = "public-read"')
    assert len(fake_github.review_threads("octo-org", "infra", number)) == 3


def test_review_on_an_older_commit_when_not_strict(fake_github: FakeGitHub, repo: Repository, gh: httpx.Client) -> None:
    number = open_pr(repo)
    old = repo.branch_sha("feature")
    repo.push(number, {"other.tf": "x\n"})
    body = {"commit_id": old, "event": "COMMENT", "comments": [{"path": "new.tf", "line": 2, "body": "b"}]}
    assert gh.post(f"/repos/octo-org/infra/pulls/{number}/reviews", json=body).status_code == 422  # strict by default
    fake_github.strict_review_commit = False  # GitHub itself accepts any commit of the PR
    r = gh.post(f"/repos/octo-org/infra/pulls/{number}/reviews", json=body)
    assert r.status_code == 200 and r.json()["commit_id"] == old
    [thread] = fake_github.review_threads(repo, number)
    assert (thread["line"], thread["is_outdated"]) == (2, False)  # new.tf did not change since
    base_commit = {**body, "commit_id": repo.branch_sha("main")}  # not a commit of the PR
    assert gh.post(f"/repos/octo-org/infra/pulls/{number}/reviews", json=base_commit).status_code == 422


def test_review_comments_can_be_edited_and_deleted(fake_github: FakeGitHub, repo: Repository, gh: httpx.Client) -> None:
    number = open_pr(repo)
    gh.post(f"/repos/octo-org/infra/pulls/{number}/reviews", json={"event": "COMMENT", "comments": [{"path": "new.tf", "line": 2, "body": "v1"}]})
    [comment] = gh.get(f"/repos/octo-org/infra/pulls/{number}/comments").json()
    edited = gh.patch(f"/repos/octo-org/infra/pulls/comments/{comment['id']}", json={"body": "v2"})
    assert edited.status_code == 200 and edited.json()["body"] == "v2"
    assert gh.delete(f"/repos/octo-org/infra/pulls/comments/{comment['id']}").status_code == 204
    assert gh.get(f"/repos/octo-org/infra/pulls/{number}/comments").json() == []
    assert fake_github.review_threads(repo, number) == []


# -- check runs -----------------------------------------------------------------------------------


def annotation(i: int) -> dict[str, object]:
    return {"path": "main.tf", "start_line": i, "end_line": i, "annotation_level": "failure", "message": f"finding {i}"}


def test_check_run_rules_and_history(fake_github: FakeGitHub, repo: Repository, gh: httpx.Client) -> None:
    number = open_pr(repo)
    head = repo.branch_sha("feature")
    url = "/repos/octo-org/infra/check-runs"
    assert gh.post(url, json={"name": "compliance", "head_sha": "0" * 40}).status_code == 422
    too_many = {"title": "t", "summary": "s", "annotations": [annotation(i) for i in range(1, 52)]}
    assert gh.post(url, json={"name": "compliance", "head_sha": head, "output": too_many}).status_code == 422
    assert gh.post(url, json={"name": "c", "head_sha": head, "output": {"summary": "no title"}}).status_code == 422
    assert gh.post(url, json={"name": "c", "head_sha": head, "status": "completed"}).status_code == 422
    # Upstream's request schema forbids that; Octokit's build lost the rule, so the fake records it itself.
    assert fake_github.contract_violations[-1].message == "Conclusion is required when status is completed"
    long = gh.post(url, json={"name": "c", "head_sha": head, "output": {"title": "t", "summary": "x" * 65536}})
    assert long.status_code == 422 and long.json()["message"].startswith("Invalid request.\n\n")
    assert fake_github.check_runs(repo) == []

    created = gh.post(url, json={"name": "compliance", "head_sha": head, "status": "in_progress"})
    assert created.status_code == 201
    run_id = created.json()["id"]
    assert created.json()["pull_requests"][0]["number"] == number
    for batch in (range(1, 51), range(51, 61)):
        out = {"title": "3 findings", "summary": "s", "annotations": [annotation(i) for i in batch]}
        assert gh.patch(f"{url}/{run_id}", json={"output": out}).status_code == 200
    assert gh.patch(f"{url}/{run_id}", json={"output": too_many}).status_code == 422
    done = gh.patch(f"{url}/{run_id}", json={"conclusion": "failure", "output": {"title": "Done", "summary": "60 findings", "text": "details"}})
    assert done.json()["status"] == "completed" and done.json()["output"]["annotations_count"] == 60

    [run] = fake_github.check_runs("octo-org", "infra")
    assert (run["name"], run["head_sha"], run["status"], run["conclusion"]) == ("compliance", head, "completed", "failure")
    assert (run["title"], run["summary"], run["text"]) == ("Done", "60 findings", "details")
    assert len(run["annotations"]) == 60 and [h["method"] for h in run["history"]] == ["POST", "PATCH", "PATCH", "PATCH"]
    pages = gh.get(f"{url}/{run_id}/annotations", params={"per_page": 50})
    assert len(pages.json()) == 50 and "next" in pages.links
    listed = gh.get(f"/repos/octo-org/infra/commits/{head}/check-runs").json()
    assert listed["total_count"] == 1 and listed["check_runs"][0]["conclusion"] == "failure"
    assert gh.get("/repos/octo-org/infra/commits/feature/check-runs").json()["total_count"] == 1


# -- contract checks ------------------------------------------------------------------------------


def test_invalid_request_body_is_422_and_recorded(fake_github: FakeGitHub, repo: Repository, gh: httpx.Client) -> None:
    number = open_pr(repo)
    r = gh.post(f"/repos/octo-org/infra/pulls/{number}/reviews", json={"event": "SHIP_IT"})
    assert r.status_code == 422 and r.json()["message"].startswith("Invalid request.\n\n")
    assert "SHIP_IT" in r.json()["message"]
    assert [v.kind for v in fake_github.contract_violations] == ["request"]
    bad_query = gh.get(f"/repos/octo-org/infra/commits/{repo.branch_sha('main')}/check-runs", params={"status": "bogus"})
    assert bad_query.status_code == 422
    assert gh.get("/repos/octo-org/infra/pulls/abc").status_code == 404
    assert fake_github.fatal_violations() == []


def test_response_validation_catches_a_broken_response() -> None:
    with FakeGitHub() as fake:
        broken = fake.create_repo("o", "r")
        number = open_pr(broken)

        def drop_number(operation_id: str | None, resp: object) -> None:
            if operation_id == "pulls/get":
                del resp.body["number"]  # type: ignore[attr-defined]

        fake.response_hook = drop_number
        assert broken.installation_id is not None
        with client(fake, fake.installation_token(broken.installation_id)) as c:
            assert c.get(f"/repos/o/r/pulls/{number}").status_code == 200
            assert c.get("/repos/o/r/issues/1").status_code == 501  # GitHub has it, the fake does not
            assert c.get("/repos/o/r/no-such-thing").status_code == 404  # not in GitHub's description
        response, unimplemented, unknown = fake.fatal_violations()
        assert (response.kind, response.operation_id) == ("response", "pulls/get")
        assert '"number" wasn\'t supplied' in response.message
        assert (unimplemented.kind, unimplemented.operation_id) == ("unimplemented", "issues/get")
        assert "does not implement issues/get (GET /repos/{owner}/{repo}/issues/{issue_number})" in unimplemented.message
        assert unknown.kind == "unknown_operation" and unknown.path == "/repos/o/r/no-such-thing"
        with pytest.raises(AssertionError, match="contract violations"):
            fake.assert_contract_ok()


def test_api_versions_follow_the_breaking_changes(fake_github: FakeGitHub, repo: Repository, gh: httpx.Client) -> None:
    number = open_pr(repo)
    old = gh.get(f"/repos/octo-org/infra/pulls/{number}")
    new = gh.get(f"/repos/octo-org/infra/pulls/{number}", headers={"X-GitHub-Api-Version": "2026-03-10"})
    assert "merge_commit_sha" in old.json() and "assignee" in old.json()
    assert "merge_commit_sha" not in new.json() and "assignee" not in new.json()  # githubkit 0.16 asks for this one
    assert new.headers["x-github-api-version-selected"] == "2026-03-10"
    assert "rate" not in gh.get("/rate_limit", headers={"X-GitHub-Api-Version": "2026-03-10"}).json()
    assert gh.get("/rate_limit", headers={"X-GitHub-Api-Version": "2099-01-01"}).status_code == 400
    fake_github.contract_violations.clear()


# -- GraphQL --------------------------------------------------------------------------------------


def graphql(c: httpx.Client, query: str, **variables: object) -> dict[str, object]:
    r = c.post("/graphql", json={"query": query, "variables": variables})
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


def test_graphql_typo_is_an_error_with_status_200(fake_github: FakeGitHub, repo: Repository, gh: httpx.Client) -> None:
    body = graphql(gh, '{ repository(owner: "octo-org", name: "infra") { nameWithOwnr } }')
    assert "data" not in body
    assert body["errors"][0]["message"] == "Field 'nameWithOwnr' doesn't exist on type 'Repository'"  # type: ignore[index]
    assert [v.kind for v in fake_github.contract_violations] == ["graphql"]
    missing = graphql(gh, '{ repository(owner: "octo-org") { id } }')
    assert "missing required arguments: name" in missing["errors"][0]["message"]  # type: ignore[index]
    nowhere = graphql(gh, '{ repository(owner: "octo-org", name: "nope") { id } }')
    assert nowhere["data"] == {"repository": None} and nowhere["errors"][0]["type"] == "NOT_FOUND"  # type: ignore[index]
    assert gh.post("/graphql", json={"query": "{ repository(owner: \"octo-org\", name: \"infra\") { id } }"}, headers={"Authorization": ""}).status_code == 401


def test_graphql_field_the_fake_does_not_serve_is_fatal(fake_github: FakeGitHub, repo: Repository, gh: httpx.Client) -> None:
    body = graphql(gh, '{ repository(owner: "octo-org", name: "infra") { nameWithOwner description } }')
    # GitHub has the field (the query is valid); the fake has no data for it: an error, never a made-up null.
    assert body["data"] == {"repository": {"nameWithOwner": "octo-org/infra", "description": None}}
    assert body["errors"][0]["path"] == ["repository", "description"]  # type: ignore[index]
    [unimplemented] = fake_github.fatal_violations()
    assert unimplemented.kind == "unimplemented" and "Repository.description" in unimplemented.message
    fake_github.contract_violations.clear()


def test_graphql_blob_batch_by_alias(repo: Repository, gh: httpx.Client) -> None:
    sha = repo.commit("many", {f"f{i}.txt": f"content {i}\n" for i in range(50)} | {"bin.dat": b"\x00\x01"}, "Many")
    fields = " ".join(f'f{i}: object(expression: "{sha}:f{i}.txt") {{ ... on Blob {{ text oid byteSize isBinary isTruncated }} }}' for i in range(50))
    data = graphql(gh, f'query {{ repository(owner: "octo-org", name: "infra") {{ {fields} bin: object(expression: "{sha}:bin.dat") {{ ... on Blob {{ text isBinary }} }} gone: object(expression: "{sha}:none") {{ id }} }} }}')
    repo_data = data["data"]["repository"]  # type: ignore[index]
    assert "errors" not in data
    for i in range(50):
        blob = repo_data[f"f{i}"]
        assert blob["text"] == f"content {i}\n" and blob["byteSize"] == len(f"content {i}\n") and blob["isBinary"] is False
        assert blob["oid"] == repo.git.resolve(f"{sha}:f{i}.txt")
    assert repo_data["bin"] == {"text": None, "isBinary": True} and repo_data["gone"] is None
    tree = graphql(gh, 'query($e: String!) { repository(owner: "octo-org", name: "infra") { object(expression: $e) { ... on Tree { entries { name path type oid object { ... on Blob { text } } } } } } }', e=f"{sha}:")
    entries = {e["name"]: e for e in tree["data"]["repository"]["object"]["entries"]}  # type: ignore[index]
    assert entries["f3.txt"]["object"]["text"] == "content 3\n" and entries["f3.txt"]["type"] == "blob"


THREADS = """query($n: Int!, $after: String) { repository(owner: "octo-org", name: "infra") { pullRequest(number: $n) {
  id number headRefOid baseRefOid isDraft
  reviewThreads(first: 1, after: $after) { pageInfo { hasNextPage endCursor }
    nodes { id isResolved isOutdated path line comments(first: 10) { nodes { id databaseId fullDatabaseId body author { login __typename } } } } } } } }"""


def test_review_threads_resolve_outdate_and_minimize(fake_github: FakeGitHub, repo: Repository, gh: httpx.Client) -> None:
    number = open_pr(repo)
    r = gh.post(f"/repos/octo-org/infra/pulls/{number}/reviews", json={"event": "COMMENT", "comments": [
        {"path": "main.tf", "line": 3, "body": "acl"}, {"path": "new.tf", "line": 2, "body": "b"}]})
    assert r.status_code == 200
    first = graphql(gh, THREADS, n=number)["data"]["repository"]["pullRequest"]  # type: ignore[index]
    assert first["headRefOid"] == repo.branch_sha("feature") and first["isDraft"] is False
    page = first["reviewThreads"]
    assert page["pageInfo"]["hasNextPage"] is True
    thread = page["nodes"][0]
    assert (thread["path"], thread["line"], thread["isResolved"], thread["isOutdated"]) == ("main.tf", 3, False, False)
    author = thread["comments"]["nodes"][0]["author"]
    assert author == {"login": "compliance-bot", "__typename": "Bot"}  # GraphQL drops "[bot]"
    second = graphql(gh, THREADS, n=number, after=page["pageInfo"]["endCursor"])
    second_page = second["data"]["repository"]["pullRequest"]["reviewThreads"]  # type: ignore[index]
    assert second_page["nodes"][0]["path"] == "new.tf" and second_page["pageInfo"]["hasNextPage"] is False

    resolve = 'mutation($id: ID!) { resolveReviewThread(input: {threadId: $id}) { thread { id isResolved } } }'
    assert graphql(gh, resolve, id=thread["id"])["data"] == {"resolveReviewThread": {"thread": {"id": thread["id"], "isResolved": True}}}
    assert fake_github.review_threads(repo, number)[0]["is_resolved"] is True
    unresolve = 'mutation($id: ID!) { unresolveReviewThread(input: {threadId: $id}) { thread { isResolved } } }'
    assert graphql(gh, unresolve, id=thread["id"])["data"]["unresolveReviewThread"]["thread"]["isResolved"] is False  # type: ignore[index]

    comment_id = thread["comments"]["nodes"][0]["id"]
    hide = 'mutation($id: ID!) { minimizeComment(input: {subjectId: $id, classifier: OUTDATED}) { minimizedComment { isMinimized minimizedReason ... on PullRequestReviewComment { id } } } }'
    hidden = graphql(gh, hide, id=comment_id)["data"]["minimizeComment"]["minimizedComment"]  # type: ignore[index]
    assert hidden == {"isMinimized": True, "minimizedReason": "outdated", "id": comment_id}
    node = graphql(gh, 'query($id: ID!) { node(id: $id) { ... on PullRequestReviewThread { path } } }', id=thread["id"])
    assert node["data"] == {"node": {"path": "main.tf"}}

    # A push that only adds lines above keeps the comment (moved down); changing the line outdates it.
    repo.push(number, {"new.tf": "top\na\nb\nc\n"})
    threads = {t["path"]: t for t in fake_github.review_threads(repo, number)}
    assert (threads["new.tf"]["line"], threads["new.tf"]["is_outdated"]) == (3, False)
    assert threads["main.tf"]["is_outdated"] is False
    repo.push(number, {"main.tf": TF.replace('"private"', '"log-delivery-write"')})
    after = graphql(gh, THREADS, n=number)["data"]["repository"]["pullRequest"]["reviewThreads"]["nodes"][0]  # type: ignore[index]
    assert (after["path"], after["isOutdated"], after["line"]) == ("main.tf", True, None)
    rest = gh.get(f"/repos/octo-org/infra/pulls/{number}/comments").json()
    assert "line" not in rest[0] and rest[0]["original_line"] == 3


# -- faults ---------------------------------------------------------------------------------------


def test_injected_faults_fire_then_clear(fake_github: FakeGitHub, repo: Repository, gh: httpx.Client) -> None:
    number = open_pr(repo)
    fake_github.inject("GET", r"/pulls/\d+/files$", status=502)
    assert gh.get(f"/repos/octo-org/infra/pulls/{number}/files").status_code == 502
    assert gh.get(f"/repos/octo-org/infra/pulls/{number}/files").status_code == 200
    fake_github.inject_rate_limit("POST", r"/reviews$", times=2, retry_after=3)
    for _ in range(2):
        limited = gh.post(f"/repos/octo-org/infra/pulls/{number}/reviews", json={"event": "COMMENT", "body": "x"})
        assert limited.status_code == 403 and limited.headers["retry-after"] == "3"
        assert limited.json()["message"].startswith("You have exceeded a secondary rate limit")
    assert gh.post(f"/repos/octo-org/infra/pulls/{number}/reviews", json={"event": "COMMENT", "body": "x"}).status_code == 200
    assert len(fake_github.reviews(repo, number)) == 1  # rate-limited attempts recorded nothing
    fake_github.inject_primary_rate_limit(None, r"/check-runs", status=429, reset_in=30)
    primary = gh.post("/repos/octo-org/infra/check-runs", json={"name": "c", "head_sha": repo.branch_sha("feature")})
    assert primary.status_code == 429 and primary.headers["x-ratelimit-remaining"] == "0"
    assert int(primary.headers["x-ratelimit-reset"]) > time.time()
    ok = gh.get("/repos/octo-org/infra")
    assert int(ok.headers["x-ratelimit-remaining"]) < 5000 and ok.headers["x-ratelimit-resource"] == "core"
    assert fake_github.count("GET", r"/files$") == 2 and fake_github.count(status=403) == 2
    assert fake_github.contract_violations == []
    fake_github.reset_requests()
    assert fake_github.requests == []


# -- webhooks -------------------------------------------------------------------------------------


def test_webhook_payload_points_at_the_fake_repo_and_is_signed(fake_github: FakeGitHub, repo: Repository) -> None:
    number = open_pr(repo)
    headers, body = fake_github.webhook("pull_request.opened", repo, number, secret="s3cret")
    assert headers["X-Hub-Signature-256"] == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-GitHub-Event"] == "pull_request" and headers["Content-Length"] == str(len(body))
    assert b"\n" not in body and b": " not in body[:200]  # compact, like GitHub
    payload = json.loads(body)
    assert payload["repository"]["full_name"] == "octo-org/infra" and payload["repository"]["id"] == repo.id
    assert payload["number"] == number and payload["pull_request"]["head"]["sha"] == repo.branch_sha("feature")
    assert payload["pull_request"]["base"]["ref"] == "main" and payload["installation"]["id"] == repo.installation_id
    assert payload["pull_request"]["url"].startswith(fake_github.url)
    other_headers, _ = fake_github.webhook("pull_request.opened", repo, number, secret="s3cret")
    assert other_headers["X-GitHub-Delivery"] != headers["X-GitHub-Delivery"]

    repo.push(number, {"new.tf": "z\n"})
    _, sync = fake_github.webhook("pull_request.synchronize", repo, number)
    assert json.loads(sync)["pull_request"]["head"]["sha"] == repo.branch_sha("feature")
    _, suite = fake_github.webhook("check_suite.requested", repo, number)
    suite_payload = json.loads(suite)["check_suite"]
    assert suite_payload["head_sha"] == repo.branch_sha("feature") and suite_payload["pull_requests"][0]["number"] == number
    for event in ("pull_request.reopened", "pull_request.ready_for_review", "pull_request.closed", "check_run.rerequested",
                  "check_run.requested_action", "check_suite.rerequested", "pull_request_review.submitted",
                  "pull_request_review.submitted.with-organization", "pull_request_review.dismissed",
                  "installation.created", "installation.deleted", "installation_repositories.added", "ping"):
        hdrs, raw = fake_github.webhook(event, repo, number)  # each one is checked against its webhook schema
        assert hdrs["X-GitHub-Event"] == event.split(".")[0] and json.loads(raw)
    edited = fake_github.webhook("pull_request.edited", repo, number, overrides={"changes": {"title": {"from": "Old"}}})[1]
    assert json.loads(edited)["changes"] == {"title": {"from": "Old"}}
    unsigned, _ = fake_github.webhook("ping", repo, secret="")
    assert "X-Hub-Signature-256" not in unsigned


def test_people_approve_and_dismiss_reviews_and_the_webhook_says_who(
    fake_github: FakeGitHub, repo: Repository, gh: httpx.Client,
) -> None:
    number = open_pr(repo)
    with pytest.raises(ValueError, match="Can not approve your own pull request"):
        repo.submit_review(number, "octocat")  # the pull request's author
    approval = repo.submit_review(number, "sec-alice")
    listed = gh.get(f"/repos/octo-org/infra/pulls/{number}/reviews")
    assert listed.status_code == 200
    (review,) = listed.json()
    assert (review["id"], review["user"]["login"], review["state"], review["commit_id"]) == (
        approval.id, "sec-alice", "APPROVED", repo.branch_sha("feature"))
    _, body = fake_github.webhook("pull_request_review.submitted", repo, number, review_id=approval.id)
    payload = json.loads(body)  # checked against both webhook schemas
    assert (payload["review"]["id"], payload["review"]["state"], payload["review"]["user"]["login"]) == (
        approval.id, "approved", "sec-alice")
    assert payload["sender"]["login"] == "sec-alice" and payload["review"]["commit_id"] == repo.branch_sha("feature")

    repo.dismiss_review(number, approval.id)
    assert [r["state"] for r in gh.get(f"/repos/octo-org/infra/pulls/{number}/reviews").json()] == ["DISMISSED"]
    _, dismissed = fake_github.webhook("pull_request_review.dismissed", repo, number, review_id=approval.id)
    assert json.loads(dismissed)["review"]["state"] == "dismissed"
    with pytest.raises(ValueError, match="to dismiss"):
        repo.dismiss_review(number, approval.id)
    with pytest.raises(ValueError, match="no review"):
        fake_github.webhook("pull_request_review.submitted", repo, number, review_id=1)


def test_team_membership_is_answered_like_github(fake_github: FakeGitHub, repo: Repository, gh: httpx.Client) -> None:
    fake_github.set_team_members("octo-org", "security", {"sec-alice": "member", "sec-bob": "maintainer"})
    member = gh.get("/orgs/octo-org/teams/security/memberships/SEC-ALICE")
    assert member.status_code == 200 and (member.json()["role"], member.json()["state"]) == ("member", "active")
    assert gh.get("/orgs/octo-org/teams/security/memberships/sec-bob").json()["role"] == "maintainer"
    stranger = gh.get("/orgs/octo-org/teams/security/memberships/mallory")
    assert stranger.status_code == 404 and stranger.content == b""  # the description gives the 404 no body
    assert gh.get("/orgs/octo-org/teams/nobody/memberships/sec-alice").status_code == 404
    other_org = gh.get("/orgs/other-org/teams/security/memberships/sec-alice")  # an org the App is not installed on
    assert other_org.status_code == 404 and other_org.content == b""
    plain = fake_github.create_repo("no-members-org", "r", permissions={"metadata": "read", "pull_requests": "read"})
    assert plain.installation_id is not None
    with client(fake_github, fake_github.installation_token(plain.installation_id)) as c:
        refused = c.get("/orgs/no-members-org/teams/security/memberships/sec-alice")
        assert refused.status_code == 403 and refused.json()["message"] == "Resource not accessible by integration"
    fake_github.assert_contract_ok(include_requests=True)


def test_conditional_requests_get_304_like_github(repo: Repository, gh: httpx.Client) -> None:
    number = open_pr(repo)
    first = gh.get(f"/repos/octo-org/infra/pulls/{number}/files")
    assert first.headers["etag"].startswith('W/"') and "max-age=60" in first.headers["cache-control"]
    again = gh.get(f"/repos/octo-org/infra/pulls/{number}/files", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["x-ratelimit-used"] == first.headers["x-ratelimit-used"]  # 304s are free
    repo.push(number, {"new.tf": "changed\n"})
    changed = gh.get(f"/repos/octo-org/infra/pulls/{number}/files", headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200 and changed.headers["etag"] != first.headers["etag"]


def test_githubkit_parses_every_response(fake_github: FakeGitHub, repo: Repository) -> None:
    """The app's client library, end to end: app JWT, installation token, REST models, GraphQL."""
    from githubkit import AppAuthStrategy, GitHub

    number = open_pr(repo)
    app = GitHub(AppAuthStrategy(fake_github.app_id, fake_github.private_key_pem), base_url=fake_github.url)
    me = app.rest.apps.get_authenticated().parsed_data
    assert me is not None and me.slug == "compliance-bot"
    installation = app.rest.apps.get_repo_installation("octo-org", "infra").parsed_data
    gh = app.with_auth(app.auth.as_installation(installation.id))
    pr = gh.rest.pulls.get("octo-org", "infra", number).parsed_data
    files: list[Any] = list(gh.rest.paginate(gh.rest.pulls.list_files, owner="octo-org", repo="infra", pull_number=number, per_page=1))
    assert [f.filename for f in files] == ["main.tf", "new.tf"]
    review = gh.rest.pulls.create_review(
        "octo-org", "infra", number, commit_id=pr.head.sha, event="COMMENT", body="1 finding",
        comments=[{"path": "main.tf", "line": 3, "body": "ACL"}],
    ).parsed_data
    assert review.state == "COMMENTED"
    comments: list[Any] = gh.rest.pulls.list_review_comments("octo-org", "infra", number).parsed_data
    comment = comments[0]
    assert len(comments) == 1 and comment.line == 3 and comment.user is not None and comment.user.login == "compliance-bot[bot]"
    run = gh.rest.checks.create("octo-org", "infra", name="compliance", head_sha=pr.head.sha, status="in_progress").parsed_data
    done = gh.rest.checks.update(
        "octo-org", "infra", run.id, conclusion="failure",
        output=cast(Any, {"title": "1 finding", "summary": "s", "annotations": [annotation(3)]}),
    ).parsed_data
    assert done.conclusion == "failure" and done.output.annotations_count == 1
    assert gh.rest.checks.list_for_ref("octo-org", "infra", pr.head.sha).parsed_data.total_count == 1
    content = gh.rest.repos.get_content("octo-org", "infra", "main.tf", ref=pr.head.sha).parsed_data
    assert getattr(content, "path", None) == "main.tf"
    assert len(gh.rest.git.get_tree("octo-org", "infra", pr.head.sha, recursive="1").parsed_data.tree) == 3
    assert gh.rest.repos.compare_commits("octo-org", "infra", f"main...{pr.head.sha}").parsed_data.ahead_by == 1
    data = gh.graphql('query($o: String!, $n: String!) { repository(owner: $o, name: $n) { nameWithOwner } }', {"o": "octo-org", "n": "infra"})
    assert data == {"repository": {"nameWithOwner": "octo-org/infra"}}
