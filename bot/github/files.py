"""What a pull request changed *at one head*: the files API adapter.

`GET /pulls/N/files` describes the pull request's current head, which may have moved past the
head a job reviews (a push landed while the job waited or ran). So the listing is taken only
while the pull request's head is the job's head, checked before and after listing; otherwise the
changes come from comparing the base with that exact head (`GET /compare/base...head`, which
GitHub caps at 300 files). Either way the listing and the contents belong to one commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.engine.diff import DiffError, FileDiff, parse_file_patch
from bot.engine.model import FileError
from bot.github.client import MAX_COMPARE_FILES, MAX_PR_FILES, InstallationClient
from bot.github.records import PullFile, PullRequestInfo


@dataclass(frozen=True)
class HeadChanges:
    """The changed files of one head.

    - `current`: the head is still the pull request's head (inline comments make sense there).
    - `truncated`: GitHub's listing stopped at its cap, so files beyond it were not listed.
    - `limit`: that cap (3,000 for a pull request's files, 300 for a comparison).
    """

    head_sha: str
    files: tuple[PullFile, ...]
    current: bool
    truncated: bool
    limit: int


async def changes_at_head(gh: InstallationClient, owner: str, repo: str, pull: PullRequestInfo,
                          head_sha: str) -> HeadChanges:
    """The files `head_sha` changes in pull request `pull`, never a listing of another head."""
    if pull.head_sha == head_sha:
        files = await gh.list_pull_files(owner, repo, pull.number)
        after = await gh.get_pull(owner, repo, pull.number)
        if after.head_sha == head_sha:
            return HeadChanges(head_sha, tuple(files), True, len(files) >= MAX_PR_FILES, MAX_PR_FILES)
        pull = after
    return await compared(gh, owner, repo, pull.base_sha, head_sha)


async def compared(gh: InstallationClient, owner: str, repo: str, base_sha: str, head_sha: str) -> HeadChanges:
    """The changes of `head_sha` since its merge base with `base_sha`, for a head that is not the
    pull request's head any more (or whose listing proved stale)."""
    files, truncated = await gh.compare_files(owner, repo, base_sha, head_sha)
    return HeadChanges(head_sha, tuple(files), False, truncated, MAX_COMPARE_FILES)


def diffs_of(files: Sequence[PullFile]) -> tuple[list[FileDiff], list[FileError]]:
    """Each listed file as the engine's `FileDiff`; a patch that cannot be read is an error on its file."""
    diffs: list[FileDiff] = []
    errors: list[FileError] = []
    for f in files:
        try:
            diffs.append(parse_file_patch(f.path, f.patch, f.status, f.previous_path))
        except DiffError as exc:
            errors.append(FileError(f.path, None, str(exc)))
    return diffs, errors


def listed_blobs(files: Sequence[PullFile]) -> dict[str, str]:
    """Blob ids the listing names for the files that exist at the head."""
    return {f.path: f.sha for f in files if f.sha and f.status != "removed"}
