"""Process settings, read from the environment with Probot's names.

    APP_ID              the GitHub App's numeric id (required)
    PRIVATE_KEY         the App's PEM private key; the `\\n`-escaped single-line form and base64 of
                        the PEM are accepted too (required unless PRIVATE_KEY_PATH is set)
    PRIVATE_KEY_PATH    path of a file holding the PEM private key (used when PRIVATE_KEY is unset)
    WEBHOOK_SECRET      the secret GitHub signs webhook deliveries with (required)
    GITHUB_API_URL      REST API root (default https://api.github.com; GHES: https://HOST/api/v3)
    REDIS_URL           redis://... for the Redis Streams queue, per-PR leases and the shared caches
                        (`bot.app.shared_cache`); unset = one process
    REDIS_NAMESPACE     prefix of every Redis key the App uses (default "compliance-bot"), so
                        several Apps or test runs can share one Redis
    LOG_LEVEL           DEBUG, INFO, WARNING, ERROR or CRITICAL (default INFO)
    LOG_FORMAT          json (default: one JSON object per line) or text (`bot.app.logs`)
    PUBLIC_URL          the server's public base URL (https://bot.example.com); when set, each
                        check run's details_url opens the review's report page there
    REPORT_TTL_DAYS     days a report page is kept (default 30; Redis, else in memory, bounded)
    CHECK_NAME          name of the check run the bot reports (default "compliance")
    WORKER_CONCURRENCY  review jobs run at the same time per process (default 4)
    HTTP_TIMEOUT        seconds per GitHub API request (default 10)
    SWEEP_INTERVAL      seconds between sweeps for failed deliveries to redeliver (default 60;
                        `bot.app.sweeper`)
    REVIEW_SECONDS      the engine's hard time budget per review, in an engine process killed at the
                        deadline (default 600)
    REVIEW_MEMORY_MB    the address space each engine process may use (default 2048)
    ENGINE_NICENESS     how much lower than the server the engine processes are scheduled (0-19,
                        default 10): reviews are batch work, webhook answers are not
    WORKER_HEARTBEAT    seconds between a worker's "still working" signals for the jobs it holds
                        (default 10)
    CLAIM_IDLE          seconds without a heartbeat after which another worker takes a job over and
                        a dead worker is removed from the group; also the per-PR lease's lifetime
                        (default 3 x WORKER_HEARTBEAT)
    SHUTDOWN_GRACE      seconds a stopping worker (SIGTERM) lets its jobs finish before handing them
                        back to the queue (default 25)
    DATABASE_URL, DATABASE_SCHEMA, DATA_DIR, EVIDENCE_DB
                        where evidence records are kept (`bot.app.store_settings`; default: a
                        SQLite file under DATA_DIR)

`load_settings()` is the entry point: it turns every problem into one `SettingsError` line that
names the setting, and never echoes the key, the secret or a Redis password.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.app.store_settings import StoreSettings, redact_url

__all__ = ["Settings", "SettingsError", "StoreSettings", "load_api_settings", "load_settings", "load_store_settings",
           "redact_url"]

LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")

# What each setting is, for "X is required (...)" messages.
_DESCRIPTIONS = {
    "APP_ID": "the GitHub App's numeric id",
    "PRIVATE_KEY": "the GitHub App's PEM private key, or set PRIVATE_KEY_PATH",
    "WEBHOOK_SECRET": "the secret GitHub signs webhook deliveries with",
}


class SettingsError(Exception):
    """A missing or invalid setting; `str()` is one line naming it, never containing a secret."""


class Settings(StoreSettings):
    """Immutable process settings. Build it with `load_settings()` (or `Settings()` from os.environ).

    `private_key` holds the normalized PEM text whichever way it was given (PRIVATE_KEY or
    PRIVATE_KEY_PATH); read it with `settings.private_key.get_secret_value()` only where a JWT is signed.
    """

    model_config = SettingsConfigDict(
        case_sensitive=True,
        extra="ignore",
        frozen=True,
        hide_input_in_errors=True,  # a validation error must never echo the key or the secret
        env_ignore_empty=True,
    )

    app_id: int = Field(validation_alias="APP_ID", gt=0)
    private_key: SecretStr | None = Field(
        default=None, validation_alias="PRIVATE_KEY"
    )
    private_key_path: Path | None = Field(
        default=None, validation_alias="PRIVATE_KEY_PATH"
    )
    webhook_secret: SecretStr = Field(validation_alias="WEBHOOK_SECRET")
    github_api_url: str = Field(
        default="https://api.github.com", validation_alias="GITHUB_API_URL"
    )
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    redis_namespace: str = Field(default="compliance-bot", validation_alias="REDIS_NAMESPACE",
                                 pattern=r"^[A-Za-z0-9_.:-]{1,100}$")
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")
    log_format: str = Field(default="json", validation_alias="LOG_FORMAT")
    public_url: str | None = Field(default=None, validation_alias="PUBLIC_URL")
    report_ttl_days: int = Field(default=30, validation_alias="REPORT_TTL_DAYS", ge=1, le=3650)
    check_name: str = Field(
        default="compliance", validation_alias="CHECK_NAME", min_length=1
    )
    worker_concurrency: int = Field(
        default=4, validation_alias="WORKER_CONCURRENCY", ge=1, le=256
    )
    http_timeout: float = Field(
        default=10.0, validation_alias="HTTP_TIMEOUT", gt=0, le=600
    )
    sweep_interval: float = Field(
        default=60.0, validation_alias="SWEEP_INTERVAL", gt=0, le=86400
    )
    review_seconds: float = Field(default=600.0, validation_alias="REVIEW_SECONDS", gt=0, le=86_400)
    review_memory_mb: int = Field(default=2048, validation_alias="REVIEW_MEMORY_MB", ge=256, le=1_048_576)
    engine_niceness: int = Field(default=10, validation_alias="ENGINE_NICENESS", ge=0, le=19)
    worker_heartbeat: float = Field(default=10.0, validation_alias="WORKER_HEARTBEAT", gt=0, le=3600)
    claim_idle_seconds: float | None = Field(default=None, validation_alias="CLAIM_IDLE", gt=0, le=86_400)
    shutdown_grace: float = Field(default=25.0, validation_alias="SHUTDOWN_GRACE", ge=0, le=3600)

    _key_source: str = PrivateAttr(default="PRIVATE_KEY")

    # -- field checks ---------------------------------------------------------------------------

    @field_validator("private_key", "private_key_path", "redis_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_not_blank(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("github_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL such as https://api.github.com")
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.strip().lower() not in ("json", "text"):
                raise ValueError("must be json or text")
            return value.strip().lower()
        return value

    @field_validator("public_url", mode="before")
    @classmethod
    def _public_url(cls, value: Any) -> Any:
        """GitHub refuses a details_url that is not a URL: only an http(s) base URL with a host, no
        query or fragment, is accepted."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, str):
            value = value.strip().rstrip("/")
            if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?", value):
                raise ValueError("must be the server's public http(s) base URL, such as https://bot.example.com")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^(redis|rediss|unix)://", value.strip()):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value.strip() if value is not None else None

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: Any) -> Any:
        if isinstance(value, str):
            level = value.strip().upper()
            if level == "WARN":
                level = "WARNING"
            if level not in LOG_LEVELS:
                raise ValueError(f"must be one of {', '.join(reversed(LOG_LEVELS))}")
            return level
        return value

    @model_validator(mode="after")
    def _resolve_private_key(self) -> Settings:
        """Take the key from PRIVATE_KEY, else from PRIVATE_KEY_PATH (Probot's order), and check it."""
        if self.private_key is not None:
            source = "PRIVATE_KEY"
            text = _unescape_key(self.private_key.get_secret_value())
        elif self.private_key_path is not None:
            source = "PRIVATE_KEY_PATH"
            path = self.private_key_path.expanduser()
            try:
                text = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                raise ValueError(f"PRIVATE_KEY_PATH: file not found: {path}") from None
            except IsADirectoryError:
                raise ValueError(f"PRIVATE_KEY_PATH: is a directory, not a key file: {path}") from None
            except PermissionError:
                raise ValueError(f"PRIVATE_KEY_PATH: permission denied: {path}") from None
            except UnicodeDecodeError:
                raise ValueError(f"PRIVATE_KEY_PATH: not a PEM text file: {path}") from None
            except OSError as exc:
                raise ValueError(f"PRIVATE_KEY_PATH: cannot read {path}: {exc.strerror}") from None
            text = _unescape_key(text)
        else:
            raise ValueError(f"PRIVATE_KEY is required ({_DESCRIPTIONS['PRIVATE_KEY']})")
        problem = _rsa_key_problem(text)
        if problem:
            where = f"{source} ({self.private_key_path})" if source == "PRIVATE_KEY_PATH" else source
            raise ValueError(f"{where}: {problem}")
        # Frozen model: the after-validator is the one place allowed to normalize a field.
        object.__setattr__(self, "private_key", SecretStr(text))
        self._key_source = source
        return self

    # -- never reveal secrets -------------------------------------------------------------------

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name == "private_key":
                value = f"<{self._key_source}, hidden>" if value is not None else None
            elif name == "webhook_secret":
                value = "<hidden>"
            elif name == "redis_url" and value is not None:
                value = redact_url(value)
            elif name == "database_url" and value is not None:
                value = self.database_url_redacted
            yield name, value

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self.__repr_args__())
        return f"Settings({fields})"

    def __str__(self) -> str:
        return self.__repr__()

    @property
    def claim_idle(self) -> float:
        """CLAIM_IDLE, else three heartbeats: a live worker is never taken for dead by one late beat."""
        return self.claim_idle_seconds if self.claim_idle_seconds is not None else 3 * self.worker_heartbeat

    @model_validator(mode="after")
    def _claim_after_heartbeats(self) -> Settings:
        if self.claim_idle_seconds is not None and self.claim_idle_seconds <= self.worker_heartbeat:
            raise ValueError("CLAIM_IDLE: must be longer than WORKER_HEARTBEAT (a live worker would lose its jobs)")
        return self

    @property
    def redis_url_redacted(self) -> str | None:
        """REDIS_URL with any password replaced, for logs."""
        return redact_url(self.redis_url) if self.redis_url else None


class _OnlyGiven(BaseSettings):
    """Settings made from exactly the mapping a loader is given: with `env` passed in, a variable
    that happens to be in os.environ (a REDIS_URL, say) must not creep in beside it."""

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


class _FromMapping(_OnlyGiven, Settings):
    """The App's settings from exactly the mapping `load_settings` is given."""


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read settings from `env` (default: os.environ); raise `SettingsError` with one clear line."""
    source: Mapping[str, str] = os.environ if env is None else env
    names = [_env_name(field) for field in Settings.model_fields]
    values = {name: source[name] for name in names if source.get(name, "").strip()}
    try:
        return _FromMapping.model_validate(values)
    except ValidationError as exc:
        messages = _messages(exc)
    # The key is checked after the fields, so pydantic reports it missing only when all else is
    # fine; say it up front so one run lists everything that is missing.
    if "PRIVATE_KEY" not in values and "PRIVATE_KEY_PATH" not in values:
        messages.append(f"PRIVATE_KEY is required ({_DESCRIPTIONS['PRIVATE_KEY']})")
    order = {name: i for i, name in enumerate(names)}
    messages = sorted(dict.fromkeys(messages), key=lambda m: order.get(re.split(r"[: ]", m, maxsplit=1)[0], 99))
    raise SettingsError("; ".join(messages) or "invalid settings")


class _StoreFromMapping(_OnlyGiven, StoreSettings):
    """StoreSettings made from exactly the mapping given (see `_OnlyGiven`)."""


def load_store_settings(env: Mapping[str, str] | None = None) -> StoreSettings:
    """Only where evidence is kept (DATABASE_URL, EVIDENCE_DB...): what `compliance-bot evidence`
    needs to read the store, without the App's key or webhook secret."""
    source: Mapping[str, str] = os.environ if env is None else env
    names = [_env_name(field) for field in StoreSettings.model_fields]
    values = {name: source[name] for name in names if source.get(name, "").strip()}
    try:
        return _StoreFromMapping.model_validate(values)
    except ValidationError as exc:
        raise SettingsError("; ".join(dict.fromkeys(_messages(exc))) or "invalid settings") from None


UNUSED_WEBHOOK_SECRET = "not-used-when-reading-evidence"


def load_api_settings(env: Mapping[str, str] | None = None) -> Settings:
    """The App's settings for calling GitHub's API only (reading check runs back): the webhook
    secret signs nothing here, so it is not asked for."""
    source: Mapping[str, str] = os.environ if env is None else env
    return load_settings({**source, "WEBHOOK_SECRET": source.get("WEBHOOK_SECRET") or UNUSED_WEBHOOK_SECRET})


# -- helpers --------------------------------------------------------------------------------------

_PEM_BEGIN = "-----BEGIN"


_KEY_KINDS: tuple[tuple[type, str], ...] = (
    (ec.EllipticCurvePrivateKey, "an EC"),
    (ed25519.Ed25519PrivateKey, "an Ed25519"),
    (ed448.Ed448PrivateKey, "an Ed448"),
    (dsa.DSAPrivateKey, "a DSA"),
)


def _unescape_key(text: str) -> str:
    """Accept the PEM as is, `\\n`-escaped on one line (.env style), or base64 of the PEM (Probot)."""
    text = text.strip().strip('"').strip("'").strip()
    if "\\n" in text and "\n" not in text:
        text = text.replace("\\r\\n", "\n").replace("\\n", "\n")
    if not text.startswith(_PEM_BEGIN):
        try:
            decoded = base64.b64decode(re.sub(r"\s+", "", text), validate=True).decode("ascii")
        except (binascii.Error, ValueError):
            decoded = ""
        if decoded.strip().startswith(_PEM_BEGIN):
            text = decoded.strip()
    text = text.replace("\r\n", "\n")
    return text + "\n"


def _rsa_key_problem(text: str) -> str | None:
    """None when `text` is an unencrypted PEM RSA private key, else why not (never the key itself)."""
    if _PEM_BEGIN not in text:
        stripped = text.strip()
        if " " not in stripped and (stripped.startswith(("/", "./", "~")) or stripped.endswith(".pem")):
            return "looks like a file path; put the path in PRIVATE_KEY_PATH instead"
        return "not a PEM private key (expected '-----BEGIN RSA PRIVATE KEY-----')"
    try:
        key = load_pem_private_key(text.encode("ascii", "replace"), password=None)
    except TypeError:
        return "the private key is encrypted; use the unencrypted key GitHub generated"
    except Exception:  # noqa: BLE001 - cryptography raises several types; the message must stay generic
        return "not a valid PEM private key (is it complete, with its BEGIN/END lines?)"
    if not isinstance(key, rsa.RSAPrivateKey):
        kind = next((name for cls, name in _KEY_KINDS if isinstance(key, cls)), "another kind of")
        return f"not an RSA private key (GitHub App keys are RSA; this is {kind} key)"
    return None


_EXPLAIN = {
    "int_parsing": "must be an integer",
    "int_type": "must be an integer",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "string_too_short": "must not be empty",
    "int_from_float": "must be a whole number",
    "string_pattern_mismatch": "may hold only letters, digits and _ . : - (at most 100)",
}


def _messages(exc: ValidationError) -> list[str]:
    """Turn pydantic's multi-line report into one short message per bad setting (no input values)."""
    messages: list[str] = []
    for error in exc.errors(include_input=False, include_url=False):
        loc = [part for part in error["loc"] if isinstance(part, str)]
        name = loc[0] if loc else ""
        env_name = _env_name(name)
        kind = error["type"]
        if kind == "missing":
            described = _DESCRIPTIONS.get(env_name)
            messages.append(f"{env_name} is required" + (f" ({described})" if described else ""))
        elif kind == "value_error":
            message = str(error.get("ctx", {}).get("error", error["msg"]))
            # Model-level errors already name their setting; field-level ones get the name in front.
            messages.append(message if not env_name else f"{env_name}: {message}")
        else:
            template = _EXPLAIN.get(kind)
            ctx = error.get("ctx") or {}
            numbers = {k: f"{v:g}" if isinstance(v, float) else v for k, v in ctx.items()}
            explained = template.format(**numbers) if template else error["msg"]
            if env_name == "DATABASE_SCHEMA" and kind == "string_pattern_mismatch":
                explained = "must be a lower-case PostgreSQL name: letters, digits and _ (at most 63)"
            if env_name == "APP_ID":
                explained += " (the GitHub App's numeric id)"
            messages.append(f"{env_name}: {explained}")
    return [m.replace("\n", " ") for m in messages]


def _env_name(field_or_alias: str) -> str:
    if not field_or_alias:
        return ""
    info = Settings.model_fields.get(field_or_alias)
    if info is not None and isinstance(info.validation_alias, str):
        return info.validation_alias
    return field_or_alias
