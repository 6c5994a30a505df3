"""Files an organisation keeps for every repository in its `.github` repository (its policy,
`.github/compliance.yml`; custom rules, `.github/compliance/rules/*.yml`), read at one commit.

GitHub's own convention: an account's repository named `.github` holds its defaults. The App
reads it with the installation's token, so the App must be installed on that repository too
(contents: read); otherwise GitHub answers 404 and the organisation has no such files here.
Reading by commit, not by branch name, lets callers cache what they read by that commit: a file
is fetched again only once the default branch moved.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.github.client import InstallationClient
from bot.github.records import FileAtRef

ORG_CONFIG_REPOSITORY = ".github"


@dataclass(frozen=True)
class OrgConfigHead:
    """The owner's `.github` repository at the commit its default branch points at now."""

    owner: str
    default_branch: str
    sha: str
    repository: str = ORG_CONFIG_REPOSITORY

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repository}"


async def org_config_head(gh: InstallationClient, owner: str) -> OrgConfigHead | None:
    """Where the owner's `.github` repository's default branch is now; None when the App cannot
    see such a repository (none, or not installed there) or it has no commit yet."""
    info = await gh.get_repository(owner, ORG_CONFIG_REPOSITORY)
    if info is None:
        return None
    sha = await gh.get_branch_head(owner, ORG_CONFIG_REPOSITORY, info.default_branch)
    return OrgConfigHead(owner, info.default_branch, sha) if sha is not None else None


async def org_config_file(gh: InstallationClient, head: OrgConfigHead, path: str) -> FileAtRef | None:
    """A file of the `.github` repository at `head`'s commit; None when it has no such file."""
    return await gh.get_file(head.owner, head.repository, path, head.sha)
