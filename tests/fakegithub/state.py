"""The fake's world: accounts, installations, repositories, pull requests, reviews, threads, check runs.

Only facts live here (who wrote what, on which commit, on which line as written); everything
GitHub derives (current line of a comment, `isOutdated`, file lists, diffs) is recomputed from git
when a request asks, so a push changes answers exactly as it would on GitHub.
"""

from __future__ import annotations

import base64
import itertools
import struct
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .diff import PullDiff, parse_diff
from .gitrepo import FileChanges, GitRepo


def iso(ts: float | None = None) -> str:
    """GitHub's timestamp format: 2024-05-01T12:00:00Z."""
    return datetime.fromtimestamp(time.time() if ts is None else ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(prefix: str, *numbers: int) -> str:
    """A new-style global node id (`PRRT_kwDO...`): a type prefix and base64 of the database ids."""
    packed = b"".join(struct.pack(">Q", n) for n in numbers)
    return f"{prefix}_kwDO" + base64.urlsafe_b64encode(packed).decode().rstrip("=")


class Ids:
    """Database id sequences, each starting where GitHub's real ids are (some above 2**31)."""

    def __init__(self) -> None:
        self._counters = {
            "account": itertools.count(58_000_001),
            "repo": itertools.count(700_000_001),
            "installation": itertools.count(41_000_001),
            "pull": itertools.count(1_800_000_001),
            "review": itertools.count(2_100_000_001),
            "comment": itertools.count(1_950_000_001),
            "check_run": itertools.count(24_000_000_001),
            "check_suite": itertools.count(21_000_000_001),
            "delivery": itertools.count(90_000_000_001),
        }

    def next(self, kind: str) -> int:
        return next(self._counters[kind])


@dataclass
class Account:
    """A user, organization or bot."""

    login: str
    id: int
    type: str  # "User", "Organization", "Bot"

    @property
    def node_id(self) -> str:
        prefix = {"User": "U", "Organization": "O", "Bot": "BOT"}[self.type]
        return node_id(prefix, self.id)


@dataclass
class Installation:
    """One installation of the app on an account; it can reach the listed repositories."""

    id: int
    account: Account
    permissions: dict[str, str]
    repo_ids: set[int] = field(default_factory=set)
    events: list[str] = field(default_factory=lambda: ["check_run", "check_suite", "pull_request", "pull_request_review"])
    created_at: str = field(default_factory=iso)
    suspended: bool = False


@dataclass
class Token:
    """An installation access token (`ghs_...`), possibly narrowed to some repositories/permissions."""

    token: str
    installation_id: int
    expires_at: float
    repo_ids: set[int] | None
    permissions: dict[str, str]


@dataclass
class ReviewComment:
    """An inline review comment, with the position it was written at."""

    id: int
    node_id: str
    repo_id: int
    pull_number: int
    review_id: int | None
    thread_id: str
    path: str
    side: str
    start_side: str | None
    original_line: int
    original_start_line: int | None
    original_position: int
    original_commit_id: str
    body: str
    user: Account
    created_at: str
    updated_at: str
    diff_hunk: str
    in_reply_to_id: int | None = None
    minimized_reason: str | None = None


@dataclass
class ReviewThread:
    """The thread an inline comment opens; GraphQL resolves/unresolves it."""

    id: str  # node id
    database_id: int
    repo_id: int
    pull_number: int
    path: str
    side: str
    start_side: str | None
    original_line: int
    original_start_line: int | None
    original_commit_id: str
    comment_ids: list[int] = field(default_factory=list)
    is_resolved: bool = False
    resolved_by: Account | None = None


@dataclass
class Review:
    """A submitted review."""

    id: int
    node_id: str
    repo_id: int
    pull_number: int
    user: Account
    body: str
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED, PENDING, DISMISSED
    event: str | None
    commit_id: str
    submitted_at: str | None
    comment_ids: list[int] = field(default_factory=list)


@dataclass
class PullRequest:
    """A pull request between two branches of one repository."""

    number: int
    id: int
    node_id: str
    title: str
    body: str | None
    head_ref: str
    base_ref: str
    draft: bool
    user: Account
    created_at: str
    updated_at: str
    state: str = "open"
    closed_at: str | None = None
    merged: bool = False
    merged_at: str | None = None
    merge_commit_sha: str | None = None
    head_sha_frozen: str | None = None  # set when closed: the head at that moment
    base_sha_frozen: str | None = None


@dataclass
class CheckRun:
    """A check run with every version of itself (`history`) and all accumulated annotations."""

    id: int
    node_id: str
    repo_id: int
    name: str
    head_sha: str
    check_suite_id: int
    status: str
    conclusion: str | None
    started_at: str | None
    completed_at: str | None
    external_id: str | None
    details_url: str | None
    output: dict[str, Any]
    annotations: list[dict[str, Any]] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    created_seq: int = 0


@dataclass
class CheckSuite:
    """The suite grouping the app's runs on one head sha."""

    id: int
    node_id: str
    repo_id: int
    head_sha: str
    head_branch: str | None
    created_at: str
    updated_at: str
    rerequested: int = 0


@dataclass
class Delivery:
    """A webhook delivery made by `FakeGitHub.webhook` (for the `/app/hook/deliveries` endpoints)."""

    id: int
    guid: str
    event: str
    action: str | None
    installation_id: int | None
    repository_id: int | None
    delivered_at: str
    headers: dict[str, str]
    payload: dict[str, Any]
    redelivery: bool = False
    status_code: int = 200


class Repository:
    """A repository backed by a real bare git repo; the helpers tests use live here."""

    def __init__(
        self,
        world: World,
        owner: Account,
        name: str,
        default_branch: str,
        git: GitRepo,
        private: bool,
    ) -> None:
        self.world = world
        self.owner = owner
        self.name = name
        self.default_branch = default_branch
        self.git = git
        self.private = private
        self.id = world.ids.next("repo")
        self.node_id = node_id("R", self.id)
        self.created_at = iso()
        self.installation_id: int | None = None
        self.pulls: dict[int, PullRequest] = {}
        self.reviews: dict[int, Review] = {}
        self.comments: dict[int, ReviewComment] = {}
        self.threads: dict[str, ReviewThread] = {}
        self.check_runs: dict[int, CheckRun] = {}
        self.check_suites: dict[int, CheckSuite] = {}
        self.topics: list[str] = []
        self.custom_properties: dict[str, str | list[str] | None] = {}  # set by the owning organisation
        self._next_number = 1

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"

    def __repr__(self) -> str:
        return f"<Repository {self.full_name} #{self.id}>"

    # -- helpers for tests ---------------------------------------------------------------------------

    def commit(self, branch: str, files: FileChanges, message: str = "Update files") -> str:
        """Commit `{path: text | bytes | None}` on `branch` (created from the default branch if new)."""
        with self.world.lock:
            sha = self.git.commit(branch, files, message)
            for pr in self.pulls.values():
                if pr.state == "open" and branch in (pr.head_ref, pr.base_ref):
                    pr.updated_at = iso()
            return sha

    def set_topics(self, topics: list[str]) -> None:
        """Replace the repository's topics (GitHub keeps them lower case, at most 20)."""
        with self.world.lock:
            if len(topics) > 20 or any(t != t.lower() or not t for t in topics):
                raise ValueError("GitHub takes at most 20 topics, each lower case")
            self.topics = list(topics)

    def set_custom_properties(self, values: dict[str, str | list[str] | None]) -> None:
        """Set custom property values, as an organisation owner would (`null` unsets one)."""
        with self.world.lock:
            if self.owner.type != "Organization":
                raise ValueError("custom properties belong to organisation repositories")
            for name, value in values.items():
                if value is None:
                    self.custom_properties.pop(name, None)
                else:
                    self.custom_properties[name] = value

    def branch_sha(self, branch: str) -> str:
        """The tip of a branch (KeyError if it does not exist)."""
        sha = self.git.branch_sha(branch)
        if sha is None:
            raise KeyError(f"no branch {branch!r} in {self.full_name}")
        return sha

    def open_pull_request(
        self,
        head: str,
        base: str | None = None,
        title: str = "Update",
        body: str | None = "",
        draft: bool = False,
        user: str = "octocat",
    ) -> int:
        """Open a PR from `head` into `base` (default branch); return its number."""
        with self.world.lock:
            base = base or self.default_branch
            head_sha, base_sha = self.branch_sha(head), self.branch_sha(base)
            if not self.git.rev_list(base_sha, head_sha):
                raise ValueError(f"No commits between {base} and {head}")
            number = self._next_number
            self._next_number += 1
            pid = self.world.ids.next("pull")
            now = iso()
            self.pulls[number] = PullRequest(
                number=number,
                id=pid,
                node_id=node_id("PR", pid),
                title=title,
                body=body,
                head_ref=head,
                base_ref=base,
                draft=draft,
                user=self.world.account(user, "User"),
                created_at=now,
                updated_at=now,
            )
            return number

    def push(self, number: int, files: FileChanges, message: str = "Push more changes") -> str:
        """Commit to the head branch of PR `number`; its head sha moves (a `synchronize`)."""
        pr = self.pull(number)
        return self.commit(pr.head_ref, files, message)

    def pull(self, number: int) -> PullRequest:
        try:
            return self.pulls[number]
        except KeyError:
            raise KeyError(f"no pull request #{number} in {self.full_name}") from None

    def set_draft(self, number: int, draft: bool) -> None:
        with self.world.lock:
            pr = self.pull(number)
            pr.draft = draft
            pr.updated_at = iso()

    def close_pull_request(self, number: int, merged: bool = False) -> None:
        """Close (or merge: the head is fast-forwarded into base if possible) a PR."""
        with self.world.lock:
            pr = self.pull(number)
            pr.head_sha_frozen = self.head_sha(pr)
            pr.base_sha_frozen = self.base_sha(pr)
            pr.state = "closed"
            pr.closed_at = pr.updated_at = iso()
            if merged:
                pr.merged = True
                pr.merged_at = pr.closed_at
                pr.merge_commit_sha = pr.head_sha_frozen
                self.git.set_ref(f"refs/heads/{pr.base_ref}", pr.head_sha_frozen)

    def add_review_comment(
        self, number: int, path: str, line: int, body: str, user: str = "octocat", side: str = "RIGHT"
    ) -> ReviewComment:
        """A human's inline comment (a COMMENTED review with one comment) for thread tests."""
        with self.world.lock:
            from .rules import create_review

            review = create_review(
                self.world,
                self,
                self.pull(number),
                self.world.account(user, "User"),
                event="COMMENT",
                body="",
                commit_id=None,
                comments=[{"path": path, "line": line, "side": side, "body": body}],
            )
            if not isinstance(review, Review):
                raise ValueError(review.errors)  # noqa: TRY004 - GitHub rejected the comment: not a type error
            return self.comments[review.comment_ids[0]]

    def submit_review(self, number: int, user: str, event: str = "APPROVE", body: str = "") -> Review:
        """A person's review of PR `number` on its current head (APPROVE, REQUEST_CHANGES or COMMENT),
        under GitHub's rules (no approving your own pull request); pair it with
        `fake.webhook("pull_request_review.submitted", repo, number, review_id=review.id)`."""
        with self.world.lock:
            from .rules import create_review

            review = create_review(self.world, self, self.pull(number), self.world.account(user, "User"),
                                   event=event, body=body, commit_id=None, comments=[])
            if not isinstance(review, Review):
                raise ValueError(review.errors)  # noqa: TRY004 - GitHub rejected the review: not a type error
            return review

    def dismiss_review(self, number: int, review_id: int) -> Review:
        """Dismiss a submitted approval or request for changes, as a repository admin does; GitHub
        then lists it with state DISMISSED."""
        with self.world.lock:
            review = self.reviews.get(review_id)
            if review is None or review.pull_number != number or review.state not in ("APPROVED", "CHANGES_REQUESTED"):
                raise ValueError(f"no approval or request for changes {review_id} on #{number} to dismiss")
            review.state = "DISMISSED"
            self.pull(number).updated_at = iso()
            return review

    # -- derived facts -------------------------------------------------------------------------------

    def head_sha(self, pr: PullRequest) -> str:
        return pr.head_sha_frozen or self.branch_sha(pr.head_ref)

    def base_sha(self, pr: PullRequest) -> str:
        return pr.base_sha_frozen or self.branch_sha(pr.base_ref)

    def pull_diff(self, pr: PullRequest) -> PullDiff:
        """The PR's diff: merge base of base and head .. head (three-dot), like GitHub."""
        head, base = self.head_sha(pr), self.base_sha(pr)
        return self.world.diff(self, base, head)

    def thread_comments(self, thread: ReviewThread) -> list[ReviewComment]:
        return [self.comments[c] for c in thread.comment_ids if c in self.comments]


class World:
    """All state of one fake GitHub, guarded by one lock (requests are served one at a time)."""

    def __init__(self, lock: Any, patch_limit_bytes: int) -> None:
        self.lock = lock
        self.ids = Ids()
        self.patch_limit_bytes = patch_limit_bytes
        self.accounts: dict[str, Account] = {}
        self.installations: dict[int, Installation] = {}
        self.repos: dict[str, Repository] = {}  # key: lower-case full name
        self.tokens: dict[str, Token] = {}
        self.deliveries: list[Delivery] = []
        self.team_members: dict[tuple[str, str], dict[str, str]] = {}
        self.nodes: dict[str, tuple[str, Any]] = {}
        self._diffs: dict[tuple[int, str, str, int], PullDiff] = {}
        self._check_seq = itertools.count(1)

    def account(self, login: str, kind: str = "User") -> Account:
        acc = self.accounts.get(login.lower())
        if acc is None:
            acc = Account(login=login, id=self.ids.next("account"), type=kind)
            self.accounts[login.lower()] = acc
        return acc

    def repo(self, owner: str, name: str) -> Repository | None:
        return self.repos.get(f"{owner}/{name}".lower())

    def repo_by_id(self, repo_id: int) -> Repository | None:
        for r in self.repos.values():
            if r.id == repo_id:
                return r
        return None

    def diff(self, repo: Repository, base: str, head: str) -> PullDiff:
        """Three-dot diff base...head, cached (commits are immutable)."""
        key = (repo.id, base, head, self.patch_limit_bytes)
        cached = self._diffs.get(key)
        if cached is not None:
            return cached
        merge_base = repo.git.merge_base(base, head) or base
        result = parse_diff(
            merge_base,
            head,
            repo.git.raw_diff(merge_base, head),
            repo.git.patch(merge_base, head),
            self.patch_limit_bytes,
        )
        self._diffs[key] = result
        return result

    def next_check_seq(self) -> int:
        return next(self._check_seq)
