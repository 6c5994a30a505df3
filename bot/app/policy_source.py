"""Which policy a review runs under: the repository's file and its organisation's, each read at
the commit its default branch points at, parsed once per commit, then resolved for the
repository (`bot.engine.policy_merge`).

Per job this costs the head of the repository's default branch (one request) and of its
organisation's `.github` repository (two: which branch, then where it points); the files
themselves are fetched and parsed only when a branch moved, since a file at a commit never
changes (an in-process LRU, bounded; with Redis, the file's text is shared by every process too,
for `SHARED_TTL_SECONDS`, keyed by repository and commit, and parsed again where it is read). Topics and custom properties are read only when a policy
conditions frameworks on them. A pull request never supplies any of it: both files come from
default branches, so a change cannot weaken its own review.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.app.review_key import NO_POLICY
from bot.engine.policy import POLICY_PATH, Policy, PolicyError, PolicyProblem, RepositoryFacts, parse_policy
from bot.engine.policy_merge import ResolvedPolicy, org_policy_source, resolve_policy
from bot.github.blobs import is_blob_of
from bot.github.client import InstallationClient
from bot.github.org_config import ORG_CONFIG_REPOSITORY, org_config_file, org_config_head
from bot.github.records import FileAtRef
from bot.github.store import SharedStore

log = logging.getLogger(__name__)

CACHE_ENTRIES = 512  # parsed files (a few KiB each): repositories and organisations served recently
SHARED_TTL_SECONDS = 3600  # a file at a commit never changes; an hour bounds what Redis keeps for idle repositories
_ABSENT = {"absent": True}

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """At most `entries` values; the least recently used goes first. One event loop uses it, so
    no lock: nothing awaits between a look-up and its update."""

    def __init__(self, entries: int = CACHE_ENTRIES) -> None:
        self.entries = entries
        self._values: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._values.get(key)
        if value is not None:
            self._values.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._values[key] = value
        self._values.move_to_end(key)
        while len(self._values) > self.entries:
            self._values.popitem(last=False)

    def __len__(self) -> int:
        return len(self._values)


@dataclass(frozen=True)
class PolicyFile:
    """One policy file at one commit: parsed (None: there is no file), or what is wrong with it."""

    policy: Policy | None
    oid: str = NO_POLICY
    problems: tuple[PolicyProblem, ...] = ()


@dataclass(frozen=True)
class LoadedPolicy:
    """The policy a review runs under. `problems`: a file could not be read (the review must
    not run: the check fails with them); `resolved.problems`: settings refused by the merge (the
    review runs with the organisation's values, and the check fails naming them). `key` names
    every input in the review's key, so a new policy is a new review."""

    resolved: ResolvedPolicy
    key: str
    problems: tuple[PolicyProblem, ...] = ()
    file_oid: str | None = None  # the repository's own policy file's blob id, for the evidence record

    @property
    def policy(self) -> Policy:
        return self.resolved.policy


class PolicySource:
    """Reads and caches policy files for every job of a process (and, given `shared`, of every
    process on that store)."""

    def __init__(self, entries: int = CACHE_ENTRIES, shared: SharedStore | None = None) -> None:
        self.files: LruCache[tuple[str, str], PolicyFile] = LruCache(entries)
        self.shared = shared

    async def load(self, gh: InstallationClient, owner: str, repo: str, default_branch: str) -> LoadedPolicy:
        head = await gh.get_branch_head(owner, repo, default_branch)
        mine = await self._file(f"{owner}/{repo}", head or default_branch, POLICY_PATH, cache=head is not None,
                                read=lambda: gh.get_file(owner, repo, POLICY_PATH, head or default_branch))
        # The `.github` repository's own policy is the organisation's: it is not beneath itself.
        org_head = None if repo.lower() == ORG_CONFIG_REPOSITORY else await org_config_head(gh, owner)
        org: PolicyFile | None = None
        if org_head is not None:
            org = await self._file(org_head.full_name, org_head.sha, org_policy_source(owner),
                                   read=lambda: org_config_file(gh, org_head, POLICY_PATH))
        problems = mine.problems + (org.problems if org else ())
        if problems:
            return LoadedPolicy(ResolvedPolicy(Policy()), _key(mine, org, None), problems, _oid(mine))
        facts = await _facts(gh, owner, repo, [p for p in (mine.policy, org.policy if org else None) if p])
        resolved = resolve_policy(mine.policy, org.policy if org else None, facts, f"{owner}/.github")
        return LoadedPolicy(resolved, _key(mine, org, facts), file_oid=_oid(mine))

    async def _file(self, repository: str, commit: str, source: str,
                    read: Callable[[], Awaitable[FileAtRef | None]], cache: bool = True) -> PolicyFile:
        key = (repository.lower(), commit)
        cached = self.files.get(key) if cache else None
        if cached is not None:
            return cached
        found = await self._read(key, read) if cache else await read()
        if found is None:
            parsed = PolicyFile(None)
        else:
            try:
                parsed = PolicyFile(parse_policy(found.text, source), found.oid)
            except PolicyError as exc:
                parsed = PolicyFile(None, found.oid, exc.problems)
        if cache:
            self.files.put(key, parsed)
        return parsed

    async def _read(self, key: tuple[str, str], read: Callable[[], Awaitable[FileAtRef | None]]) -> FileAtRef | None:
        """The file from the shared store when it holds it, else from GitHub (then shared)."""
        if self.shared is None:
            return await read()
        name = self.shared.key("policy", key[0], f"{key[1]}:{POLICY_PATH}")
        kept = await self.shared.get(name)
        if kept is not None:
            try:
                value = json.loads(kept)
                if value == _ABSENT:
                    return None
                shared = FileAtRef(str(value["text"]), str(value["oid"]))
                if is_blob_of(shared.text, shared.oid):  # whatever the store holds, only that blob is used
                    return shared
            except (ValueError, KeyError, TypeError):
                log.warning("the shared copy of %s at %s is unreadable; reading it from GitHub", key[0], key[1][:12])
        found = await read()
        record = _ABSENT if found is None else {"oid": found.oid, "text": found.text}
        await self.shared.set(name, json.dumps(record).encode(), SHARED_TTL_SECONDS)
        return found


async def _facts(gh: InstallationClient, owner: str, repo: str, policies: list[Policy]) -> RepositoryFacts | None:
    """The repository's topics and custom properties, when a policy asks for them (else None)."""
    topics = any(p.needs_topics for p in policies)
    properties = any(p.needs_properties for p in policies)
    if not (topics or properties):
        return None
    info = await gh.get_repository(owner, repo) if topics else None
    values = await gh.get_custom_properties(owner, repo) if properties else {}
    return RepositoryFacts.of(info.topics if info else (), values)


def _oid(found: PolicyFile) -> str | None:
    return None if found.oid == NO_POLICY else found.oid


def _key(mine: PolicyFile, org: PolicyFile | None, facts: RepositoryFacts | None) -> str:
    """The repository file's blob id alone (as before organisation policies), or a digest of
    both files' ids and the facts they were resolved with."""
    if (org is None or org.policy is None and not org.problems) and facts is None:
        return mine.oid
    parts = [mine.oid, org.oid if org else NO_POLICY, facts.digest() if facts else ""]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:40]
