"""One commit of a repository on GitHub, read the way the engine asks (`bot.engine.tree.Tree`).

The engine runs in a worker thread and asks for what a review needs: the commit's file list
(one recursive git tree), then the texts of some paths, in batched GraphQL queries
(`<commit>:<path>`, 50 per query), run on the job's event loop, so the job never plans reads and
knows nothing of parser families.

Every text is read *at this commit* and arrives with the blob id GitHub computed for it; the
cache is keyed by that id, verified (`bot.github.blobs`), never by an id some listing claimed.
When a listing (the pull request's files, a directory) named a different blob for a path than
the commit holds, the listing describes another head: reading stops with `StaleListing`, so a
listing of one head is never mixed with the contents of another.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Coroutine, Mapping
from typing import Any, TypeVar

from bot.engine.tree import MAX_SCAN_BYTES, too_large_reason
from bot.github.blobs import BlobCache, SharedBlobs
from bot.github.client import InstallationClient

T = TypeVar("T")

READ_TIMEOUT_SECONDS = 300.0  # one batch of reads; GitHub's own timeouts are far shorter


class StaleListing(RuntimeError):
    """A listing named a blob for `path` that the commit does not hold: it describes another head."""

    def __init__(self, path: str, listed: str | None, actual: str | None) -> None:
        super().__init__(f"{path}: the listing names blob {listed or 'none'}, the commit holds {actual or 'none'}")
        self.path = path


class GitHubTree:
    """The files of `commit` in `owner/repo`, as far as the engine asks for them.

    - `listed`: blob ids by path from the pull request's file listing (changed files); they are
      checked against what the commit holds.
    - `cache`: verified blob texts shared across jobs.
    - `loop`: the event loop the installation client runs on (the engine calls from a thread).
    - `shared`: blob texts shared by processes (Redis), asked after `cache` and before GitHub.
    """

    def __init__(self, gh: InstallationClient, owner: str, repo: str, commit: str, *, listed: Mapping[str, str],
                 cache: BlobCache, loop: asyncio.AbstractEventLoop, shared: SharedBlobs | None = None) -> None:
        self._gh = gh
        self._owner = owner
        self._repo = repo
        self.commit = commit
        self._listed = dict(listed)
        self._cache = cache
        self._shared = shared
        self._loop = loop
        self._texts: dict[str, str | None] = {}
        self._sizes: dict[str, int] = {}  # of blobs too large to read
        self._listed_sizes: dict[str, int] = {}  # from the tree listing, before any read

    # -- the engine's (synchronous) interface ------------------------------------------------------

    def list_all(self) -> tuple[list[str], bool]:
        return self._call(self.alist_all())

    def read_many(self, paths: Collection[str]) -> dict[str, str | None]:
        return self._call(self.aread_many(paths))

    # -- the same, on the event loop ----------------------------------------------------------------

    async def alist_all(self) -> tuple[list[str], bool]:
        """Every file of the commit; each listed blob id is checked against the pull request's
        listing, which must describe this same commit."""
        entries, complete = await self._gh.list_tree(self._owner, self._repo, self.commit)
        for entry in entries:
            if entry.size is not None:
                self._listed_sizes[entry.path] = entry.size
            listed = self._listed.setdefault(entry.path, entry.oid)
            if listed != entry.oid:
                raise StaleListing(entry.path, listed, entry.oid)
        return sorted(e.path for e in entries), complete

    async def aread_many(self, paths: Collection[str]) -> dict[str, str | None]:
        missing: dict[str, str | None] = {}
        for path in paths:
            if path in self._texts:
                continue
            oid = self._listed.get(path)
            cached = self._cache.get(oid) if oid else None
            if cached is not None:
                self._texts[path] = cached
            else:
                missing[path] = oid
        if missing and self._shared is not None:
            found = await self._shared.get_many({oid for oid in missing.values() if oid})
            for path, oid in list(missing.items()):
                text = found.get(oid) if oid else None
                if text is not None and self._cache.put(oid or "", text):  # verified: the text is that blob
                    self._texts[path] = text
                    del missing[path]
        if missing:
            blobs = await self._gh.read_blobs(self._owner, self._repo, self.commit, missing.keys())
            fresh: dict[str, str] = {}
            for path, listed in missing.items():
                blob = blobs.get(path)
                actual = blob.oid if blob is not None else None
                if listed is not None and actual != listed:
                    raise StaleListing(path, listed, actual)
                if blob is None:
                    self._texts[path] = None
                    continue
                if blob.text is None and blob.size is not None:
                    self._sizes[path] = blob.size
                self._listed[path] = blob.oid
                if blob.text is not None and self._cache.put(blob.oid, blob.text):
                    fresh[blob.oid] = blob.text
                self._texts[path] = blob.text
            if fresh and self._shared is not None:
                await self._shared.put_many(fresh)
        return {path: self._texts.get(path) for path in paths}

    def size_of(self, path: str) -> int | None:
        """A blob's size when the tree listing gave it, so the engine plans reads within its budget."""
        return self._listed_sizes.get(path)

    def unread_reason(self, path: str) -> str | None:
        """Why no text came for `path` (see `bot.engine.tree.unread_reason`)."""
        size = self._sizes.get(path)
        return too_large_reason(size) if size is not None and size > MAX_SCAN_BYTES else None

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the job's loop and wait for it from the engine's thread."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            coroutine.close()
            raise RuntimeError("GitHubTree's blocking methods are for the engine's thread; await the a* methods")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(READ_TIMEOUT_SECONDS)
