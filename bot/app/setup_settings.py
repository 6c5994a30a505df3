"""Settings of the setup server: what `compliance-bot serve` needs before the App exists.

    PUBLIC_URL            the server's address as GitHub reaches it (https://bot.example.com); the
                          manifest's webhook is PUBLIC_URL/webhook and its redirect PUBLIC_URL/setup.
                          Default: the address the admin's browser used for /setup
    GITHUB_WEB_URL        github.com's web side (default https://github.com), paired with
                          GITHUB_API_URL (default https://api.github.com) for the github.com choice
    APP_MANIFEST          the App manifest to register (default ./app.yml, else the checkout's app.yml)
    APP_CREDENTIALS_FILE  where the new App's id, key and webhook secret go (`bot.app.credentials_file`)
    SETUP_CREDENTIALS     "file" (default): store them there; "page": show them once on the result
                          page for a secrets manager, and store nothing
    SETUP_TOKEN           the token /setup asks for (`bot.app.setup_token`), when the operator
                          chooses it: at least 22 of A-Z a-z 0-9 - _ . ~ (128 bits from
                          secrets.token_urlsafe). Default: a new one each start, logged and
                          written beside the credentials file

Kept apart from `Settings`, which requires the credentials this server is there to obtain.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.app.credentials_file import credentials_path
from bot.app.settings import LOG_LEVELS, SettingsError

__all__ = ["SetupSettings", "load_manifest", "load_setup_settings"]

_CHECKOUT = Path(__file__).resolve().parents[2]
_URL = re.compile(r"^https?://[^/\s?#]+(/[^\s?#]*)?$")
_TOKEN = re.compile(r"^[A-Za-z0-9._~-]{22,256}$")  # URL-safe as it is, so /setup?token= carries it


@dataclass(frozen=True)
class SetupSettings:
    public_url: str | None
    github_api_url: str
    github_web_url: str
    manifest_path: Path
    credentials_file: Path
    show_credentials: bool
    log_level: str
    setup_token: str | None = field(default=None, repr=False)


def load_setup_settings(env: Mapping[str, str]) -> SetupSettings:
    """Read them from `env`; `SettingsError` naming every bad one."""
    problems: list[str] = []

    def url(name: str, default: str | None) -> str | None:
        value = env.get(name, "").strip().rstrip("/")
        if not value:
            return default
        if not _URL.match(value):
            problems.append(f"{name}: must be an http(s) URL such as https://bot.example.com")
        return value

    public_url = url("PUBLIC_URL", None)
    api_url = url("GITHUB_API_URL", "https://api.github.com") or ""
    web_url = url("GITHUB_WEB_URL", "https://github.com") or ""
    mode = env.get("SETUP_CREDENTIALS", "").strip().lower() or "file"
    if mode not in ("file", "page"):
        problems.append("SETUP_CREDENTIALS: must be file or page")
    level = env.get("LOG_LEVEL", "").strip().upper() or "INFO"
    if level not in LOG_LEVELS:
        problems.append(f"LOG_LEVEL: must be one of {', '.join(reversed(LOG_LEVELS))}")
    setup_token = env.get("SETUP_TOKEN", "").strip() or None
    if setup_token is not None and not _TOKEN.match(setup_token):
        problems.append("SETUP_TOKEN: must be 22 to 256 letters, digits or - _ . ~ (for instance the output of "
                        "python3 -c 'import secrets; print(secrets.token_urlsafe(32))')")
    manifest = env.get("APP_MANIFEST", "").strip()
    if manifest:
        manifest_path = Path(manifest).expanduser()
    else:
        manifest_path = next((p for p in (Path("app.yml"), _CHECKOUT / "app.yml") if p.is_file()), Path("app.yml"))
    if problems:
        raise SettingsError("; ".join(problems))
    return SetupSettings(public_url=public_url, github_api_url=api_url, github_web_url=web_url,
                         manifest_path=manifest_path, credentials_file=credentials_path(env),
                         show_credentials=mode == "page", log_level=level, setup_token=setup_token)


def load_manifest(path: Path) -> dict[str, Any]:
    """The App manifest (app.yml); `SettingsError` when it is missing or not a manifest."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"APP_MANIFEST: file not found: {path} (the App manifest, app.yml)") from None
    except (OSError, UnicodeDecodeError):
        raise SettingsError(f"APP_MANIFEST: cannot read {path}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise SettingsError(f"APP_MANIFEST: {where}: not valid YAML") from None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) \
            or not isinstance(data.get("default_permissions"), dict):
        raise SettingsError(f"APP_MANIFEST: {path}: not an App manifest (needs name and default_permissions)")
    return data
