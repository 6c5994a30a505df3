"""REST handlers, one per operationId of GitHub's description that the fake serves.

Any other operation of the description is answered 501 and recorded as an "unimplemented"
violation, which fails the test (see `server.py`).

Handlers run after routing, auth and request validation (see `server.py`), under the world lock.
They read git and state, apply GitHub's rules (`rules.py`) and build bodies (`payloads.py`).
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import httpx

from . import rules
from .auth import TOKEN_LIFETIME, new_installation_token
from .messages import Request, Response, error, not_found
from .payloads import latest_by_name
from .state import CheckRun, PullRequest, Repository, Token, iso, node_id

if TYPE_CHECKING:
    from .fake import FakeGitHub

Handler = Callable[["FakeGitHub", Request], Response]
HANDLERS: dict[str, Handler] = {}

# What an installation token needs for each operation (GitHub's "permissions required" tables).
PERMISSIONS: dict[str, tuple[str, str]] = {
    "repos/get": ("metadata", "read"),
    "pulls/get": ("pull_requests", "read"),
    "pulls/list": ("pull_requests", "read"),
    "pulls/list-files": ("pull_requests", "read"),
    "pulls/list-reviews": ("pull_requests", "read"),
    "pulls/get-review": ("pull_requests", "read"),
    "pulls/list-comments-for-review": ("pull_requests", "read"),
    "pulls/list-review-comments": ("pull_requests", "read"),
    "pulls/create-review": ("pull_requests", "write"),
    "pulls/update-review-comment": ("pull_requests", "write"),
    "pulls/delete-review-comment": ("pull_requests", "write"),
    "checks/create": ("checks", "write"),
    "checks/update": ("checks", "write"),
    "checks/rerequest-run": ("checks", "write"),
    "checks/get": ("checks", "read"),
    "checks/list-annotations": ("checks", "read"),
    "checks/list-for-ref": ("checks", "read"),
    "checks/list-suites-for-ref": ("checks", "read"),
    "repos/get-content": ("contents", "read"),
    "git/get-ref": ("contents", "read"),
    "repos/custom-properties-for-repos-get-repository-values": ("metadata", "read"),
    "git/get-blob": ("contents", "read"),
    "git/get-tree": ("contents", "read"),
    "repos/compare-commits-with-basehead": ("contents", "read"),
    "teams/get-membership-for-user-in-org": ("members", "read"),
}
JWT_OPERATIONS = {
    "apps/get-authenticated",
    "apps/list-installations",
    "apps/create-installation-access-token",
    "apps/get-repo-installation",
    "apps/list-webhook-deliveries",
    "apps/get-webhook-delivery",
    "apps/redeliver-webhook-delivery",
}
PUBLIC_OPERATIONS = {"apps/create-from-manifest", "rate-limit/get"}


def handler(operation_id: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[operation_id] = fn
        return fn

    return register


# -- helpers ------------------------------------------------------------------------------------


def paginate(fake: FakeGitHub, req: Request, items: list[Any], *, max_per_page: int = 100) -> tuple[list[Any], dict[str, str]]:
    """Slice by `page`/`per_page` (capped at 100 like GitHub) and build the Link header."""
    per_page = int(req.query.get("per_page", 30))
    per_page = 30 if per_page <= 0 else min(per_page, max_per_page)
    page = max(1, int(req.query.get("page", 1)))
    last = max(1, math.ceil(len(items) / per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    links = []

    def url(n: int) -> str:
        query = dict(req.query)
        query["per_page"] = str(per_page)
        query["page"] = str(n)
        return f"<{fake.url}{req.path_for_links}?{urlencode(query)}>"

    if page > 1:
        links.append(f'{url(min(page - 1, last))}; rel="prev"')
    if page < last:
        links.append(f'{url(page + 1)}; rel="next"')
        links.append(f'{url(last)}; rel="last"')
    if page > 1:
        links.append(f'{url(1)}; rel="first"')
    return chunk, ({"link": ", ".join(links)} if links else {})


def _repo(fake: FakeGitHub, req: Request) -> Repository:
    repo = fake.world.repo(req.params["owner"], req.params["repo"])
    assert repo is not None  # the server checked access before calling the handler
    return repo


def _pull(repo: Repository, req: Request) -> PullRequest | None:
    return repo.pulls.get(req.int_param("pull_number"))


def _wants(req: Request, suffix: str) -> bool:
    """Whether Accept asks for GitHub's custom media type `application/vnd.github.<kind>`.

    `suffix` is e.g. "vnd.github.diff"; `.v3` and `+json` variants count too.
    """
    accept = req.headers.get_ci("accept")
    for part in accept.split(","):
        media = part.strip().split(";")[0].strip().lower().replace("vnd.github.v3.", "vnd.github.")
        if media.removesuffix("+json") == f"application/{suffix}":
            return True
    return False


# -- apps ---------------------------------------------------------------------------------------


@handler("apps/get-authenticated")
def get_app(fake: FakeGitHub, req: Request) -> Response:
    body = fake.payloads.integration()
    body["installations_count"] = len(fake.world.installations)
    return Response(200, body)


@handler("apps/list-installations")
def list_installations(fake: FakeGitHub, req: Request) -> Response:
    items = [fake.payloads.installation(i) for i in sorted(fake.world.installations.values(), key=lambda i: i.id)]
    chunk, headers = paginate(fake, req, items)
    return Response(200, chunk, headers=headers)


@handler("apps/get-repo-installation")
def get_repo_installation(fake: FakeGitHub, req: Request) -> Response:
    repo = fake.world.repo(req.params["owner"], req.params["repo"])
    if repo is None or repo.installation_id is None:
        return error(404, "Not Found", "https://docs.github.com/rest/apps/apps#get-a-repository-installation-for-the-authenticated-app")
    return Response(200, fake.payloads.installation(fake.world.installations[repo.installation_id]))


@handler("apps/create-installation-access-token")
def create_token(fake: FakeGitHub, req: Request) -> Response:
    docs = "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app"
    inst = fake.world.installations.get(req.int_param("installation_id"))
    if inst is None:
        return error(404, "Not Found", docs)
    if inst.suspended:
        return error(403, "This installation has been suspended", docs)
    body = req.json or {}
    repo_ids: set[int] | None = None
    repos = [fake.world.repo_by_id(i) for i in inst.repo_ids]
    if "repositories" in body or "repository_ids" in body:
        repo_ids = set()
        for name in body.get("repositories", []):
            match = next((r for r in repos if r and r.name.lower() == name.lower()), None)
            if match is None:
                return error(422, "There is at least one repository that does not exist or is not accessible to the parent installation.", docs)
            repo_ids.add(match.id)
        for rid in body.get("repository_ids", []):
            if rid not in inst.repo_ids:
                return error(422, "There is at least one repository that does not exist or is not accessible to the parent installation.", docs)
            repo_ids.add(rid)
    permissions = dict(inst.permissions)
    if "permissions" in body:
        order = {"read": 1, "write": 2, "admin": 3}
        for perm, level in body["permissions"].items():
            if order.get(inst.permissions.get(perm, ""), 0) < order.get(level, 9):
                return error(422, "The permissions requested are not granted to this installation.", docs)
        permissions = dict(body["permissions"])
    expires = time.time() + TOKEN_LIFETIME
    token = Token(new_installation_token(), inst.id, expires, repo_ids, permissions)
    fake.world.tokens[token.token] = token
    out: dict[str, Any] = {
        "token": token.token,
        "expires_at": iso(expires),
        "permissions": permissions,
        "repository_selection": "selected",
    }
    if repo_ids is not None:
        out["repositories"] = [fake.payloads.repository(r) for r in repos if r and r.id in repo_ids]
    return Response(201, out)


@handler("apps/create-from-manifest")
def create_from_manifest(fake: FakeGitHub, req: Request) -> Response:
    docs = "https://docs.github.com/rest/apps/apps#create-a-github-app-from-a-manifest"
    code = req.params["code"]
    if code not in fake.manifest_codes:
        return error(404, "Not Found", docs)
    registered = fake.manifest_codes.pop(code)  # a code converts once
    if registered is not None:
        if registered.expires_at <= time.time():
            return error(404, "Not Found", docs)
        fake.adopt_app(registered)
    body = fake.payloads.integration(from_manifest=True)
    if registered is not None:
        body["description"] = registered.manifest.get("description")
        body["external_url"] = registered.manifest["url"]
    body.update(
        client_secret=uuid.uuid4().hex + uuid.uuid4().hex[:8],
        webhook_secret=fake.webhook_secret,
        pem=fake.private_key_pem,
    )
    return Response(201, body)


def _delivery_item(d: Any) -> dict[str, Any]:
    return {
        "id": d.id,
        "guid": d.guid,
        "delivered_at": d.delivered_at,
        "redelivery": d.redelivery,
        "duration": 0.05,
        "status": "OK" if d.status_code < 400 else "Invalid HTTP Response: " + str(d.status_code),
        "status_code": d.status_code,
        "event": d.event,
        "action": d.action,
        "installation_id": d.installation_id,
        "repository_id": d.repository_id,
        "throttled_at": None,
    }


@handler("apps/list-webhook-deliveries")
def list_deliveries(fake: FakeGitHub, req: Request) -> Response:
    items = sorted(fake.world.deliveries, key=lambda d: -d.id)
    status = req.query.get("status")
    if status == "success":
        items = [d for d in items if d.status_code < 400]
    elif status == "failure":
        items = [d for d in items if d.status_code >= 400]
    cursor = req.query.get("cursor")
    if cursor:
        items = [d for d in items if d.id < int(cursor)] if cursor.isdigit() else []
    per_page = min(max(int(req.query.get("per_page", 30)), 1), 100)
    chunk = items[:per_page]
    headers = {}
    if len(items) > per_page:
        headers["link"] = f'<{fake.url}/app/hook/deliveries?per_page={per_page}&cursor={chunk[-1].id}>; rel="next"'
    return Response(200, [_delivery_item(d) for d in chunk], headers=headers)


@handler("apps/get-webhook-delivery")
def get_delivery(fake: FakeGitHub, req: Request) -> Response:
    d = next((d for d in fake.world.deliveries if d.id == req.int_param("delivery_id")), None)
    if d is None:
        return not_found()
    body = _delivery_item(d)
    body.update(
        url=fake.webhook_url,
        request={"headers": d.headers, "payload": d.payload},
        response={"headers": {"Content-Type": "text/plain"}, "payload": "ok"},
    )
    return Response(200, body)


@handler("apps/redeliver-webhook-delivery")
def redeliver(fake: FakeGitHub, req: Request) -> Response:
    original = next((d for d in fake.world.deliveries if d.id == req.int_param("delivery_id")), None)
    if original is None:
        return not_found()
    fake.redelivery_requests.append(original.id)
    if original.body and fake.webhook_url.startswith("http://127.0.0.1:"):
        # GitHub answers 202 at once and delivers afterwards, as a new delivery with the same GUID.
        threading.Thread(target=_redeliver, args=(fake, original), name=f"redeliver-{original.id}",
                         daemon=True).start()
    return Response(202, {})


def _redeliver(fake: FakeGitHub, original: Any) -> None:
    try:
        status = httpx.post(fake.webhook_url, headers=original.headers, content=original.body, timeout=10).status_code
    except httpx.HTTPError:
        status = 502  # GitHub's "Invalid HTTP Response" when nothing answers
    with fake.lock:
        fake.world.deliveries.append(dataclasses.replace(
            original, id=fake.world.ids.next("delivery"), delivered_at=iso(), redelivery=True, status_code=status))


# -- misc ---------------------------------------------------------------------------------------


@handler("rate-limit/get")
def rate_limit(fake: FakeGitHub, req: Request) -> Response:
    body = fake.spec.example("rate-limit-overview")
    core = fake.rate_snapshot(req, "core")
    body["resources"]["core"] = core
    body["resources"]["graphql"] = fake.rate_snapshot(req, "graphql")
    body["rate"] = dict(core)
    for key in fake.payloads.spec.removed("rate-limit-overview"):
        body.pop(key, None)
    return Response(200, body)


@handler("teams/get-membership-for-user-in-org")
def team_membership(fake: FakeGitHub, req: Request) -> Response:
    members = fake.world.team_members.get((req.params["org"].lower(), req.params["team_slug"].lower()), {})
    role = next((r for u, r in members.items() if u.lower() == req.params["username"].lower()), None)
    if role is None:
        return Response(404)  # the description gives this 404 no body
    team_id = abs(hash((req.params["org"].lower(), req.params["team_slug"].lower()))) % 10_000_000
    return Response(
        200,
        {"url": f"{fake.url}/organizations/1/team/{team_id}/memberships/{req.params['username']}", "role": role, "state": "active"},
    )


# -- repositories and git -----------------------------------------------------------------------


@handler("repos/get")
def get_repo(fake: FakeGitHub, req: Request) -> Response:
    return Response(200, fake.payloads.repository(_repo(fake, req), full=True))


def _resolve_ref(repo: Repository, ref: str) -> str | None:
    """A commit sha from a sha, branch, `heads/<b>`, `refs/heads/<b>` or tag."""
    for candidate in (ref, f"refs/heads/{ref}", f"refs/{ref}", f"refs/tags/{ref}"):
        sha = repo.git.resolve_commit(candidate)
        if sha is not None:
            return sha
    return None


@handler("repos/get-content")
def get_content(fake: FakeGitHub, req: Request) -> Response:
    repo = _repo(fake, req)
    ref = req.query.get("ref") or repo.default_branch
    commit = _resolve_ref(repo, ref)
    if commit is None:
        return error(404, f"No commit found for the ref {ref}", "https://docs.github.com/rest/repos/contents#get-repository-content")
    path = req.params["path"].strip("/")
    obj = repo.git.read(f"{commit}:{path}")
    if obj is None:
        return error(404, "Not Found", "https://docs.github.com/rest/repos/contents#get-repository-content")
    if obj.type == "blob":
        if _wants(req, "vnd.github.raw"):
            return Response(200, obj.data, media_type="application/vnd.github.raw")
        body = fake.payloads.content_file(repo, path, ref, obj.sha, obj.data)
        too_large = len(obj.data) > fake.contents_max_bytes
        if _wants(req, "vnd.github.object"):
            if too_large:  # documented: 1-100 MB files come without content
                body.update(content="", encoding="none")
            return Response(200, body, media_type="application/vnd.github.object")
        if too_large:
            return error(
                403,
                "This API returns blobs up to 1 MB in size. The requested blob is too large to fetch via the API, "
                "but you can use the Git Data API to request blobs up to 100 MB in size.",
                "https://docs.github.com/rest/repos/contents#get-repository-content",
                errors=[{"resource": "Blob", "field": "data", "code": "too_large"}],
            )
        return Response(200, body)
    entries = []
    for e in repo.git.ls_tree(f"{commit}:{path}" if path else commit):
        kind = {"blob": "file", "tree": "dir", "commit": "submodule"}[e.type]
        if e.mode == "120000":
            kind = "symlink"
        entry_path = f"{path}/{e.path}" if path else e.path
        entries.append(fake.payloads.content_entry(repo, entry_path, ref, kind, e.sha, e.size or 0))
    if _wants(req, "vnd.github.object"):
        body = fake.payloads.content_entry(repo, path, ref, "dir", obj.sha, 0)
        body["entries"] = entries
        return Response(200, body, media_type="application/vnd.github.object")
    return Response(200, entries)


@handler("git/get-ref")
def get_ref(fake: FakeGitHub, req: Request) -> Response:
    """`heads/<branch>` or `tags/<tag>` exactly (no partial match: that is the list-refs operation).
    Every repository of the fake has a commit, so GitHub's 409 for an empty one never arises."""
    repo = _repo(fake, req)
    docs = "https://docs.github.com/rest/git/refs#get-a-reference"
    ref = req.params["ref"]
    if not ref.startswith(("heads/", "tags/")):
        return error(404, "Not Found", docs)
    sha = repo.git.resolve_commit(f"refs/{ref}")
    if sha is None:
        return error(404, "Not Found", docs)
    api_repo = f"{fake.url}/repos/{repo.full_name}"
    return Response(200, {
        "ref": f"refs/{ref}",
        "node_id": node_id("REF", repo.id, zlib.crc32(ref.encode())),
        "url": f"{api_repo}/git/refs/{quote(ref)}",
        "object": {"sha": sha, "type": "commit", "url": f"{api_repo}/git/commits/{sha}"},
    })


@handler("repos/custom-properties-for-repos-get-repository-values")
def custom_property_values(fake: FakeGitHub, req: Request) -> Response:
    repo = _repo(fake, req)
    return Response(200, [{"property_name": name, "value": value} for name, value in sorted(repo.custom_properties.items())])


@handler("git/get-blob")
def get_blob(fake: FakeGitHub, req: Request) -> Response:
    repo = _repo(fake, req)
    sha = req.params["file_sha"]
    obj = repo.git.read(sha) if len(sha) == 40 else None
    if obj is None or obj.type != "blob":
        return error(404, "Not Found", "https://docs.github.com/rest/git/blobs#get-a-blob")
    if _wants(req, "vnd.github.raw"):
        return Response(200, obj.data, media_type="application/vnd.github.raw")
    return Response(200, fake.payloads.blob(repo, obj.sha, obj.data))


@handler("git/get-tree")
def get_tree(fake: FakeGitHub, req: Request) -> Response:
    repo = _repo(fake, req)
    ref = req.params["tree_sha"]
    obj = repo.git.read(f"{ref}^{{tree}}")
    if obj is None:
        commit = _resolve_ref(repo, ref)
        obj = repo.git.read(f"{commit}^{{tree}}") if commit else None
    if obj is None:
        return error(404, "Not Found", "https://docs.github.com/rest/git/trees#get-a-tree")
    recursive = "recursive" in req.query
    api_repo = f"{fake.url}/repos/{repo.full_name}"
    tree = []
    for e in repo.git.ls_tree(obj.sha, recursive=recursive):
        item: dict[str, Any] = {"path": e.path, "mode": e.mode, "type": e.type, "sha": e.sha}
        if e.type == "blob":
            item["size"] = e.size
            item["url"] = f"{api_repo}/git/blobs/{e.sha}"
        elif e.type == "tree":
            item["url"] = f"{api_repo}/git/trees/{e.sha}"
        tree.append(item)
    truncated = len(tree) > fake.tree_max_entries
    return Response(
        200,
        {"sha": obj.sha, "url": f"{api_repo}/git/trees/{obj.sha}", "tree": tree[: fake.tree_max_entries], "truncated": truncated},
    )


@handler("repos/compare-commits-with-basehead")  # Octokit's name for upstream's repos/compare-commits
def compare(fake: FakeGitHub, req: Request) -> Response:
    repo = _repo(fake, req)
    basehead = req.params["basehead"]
    if "..." not in basehead:
        return error(404, "Not Found", "https://docs.github.com/rest/commits/commits#compare-two-commits")
    base_ref, head_ref = basehead.split("...", 1)
    base_ref, head_ref = base_ref.split(":")[-1], head_ref.split(":")[-1]
    base, head = _resolve_ref(repo, base_ref), _resolve_ref(repo, head_ref)
    if base is None or head is None:
        return error(404, "Not Found", "https://docs.github.com/rest/commits/commits#compare-two-commits")
    diff = fake.world.diff(repo, base, head)
    if _wants(req, "vnd.github.diff"):
        return Response(200, diff.text, media_type="application/vnd.github.diff")
    if _wants(req, "vnd.github.patch"):
        return Response(200, repo.git.format_patch(diff.base, head), media_type="application/vnd.github.patch")
    ahead = repo.git.rev_list(base, head)
    behind = repo.git.rev_list(head, base)
    status = "identical" if not ahead and not behind else "ahead" if not behind else "behind" if not ahead else "diverged"
    commits = [fake.payloads.commit(repo, info) for sha in ahead if (info := repo.git.commit_info(sha))]
    page, headers = paginate(fake, req, commits, max_per_page=250) if "page" in req.query or "per_page" in req.query else (commits[:250], {})
    base_info, mb_info = repo.git.commit_info(base), repo.git.commit_info(diff.base)
    assert base_info is not None and mb_info is not None
    html = f"https://github.com/{repo.full_name}/compare/{basehead}"
    body = {
        "url": f"{fake.url}/repos/{repo.full_name}/compare/{basehead}",
        "html_url": html,
        "permalink_url": f"https://github.com/{repo.full_name}/compare/{repo.owner.login}:{base}...{repo.owner.login}:{head}",
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "base_commit": fake.payloads.commit(repo, base_info),
        "merge_base_commit": fake.payloads.commit(repo, mb_info),
        "status": status,
        "ahead_by": len(ahead),
        "behind_by": len(behind),
        "total_commits": len(ahead),
        "commits": page,
        "files": [fake.payloads.diff_entry(repo, f, head, diff.base) for f in diff.files[:300]],
    }
    return Response(200, body, headers=headers)


# -- pull requests ------------------------------------------------------------------------------


@handler("pulls/get")
def get_pull(fake: FakeGitHub, req: Request) -> Response:
    repo = _repo(fake, req)
    pr = _pull(repo, req)
    if pr is None:
        return error(404, "Not Found", "https://docs.github.com/rest/pulls/pulls#get-a-pull-request")
    if _wants(req, "vnd.github.diff"):
        diff = repo.pull_diff(pr)
        if len(diff.files) > fake.diff_max_files:
            return error(
                406,
                f"Sorry, the diff exceeded the maximum number of files ({fake.diff_max_files}). Consider using "
                "'List pull requests files' API or locally cloning the repository instead.",
                "https://docs.github.com/rest/pulls/pulls#list-pull-requests-files",
                errors=[{"resource": "PullRequest", "field": "diff", "code": "too_large"}],
            )
        if diff.line_count > fake.diff_max_lines:
            return error(
                406,
                f"Sorry, the diff exceeded the maximum number of lines ({fake.diff_max_lines}). Consider using "
                "'List pull requests files' API or locally cloning the repository instead.",
                "https://docs.github.com/rest/pulls/pulls#list-pull-requests-files",
                errors=[{"resource": "PullRequest", "field": "diff", "code": "too_large"}],
            )
        return Response(200, diff.text, media_type="application/vnd.github.diff")
    if _wants(req, "vnd.github.patch"):
        diff = repo.pull_diff(pr)
        return Response(200, repo.git.format_patch(diff.base, diff.head), media_type="application/vnd.github.patch")
    return Response(200, fake.payloads.pull_request(repo, pr))


@handler("pulls/list")
def list_pulls(fake: FakeGitHub, req: Request) -> Response:
    """`state` (open, closed, all), `base`, `head` (`owner:branch`), `sort` (created, updated;
    popularity and long-running fall back to created) and `direction` (GitHub's default: desc for
    created, asc otherwise), paginated."""
    repo = _repo(fake, req)
    state = req.query.get("state", "open")
    pulls = [p for p in repo.pulls.values() if state == "all" or p.state == state]
    if "base" in req.query:
        pulls = [p for p in pulls if p.base_ref == req.query["base"]]
    if "head" in req.query:
        pulls = [p for p in pulls if f"{repo.owner.login}:{p.head_ref}" == req.query["head"]]
    sort = req.query.get("sort", "created")
    descending = req.query.get("direction", "desc" if sort == "created" else "asc") == "desc"
    field = "updated_at" if sort == "updated" else "created_at"
    pulls.sort(key=lambda p: (getattr(p, field), p.number), reverse=descending)
    chunk, headers = paginate(fake, req, pulls)
    return Response(200, [fake.payloads.pull_simple(repo, p) for p in chunk], headers=headers)


@handler("pulls/list-files")
def list_files(fake: FakeGitHub, req: Request) -> Response:
    repo = _repo(fake, req)
    pr = _pull(repo, req)
    if pr is None:
        return error(404, "Not Found", "https://docs.github.com/rest/pulls/pulls#list-pull-requests-files")
    diff = repo.pull_diff(pr)
    files = diff.files[: fake.files_max]  # GitHub lists at most 3000 files
    chunk, headers = paginate(fake, req, files)
    head = diff.head
    return Response(200, [fake.payloads.diff_entry(repo, f, head, diff.base) for f in chunk], headers=headers)


def _visible_reviews(fake: FakeGitHub, repo: Repository, pr: PullRequest) -> list[Any]:
    return [
        r
        for r in sorted(repo.reviews.values(), key=lambda r: r.id)
        if r.pull_number == pr.number and (r.state != "PENDING" or r.user.id == fake.bot.id)
    ]


@handler("pulls/list-reviews")
def list_reviews(fake: FakeGitHub, req: Request) -> Response:
    repo = _repo(fake, req)
    pr = _pull(repo, req)
    if pr is None:
        return not_found()
    chunk, headers = paginate(fake, req, _visible_reviews(fake, repo, pr))
    return Response(200, [fake.payloads.review(repo, r) for r in chunk], headers=headers)


@handler("pulls/get-review")
def get_review(fake: FakeGitHub, req: Request) -> Response:
    repo = _repo(fake, req)
    pr = _pull(repo, req)
    review = repo.reviews.get(req.int_param("review_id"))
    if pr is None or review is None or review.pull_number != pr.number:
        return not_found()
    return Response(200, fake.payloads.review(repo, review))


@handler("pulls/list-comments-for-review")
def list_review_comments_of_review(fake: FakeGitHub, req: Request) -> Response:
    repo = _repo(fake, req)
    pr = _pull(repo, req)
    review = repo.reviews.get(req.int_param("review_id"))
    if pr is None or review is None or review.pull_number != pr.number:
        return not_found()
    comments = [repo.comments[c] for c in review.comment_ids if c in repo.comments]
    chunk, headers = paginate(fake, req, comments)
    head = repo.head_sha(pr)
    out = []
    for c in chunk:
        body = fake.payloads.review_comment(repo, c, rules.locate(repo, pr, c), head)
        body.setdefault("position", None)
        out.append(body)
    return Response(200, out, headers=headers)


@handler("pulls/list-review-comments")
def list_review_comments(fake: FakeGitHub, req: Request) -> Response:
    repo = _repo(fake, req)
    pr = _pull(repo, req)
    if pr is None:
        return not_found()
    comments = [c for c in repo.comments.values() if c.pull_number == pr.number]
    reviews = repo.reviews
    comments = [c for c in comments if c.review_id is None or reviews[c.review_id].state != "PENDING" or reviews[c.review_id].user.id == fake.bot.id]
    sort = req.query.get("sort", "created")
    direction = req.query.get("direction", "asc" if "sort" not in req.query else "desc")
    comments.sort(key=lambda c: (c.updated_at if sort == "updated" else c.created_at, c.id), reverse=direction == "desc")
    since = req.query.get("since")
    if since:
        comments = [c for c in comments if c.updated_at >= since]
    chunk, headers = paginate(fake, req, comments)
    head = repo.head_sha(pr)
    return Response(
        200, [fake.payloads.review_comment(repo, c, rules.locate(repo, pr, c), head) for c in chunk], headers=headers
    )


@handler("pulls/create-review")
def create_review(fake: FakeGitHub, req: Request) -> Response:
    repo = _repo(fake, req)
    pr = _pull(repo, req)
    if pr is None:
        return not_found()
    body = req.json or {}
    result = rules.create_review(
        fake.world,
        repo,
        pr,
        fake.bot,
        event=body.get("event"),
        body=body.get("body"),
        commit_id=body.get("commit_id"),
        comments=list(body.get("comments") or []),
        strict_commit=fake.strict_review_commit,
    )
    if isinstance(result, rules.Rejection):
        return Response(result.status, result.body())
    return Response(200, fake.payloads.review(repo, result))


@handler("pulls/update-review-comment")
def update_review_comment(fake: FakeGitHub, req: Request) -> Response:
    repo = _repo(fake, req)
    comment = repo.comments.get(req.int_param("comment_id"))
    if comment is None:
        return error(404, "Not Found", "https://docs.github.com/rest/pulls/comments#update-a-review-comment-for-a-pull-request")
    text = (req.json or {})["body"]
    if len(text) > rules.MAX_BODY:
        return error(422, "Validation Failed", errors=[{"resource": "PullRequestReviewComment", "code": "custom", "field": "body", "message": f"body is too long (maximum is {rules.MAX_BODY} characters)"}])
    comment.body = text
    comment.updated_at = iso()
    pr = repo.pulls[comment.pull_number]
    return Response(200, fake.payloads.review_comment(repo, comment, rules.locate(repo, pr, comment), repo.head_sha(pr)))


@handler("pulls/delete-review-comment")
def delete_review_comment(fake: FakeGitHub, req: Request) -> Response:
    repo = _repo(fake, req)
    comment = repo.comments.pop(req.int_param("comment_id"), None)
    if comment is None:
        return error(404, "Not Found", "https://docs.github.com/rest/pulls/comments#delete-a-review-comment-for-a-pull-request")
    thread = repo.threads.get(comment.thread_id)
    if thread is not None:
        thread.comment_ids = [c for c in thread.comment_ids if c != comment.id]
        if not thread.comment_ids:
            del repo.threads[thread.id]
            fake.world.nodes.pop(thread.id, None)
    fake.world.nodes.pop(comment.node_id, None)
    return Response(204)


# -- checks -------------------------------------------------------------------------------------


def _run(repo: Repository, req: Request) -> CheckRun | None:
    return repo.check_runs.get(req.int_param("check_run_id"))


@handler("checks/create")
def create_check_run(fake: FakeGitHub, req: Request) -> Response:
    repo = _repo(fake, req)
    result = rules.create_check_run(fake.world, repo, req.json)
    if isinstance(result, rules.Rejection):
        if result.contract:
            fake._violation("request", req, result.message)
        return Response(result.status, result.body())
    return Response(201, fake.payloads.check_run(repo, result))


@handler("checks/update")
def update_check_run(fake: FakeGitHub, req: Request) -> Response:
    repo = _repo(fake, req)
    run = _run(repo, req)
    if run is None:
        return error(404, "Not Found", "https://docs.github.com/rest/checks/runs#update-a-check-run")
    result = rules.update_check_run(fake.world, repo, run, req.json)
    if isinstance(result, rules.Rejection):
        return Response(result.status, result.body())
    return Response(200, fake.payloads.check_run(repo, result))


@handler("checks/get")
def get_check_run(fake: FakeGitHub, req: Request) -> Response:
    repo = _repo(fake, req)
    run = _run(repo, req)
    if run is None:
        return error(404, "Not Found", "https://docs.github.com/rest/checks/runs#get-a-check-run")
    return Response(200, fake.payloads.check_run(repo, run))


@handler("checks/list-annotations")
def list_annotations(fake: FakeGitHub, req: Request) -> Response:
    repo = _repo(fake, req)
    run = _run(repo, req)
    if run is None:
        return error(404, "Not Found", "https://docs.github.com/rest/checks/runs#list-check-run-annotations")
    chunk, headers = paginate(fake, req, run.annotations)
    return Response(200, [fake.payloads.annotation(repo, run, a) for a in chunk], headers=headers)


@handler("checks/rerequest-run")
def rerequest_run(fake: FakeGitHub, req: Request) -> Response:
    repo = _repo(fake, req)
    run = _run(repo, req)
    if run is None:
        return error(404, "Not Found", "https://docs.github.com/rest/checks/runs#rerequest-a-check-run")
    repo.check_suites[run.check_suite_id].rerequested += 1
    fake.rerequests.append((repo.full_name, run.id))
    return Response(201, {})


@handler("checks/list-for-ref")
def list_check_runs(fake: FakeGitHub, req: Request) -> Response:
    repo = _repo(fake, req)
    sha = _resolve_ref(repo, req.params["ref"])
    if sha is None:
        return error(422, f"No commit found for SHA: {req.params['ref']}", "https://docs.github.com/rest/checks/runs#list-check-runs-for-a-git-reference")
    runs = sorted((r for r in repo.check_runs.values() if r.head_sha == sha), key=lambda r: r.created_seq)
    if req.query.get("filter", "latest") == "latest":
        runs = latest_by_name(runs)
    if "check_name" in req.query:
        runs = [r for r in runs if r.name == req.query["check_name"]]
    if "status" in req.query:
        runs = [r for r in runs if r.status == req.query["status"]]
    if "app_id" in req.query and int(req.query["app_id"]) != fake.app_id:
        runs = []
    runs.sort(key=lambda r: -r.created_seq)
    chunk, headers = paginate(fake, req, runs)
    return Response(
        200, {"total_count": len(runs), "check_runs": [fake.payloads.check_run(repo, r) for r in chunk]}, headers=headers
    )


@handler("checks/list-suites-for-ref")
def list_check_suites(fake: FakeGitHub, req: Request) -> Response:
    repo = _repo(fake, req)
    sha = _resolve_ref(repo, req.params["ref"])
    if sha is None:
        return error(422, f"No commit found for SHA: {req.params['ref']}", "https://docs.github.com/rest/checks/suites#list-check-suites-for-a-git-reference")
    suites = [s for s in repo.check_suites.values() if s.head_sha == sha]
    if "app_id" in req.query and int(req.query["app_id"]) != fake.app_id:
        suites = []
    if "check_name" in req.query:
        suites = [s for s in suites if any(r.name == req.query["check_name"] and r.check_suite_id == s.id for r in repo.check_runs.values())]
    chunk, headers = paginate(fake, req, suites)
    return Response(
        200, {"total_count": len(suites), "check_suites": [fake.payloads.check_suite(repo, s) for s in chunk]}, headers=headers
    )

