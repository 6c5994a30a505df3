"""The evidence store's schema as plain SQL files shipped in the package
(`bot/app/migrations/<dialect>/NNNN_name.sql`), applied in order, each recorded in the
`schema_version` table once applied. A file is never edited once shipped: a change is a new file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_FILE = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")

SCHEMA_VERSION_TABLE = ("CREATE TABLE IF NOT EXISTS schema_version ("
                        "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations(dialect: str) -> list[Migration]:
    """The shipped migrations of `dialect` ("sqlite" or "postgresql"), by version. A file named
    otherwise, or two files of one version, is a packaging mistake and raises ValueError."""
    folder = resources.files("bot.app") / "migrations" / dialect
    found: dict[int, Migration] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE.match(entry.name)
        if match is None:
            raise ValueError(f"bot/app/migrations/{dialect}/{entry.name}: a migration is named NNNN_name.sql")
        version = int(match["version"])
        if version in found:
            raise ValueError(f"bot/app/migrations/{dialect}: two migrations have version {version}")
        found[version] = Migration(version, match["name"], entry.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


def pending(dialect: str, applied: set[int]) -> list[Migration]:
    return [m for m in migrations(dialect) if m.version not in applied]
