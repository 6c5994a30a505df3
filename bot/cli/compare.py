"""What `compliance-bot check` compares: a base commit and a head (a commit, the staged changes
or the working tree), with the words that tell the user which, so a check that compares a
branch with itself says so instead of passing in silence."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from bot.cli.errors import GitError, UsageError
from bot.cli.git import GitTree, empty_tree, index_tree, run_git, worktree_tree

COMMITS, STAGED, WORKTREE = "commits", "staged", "worktree"
_HEAD_WORDS = {STAGED: "index (staged changes)", WORKTREE: "working tree (uncommitted changes)"}


@dataclass(frozen=True)
class Comparison:
    """`base`: the commit compared with (the merge-base, as the App reviews a pull request);
    `head`: the tree reviewed; `default_branch`: set when the base was not given (the policy is
    then read there); the labels say what each side is, e.g. `main@abc1234`."""

    base: str
    head: GitTree
    base_name: str
    base_label: str
    head_label: str
    default_branch: str | None
    mode: str

    @property
    def head_commit(self) -> str | None:
        """The head's commit id; None for the index or the working tree (no commit yet)."""
        return self.head.commit if self.mode == COMMITS else None

    def described(self, files: int) -> str:
        return f"base {self.base_label} ... head {self.head_label}, {files} file{'s' if files != 1 else ''}"

    def nothing_to_compare(self, files: int) -> str | None:
        """Why this comparison cannot find anything, or None: the head is the base's own commit
        (a check on the default branch itself), or nothing is staged or changed."""
        if self.mode == COMMITS and self.base == self.head.commit:
            return (f"nothing to compare: base {self.base_label} and head {self.head_label} are the same commit; "
                    "pass --base REV to compare with another commit, or --staged / --worktree to review "
                    "changes not yet committed")
        if self.mode != COMMITS and files == 0:
            what = "nothing is staged" if self.mode == STAGED else "the working tree has no uncommitted change"
            return f"nothing to compare: {what} (against base {self.base_label})"
        return None


def default_branch(repo: Path) -> str:
    """origin's HEAD when the clone knows it, else the first of main/master that exists."""
    candidates = ["main", "master", "origin/main", "origin/master"]
    with contextlib.suppress(GitError):
        ref = run_git(repo, "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD").decode().strip()
        candidates.insert(0, ref.removeprefix("refs/remotes/"))
    for candidate in candidates:
        try:
            run_git(repo, "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}")
            return candidate
        except GitError:
            continue
    raise UsageError("cannot tell the default branch (no origin/HEAD, main or master); pass --base")


def _commit_of(repo: Path, rev: str) -> str | None:
    try:
        return run_git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").decode().strip()
    except GitError:
        return None


def _branch(repo: Path) -> str:
    """The checked-out branch's name, or HEAD when detached."""
    try:
        return run_git(repo, "symbolic-ref", "--quiet", "--short", "HEAD").decode().strip() or "HEAD"
    except GitError:
        return "HEAD"


def _named(rev: str, commit: str | None) -> str:
    """A revision as the user would recognise it: a commit id (as the Action passes) shortened."""
    return commit[:7] if commit is not None and len(rev) >= 7 and commit.startswith(rev.lower()) else rev


def _head(root: Path, head_rev: str, mode: str) -> tuple[GitTree, str]:
    if mode == COMMITS:
        try:
            head = GitTree(root, head_rev)
        except GitError:
            raise UsageError(f"unknown revision: {head_rev}") from None
        name = _branch(root) if head_rev == "HEAD" else _named(head_rev, head.commit)
        return head, f"{name}@{head.commit[:7]}" if name != head.commit[:7] else name
    try:
        tree = index_tree(root) if mode == STAGED else worktree_tree(root)
    except GitError as exc:
        if mode == STAGED:
            raise UsageError(f"cannot read the staged changes ({exc}); resolve any merge conflict first, or "
                             "review with --worktree") from None
        raise UsageError(f"cannot read the working tree ({exc})") from None
    return GitTree(root, tree, kind="tree"), _HEAD_WORDS[mode]


def resolve(root: Path, base_rev: str | None, head_rev: str, mode: str = COMMITS) -> Comparison:
    """Base and head as `check` reviews them. Commits: base...head (against their merge-base;
    the base defaults to the default branch). Staged or working tree: against HEAD (or the
    merge-base of --base and HEAD); a repository with no commit yet is compared with nothing."""
    head, head_label = _head(root, head_rev, mode)
    default = default_branch(root) if base_rev is None and mode == COMMITS else None
    base_name = base_rev or default or "HEAD"
    tip = "HEAD" if mode != COMMITS else head.commit
    if mode != COMMITS and base_rev is None and _commit_of(root, "HEAD") is None:
        return Comparison(empty_tree(root), head, "HEAD", "(no commit yet)", head_label, None, mode)
    try:
        merge_base = run_git(root, "merge-base", base_name, tip).decode().strip()
    except GitError:
        raise UsageError(f"unknown revision or no common history: {base_name}") from None
    base_commit = _commit_of(root, base_name)
    name = _branch(root) if base_name == "HEAD" else _named(base_name, base_commit)
    if base_commit != merge_base:
        label = f"{merge_base[:7]} (merge-base with {name})"
    else:
        label = f"{name}@{merge_base[:7]}" if name != merge_base[:7] else name
    return Comparison(merge_base, head, base_name, label, head_label, default, mode)
