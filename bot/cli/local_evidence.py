"""The evidence record of a local review (`check`/`scan --format json`): the same record the App
writes, with what a local run knows (the commits, the origin's GitHub name, the policy's blob)."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from pathlib import Path
from typing import Any

from bot import __version__
from bot.cli.errors import GitError
from bot.cli.git import GitTree, run_git
from bot.engine.policy import POLICY_PATH, Policy
from bot.engine.review import Engine, Review
from bot.report.evidence import PolicySource, Subject, build_evidence, git_blob_sha

_GITHUB_REMOTE = re.compile(r"github\.com[:/](?P<owner>[A-Za-z0-9_.-]+)/(?P<name>[A-Za-z0-9_.-]+?)(?:\.git)?/?$")


def origin_repository(root: Path) -> str | None:
    """OWNER/NAME of the `origin` remote when it is on github.com, else None."""
    with contextlib.suppress(GitError):
        url = run_git(root, "remote", "get-url", "origin").decode().strip()
        found = _GITHUB_REMOTE.search(url)
        if found:
            return f"{found['owner']}/{found['name']}"
    return None


def committed_policy(tree: GitTree) -> PolicySource:
    """The policy file's blob in `tree` (from the listing the review read it by), or the default
    when there is none."""
    return PolicySource(POLICY_PATH, tree.blob_id(POLICY_PATH))


def file_policy(path: Path | None, fallback: PolicySource) -> PolicySource:
    """A policy given with --policy (its blob id computed as git would), else `fallback`."""
    if path is None:
        return fallback
    try:
        return PolicySource(str(path), git_blob_sha(path.read_bytes()))
    except OSError:
        return PolicySource(str(path), None, unread=True)


def local_evidence(review: Review, policy: Policy, engine: Engine, subject: Subject,
                   source: PolicySource) -> dict[str, Any]:
    return build_evidence(subject, source, policy, engine.rule_set, __version__, review.conclusion(policy),
                          dt.datetime.now(dt.UTC), review, review.errors, review.not_reviewed)
