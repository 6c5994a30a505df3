"""A bare git repository driven by plumbing commands, so every sha, tree and diff the fake serves is real.

Commits are written with `git fast-import` (one process per commit, no work tree), objects are read
through one long-lived `git cat-file --batch` process, and diffs come from `git diff-tree`. Git is
isolated from the user's and system's configuration so output is the same on every machine.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ZERO_SHA = "0" * 40
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")

FileChanges = Mapping[str, "str | bytes | None"]


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",
        LC_ALL="C",
    )
    return env


@dataclass(frozen=True)
class GitObject:
    """One object read from the repository."""

    sha: str
    type: str  # blob, tree, commit, tag
    data: bytes


@dataclass(frozen=True)
class TreeEntry:
    """One line of `git ls-tree -l`."""

    mode: str
    type: str
    sha: str
    size: int | None
    path: str


@dataclass(frozen=True)
class RawChange:
    """One line of `git diff-tree --raw`: what happened to one path."""

    old_mode: str
    new_mode: str
    old_sha: str
    new_sha: str
    status: str  # A, M, D, R, C, T
    path: str
    old_path: str | None


@dataclass(frozen=True)
class CommitInfo:
    """The parsed header of a commit object."""

    sha: str
    tree: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    author_time: int
    committer_name: str
    committer_email: str
    committer_time: int
    message: str


class GitError(RuntimeError):
    """A git command failed."""


class GitRepo:
    """A bare repository in `path` with helpers for exactly what the fake needs."""

    def __init__(self, path: Path, default_branch: str) -> None:
        self.path = path
        self.default_branch = default_branch
        self._env = _git_env()
        self._lock = threading.RLock()
        self._last_time = 0
        self._cat: subprocess.Popen[bytes] | None = None
        self._objects: dict[str, GitObject] = {}
        self._moves: dict[tuple[str, str, str], list[tuple[int, int, int, int]]] = {}
        path.mkdir(parents=True, exist_ok=True)
        self.run("init", "--quiet", "--bare", f"--initial-branch={default_branch}", str(path), cwd=path.parent)

    # -- process helpers -------------------------------------------------------------------------

    def run(self, *args: str, input: bytes | None = None, cwd: Path | None = None) -> bytes:
        """Run git and return stdout; raise GitError with stderr on failure."""
        proc = subprocess.run(
            ["git", "-c", "core.quotepath=off", *args],
            cwd=cwd or self.path,
            env=self._env,
            input=input,
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0:
            raise GitError(f"git {' '.join(args)} failed: {proc.stderr.decode(errors='replace').strip()}")
        return proc.stdout

    def close(self) -> None:
        """Stop the cat-file process."""
        with self._lock:
            if self._cat is not None:
                assert self._cat.stdin is not None
                self._cat.stdin.close()
                self._cat.wait(timeout=5)
                if self._cat.stdout is not None:
                    self._cat.stdout.close()
                self._cat = None

    # -- writing ---------------------------------------------------------------------------------

    def commit(
        self,
        branch: str,
        files: FileChanges,
        message: str,
        *,
        author: tuple[str, str] = ("Octo Cat", "octocat@users.noreply.github.com"),
        from_branch: str | None = None,
    ) -> str:
        """Commit `files` (path -> text/bytes, or None to delete) on `branch`; return the new sha.

        A new branch starts from `from_branch` (default: the default branch); the first commit of
        an empty repository has no parent.
        """
        with self._lock:
            parent = self.resolve(f"refs/heads/{branch}")
            if parent is None and from_branch is not None:
                parent = self.resolve(f"refs/heads/{from_branch}")
                if parent is None:
                    raise GitError(f"branch {from_branch!r} does not exist")
            elif parent is None:
                parent = self.resolve(f"refs/heads/{self.default_branch}")
            now = max(int(time.time()), self._last_time + 1)
            self._last_time = now
            name, email = author
            msg = message.encode()
            out = bytearray()
            out += f"commit refs/heads/{branch}\n".encode()
            out += f"author {name} <{email}> {now} +0000\n".encode()
            out += f"committer {name} <{email}> {now} +0000\n".encode()
            out += b"data %d\n" % len(msg) + msg + b"\n"
            if parent is not None:
                out += f"from {parent}\n".encode()
            for path, content in files.items():
                if "\n" in path or path.startswith("/"):
                    raise GitError(f"bad path {path!r}")
                if content is None:
                    out += f"D {path}\n".encode()
                    continue
                data = content.encode() if isinstance(content, str) else bytes(content)
                out += f"M 100644 inline {path}\n".encode()
                out += b"data %d\n" % len(data) + data + b"\n"
            out += b"\n"
            self.run("fast-import", "--quiet", "--done", input=bytes(out) + b"done\n")
            sha = self.resolve(f"refs/heads/{branch}")
            assert sha is not None
            return sha

    def set_ref(self, ref: str, sha: str) -> None:
        """Point `ref` (e.g. refs/heads/main) at `sha`."""
        self.run("update-ref", ref, sha)

    # -- reading ---------------------------------------------------------------------------------

    def _cat_file(self) -> subprocess.Popen[bytes]:
        if self._cat is None or self._cat.poll() is not None:
            self._cat = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=self.path,
                env=self._env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        return self._cat

    def read(self, expression: str) -> GitObject | None:
        """Read the object named by a rev-parse expression (`sha`, `sha:path`, `branch`), or None."""
        if not expression or "\n" in expression:
            return None
        with self._lock:
            cached = self._objects.get(expression)
            if cached is not None:
                return cached
            proc = self._cat_file()
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(expression.encode() + b"\n")
            proc.stdin.flush()
            header = proc.stdout.readline().decode().rstrip("\n")
            parts = header.split(" ")
            if len(parts) != 3 or parts[1] not in ("blob", "tree", "commit", "tag"):
                return None
            sha, kind, size = parts[0], parts[1], int(parts[2])
            data = proc.stdout.read(size)
            proc.stdout.read(1)
            obj = GitObject(sha, kind, data)
            self._objects[sha] = obj
            return obj

    def resolve(self, expression: str) -> str | None:
        """The full sha an expression names, or None."""
        obj = self.read(expression)
        return obj.sha if obj is not None else None

    def resolve_commit(self, expression: str) -> str | None:
        """The commit sha for a branch, tag or sha, or None if it does not name a commit."""
        obj = self.read(f"{expression}^{{commit}}")
        return obj.sha if obj is not None and obj.type == "commit" else None

    def branch_sha(self, branch: str) -> str | None:
        """The tip of `branch`, or None."""
        return self.resolve_commit(f"refs/heads/{branch}")

    def commit_info(self, sha: str) -> CommitInfo | None:
        """Parse a commit object."""
        obj = self.read(sha)
        if obj is None or obj.type != "commit":
            return None
        head, _, message = obj.data.decode(errors="replace").partition("\n\n")
        tree = ""
        parents: list[str] = []
        people: dict[str, tuple[str, str, int]] = {}
        for line in head.splitlines():
            key, _, value = line.partition(" ")
            if key == "tree":
                tree = value
            elif key == "parent":
                parents.append(value)
            elif key in ("author", "committer"):
                who, _, rest = value.partition(" <")
                email, _, stamp = rest.partition("> ")
                people[key] = (who, email, int(stamp.split(" ")[0]))
        a, c = people["author"], people["committer"]
        return CommitInfo(obj.sha, tree, tuple(parents), a[0], a[1], a[2], c[0], c[1], c[2], message)

    def merge_base(self, a: str, b: str) -> str | None:
        """The best common ancestor of two commits."""
        try:
            return self.run("merge-base", a, b).decode().strip() or None
        except GitError:
            return None

    def rev_list(self, exclude: str, include: str) -> list[str]:
        """Commits reachable from `include` but not `exclude`, oldest first."""
        out = self.run("rev-list", "--reverse", "--topo-order", include, f"^{exclude}")
        return out.decode().split()

    def count_commits(self, exclude: str, include: str) -> int:
        return len(self.rev_list(exclude, include))

    def ls_tree(self, treeish: str, *, recursive: bool = False, path: str | None = None) -> list[TreeEntry]:
        """Entries of a tree (recursive like GitHub: sub-trees listed too)."""
        args = ["ls-tree", "-l", "-z"]
        if recursive:
            args += ["-r", "-t"]
        args.append(treeish)
        if path:
            args += ["--", path]
        out = self.run(*args).decode(errors="replace")
        entries = []
        for record in out.split("\0"):
            if not record:
                continue
            meta, _, name = record.partition("\t")
            mode, kind, sha, size = meta.split()
            entries.append(TreeEntry(mode, kind, sha, None if size == "-" else int(size), name))
        return entries

    def raw_diff(self, base: str, head: str) -> list[RawChange]:
        """`git diff-tree --raw` between two commits, with rename detection like GitHub."""
        out = self.run("diff-tree", "-r", "-M", "--raw", "-z", "--no-abbrev", base, head).decode(
            errors="replace"
        )
        fields = out.split("\0")
        changes: list[RawChange] = []
        i = 0
        while i < len(fields) and fields[i]:
            meta = fields[i].lstrip(":").split(" ")
            status = meta[4]
            if status[0] in ("R", "C"):
                old_path, path = fields[i + 1], fields[i + 2]
                i += 3
            else:
                old_path, path = None, fields[i + 1]
                i += 2
            changes.append(RawChange(meta[0], meta[1], meta[2], meta[3], status[0], path, old_path))
        return changes

    def patch(self, base: str, head: str) -> str:
        """The unified diff between two commits, exactly what `.diff` media type returns."""
        return self.run("diff-tree", "-r", "-M", "-p", "--no-color", base, head).decode(errors="replace")

    def line_moves(self, base: str, head: str, path: str) -> list[tuple[int, int, int, int]]:
        """Zero-context hunks (old_start, old_len, new_start, new_len) of one path, to follow a line."""
        key = (base, head, path)
        cached = self._moves.get(key)
        if cached is not None:
            return cached
        out = self.run("diff-tree", "-r", "-p", "-U0", "--no-color", base, head, "--", path).decode(errors="replace")
        moves = []
        for line in out.split("\n"):
            m = _HUNK.match(line)
            if m:
                moves.append(
                    (int(m.group(1)), int(m.group(2) or 1), int(m.group(3)), int(m.group(4) or 1))
                )
        self._moves[key] = moves
        return moves

    def format_patch(self, base: str, head: str) -> str:
        """Mail-formatted patches of every commit in base..head (the `.patch` media type)."""
        return self.run("format-patch", "--stdout", "--no-color", f"{base}..{head}").decode(errors="replace")
