"""Webhook deliveries built from GitHub's real payload examples, pointed at a fake repository.

The example (`@octokit/webhooks-examples`, chosen in `descriptions.EXAMPLES`) is loaded verbatim,
then every value that names the example's repository, pull request, commits, installation or app
is replaced by the fake's (URLs are re-rooted at the fake's API URL). The result is validated
against the event's JSON Schema (`@octokit/webhooks-schemas`), serialized compactly like GitHub
does, and signed: `X-Hub-Signature-256 = sha256=HMAC-SHA256(secret, exact body)`.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from . import descriptions
from .state import Delivery, PullRequest, Repository, iso, node_id

if TYPE_CHECKING:
    from .fake import FakeGitHub

EXAMPLE_API = "https://api.github.com"
# Events for which the examples have no file: start from a sibling and add what the schema needs.
FALLBACKS: dict[str, tuple[str, dict[str, Any]]] = {
    "pull_request.edited": ("pull_request.opened", {"changes": {}}),
    "pull_request_review.edited": ("pull_request_review.submitted", {"changes": {}}),
}


@cache
def _example(name: str) -> dict[str, Any]:
    return descriptions.webhook_example(f"{name}.json")


@cache
def _validator(name: str) -> Any:
    path = descriptions.webhooks_dir() / "schemas" / f"{name}.schema.json"
    if not path.is_file():
        raise ValueError(f"no webhook schema for {name}: add it to descriptions.EXTRA_SCHEMAS")
    from jsonschema import Draft7Validator  # type: ignore[import-untyped, unused-ignore]

    with open(path, encoding="utf-8") as fh:
        return Draft7Validator(json.load(fh))


@cache
def header_template() -> dict[str, str]:
    """A delivery's headers as GitHub's description records one (components/examples/hook-delivery)."""
    with open(descriptions.webhooks_dir() / "headers.example.json", encoding="utf-8") as fh:
        return dict(json.load(fh)["headers"])


def _official_pointer(fake: FakeGitHub, name: str) -> str:
    """The JSON pointer of GitHub's own schema for `<event>.<action>` in the fake's description."""
    key = name.replace("_", "-").replace(".", "-")
    hooks = fake.spec.document.get("x-webhooks", {})
    if key not in hooks:
        raise ValueError(f"{fake.flavor}.json describes no webhook {key}")
    ref: str = hooks[key]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return ref[1:]


def sign(secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 value for exactly these bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _rewrite_strings(node: Any, old: str, new: str, api: str) -> Any:
    if isinstance(node, str):
        return node.replace(EXAMPLE_API, api).replace(f"/{old}", f"/{new}").replace(f":{old}.git", f":{new}.git")
    if isinstance(node, dict):
        return {k: _rewrite_strings(v, old, new, api) for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite_strings(v, old, new, api) for v in node]
    return node


def _update_existing(target: dict[str, Any], values: Mapping[str, Any]) -> None:
    """Set only keys the example already has (webhook schemas forbid extra properties)."""
    for key, value in values.items():
        if key in target:
            target[key] = value


def _deep_merge(target: dict[str, Any], patch: Mapping[str, Any]) -> None:
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class WebhookBuilder:
    """Builds (headers, body) for one delivery."""

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake

    def _user(self, target: dict[str, Any] | None, acc: Any) -> None:
        if isinstance(target, dict):
            built = self.fake.payloads.user(acc)
            assert built is not None
            _update_existing(target, built)

    def _repo(self, target: dict[str, Any] | None, repo: Repository) -> None:
        if not isinstance(target, dict):
            return
        _update_existing(
            target,
            {
                "id": repo.id,
                "node_id": repo.node_id,
                "name": repo.name,
                "full_name": repo.full_name,
                "private": repo.private,
                "visibility": "private" if repo.private else "public",
                "default_branch": repo.default_branch,
                "master_branch": repo.default_branch,
                "fork": False,
                "html_url": f"https://github.com/{repo.full_name}",
            },
        )
        self._user(target.get("owner"), repo.owner)

    def _pull(self, target: dict[str, Any] | None, repo: Repository, pr: PullRequest) -> None:
        if not isinstance(target, dict):
            return
        built = self.fake.payloads.pull_request(repo, pr)
        keep = {"head", "base", "user", "_links", "labels", "assignees", "requested_reviewers", "requested_teams", "milestone", "assignee", "auto_merge", "merged_by"}
        _update_existing(target, {k: v for k, v in built.items() if k not in keep})
        _update_existing(
            target,
            {"assignees": [], "requested_reviewers": [], "requested_teams": [], "labels": [], "assignee": None,
             "mergeable": None, "mergeable_state": "unknown"},
        )
        self._user(target.get("user"), pr.user)
        for side in ("head", "base"):
            ref = target.get(side)
            if isinstance(ref, dict):
                _update_existing(ref, {k: v for k, v in built[side].items() if k not in ("user", "repo")})
                self._user(ref.get("user"), repo.owner)
                self._repo(ref.get("repo"), repo)
                if isinstance(ref.get("repo"), dict):  # required by GitHub's schema, missing in some examples
                    ref["repo"].setdefault("has_discussions", bool(built[side]["repo"].get("has_discussions")))
        if isinstance(target.get("_links"), dict):
            for key, link in built["_links"].items():
                if key in target["_links"]:
                    target["_links"][key] = link

    @staticmethod
    def _event_state(target: Any, event: str, action: str | None, pr: PullRequest) -> None:
        """Fields the event itself implies (the helper never changes the fake's own state)."""
        if not isinstance(target, dict) or event != "pull_request":
            return
        if action == "closed":
            _update_existing(target, {"state": "closed", "closed_at": pr.closed_at or iso(), "merged": pr.merged, "merged_at": pr.merged_at})
        elif action in ("opened", "reopened", "synchronize", "ready_for_review", "edited"):
            _update_existing(target, {"state": "open", "closed_at": None, "merged_at": None, "merged": False})
        if action == "ready_for_review":
            target["draft"] = False

    def _review(self, payload: dict[str, Any], target: dict[str, Any], repo: Repository, pr: PullRequest,
                review_id: int) -> None:
        """The payload's review as the fake recorded it: id, author (also the sender), state in the
        webhook's lower case, the commit it was given on, when."""
        found = repo.reviews.get(review_id)
        if found is None or found.pull_number != pr.number:
            raise ValueError(f"no review {review_id} on {repo.full_name}#{pr.number}")
        html = f"https://github.com/{repo.full_name}/pull/{pr.number}#pullrequestreview-{found.id}"
        _update_existing(target, {"id": found.id, "node_id": found.node_id, "body": found.body or None,
                                  "state": found.state.lower(), "commit_id": found.commit_id,
                                  "submitted_at": found.submitted_at, "html_url": html})
        self._user(target.get("user"), found.user)
        self._user(payload.get("sender"), found.user)

    def _app(self, target: dict[str, Any] | None) -> None:
        if isinstance(target, dict):
            built = self.fake.payloads.integration()
            _update_existing(target, {k: v for k, v in built.items() if k not in ("owner", "permissions", "events")})
            # GitHub's schema requires both; Octokit's check_run examples lack them (disagreements.py).
            target.setdefault("permissions", dict(self.fake.app.permissions))
            target.setdefault("events", list(self.fake.app.events))
            self._user(target.get("owner"), self.fake.app.owner)

    def _pull_refs(self, repo: Repository, sha: str) -> list[dict[str, Any]]:
        return [
            self.fake.payloads.pull_minimal(repo, p)
            for p in repo.pulls.values()
            if p.state == "open" and repo.head_sha(p) == sha
        ]

    def build(
        self,
        event_action: str,
        repo: Repository | None,
        pr_number: int | None,
        *,
        secret: str | None,
        check_run_id: int | None,
        overrides: Mapping[str, Any] | None,
        review_id: int | None = None,
    ) -> tuple[dict[str, str], bytes, dict[str, Any]]:
        name = event_action
        extra: Mapping[str, Any] = {}
        try:
            payload = copy.deepcopy(_example(name))
        except FileNotFoundError:
            if name not in FALLBACKS:
                raise
            base, extra = FALLBACKS[name]
            payload = copy.deepcopy(_example(base))
        parts = name.split(".")
        event = parts[0]
        action = parts[1] if len(parts) > 1 else None
        if action is not None and "action" in payload:
            payload["action"] = action
        _deep_merge(payload, extra)

        if repo is not None:
            old = payload.get("repository", {}).get("full_name")
            if old:
                payload = _rewrite_strings(payload, old, repo.full_name, self.fake.url)
            self._repo(payload.get("repository"), repo)
            if isinstance(payload.get("organization"), dict) and repo.owner.type == "Organization":
                _update_existing(payload["organization"], {"login": repo.owner.login, "id": repo.owner.id, "node_id": repo.owner.node_id})
            if isinstance(payload.get("installation"), dict) and repo.installation_id is not None:
                inst = self.fake.world.installations[repo.installation_id]
                _update_existing(payload["installation"], {"id": inst.id, "node_id": base64.b64encode(f"23:IntegrationInstallation{inst.id}".encode()).decode(), "app_id": self.fake.app_id, "target_id": inst.account.id, "target_type": inst.account.type})
                self._user(payload["installation"].get("account"), inst.account)
            pr = repo.pull(pr_number) if pr_number is not None else None
            if pr is not None:
                if "number" in payload:
                    payload["number"] = pr.number
                self._pull(payload.get("pull_request"), repo, pr)
                self._event_state(payload.get("pull_request"), event, action, pr)
                if event == "pull_request":
                    self._user(payload.get("sender"), pr.user)
            head = repo.head_sha(pr) if pr is not None else repo.branch_sha(repo.default_branch)
            self._checks(payload, repo, pr, head, check_run_id)
            review = payload.get("review")
            if isinstance(review, dict) and pr is not None:
                _update_existing(review, {"commit_id": head, "pull_request_url": f"{self.fake.url}/repos/{repo.full_name}/pulls/{pr.number}"})
                if review_id is not None:
                    self._review(payload, review, repo, pr, review_id)
        if isinstance(payload.get("hook"), dict):
            _update_existing(payload["hook"], {"app_id": self.fake.app_id})
        if event == "installation" or event == "installation_repositories":
            self._installation_event(payload, repo)
        if overrides:
            _deep_merge(payload, overrides)

        schema_name = ".".join(parts[:2]) if len(parts) > 1 else event
        errors = sorted(_validator(schema_name).iter_errors(payload), key=lambda e: list(e.absolute_path))
        if errors:
            detail = "; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:5])
            raise ValueError(f"webhook {event_action} does not match its schema: {detail}")
        official = self.fake.spec.validate_schema(_official_pointer(self.fake, schema_name), payload)
        if official:
            raise ValueError(f"webhook {event_action} does not match GitHub's x-webhooks schema: {'; '.join(official[:5])}")

        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        # The fake sets these with GitHub's documented casing; drop the template's spelling of them.
        own = {"x-github-delivery", "x-github-event", "content-length", "x-github-hook-id", "x-hub-signature",
               "x-github-hook-installation-target-id", "x-github-hook-installation-target-type",
               "x-hub-signature-256"}
        headers = {k: v for k, v in header_template().items() if k.lower() not in own}
        delivery = str(uuid.uuid4())
        headers["X-GitHub-Delivery"] = delivery
        headers["X-GitHub-Event"] = event
        headers["Content-Length"] = str(len(body))
        headers["X-GitHub-Hook-ID"] = str(self.fake.hook_id)
        headers["X-GitHub-Hook-Installation-Target-ID"] = str(self.fake.app_id)
        headers["X-GitHub-Hook-Installation-Target-Type"] = "integration"
        if secret:
            headers["X-Hub-Signature-256"] = sign(secret, body)
            headers["X-Hub-Signature"] = "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
        else:
            headers.pop("X-Hub-Signature-256", None)
            headers.pop("X-Hub-Signature", None)
        return headers, body, payload

    def _checks(self, payload: dict[str, Any], repo: Repository, pr: PullRequest | None, head: str, check_run_id: int | None) -> None:
        run = repo.check_runs.get(check_run_id) if check_run_id is not None else None
        if run is not None:
            head = run.head_sha
        info = repo.git.commit_info(head)
        branch = pr.head_ref if pr is not None else repo.default_branch
        suite = payload.get("check_suite")
        if suite is None and isinstance(payload.get("check_run"), dict):
            suite = payload["check_run"].get("check_suite")
        if isinstance(suite, dict):
            existing = repo.check_suites.get(run.check_suite_id) if run else next(
                (s for s in repo.check_suites.values() if s.head_sha == head), None
            )
            _update_existing(
                suite,
                {
                    "head_sha": head,
                    "head_branch": branch,
                    "after": head,
                    "before": info.parents[0] if info and info.parents else "0" * 40,
                    "pull_requests": self._pull_refs(repo, head),
                    "url": f"{self.fake.url}/repos/{repo.full_name}/check-suites/{existing.id if existing else suite.get('id')}",
                },
            )
            if existing is not None:
                _update_existing(suite, {"id": existing.id, "node_id": existing.node_id})
            if isinstance(suite.get("head_commit"), dict) and info is not None:
                _update_existing(suite["head_commit"], self.fake.payloads.simple_commit(info))
            self._app(suite.get("app"))
        check_run = payload.get("check_run")
        if isinstance(check_run, dict):
            _update_existing(check_run, {"head_sha": head, "pull_requests": self._pull_refs(repo, head)})
            if run is not None:
                built = self.fake.payloads.check_run(repo, run)
                _update_existing(check_run, {k: built[k] for k in ("id", "node_id", "name", "external_id", "url", "html_url", "details_url", "status", "conclusion", "started_at", "completed_at")})
                if isinstance(check_run.get("output"), dict):
                    _update_existing(check_run["output"], built["output"])
            self._app(check_run.get("app"))
            # Required by GitHub's schema, missing in Octokit's check_run.rerequested example.
            check_run.setdefault("node_id", run.node_id if run else node_id("CR", repo.id, int(check_run["id"])))
            check_run.setdefault("details_url", f"https://github.com/{repo.full_name}/runs/{check_run['id']}")
            if isinstance(payload.get("repository"), dict):
                payload["repository"].setdefault("disabled", False)

    def _installation_event(self, payload: dict[str, Any], repo: Repository | None) -> None:
        inst_body = payload.get("installation")
        if not isinstance(inst_body, dict):
            return
        inst = None
        if repo is not None and repo.installation_id is not None:
            inst = self.fake.world.installations[repo.installation_id]
        elif self.fake.world.installations:
            inst = next(iter(self.fake.world.installations.values()))
        if inst is None:
            return
        _update_existing(inst_body, {"id": inst.id, "app_id": self.fake.app_id, "target_id": inst.account.id, "target_type": inst.account.type, "access_tokens_url": f"{self.fake.url}/app/installations/{inst.id}/access_tokens", "repositories_url": f"{self.fake.url}/installation/repositories"})
        # Octokit's examples give Unix times and no app_slug; GitHub's schema wants ISO 8601 and the slug.
        inst_body.update(created_at=inst.created_at, updated_at=inst.created_at, app_slug=self.fake.app.slug)
        self._user(inst_body.get("account"), inst.account)
        repos = [r for r in (self.fake.world.repo_by_id(i) for i in sorted(inst.repo_ids)) if r]
        listed = [{"id": r.id, "node_id": r.node_id, "name": r.name, "full_name": r.full_name, "private": r.private} for r in repos]
        for key in ("repositories", "repositories_added"):
            if isinstance(payload.get(key), list):
                payload[key] = listed


def record_delivery(fake: FakeGitHub, headers: dict[str, str], payload: dict[str, Any], repo: Repository | None) -> Delivery:
    delivery = Delivery(
        id=fake.world.ids.next("delivery"),
        guid=headers["X-GitHub-Delivery"],
        event=headers["X-GitHub-Event"],
        action=payload.get("action"),
        installation_id=(payload.get("installation") or {}).get("id"),
        repository_id=repo.id if repo else None,
        delivered_at=iso(),
        headers=dict(headers),
        payload=payload,
    )
    fake.world.deliveries.append(delivery)
    return delivery
