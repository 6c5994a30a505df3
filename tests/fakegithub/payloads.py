"""Response bodies built from GitHub's own OpenAPI examples with the fake's real values filled in.

Starting from the examples keeps every field GitHub sends (and its shape); the fake then
overwrites ids, shas, urls (pointing at `fake.url`), users and timestamps from its state and git.
The server validates each result against the response schema, so a gap here shows up at once.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .diff import FilePatch
from .gitrepo import CommitInfo
from .openapi import Spec
from .rules import Location
from .state import (
    Account,
    CheckRun,
    CheckSuite,
    Installation,
    PullRequest,
    Repository,
    Review,
    ReviewComment,
    iso,
    node_id,
)

HTML = "https://github.com"
EXAMPLE_API = "https://api.github.com"


@dataclass
class App:
    """The GitHub App the fake plays host to."""

    id: int
    slug: str
    name: str
    client_id: str
    owner: Account
    bot: Account
    permissions: dict[str, str]
    events: list[str]
    created_at: str


class Payloads:
    """Builders for each resource; `api` is the fake's base URL."""

    def __init__(self, spec: Spec, api: str, app: App, accounts: dict[str, Account] | None = None) -> None:
        self.accounts = accounts
        self.spec = spec
        self.api = api
        self.app = app

    # -- people and apps -----------------------------------------------------------------------------

    def user(self, acc: Account | None) -> dict[str, Any] | None:
        if acc is None:
            return None
        login = quote(acc.login)
        api = f"{self.api}/users/{login}"
        if acc.type == "Bot":
            avatar = f"https://avatars.githubusercontent.com/in/{self.app.id}?v=4"
            html = f"{HTML}/apps/{self.app.slug}"
        else:
            avatar = f"https://avatars.githubusercontent.com/u/{acc.id}?v=4"
            html = f"{HTML}/{acc.login}"
        return {
            "login": acc.login,
            "id": acc.id,
            "node_id": acc.node_id,
            "avatar_url": avatar,
            "gravatar_id": "",
            "url": api,
            "html_url": html,
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": acc.type,
            "user_view_type": "public",
            "site_admin": False,
        }

    def integration(self, *, from_manifest: bool = False) -> dict[str, Any]:
        app = self.app
        body: dict[str, Any] = self.spec.example("integration-from-manifest" if from_manifest else "integration")
        body.update(
            id=app.id,
            slug=app.slug,
            client_id=app.client_id,
            node_id=node_id("A", app.id),
            owner=self.user(app.owner),
            name=app.name,
            description="Reviews pull requests for compliance.",
            external_url="https://example.com/compliance-bot",
            html_url=f"{HTML}/apps/{app.slug}",
            created_at=app.created_at,
            updated_at=app.created_at,
            permissions=dict(app.permissions),
            events=list(app.events),
        )
        return body

    def installation(self, inst: Installation) -> dict[str, Any]:
        body: dict[str, Any] = self.spec.example("installation")
        acc = inst.account
        body.update(
            id=inst.id,
            account=self.user(acc),
            repository_selection="selected",
            access_tokens_url=f"{self.api}/app/installations/{inst.id}/access_tokens",
            repositories_url=f"{self.api}/installation/repositories",
            html_url=(
                f"{HTML}/organizations/{acc.login}/settings/installations/{inst.id}"
                if acc.type == "Organization"
                else f"{HTML}/settings/installations/{inst.id}"
            ),
            app_id=self.app.id,
            client_id=self.app.client_id,
            target_id=acc.id,
            target_type=acc.type,
            permissions=dict(inst.permissions),
            events=list(inst.events),
            created_at=inst.created_at,
            updated_at=inst.created_at,
            single_file_name=None,
            has_multiple_single_files=False,
            single_file_paths=[],
            app_slug=self.app.slug,
            suspended_at=None,
            suspended_by=None,
        )
        return body

    # -- repositories --------------------------------------------------------------------------------

    def repository(self, repo: Repository, *, full: bool = False) -> dict[str, Any]:
        """`full-repository` (GET /repos) or the smaller `repository` embedded in PRs."""
        body: dict[str, Any] = self.spec.example("full-repository-default-response")
        api_repo = f"{self.api}/repos/{repo.full_name}"

        def fix(value: Any) -> Any:
            if isinstance(value, str):
                return (
                    value.replace(f"{EXAMPLE_API}/repos/octocat/Hello-World", api_repo)
                    .replace("octocat/Hello-World", repo.full_name)
                    .replace(EXAMPLE_API, self.api)
                )
            return value

        body = {k: fix(v) for k, v in body.items()}
        pushed = repo.git.commit_info(repo.branch_sha(repo.default_branch))
        body.update(
            id=repo.id,
            node_id=repo.node_id,
            name=repo.name,
            full_name=repo.full_name,
            owner=self.user(repo.owner),
            private=repo.private,
            visibility="private" if repo.private else "public",
            description=None,
            homepage=None,
            language=None,
            mirror_url=None,
            forks_count=0,
            forks=0,
            stargazers_count=0,
            watchers_count=0,
            watchers=0,
            size=1,
            default_branch=repo.default_branch,
            open_issues_count=sum(1 for p in repo.pulls.values() if p.state == "open"),
            open_issues=sum(1 for p in repo.pulls.values() if p.state == "open"),
            topics=list(repo.topics),
            license=None,
            pushed_at=iso(pushed.committer_time) if pushed else repo.created_at,
            created_at=repo.created_at,
            updated_at=repo.created_at,
            permissions={"admin": False, "maintain": False, "push": False, "triage": False, "pull": True},
            template_repository=None,
            subscribers_count=1,
            network_count=0,
        )
        for key in ("parent", "source", "security_and_analysis", "temp_clone_token"):
            body.pop(key, None)
        if repo.owner.type == "Organization":
            body["organization"] = self.user(repo.owner)
        else:
            body.pop("organization", None)
        if not full:
            for key in ("organization", "network_count", "subscribers_count", "permissions"):
                body.pop(key, None)
        for key in self.spec.removed("repository", "full-repository", "minimal-repository", "nullable-repository"):
            body.pop(key, None)
        return body

    # -- pull requests -------------------------------------------------------------------------------

    def _pr_urls(self, repo: Repository, number: int) -> dict[str, str]:
        api_repo = f"{self.api}/repos/{repo.full_name}"
        html = f"{HTML}/{repo.full_name}/pull/{number}"
        return {
            "url": f"{api_repo}/pulls/{number}",
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": f"{api_repo}/issues/{number}",
            "commits_url": f"{api_repo}/pulls/{number}/commits",
            "review_comments_url": f"{api_repo}/pulls/{number}/comments",
            "review_comment_url": f"{api_repo}/pulls/comments{{/number}}",
            "comments_url": f"{api_repo}/issues/{number}/comments",
        }

    def pull_request(self, repo: Repository, pr: PullRequest) -> dict[str, Any]:
        body: dict[str, Any] = self.spec.example("pull-request")
        head, base = repo.head_sha(pr), repo.base_sha(pr)
        diff = repo.pull_diff(pr)
        urls = self._pr_urls(repo, pr.number)
        api_repo = f"{self.api}/repos/{repo.full_name}"
        repo_body = self.repository(repo)
        owner = self.user(repo.owner)
        body.update(urls)
        body.update(
            id=pr.id,
            node_id=pr.node_id,
            statuses_url=f"{api_repo}/statuses/{head}",
            number=pr.number,
            state=pr.state,
            locked=False,
            title=pr.title,
            user=self.user(pr.user),
            body=pr.body,
            labels=[],
            milestone=None,
            active_lock_reason=None,
            created_at=pr.created_at,
            updated_at=pr.updated_at,
            closed_at=pr.closed_at,
            merged_at=pr.merged_at,
            merge_commit_sha=pr.merge_commit_sha,
            assignee=None,
            assignees=[],
            requested_reviewers=[],
            requested_teams=[],
            head={
                "label": f"{repo.owner.login}:{pr.head_ref}",
                "ref": pr.head_ref,
                "sha": head,
                "user": owner,
                "repo": repo_body,
            },
            base={
                "label": f"{repo.owner.login}:{pr.base_ref}",
                "ref": pr.base_ref,
                "sha": base,
                "user": owner,
                "repo": repo_body,
            },
            _links={
                "self": {"href": urls["url"]},
                "html": {"href": urls["html_url"]},
                "issue": {"href": urls["issue_url"]},
                "comments": {"href": urls["comments_url"]},
                "review_comments": {"href": urls["review_comments_url"]},
                "review_comment": {"href": urls["review_comment_url"]},
                "commits": {"href": urls["commits_url"]},
                "statuses": {"href": f"{api_repo}/statuses/{head}"},
            },
            author_association="CONTRIBUTOR",
            auto_merge=None,
            draft=pr.draft,
            merged=pr.merged,
            mergeable=None if pr.state != "open" else True,
            rebaseable=None if pr.state != "open" else True,
            mergeable_state="draft" if pr.draft else ("clean" if pr.state == "open" else "unknown"),
            merged_by=None,
            comments=0,
            review_comments=sum(1 for c in repo.comments.values() if c.pull_number == pr.number),
            maintainer_can_modify=False,
            commits=len(repo.git.rev_list(diff.base, head)),
            additions=sum(f.additions for f in diff.files),
            deletions=sum(f.deletions for f in diff.files),
            changed_files=len(diff.files),
        )
        for key in self.spec.removed("pull-request"):
            body.pop(key, None)
        return body

    def pull_simple(self, repo: Repository, pr: PullRequest) -> dict[str, Any]:
        """An item of the pull request list (`pull-request-simple`): the full pull request without
        the fields only `pulls/get` computes (diff stats, mergeability, merged/merged_by)."""
        body = self.pull_request(repo, pr)
        allowed = set(self.spec.document["components"]["schemas"]["pull-request-simple"]["properties"])
        return {key: value for key, value in body.items() if key in allowed}

    def pull_minimal(self, repo: Repository, pr: PullRequest) -> dict[str, Any]:
        api_repo = f"{self.api}/repos/{repo.full_name}"
        short = {"id": repo.id, "url": api_repo, "name": repo.name}
        return {
            "url": f"{api_repo}/pulls/{pr.number}",
            "id": pr.id,
            "number": pr.number,
            "head": {"ref": pr.head_ref, "sha": repo.head_sha(pr), "repo": short},
            "base": {"ref": pr.base_ref, "sha": repo.base_sha(pr), "repo": short},
        }

    def diff_entry(self, repo: Repository, f: FilePatch, head: str, base: str) -> dict[str, Any]:
        """One element of the files list; `patch` is left out for binary and too-large diffs."""
        ref = base if f.status == "removed" else head
        path = quote(f.filename)
        entry: dict[str, Any] = {
            "sha": f.sha,
            "filename": f.filename,
            "status": f.status,
            "additions": f.additions,
            "deletions": f.deletions,
            "changes": f.changes,
            "blob_url": f"{HTML}/{repo.full_name}/blob/{ref}/{path}",
            "raw_url": f"{HTML}/{repo.full_name}/raw/{ref}/{path}",
            "contents_url": f"{self.api}/repos/{repo.full_name}/contents/{path}?ref={ref}",
        }
        if f.patch is not None and not f.binary:
            entry["patch"] = f.patch
        if f.previous_filename is not None:
            entry["previous_filename"] = f.previous_filename
        return entry

    # -- reviews -------------------------------------------------------------------------------------

    def review(self, repo: Repository, review: Review) -> dict[str, Any]:
        body: dict[str, Any] = self.spec.example("pull-request-review")
        pr_url = f"{self.api}/repos/{repo.full_name}/pulls/{review.pull_number}"
        html = f"{HTML}/{repo.full_name}/pull/{review.pull_number}#pullrequestreview-{review.id}"
        body.update(
            id=review.id,
            node_id=review.node_id,
            user=self.user(review.user),
            body=review.body,
            state=review.state,
            html_url=html,
            pull_request_url=pr_url,
            _links={"html": {"href": html}, "pull_request": {"href": pr_url}},
            commit_id=review.commit_id,
            author_association="NONE" if review.user.type == "Bot" else "CONTRIBUTOR",
        )
        if review.submitted_at:
            body["submitted_at"] = review.submitted_at
        else:
            body.pop("submitted_at", None)
        return body

    def review_comment(self, repo: Repository, c: ReviewComment, loc: Location, head: str) -> dict[str, Any]:
        """A review comment; `line`/`position` are left out once it is outdated."""
        body: dict[str, Any] = self.spec.example("pull-request-review-comment-2")
        api_repo = f"{self.api}/repos/{repo.full_name}"
        url = f"{api_repo}/pulls/comments/{c.id}"
        html = f"{HTML}/{repo.full_name}/pull/{c.pull_number}#discussion_r{c.id}"
        pr_url = f"{api_repo}/pulls/{c.pull_number}"
        body.update(
            url=url,
            pull_request_review_id=c.review_id,
            id=c.id,
            node_id=c.node_id,
            diff_hunk=c.diff_hunk,
            path=c.path,
            original_position=c.original_position,
            commit_id=c.original_commit_id if loc.outdated else head,
            original_commit_id=c.original_commit_id,
            user=self.user(c.user),
            body=c.body,
            created_at=c.created_at,
            updated_at=c.updated_at,
            html_url=html,
            pull_request_url=pr_url,
            author_association="NONE" if c.user.type == "Bot" else "CONTRIBUTOR",
            _links={"self": {"href": url}, "html": {"href": html}, "pull_request": {"href": pr_url}},
            start_line=loc.start_line,
            original_start_line=c.original_start_line,
            start_side=c.start_side if c.original_start_line is not None else None,
            original_line=c.original_line,
            side=c.side,
            subject_type="line",
        )
        body.pop("in_reply_to_id", None)
        if c.in_reply_to_id is not None:
            body["in_reply_to_id"] = c.in_reply_to_id
        if loc.outdated:
            body.pop("line", None)
            body.pop("position", None)
        else:
            body["line"] = loc.line
            body["position"] = loc.position
        return body

    # -- checks --------------------------------------------------------------------------------------

    def check_run(self, repo: Repository, run: CheckRun) -> dict[str, Any]:
        api_repo = f"{self.api}/repos/{repo.full_name}"
        body: dict[str, Any] = self.spec.example("check-run")
        body.update(
            id=run.id,
            head_sha=run.head_sha,
            node_id=run.node_id,
            external_id=run.external_id,
            url=f"{api_repo}/check-runs/{run.id}",
            html_url=f"{HTML}/{repo.full_name}/runs/{run.id}",
            details_url=run.details_url or f"{HTML}/{repo.full_name}/runs/{run.id}",
            status=run.status,
            conclusion=run.conclusion,
            started_at=run.started_at,
            completed_at=run.completed_at,
            output={
                "title": run.output.get("title"),
                "summary": run.output.get("summary"),
                "text": run.output.get("text"),
                "annotations_count": len(run.annotations),
                "annotations_url": f"{api_repo}/check-runs/{run.id}/annotations",
            },
            name=run.name,
            check_suite={"id": run.check_suite_id},
            app=self.integration(),
            pull_requests=[
                self.pull_minimal(repo, p)
                for p in repo.pulls.values()
                if p.state == "open" and repo.head_sha(p) == run.head_sha
            ],
        )
        body.pop("deployment", None)
        return body

    def annotation(self, repo: Repository, run: CheckRun, a: dict[str, Any]) -> dict[str, Any]:
        return {
            "path": a["path"],
            "start_line": a["start_line"],
            "end_line": a["end_line"],
            "start_column": a.get("start_column"),
            "end_column": a.get("end_column"),
            "annotation_level": a["annotation_level"],
            "title": a.get("title"),
            "message": a["message"],
            "raw_details": a.get("raw_details"),
            "blob_href": f"{HTML}/{repo.full_name}/blob/{run.head_sha}/{quote(a['path'])}",
        }

    def check_suite(self, repo: Repository, suite: CheckSuite) -> dict[str, Any]:
        body: dict[str, Any] = self.spec.example("check-suite-paginated")["check_suites"][0]
        runs = [r for r in repo.check_runs.values() if r.check_suite_id == suite.id]
        latest = _latest_by_name(runs)
        statuses = {r.status for r in latest}
        status = "completed" if statuses == {"completed"} else ("in_progress" if "in_progress" in statuses else "queued")
        conclusion = None
        if status == "completed":
            order = ["action_required", "cancelled", "timed_out", "failure", "neutral", "success", "skipped", "stale"]
            found = [r.conclusion for r in latest if r.conclusion]
            conclusion = min(found, key=order.index) if found else None
        info = repo.git.commit_info(suite.head_sha)
        api_repo = f"{self.api}/repos/{repo.full_name}"
        body.update(
            id=suite.id,
            node_id=suite.node_id,
            head_branch=suite.head_branch,
            head_sha=suite.head_sha,
            status=status,
            conclusion=conclusion,
            url=f"{api_repo}/check-suites/{suite.id}",
            before=info.parents[0] if info and info.parents else "0" * 40,
            after=suite.head_sha,
            pull_requests=[
                self.pull_minimal(repo, p)
                for p in repo.pulls.values()
                if p.state == "open" and repo.head_sha(p) == suite.head_sha
            ],
            app=self.integration(),
            repository=self.repository(repo),
            created_at=suite.created_at,
            updated_at=suite.updated_at,
            head_commit=self.simple_commit(info) if info else None,
            latest_check_runs_count=len(latest),
            check_runs_url=f"{api_repo}/check-suites/{suite.id}/check-runs",
            rerequestable=True,
            runs_rerequestable=True,
        )
        return body

    # -- git objects ---------------------------------------------------------------------------------

    @staticmethod
    def simple_commit(info: CommitInfo) -> dict[str, Any]:
        return {
            "id": info.sha,
            "tree_id": info.tree,
            "message": info.message.rstrip("\n"),
            "timestamp": iso(info.committer_time),
            "author": {"name": info.author_name, "email": info.author_email},
            "committer": {"name": info.committer_name, "email": info.committer_email},
        }

    def commit(self, repo: Repository, info: CommitInfo) -> dict[str, Any]:
        api_repo = f"{self.api}/repos/{repo.full_name}"
        return {
            "url": f"{api_repo}/commits/{info.sha}",
            "sha": info.sha,
            "node_id": node_id("C", repo.id, int(info.sha[:15], 16)),
            "html_url": f"{HTML}/{repo.full_name}/commit/{info.sha}",
            "comments_url": f"{api_repo}/commits/{info.sha}/comments",
            "commit": {
                "url": f"{api_repo}/git/commits/{info.sha}",
                "author": {"name": info.author_name, "email": info.author_email, "date": iso(info.author_time)},
                "committer": {
                    "name": info.committer_name,
                    "email": info.committer_email,
                    "date": iso(info.committer_time),
                },
                "message": info.message.rstrip("\n"),
                "tree": {"url": f"{api_repo}/git/trees/{info.tree}", "sha": info.tree},
                "comment_count": 0,
                "verification": {
                    "verified": False,
                    "reason": "unsigned",
                    "signature": None,
                    "payload": None,
                    "verified_at": None,
                },
            },
            "author": self._git_person(info.author_email),
            "committer": self._git_person(info.committer_email),
            "parents": [
                {"url": f"{api_repo}/commits/{p}", "sha": p, "html_url": f"{HTML}/{repo.full_name}/commit/{p}"}
                for p in info.parents
            ],
        }

    def _git_person(self, email: str) -> dict[str, Any]:
        """The GitHub user behind a commit email (noreply addresses), else `{}` like GitHub."""
        local, _, domain = email.partition("@")
        if domain != "users.noreply.github.com":
            return {}
        login = local.split("+", 1)[-1]
        acc = self.accounts.get(login.lower()) if self.accounts is not None else None
        return self.user(acc) or {} if acc is not None else {}

    def content_file(self, repo: Repository, path: str, ref: str, sha: str, data: bytes) -> dict[str, Any]:
        """`content-file`: base64 wrapped at 60 columns with a trailing newline, like GitHub."""
        encoded = base64.b64encode(data).decode()
        wrapped = "".join(encoded[i : i + 60] + "\n" for i in range(0, len(encoded), 60))
        api_repo = f"{self.api}/repos/{repo.full_name}"
        self_url = f"{api_repo}/contents/{quote(path)}?ref={quote(ref)}"
        git_url = f"{api_repo}/git/blobs/{sha}"
        html = f"{HTML}/{repo.full_name}/blob/{ref}/{quote(path)}"
        return {
            "type": "file",
            "encoding": "base64",
            "size": len(data),
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "content": wrapped,
            "sha": sha,
            "url": self_url,
            "git_url": git_url,
            "html_url": html,
            "download_url": f"https://raw.githubusercontent.com/{repo.full_name}/{ref}/{quote(path)}",
            "_links": {"self": self_url, "git": git_url, "html": html},
        }

    def content_entry(self, repo: Repository, path: str, ref: str, kind: str, sha: str, size: int) -> dict[str, Any]:
        api_repo = f"{self.api}/repos/{repo.full_name}"
        self_url = f"{api_repo}/contents/{quote(path)}?ref={quote(ref)}"
        git_url = f"{api_repo}/git/{'trees' if kind == 'dir' else 'blobs'}/{sha}"
        html = f"{HTML}/{repo.full_name}/{'tree' if kind == 'dir' else 'blob'}/{ref}/{quote(path)}"
        return {
            "type": kind,
            "size": size,
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": sha,
            "url": self_url,
            "git_url": git_url,
            "html_url": html,
            "download_url": None
            if kind == "dir"
            else f"https://raw.githubusercontent.com/{repo.full_name}/{ref}/{quote(path)}",
            "_links": {"self": self_url, "git": git_url, "html": html},
        }

    def blob(self, repo: Repository, sha: str, data: bytes) -> dict[str, Any]:
        encoded = base64.b64encode(data).decode()
        return {
            "content": "".join(encoded[i : i + 60] + "\n" for i in range(0, len(encoded), 60)),
            "encoding": "base64",
            "url": f"{self.api}/repos/{repo.full_name}/git/blobs/{sha}",
            "sha": sha,
            "size": len(data),
            "node_id": blob_node_id(repo, sha),
        }


def blob_node_id(repo: Repository, sha: str) -> str:
    """Legacy-style node id of a blob (`04:Blob<repo id>:<sha>` in base64), as GitHub uses."""
    return base64.b64encode(f"04:Blob{repo.id}:{sha}".encode()).decode()


def tree_node_id(repo: Repository, sha: str) -> str:
    return base64.b64encode(f"04:Tree{repo.id}:{sha}".encode()).decode()


def _latest_by_name(runs: list[CheckRun]) -> list[CheckRun]:
    latest: dict[str, CheckRun] = {}
    for r in sorted(runs, key=lambda r: r.created_seq):
        latest[r.name] = r
    return list(latest.values())


latest_by_name = _latest_by_name
