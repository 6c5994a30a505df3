"""An organisation's custom rules for a review: listed from its `.github` repository on every
review (one request), read, validated and tested only when the listing changed.

What was loaded is kept per organisation with the listing it came from (its entries' blob ids,
which name the files' contents exactly): an edit to a rule file replaces it, and a commit that
touches nothing there reuses it. Loading (validation and the rules' examples) runs in a worker thread:
it is pure CPU, bounded by the limits of rules/spec/custom.py.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.engine.model import FileError
from bot.github.client import InstallationClient
from bot.github.org_rules import ORG_REPOSITORY, list_org_rule_folder, read_org_rule_files
from rules.spec.custom import CUSTOM_RULES_DIR, CustomRules, load_custom_rules, rule_files

MAX_CACHED_ORGS = 256


@dataclass(frozen=True)
class OrgRules:
    """What one organisation's custom rules came to: where they live, what was accepted, what refused."""

    repository: str  # `<owner>/.github`
    rules: CustomRules
    texts: Mapping[str, str | None] = field(default_factory=dict)  # what they were loaded from: the
    # engine's process compiles them again (compiled rules do not cross a process boundary)

    @property
    def errors(self) -> list[FileError]:
        return [FileError(e.path, e.line, e.message) for e in self.rules.errors]


class OrgRulesCache:
    """Custom rules by organisation, for the runner; one per process."""

    def __init__(self, max_orgs: int = MAX_CACHED_ORGS) -> None:
        self._max = max_orgs
        self._loaded: OrderedDict[str, tuple[tuple[tuple[str, str, str], ...], CustomRules,
                                             Mapping[str, str | None]]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._loaded)

    async def load(self, gh: InstallationClient, owner: str) -> OrgRules:
        repository = f"{owner}/{ORG_REPOSITORY}"
        listing = await list_org_rule_folder(gh, owner, CUSTOM_RULES_DIR)
        if not listing:
            return OrgRules(repository, CustomRules())
        org, version = owner.lower(), tuple(sorted((e.path, e.kind, e.oid) for e in listing))
        cached = self._loaded.get(org)
        if cached is not None and cached[0] == version:
            self._loaded.move_to_end(org)
            return OrgRules(repository, cached[1], cached[2])
        wanted, refused = rule_files((e.path, e.kind, e.size) for e in listing)
        by_path = {e.path: e for e in listing}
        texts = await read_org_rule_files(gh, owner, [by_path[path] for path in wanted])
        loaded = await asyncio.to_thread(load_custom_rules, texts, None, refused)
        self._loaded[org] = (version, loaded, texts)
        self._loaded.move_to_end(org)
        while len(self._loaded) > self._max:
            self._loaded.popitem(last=False)
        return OrgRules(repository, loaded, texts)
