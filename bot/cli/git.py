"""Local git plumbing: one commit of a repository as a `Tree`, and git run with stable output."""

from __future__ import annotations

import subprocess
from collections.abc import Collection, Iterable
from pathlib import Path

from bot.engine.tree import MAX_FILE_BYTES, decode_text

UNREADABLE = MAX_FILE_BYTES + 1  # the size given to blobs git cannot read, so they are never read


class GitError(RuntimeError):
    """A git command failed; the message is git's own first line."""


def run_git(repo: Path, *args: str, input_bytes: bytes | None = None) -> bytes:
    """Run git with settings that make its output stable whatever the user's config says."""
    command = ["git", "-C", str(repo), "-c", "core.quotepath=false", "-c", "color.ui=never", *args]
    try:
        done = subprocess.run(command, input=input_bytes, capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise GitError("git is not installed") from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(message[0] if message else f"git {args[0]} failed")
    return done.stdout


class GitTree:
    """One commit of a local git repository, read with `git ls-tree` and `git cat-file`."""

    def __init__(self, repo: Path, rev: str) -> None:
        self.repo = repo
        self.commit = run_git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").decode().strip()
        self._blobs: dict[str, tuple[str, int]] | None = None

    def _index(self) -> dict[str, tuple[str, int]]:
        if self._blobs is None:
            out = run_git(self.repo, "ls-tree", "-r", "-l", "-z", "--full-tree", self.commit)
            blobs: dict[str, tuple[str, int]] = {}
            for entry in out.split(b"\x00"):
                if not entry:
                    continue
                meta, _, name = entry.partition(b"\t")
                mode, kind, sha, size = meta.split()
                if kind == b"blob" and mode != b"120000":  # skip symlinks
                    # A blob missing from the object store (a partial clone) lists its size as "BAD":
                    # it cannot be read, which the engine reports for infrastructure files.
                    readable = size.isdigit()
                    blobs[name.decode("utf-8", "replace")] = (sha.decode(), int(size) if readable else UNREADABLE)
            self._blobs = blobs
        return self._blobs

    def paths(self) -> Iterable[str]:
        return sorted(self._index())

    def read(self, path: str) -> str | None:
        blob = self._index().get(path)
        if blob is None or blob[1] > MAX_FILE_BYTES:
            return None
        return decode_text(run_git(self.repo, "cat-file", "blob", blob[0]))

    def list_all(self) -> tuple[list[str], bool]:
        return sorted(self._index()), True

    def read_many(self, paths: Collection[str]) -> dict[str, str | None]:
        """Read several files with one `git cat-file --batch` process."""
        index = self._index()
        wanted = [p for p in paths if p in index and index[p][1] <= MAX_FILE_BYTES]
        result: dict[str, str | None] = dict.fromkeys(paths)
        if not wanted:
            return result
        request = "".join(f"{index[p][0]}\n" for p in wanted).encode()
        out = run_git(self.repo, "cat-file", "--batch", input_bytes=request)
        offset = 0
        for path in wanted:
            header_end = out.index(b"\n", offset)
            size = int(out[offset:header_end].split()[2])
            start = header_end + 1
            result[path] = decode_text(out[start : start + size])
            offset = start + size + 1
        return result
