"""Where evidence records are kept: the settings the evidence store needs, and nothing else, so
`compliance-bot evidence` can read them without the App's key or webhook secret.

    DATABASE_URL     postgresql://... : evidence goes to PostgreSQL (shared by every process)
    DATABASE_SCHEMA  the PostgreSQL schema holding the evidence tables (default "public")
    DATA_DIR         folder for the built-in store (default $XDG_DATA_HOME/compliance-bot, else
                     ~/.local/share/compliance-bot)
    EVIDENCE_DB      the built-in store's SQLite file (default DATA_DIR/evidence.sqlite3), or
                     "off" for no store (the check runs still carry every record)

`Settings` (the App's) extends these; `load_store_settings()` reads them alone.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EVIDENCE_OFF = "off"
SQLITE_FILE = "evidence.sqlite3"


def default_data_dir() -> Path:
    """$XDG_DATA_HOME/compliance-bot, else ~/.local/share/compliance-bot (read when settings load)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "compliance-bot"


class StoreSettings(BaseSettings):
    """The evidence store's settings; see the module docstring."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore", frozen=True,
                                      hide_input_in_errors=True, env_ignore_empty=True)

    database_url: SecretStr | None = Field(default=None, validation_alias="DATABASE_URL")
    database_schema: str = Field(default="public", validation_alias="DATABASE_SCHEMA",
                                 pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    data_dir: Path = Field(default_factory=default_data_dir, validation_alias="DATA_DIR")
    evidence_db: str | None = Field(default=None, validation_alias="EVIDENCE_DB")

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_url(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if not re.match(r"^postgres(ql)?://", value):
                raise ValueError("must be a postgresql:// URL")
        return value

    @property
    def evidence_db_path(self) -> Path | None:
        """The built-in store's file; None when EVIDENCE_DB is "off"."""
        if self.evidence_db is not None and self.evidence_db.strip().lower() == EVIDENCE_OFF:
            return None
        return Path(self.evidence_db).expanduser() if self.evidence_db else self.data_dir / SQLITE_FILE

    @property
    def database_url_redacted(self) -> str | None:
        """DATABASE_URL with any password replaced, for logs."""
        return redact_url(self.database_url.get_secret_value()) if self.database_url is not None else None


def redact_url(url: str) -> str:
    """`redis://user:secret@host:6379/0` -> `redis://user:***@host:6379/0`."""
    return re.sub(r"^([a-z][a-z0-9+.-]*://)([^/@:]*):[^/@]*@", r"\1\2:***@", url, flags=re.IGNORECASE)
