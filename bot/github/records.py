"""What the App reads from GitHub and sends back, as small frozen records (no githubkit types
leak past `bot.github.client`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PullRequestInfo:
    """The state of a pull request as GitHub describes it now."""

    number: int
    state: str
    draft: bool
    head_sha: str
    base_ref: str
    base_sha: str


@dataclass(frozen=True)
class MergedPull:
    """A merged pull request as the pull request list shows it."""

    number: int
    head_sha: str
    base_sha: str
    base_ref: str
    merged_at: str


@dataclass(frozen=True)
class RepositoryInfo:
    """What the App reads of a repository itself: its default branch and its topics."""

    default_branch: str
    topics: tuple[str, ...] = ()


@dataclass(frozen=True)
class PullReview:
    """A submitted review of a pull request: who, what state (APPROVED, CHANGES_REQUESTED,
    COMMENTED, DISMISSED), on which commit, when."""

    id: int
    login: str
    user_type: str  # "User", "Bot"...
    state: str
    commit_id: str | None
    submitted_at: str | None


@dataclass(frozen=True)
class FileAtRef:
    """A file's text at a ref and its blob id (the policy file: the id keys the review)."""

    text: str
    oid: str


@dataclass(frozen=True)
class BlobText:
    """A blob as GitHub returned it: its id and its text (None when too large to read; see
    `bot.engine.tree.decode_text` for binary content), and its size in bytes where known."""

    oid: str
    text: str | None
    size: int | None = None


@dataclass(frozen=True)
class CheckRunInfo:
    id: int
    name: str
    status: str
    conclusion: str | None
    external_id: str | None
    text: str | None = None  # output.text, where the evidence record is
    head_sha: str | None = None


@dataclass(frozen=True)
class PullFile:
    """One entry of the PR files API."""

    path: str
    status: str
    sha: str | None
    previous_path: str | None
    patch: str | None


@dataclass(frozen=True)
class DirectoryEntry:
    """One entry of a folder as the contents API lists it; `kind`: file, dir, symlink or submodule."""

    path: str
    kind: str
    oid: str
    size: int


@dataclass(frozen=True)
class TreeEntry:
    path: str
    oid: str
    type: str
    size: int | None = None  # bytes, for blobs (the git trees API lists it)


@dataclass(frozen=True)
class ReviewThread:
    id: str
    is_resolved: bool
    is_outdated: bool
    path: str
    line: int | None
    first_comment_body: str
    first_comment_author: str | None


@dataclass(frozen=True)
class ReviewComment:
    path: str
    line: int
    body: str
    start_line: int | None = None

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": self.path, "line": self.line, "side": "RIGHT", "body": self.body}
        if self.start_line is not None and self.start_line < self.line:
            data["start_line"] = self.start_line
            data["start_side"] = "RIGHT"
        return data
