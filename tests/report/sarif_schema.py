"""The SARIF 2.1.0 JSON schema, fetched from the npm registry at test set-up, never committed.

Microsoft's SARIF SDK for JavaScript ships the schema of the OASIS standard as
`lib/schemas/sarif-2.1.0-rtm.5.json` (2.1.0-rtm.5 is the schema the OASIS SARIF 2.1.0
standard published). It is fetched the way tests/fakegithub fetches GitHub's descriptions:
`npm pack` of a pinned version, its sha512 integrity checked, only that member unpacked, into
the git-ignored `.cache/sarif/`."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from tests.fakegithub.descriptions import REPO_ROOT, Package, fetch

SCHEMA_MEMBER = "lib/schemas/sarif-2.1.0-rtm.5.json"
SARIF_SCHEMA_PACKAGE = Package(
    "@microsoft/jest-sarif",
    "1.0.0-beta.0",
    "sha512-A1fOhPd6Ic5iDk4F9YPw1qNB4XF+7+IviR7xl8r2F6QzQkx5cpY9LsGk2rExiFIEcBbjpVnSmwWGBukASkiQ9A==",
    (SCHEMA_MEMBER,),
)
CACHE = REPO_ROOT / ".cache" / "sarif"


@cache
def sarif_schema() -> dict[str, Any]:
    """The schema (draft-04), fetched on first use."""
    folder = fetch(SARIF_SCHEMA_PACKAGE, CACHE)
    with open(folder / SCHEMA_MEMBER, encoding="utf-8") as fh:
        schema: dict[str, Any] = json.load(fh)
    return schema
