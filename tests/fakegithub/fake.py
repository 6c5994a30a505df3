"""`FakeGitHub`: the object tests hold. Starts the server, owns the world, exposes helpers and records.

    with FakeGitHub() as fake:
        repo = fake.create_repo("octo-org", "infra")
        repo.commit("feature", {"main.tf": "..."}, "Add bucket")
        number = repo.open_pull_request(head="feature", base="main", title="Add bucket")
        # run the app with GITHUB_API_URL=fake.url, GITHUB_APP_ID=fake.app_id,
        # GITHUB_PRIVATE_KEY_PATH=fake.private_key_path; then assert on fake.reviews(...)
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Self

from . import faults as faultlib
from .auth import (
    TOKEN_LIFETIME,
    KeyPair,
    generate_key_pair,
    make_jwt,
    new_installation_token,
    shared_key_pair,
)
from .descriptions import FLAVORS
from .gitrepo import FileChanges, GitRepo
from .manifest_web import ManifestCode
from .messages import Request, Response
from .openapi import Spec, Violation, load_spec
from .payloads import App, Payloads
from .rules import locate
from .server import HTTPServerThread, Pipeline, RecordedRequest
from .state import Account, Installation, Repository, Token, World, iso
from .webhooks import WebhookBuilder, record_delivery

DEFAULT_PERMISSIONS = {"checks": "write", "contents": "read", "metadata": "read", "pull_requests": "write", "members": "read"}
LEVELS = {"read": 1, "write": 2, "admin": 3}
# "unimplemented": an operation of the description (REST) or a field of the schema (GraphQL)
# that the fake does not serve; the test must fail rather than see a made-up 404 or null.
FATAL_KINDS = ("response", "unknown_operation", "unimplemented", "fake_error")


class FakeGitHub:
    """A fake github.com API on a loopback port, backed by real git repositories.

    Tunables (plain attributes, change them any time): `patch_limit_bytes` (files whose diff is
    larger get no `patch`), `files_max` (3000), `diff_max_files` (300) and `diff_max_lines`
    (20,000) for the diff media type, `tree_max_entries`, `contents_max_bytes` (1 MiB),
    `graphql_blob_text_limit` (512,000),
    `strict_review_commit` (a review's `commit_id` must be the head), `response_hook`,
    `latency` (seconds added to every answer).
    """

    def __init__(
        self,
        *,
        app_slug: str = "compliance-bot",
        app_name: str = "Compliance Bot",
        app_id: int = 424242,
        patch_limit_bytes: int = 1_048_576,
        fresh_key: bool = False,
        webhook_secret: str = "fake-webhook-secret",
        flavor: str = "api.github.com",
    ) -> None:
        if flavor not in FLAVORS:
            raise ValueError(f"unknown flavor {flavor!r}; one of {', '.join(FLAVORS)}")
        self.flavor = flavor
        # GHES serves REST under /api/v3 and GraphQL at /api/graphql; github.com at / and /graphql.
        self.rest_prefix = "" if flavor == "api.github.com" else "/api/v3"
        self.graphql_path = "/graphql" if flavor == "api.github.com" else "/api/graphql"
        self.lock = threading.RLock()
        self.spec: Spec = load_spec(flavor=flavor)
        self.world = World(self.lock, patch_limit_bytes)
        keys: KeyPair = generate_key_pair() if fresh_key else shared_key_pair()
        self.private_key_pem: str = keys.private_pem
        self.public_key_pem: str = keys.public_pem
        self.app_id = app_id
        self.webhook_secret = webhook_secret
        self.hook_id = 480_000_000 + app_id % 1_000_000
        owner = self.world.account("compliance-org", "Organization")
        self.bot: Account = self.world.account(f"{app_slug}[bot]", "Bot")
        self.world.account("octocat", "User")  # author of commits made by repo.commit()
        self.app = App(
            id=app_id,
            slug=app_slug,
            name=app_name,
            client_id=f"Iv23li{app_id:014d}"[:20],
            owner=owner,
            bot=self.bot,
            permissions=dict(DEFAULT_PERMISSIONS),
            events=["check_run", "check_suite", "pull_request", "pull_request_review"],
            created_at=iso(),
        )
        self.files_max = 3000
        self.diff_max_files = 300
        self.diff_max_lines = 20_000
        self.tree_max_entries = 100_000
        self.contents_max_bytes = 1_048_576  # contents API: larger files need the raw/object media types
        self.graphql_blob_text_limit = 512_000
        self.strict_review_commit = True
        self.latency = 0.0  # seconds added to every answer (outside the lock): a slower GitHub, for benchmarks
        self.served_cpu = 0.0  # thread CPU seconds spent answering since `reset_requests`: GitHub's side
        self.response_hook: Callable[[str | None, Response], Response | None] | None = None
        self.webhook_url = "http://127.0.0.1/webhook"
        # Codes for `POST /app-manifests/{code}/conversions`: from the web flow (`manifest_web`), or
        # None from `add_manifest_code` (the conversion then hands out this fake's own App).
        self.manifest_codes: dict[str, ManifestCode | None] = {}
        self.manifest_pending: dict[str, Any] = {}  # manifests posted, waiting for "Create GitHub App"
        self.requests: list[RecordedRequest] = []
        self.contract_violations: list[Violation] = []
        self.graphql_mutations: list[dict[str, Any]] = []
        self.rerequests: list[tuple[str, int]] = []
        self.redelivery_requests: list[int] = []
        self.faults = faultlib.Faults()
        self._rate: dict[tuple[str, str], list[int]] = {}
        self._tmp = Path(tempfile.mkdtemp(prefix="fakegithub-"))
        self.private_key_path = self._tmp / "app-private-key.pem"
        self.private_key_path.write_text(self.private_key_pem)
        self._server: HTTPServerThread | None = None
        self.root_url = ""  # scheme://host:port
        self.url = ""  # the REST API root: root_url + rest_prefix
        self.payloads: Payloads

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind a free port on 127.0.0.1 and serve in a background thread."""
        if self._server is None:
            self._server = HTTPServerThread(Pipeline(self))
            self.root_url = f"http://127.0.0.1:{self._server.port}"
            self.url = self.root_url + self.rest_prefix
            self.payloads = Payloads(self.spec, self.url, self.app, self.world.accounts)
            self._server.start()
        return self

    def close(self) -> None:
        """Stop the server, the git helpers, and delete the temporary folders."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        for repo in self.world.repos.values():
            repo.git.close()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def spec_for(self, version: str) -> Spec:
        """The OpenAPI view for an `X-GitHub-Api-Version` (githubkit 0.16 sends 2026-03-10)."""
        return load_spec(version, self.flavor)

    @property
    def patch_limit_bytes(self) -> int:
        """Files whose patch is larger than this get no `patch` in the files list (like GitHub)."""
        return self.world.patch_limit_bytes

    @patch_limit_bytes.setter
    def patch_limit_bytes(self, value: int) -> None:
        self.world.patch_limit_bytes = value

    @property
    def graphql_url(self) -> str:
        return self.root_url + self.graphql_path

    @property
    def app_slug(self) -> str:
        return self.app.slug

    @property
    def bot_login(self) -> str:
        """The app's login in REST (`<slug>[bot]`); GraphQL shows it without `[bot]`."""
        return self.bot.login

    # -- world setup ----------------------------------------------------------------------------

    def create_repo(
        self,
        owner: str,
        name: str,
        default_branch: str = "main",
        *,
        files: FileChanges | None = None,
        private: bool = True,
        installed: bool = True,
        owner_type: str = "Organization",
        permissions: Mapping[str, str] | None = None,
    ) -> Repository:
        """A repository with one initial commit on `default_branch` (README.md unless `files`).

        The app is installed on the owner account (one installation per account, shared by its
        repositories) unless `installed=False`; `permissions` overrides that installation's grants.
        """
        with self.lock:
            if self.world.repo(owner, name) is not None:
                raise ValueError(f"{owner}/{name} already exists")
            account = self.world.account(owner, owner_type)
            git = GitRepo(self._tmp / "repos" / owner / f"{name}.git", default_branch)
            repo = Repository(self.world, account, name, default_branch, git, private)
            git.commit(default_branch, files if files is not None else {"README.md": f"# {name}\n"}, "Initial commit")
            self.world.repos[repo.full_name.lower()] = repo
            self.world.nodes[repo.node_id] = ("Repository", repo.id)
            if installed:
                inst = self.installation_for(owner)
                if permissions is not None:
                    inst.permissions = dict(permissions)
                inst.repo_ids.add(repo.id)
                repo.installation_id = inst.id
            return repo

    def installation_for(self, owner: str) -> Installation:
        """The app's installation on an account (created on first use)."""
        with self.lock:
            account = self.world.account(owner, "Organization")
            for inst in self.world.installations.values():
                if inst.account.id == account.id:
                    return inst
            inst = Installation(self.world.ids.next("installation"), account, dict(DEFAULT_PERMISSIONS))
            self.world.installations[inst.id] = inst
            return inst

    def repo(self, owner: str, name: str) -> Repository:
        found = self.world.repo(owner, name)
        if found is None:
            raise KeyError(f"no repository {owner}/{name}")
        return found

    def _repo_of(self, owner: str | Repository, repo: str | None) -> Repository:
        if isinstance(owner, Repository):
            return owner
        assert repo is not None
        return self.repo(owner, repo)

    def set_team_members(self, org: str, team_slug: str, members: Mapping[str, str]) -> None:
        """`{username: "member" | "maintainer"}` for GET /orgs/{org}/teams/{team}/memberships/{user}."""
        self.world.team_members[(org.lower(), team_slug.lower())] = dict(members)

    # -- auth helpers ---------------------------------------------------------------------------

    def make_jwt(self, *, iat: int | None = None, exp: int | None = None, iss: Any = None, private_key_pem: str | None = None) -> str:
        """An app JWT signed with the fake's key (or another one), for tests of the auth rules."""
        return make_jwt(private_key_pem or self.private_key_pem, self.app_id, iat=iat, exp=exp, iss=iss)

    def installation_token(self, installation_id: int, *, expires_in: int = TOKEN_LIFETIME) -> str:
        """Mint a token without HTTP (handy when a test is not about the token flow)."""
        with self.lock:
            inst = self.world.installations[installation_id]
            token = Token(new_installation_token(), inst.id, time.time() + expires_in, None, dict(inst.permissions))
            self.world.tokens[token.token] = token
            return token.token

    def expire_tokens(self) -> None:
        """Make every issued installation token expired (the next call answers 401)."""
        with self.lock:
            for token in self.world.tokens.values():
                token.expires_at = time.time() - 1

    def token_can_access(self, auth: Any, repo: Repository) -> bool:
        token, inst = auth.token, auth.installation
        if token is None or inst is None or repo.id not in inst.repo_ids:
            return False
        return token.repo_ids is None or repo.id in token.repo_ids

    def token_has_permission(self, auth: Any, permission: str, level: str) -> bool:
        token = auth.token
        if token is None:
            return False
        granted = token.permissions.get(permission)
        if permission == "metadata" and granted is None:
            return True  # every installation can read metadata
        return LEVELS.get(granted or "", 0) >= LEVELS[level]

    def rate_snapshot(self, req: Request, resource: str, *, count: bool = False) -> dict[str, int]:
        """GitHub's rate-limit numbers for the caller; `count=True` spends one request."""
        who = f"inst:{req.auth.installation.id}" if req.auth.installation else req.auth.kind
        now = int(time.time())
        state = self._rate.setdefault((who, resource), [0, now + 3600])
        if state[1] <= now:
            state[:] = [0, now + 3600]
        if count:
            state[0] += 1
        limit = 5000
        return {"limit": limit, "used": state[0], "remaining": max(0, limit - state[0]), "reset": state[1]}

    # -- fault injection -------------------------------------------------------------------------

    def inject(self, method: str | None, path_regex: str, status: int = 502, times: int = 1, body: Any = None) -> faultlib.Fault:
        """The next `times` matching requests fail with `status` (not contract violations)."""
        return self.faults.add(faultlib.server_error(method and method.upper(), path_regex, status, times, body))

    def inject_rate_limit(self, method: str | None, path_regex: str, times: int = 1, retry_after: int = 1) -> faultlib.Fault:
        """Secondary rate limit: 403 + `retry-after`, message 'You have exceeded a secondary rate limit...'."""
        return self.faults.add(faultlib.secondary_rate_limit(method and method.upper(), path_regex, times, retry_after))

    def inject_primary_rate_limit(self, method: str | None, path_regex: str, times: int = 1, status: int = 403, reset_in: int = 1) -> faultlib.Fault:
        """Primary (hourly) limit: 403 or 429 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset`."""
        return self.faults.add(faultlib.primary_rate_limit(method and method.upper(), path_regex, times, status, reset_in))

    # -- records -------------------------------------------------------------------------------

    def _violation(self, kind: str, req: Request, message: str) -> None:
        self.contract_violations.append(
            Violation(kind, req.method, req.path, req.op.operation_id if req.op else None, message)
        )

    def count(self, method: str | None = None, path_regex: str | None = None, *, status: int | None = None) -> int:
        """How many recorded requests match (method exact, regex searched in the path)."""
        rx = re.compile(path_regex) if path_regex else None
        with self.lock:
            return sum(
                1
                for r in self.requests
                if (method is None or r.method == method.upper())
                and (rx is None or rx.search(r.path))
                and (status is None or r.status == status)
            )

    def reset_requests(self) -> None:
        with self.lock:
            self.requests.clear()
            self.served_cpu = 0.0

    def add_served_cpu(self, seconds: float) -> None:
        with self.lock:
            self.served_cpu += seconds

    def fatal_violations(self) -> list[Violation]:
        """Violations that must fail a test: broken responses, unknown or unimplemented operations,
        crashes."""
        return [v for v in self.contract_violations if v.kind in FATAL_KINDS]

    def assert_contract_ok(self, *, include_requests: bool = False) -> None:
        kinds = set(FATAL_KINDS) | ({"request", "graphql"} if include_requests else set())
        bad = [v for v in self.contract_violations if v.kind in kinds]
        if bad:
            raise AssertionError("GitHub contract violations:\n" + "\n".join(str(v) for v in bad))

    def _pr_args(self, owner: str | Repository, repo: str | int | None, number: int | None) -> tuple[Repository, int]:
        """Accept (owner, repo, number) or (Repository, number)."""
        if isinstance(owner, Repository):
            r, number = owner, repo if isinstance(repo, int) else number
        else:
            r = self.repo(owner, str(repo))
        if number is None:
            raise TypeError("a pull request number is required")
        return r, number

    def reviews(self, owner: str | Repository, repo: str | int | None = None, number: int | None = None) -> list[dict[str, Any]]:
        """Reviews of a PR, oldest first: event, state, body, commit_id, inline comments as written."""
        r, number = self._pr_args(owner, repo, number)
        with self.lock:
            out = []
            for review in sorted(r.reviews.values(), key=lambda x: x.id):
                if review.pull_number != number:
                    continue
                comments = [r.comments[c] for c in review.comment_ids if c in r.comments]
                out.append(
                    {
                        "id": review.id,
                        "node_id": review.node_id,
                        "user": review.user.login,
                        "event": review.event,
                        "state": review.state,
                        "body": review.body,
                        "commit_id": review.commit_id,
                        "comments": [
                            {
                                "id": c.id,
                                "node_id": c.node_id,
                                "path": c.path,
                                "line": c.original_line,
                                "start_line": c.original_start_line,
                                "side": c.side,
                                "start_side": c.start_side,
                                "body": c.body,
                                "thread_id": c.thread_id,
                            }
                            for c in comments
                        ],
                    }
                )
            return out

    def review_threads(self, owner: str | Repository, repo: str | int | None = None, number: int | None = None) -> list[dict[str, Any]]:
        """Threads of a PR with their current state (resolved, outdated, current line)."""
        r, number = self._pr_args(owner, repo, number)
        with self.lock:
            pr = r.pull(number)
            out = []
            for t in sorted(r.threads.values(), key=lambda t: t.database_id):
                if t.pull_number != pr.number:
                    continue
                loc = locate(r, pr, t)
                out.append(
                    {
                        "id": t.id,
                        "path": t.path,
                        "line": loc.line,
                        "original_line": t.original_line,
                        "start_line": t.original_start_line,
                        "side": t.side,
                        "is_resolved": t.is_resolved,
                        "is_outdated": loc.outdated,
                        "comments": [
                            {"id": c.id, "node_id": c.node_id, "body": c.body, "user": c.user.login, "minimized_reason": c.minimized_reason}
                            for c in r.thread_comments(t)
                        ],
                    }
                )
            return out

    def check_runs(self, owner: str | Repository, repo: str | None = None) -> list[dict[str, Any]]:
        """Every check run of a repo (oldest first) with all annotations and its version history."""
        r = self._repo_of(owner, repo)
        with self.lock:
            return [
                {
                    "id": run.id,
                    "name": run.name,
                    "head_sha": run.head_sha,
                    "status": run.status,
                    "conclusion": run.conclusion,
                    "external_id": run.external_id,
                    "details_url": run.details_url,
                    "started_at": run.started_at,
                    "completed_at": run.completed_at,
                    "output": dict(run.output),
                    "title": run.output.get("title"),
                    "summary": run.output.get("summary"),
                    "text": run.output.get("text"),
                    "annotations": [dict(a) for a in run.annotations],
                    "images": [dict(i) for i in run.images],
                    "actions": [dict(a) for a in run.actions],
                    "history": [dict(h) for h in run.history],
                }
                for run in sorted(r.check_runs.values(), key=lambda x: x.created_seq)
            ]

    # -- webhooks ------------------------------------------------------------------------------

    def webhook(
        self,
        event_action: str,
        repo: Repository | None = None,
        pr_number: int | None = None,
        *,
        secret: str | None = None,
        check_run_id: int | None = None,
        overrides: Mapping[str, Any] | None = None,
        review_id: int | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """(headers, body) of a delivery built from GitHub's example `<event_action>.json` (see
        `descriptions.EXAMPLES`) for this repo/PR.

        `secret` defaults to `fake.webhook_secret`; pass "" for an unsigned delivery. The payload
        is checked against Octokit's webhook schema and GitHub's own x-webhooks schema (ValueError
        if the result does not match either). `review_id`: for `pull_request_review.*`, the review
        (made with `repo.submit_review`) the delivery is about.
        """
        with self.lock:
            headers, body, payload = WebhookBuilder(self).build(
                event_action,
                repo,
                pr_number,
                secret=self.webhook_secret if secret is None else secret,
                check_run_id=check_run_id,
                overrides=overrides,
                review_id=review_id,
            )
            record_delivery(self, headers, payload, repo, body)
            return headers, body

    def answered(self, headers: Mapping[str, str], status: int) -> None:
        """Record what the App answered to the delivery `headers` name (GitHub lists a delivery
        answered 4xx/5xx as failed, and the App may ask for it again)."""
        guid = headers["X-GitHub-Delivery"]
        with self.lock:
            for delivery in reversed(self.world.deliveries):
                if delivery.guid == guid:
                    delivery.status_code = status
                    return
        raise KeyError(f"no delivery {guid}")

    def app_env(self) -> dict[str, str]:
        """Environment for running the app against this fake (names as in bot/settings.py)."""
        return {
            "GITHUB_API_URL": self.url,
            "APP_ID": str(self.app_id),
            "PRIVATE_KEY_PATH": str(self.private_key_path),
            "WEBHOOK_SECRET": self.webhook_secret,
        }

    def add_manifest_code(self, code: str) -> None:
        """Make `POST /app-manifests/{code}/conversions` succeed once for `code`."""
        self.manifest_codes[code] = None

    def adopt_app(self, registered: ManifestCode) -> None:
        """Become the host of a new App registered from a manifest: a new id, RSA key and webhook
        secret, the manifest's name, permissions and events. From now on the fake accepts JWTs of
        this App only, signs deliveries with its secret and sends them to its webhook URL."""
        import secrets

        manifest = registered.manifest
        keys = generate_key_pair()
        with self.lock:
            self.app_id = self.app_id + 1
            self.private_key_pem, self.public_key_pem = keys.private_pem, keys.public_pem
            self.private_key_path.write_text(self.private_key_pem)
            self.webhook_secret = secrets.token_hex(20)
            self.hook_id = 480_000_000 + self.app_id % 1_000_000
            self.webhook_url = manifest["hook_attributes"]["url"]
            slug = re.sub(r"[^a-z0-9]+", "-", manifest["name"].lower()).strip("-") or f"app-{self.app_id}"
            self.bot = self.world.account(f"{slug}[bot]", "Bot")
            self.app = App(id=self.app_id, slug=slug, name=manifest["name"],
                           client_id=f"Iv23li{self.app_id:014d}"[:20],
                           owner=self.world.account(registered.owner, registered.owner_type), bot=self.bot,
                           permissions=dict(manifest["default_permissions"]),
                           events=list(manifest["default_events"]), created_at=iso())
            self.payloads.app = self.app

