"""An organisation's custom rule files, from the default branch of its `.github` repository.

Two steps, so a caller that already holds the rules of a listing reads nothing more: the folder's
listing (one request: its entries' blob ids say whether anything changed), then the blobs it
names, by id, so the texts are exactly the listed ones even if the branch moves meanwhile. It
knows nothing of rules: which entries to read, and how large one may be, is the caller's call.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.github.client import InstallationClient
from bot.github.records import DirectoryEntry

ORG_REPOSITORY = ".github"  # GitHub's name for an organisation's (or a user's) shared settings


async def list_org_rule_folder(gh: InstallationClient, owner: str, folder: str) -> list[DirectoryEntry] | None:
    """The entries of `folder` in `<owner>/.github` on its default branch; None when there is no
    such repository or folder, or the installation cannot see the repository."""
    return await gh.list_directory(owner, ORG_REPOSITORY, folder)


async def read_org_rule_files(gh: InstallationClient, owner: str, entries: Iterable[DirectoryEntry]
                              ) -> dict[str, str | None]:
    """The text of each entry by path (None: too large or unreadable), read by blob id."""
    texts: dict[str, str | None] = {}
    for entry in entries:
        texts[entry.path] = (await gh.read_blob(owner, ORG_REPOSITORY, entry.oid, entry.size)).text
    return texts
