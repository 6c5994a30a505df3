"""Local git plumbing: one commit of a repository as a `Tree`, and git run with stable output."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path

from bot.cli.errors import GitError
from bot.engine.diff import DiffError, FileDiff, parse_file_patch
from bot.engine.tree import MAX_FILE_BYTES, MAX_SCAN_BYTES, SUBMODULE, SYMLINK, decode_text, too_large_reason

UNREADABLE = MAX_SCAN_BYTES + 1  # the size given to blobs git cannot read, so they are never read
BATCH_BYTES = 64 * 1024 * 1024  # blobs read by one `git cat-file --batch`


def run_git(repo: Path, *args: str, input_bytes: bytes | None = None, env: Mapping[str, str] | None = None) -> bytes:
    """Run git with settings that make its output stable whatever the user's config says; `env`:
    variables added to this process's environment (GIT_INDEX_FILE for a scratch index)."""
    command = ["git", "-C", str(repo), "-c", "core.quotepath=false", "-c", "color.ui=never", *args]
    environment = {**os.environ, **env} if env else None
    try:
        done = subprocess.run(command, input=input_bytes, capture_output=True, check=False, env=environment)
    except FileNotFoundError as exc:
        raise GitError("git is not installed") from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(message[0] if message else f"git {args[0]} failed")
    return done.stdout


def decode_path(raw: bytes) -> str:
    """A path as git stores it (bytes) as the engine names it; the same everywhere in the CLI, so
    a listing, a diff and a read agree on one name even when it is not UTF-8."""
    return raw.decode("utf-8", "replace")


_DIFF_OPTIONS = ("--no-color", "--no-ext-diff", "--no-textconv", "-M")
_STATUSES = {"A": "added", "C": "copied", "D": "removed", "R": "renamed"}


def changed_files(repo: Path, base: str, head: str, too_large: Callable[[str], bool] = lambda path: False
                  ) -> list[FileDiff]:
    """What base..head changed, file by file.

    The names come from `--name-status -z`, exactly as stored: a quote, a backslash, a tab or a
    newline in a name survives (the text diff quotes and escapes such names, and a parser of its
    headers gets them wrong). The hunks come from one text diff in the same order, cut at each
    `diff --git` line (no hunk line can start with it: they start with ' ', '+', '-' or '\\').
    """
    names = run_git(repo, "diff", *_DIFF_OPTIONS, "--name-status", "-z", base, head).split(b"\x00")
    entries: list[tuple[str, str, str | None]] = []  # (status, path, old path)
    i = 0
    while i < len(names) and names[i]:
        letter = names[i][:1].decode("ascii", "replace")
        if letter in ("R", "C"):
            old, new = decode_path(names[i + 1]), decode_path(names[i + 2])
            entries.append((_STATUSES[letter], new, old))
            i += 3
        else:
            entries.append((_STATUSES.get(letter, "modified"), decode_path(names[i + 1]), None))
            i += 2
    # A file past the size limit is never read, so its patch is not made either: git would print
    # it whole and parsing it costs seconds and hundreds of MB per 10 MB, only to say "too large".
    skipped = {path for status, path, _old in entries if status != "removed" and too_large(path)}
    # a renamed file's old name too, or git would print the old side alone as a deletion
    hidden = skipped | {old for _status, path, old in entries if path in skipped and old is not None}
    excluded = [f":(exclude,literal){path}" for path in sorted(hidden)]
    text = ""
    if len(skipped) < len(entries):
        text = run_git(repo, "diff", *_DIFF_OPTIONS, "--unified=3", "--src-prefix=a/", "--dst-prefix=b/",
                       base, head, "--", ".", *excluded).decode("utf-8", errors="replace")
    chunks = iter(_per_file(text))
    diffs: list[FileDiff] = []
    for status, path, old_path in entries:
        if path in skipped:
            diffs.append(parse_file_patch(path, None, status, old_path))
            continue
        chunk = next(chunks, None)
        if chunk is None:
            raise DiffError(f"git diff listed {len(entries)} files but printed fewer")
        diffs.append(parse_file_patch(path, _hunks(chunk), status, old_path))
    if next(chunks, None) is not None:
        raise DiffError(f"git diff printed more files than the {len(entries)} it listed")
    return diffs


_FILE_START = re.compile(r"^diff --git ", re.MULTILINE)  # `^` follows "\n" only, as git's lines do


def _per_file(text: str) -> list[str]:
    starts = [match.start() for match in _FILE_START.finditer(text)]
    return [text[start:end] for start, end in zip(starts, [*starts[1:], len(text)])]


def _hunks(chunk: str) -> str | None:
    """The hunks of one file's diff, headers dropped; None for a binary file (git prints no
    hunks for it), "" for a file with no text change (a mode change, an empty file)."""
    start = chunk.find("\n@@ ")
    if start >= 0:
        return chunk[start + 1 :]
    return None if "\nBinary files " in chunk or "\nGIT binary patch" in chunk else ""


def empty_tree(repo: Path) -> str:
    """The id of the empty tree in this repository's hash (what a repository with no commit yet
    is compared with); git knows it without storing it."""
    return run_git(repo, "hash-object", "-t", "tree", "--stdin", input_bytes=b"").decode().strip()


def index_tree(repo: Path) -> str:
    """The staged changes as a tree (`git write-tree`: what `git commit` would record). It reads
    the index git uses now: under a pre-commit hook, GIT_INDEX_FILE names the one being committed.
    Only tree objects are written (the staged blobs are stored already), as `git stash` does."""
    return run_git(repo, "write-tree").decode().strip()


def worktree_tree(repo: Path) -> str:
    """Every change not yet committed as a tree: a copy of the index, with the working tree's
    files (new ones too, less those .gitignore ignores; deleted ones removed) added to the copy
    with `git add --all`, then written. The user's index and files are left as they were; the
    blobs added are stored like `git stash` stores them. No hook runs (git add runs none)."""
    current = os.environ.get("GIT_INDEX_FILE")
    index = Path(current) if current else Path(run_git(repo, "rev-parse", "--git-path", "index").decode().strip())
    index = index if index.is_absolute() else repo / index
    with tempfile.TemporaryDirectory(prefix="compliance-bot-index-") as scratch:
        copy = Path(scratch) / "index"
        if index.is_file():
            shutil.copyfile(index, copy)
        env = {"GIT_INDEX_FILE": str(copy)}
        run_git(repo, "add", "--all", "--", ":/", env=env)
        return run_git(repo, "write-tree", env=env).decode().strip()


class GitTree:
    """One commit (or tree) of a local git repository, read with `git ls-tree` and `git cat-file`."""

    def __init__(self, repo: Path, rev: str, kind: str = "commit") -> None:
        """`kind`: "tree" for a tree that is no commit (the index or the working tree, written);
        `commit` is then that tree's id."""
        self.repo = repo
        self.commit = run_git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{{kind}}}").decode().strip()
        self._blobs: dict[str, tuple[str, int]] | None = None
        self._special: dict[str, str] = {}  # symlinks and submodules: listed, never read

    def _index(self) -> dict[str, tuple[str, int]]:
        if self._blobs is None:
            out = run_git(self.repo, "ls-tree", "-r", "-l", "-z", "--full-tree", self.commit)
            blobs: dict[str, tuple[str, int]] = {}
            for entry in out.split(b"\x00"):
                if not entry:
                    continue
                meta, _, name = entry.partition(b"\t")
                mode, kind, sha, size = meta.split()
                if mode == b"120000":
                    self._special[decode_path(name)] = SYMLINK
                elif kind == b"commit":
                    self._special[decode_path(name)] = SUBMODULE
                if kind == b"blob" and mode != b"120000":  # skip symlinks
                    # A blob missing from the object store (a partial clone) lists its size as "BAD":
                    # it cannot be read, which the engine reports for infrastructure files.
                    readable = size.isdigit()
                    blobs[decode_path(name)] = (sha.decode(), int(size) if readable else UNREADABLE)
            self._blobs = blobs
        return self._blobs

    def paths(self) -> Iterable[str]:
        return sorted(self._index())

    def unread_reason(self, path: str) -> str | None:
        """Why `read` gives nothing for `path` (see `bot.engine.tree.unread_reason`)."""
        index = self._index()
        if path in self._special:
            return self._special[path]
        blob = index.get(path)
        if blob is None:
            return None
        if blob[1] == UNREADABLE:
            return "its content is missing from this clone (a partial or shallow clone)"
        if blob[1] > MAX_SCAN_BYTES:
            return too_large_reason(blob[1])
        return None

    def blob_id(self, path: str) -> str | None:
        """The id of the blob at `path` (a file's, not a symlink's), from the tree listing."""
        blob = self._index().get(path)
        return blob[0] if blob is not None else None

    def size_of(self, path: str) -> int | None:
        """The blob's size from the tree listing, so reads are planned within the byte budget."""
        blob = self._index().get(path)
        return blob[1] if blob is not None else None

    def too_large(self, path: str) -> bool:
        """Past the size of files diffed line by line (or unreadable): its patch is never made; it
        is read whole (up to MAX_SCAN_BYTES) instead."""
        blob = self._index().get(path)
        return blob is not None and blob[1] > MAX_FILE_BYTES

    def read(self, path: str) -> str | None:
        blob = self._index().get(path)
        if blob is None or blob[1] > MAX_SCAN_BYTES:
            return None
        return decode_text(run_git(self.repo, "cat-file", "blob", blob[0]))

    def list_all(self) -> tuple[list[str], bool]:
        return sorted(self._index()), True

    def read_many(self, paths: Collection[str]) -> dict[str, str | None]:
        """Read several files with `git cat-file --batch`, one process per BATCH_BYTES of blobs (so
        git's output for a whole tree is never held at once)."""
        index = self._index()
        wanted = [p for p in paths if p in index and index[p][1] <= MAX_SCAN_BYTES]
        result: dict[str, str | None] = dict.fromkeys(paths)
        batch: list[str] = []
        size = 0
        for path in [*wanted, None]:
            if batch and (path is None or size + index[path][1] > BATCH_BYTES):
                result.update(self._read_batch(batch))
                batch, size = [], 0
            if path is not None:
                batch.append(path)
                size += index[path][1]
        return result

    def _read_batch(self, paths: list[str]) -> dict[str, str]:
        index = self._index()
        request = "".join(f"{index[p][0]}\n" for p in paths).encode()
        out = run_git(self.repo, "cat-file", "--batch", input_bytes=request)
        texts: dict[str, str] = {}
        offset = 0
        for path in paths:
            header_end = out.index(b"\n", offset)
            size = int(out[offset:header_end].split()[2])
            start = header_end + 1
            texts[path] = decode_text(out[start : start + size])
            offset = start + size + 1
        return texts
