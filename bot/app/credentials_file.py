"""The App's credentials file: what `/setup` (the manifest flow) stores and `serve`/`worker` read.

    APP_CREDENTIALS_FILE   the file (default DATA_DIR/app.env); one `NAME=value` a line, the
                           private key on one line with `\\n` escapes (the form PRIVATE_KEY
                           accepts), so `docker run --env-file` reads it as it is

The file is written with mode 0600 in a 0700 folder, atomically (a half-written key is never
read), and never overwritten. It is refused when group or others may read it: a key that
leaked to other local users is not one to keep signing with. Variables already in the
environment win over the file.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from bot.app.store_settings import default_data_dir

__all__ = ["CREDENTIAL_NAMES", "CredentialsFileError", "credentials_path", "read_credentials", "with_credentials",
           "write_credentials"]

FILE_NAME = "app.env"
# What the file may set; anything else in it is refused (it is not a general settings file).
CREDENTIAL_NAMES = ("APP_ID", "PRIVATE_KEY", "WEBHOOK_SECRET", "GITHUB_API_URL")


class CredentialsFileError(Exception):
    """The credentials file cannot be read or written; `str()` names the file, never a value."""


def credentials_path(env: Mapping[str, str]) -> Path:
    """APP_CREDENTIALS_FILE, else DATA_DIR/app.env, else the default data folder's app.env."""
    given = env.get("APP_CREDENTIALS_FILE", "").strip()
    if given:
        return Path(given).expanduser()
    data_dir = env.get("DATA_DIR", "").strip()
    return (Path(data_dir).expanduser() if data_dir else default_data_dir()) / FILE_NAME


def read_credentials(path: Path) -> dict[str, str]:
    """The file's settings ({} when there is no file); `CredentialsFileError` when it is unsafe or
    malformed, naming the line but not its value."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise CredentialsFileError(f"{path}: cannot read: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise CredentialsFileError(f"{path}: not a regular file")
    if info.st_mode & 0o077:
        raise CredentialsFileError(f"{path}: readable by other users (mode {stat.S_IMODE(info.st_mode):04o}); "
                                   f"run chmod 600 {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise CredentialsFileError(f"{path}: cannot read: {reason}") from None
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or name not in CREDENTIAL_NAMES:
            raise CredentialsFileError(f"{path}:{number}: expected one of {', '.join(CREDENTIAL_NAMES)} as NAME=value")
        values[name] = value.strip()
    return values


def with_credentials(env: Mapping[str, str]) -> dict[str, str]:
    """`env` with the credentials file's values added where `env` has none of its own."""
    stored = read_credentials(credentials_path(env))
    merged = dict(env)
    for name, value in stored.items():
        if not merged.get(name, "").strip():
            merged[name] = value
    return merged


def write_credentials(path: Path, values: Mapping[str, str], comment: str = "") -> None:
    """Create the file (mode 0600) with `values`; `CredentialsFileError` if it exists already."""
    for name, value in values.items():
        if name not in CREDENTIAL_NAMES or "\n" in value or "\r" in value:
            raise CredentialsFileError(f"{path}: {name} cannot be stored (a known name on one line)")
    lines = [f"# {line}" for line in comment.splitlines()]
    lines += [f"{name}={value}" for name, value in values.items()]
    data = ("\n".join(lines) + "\n").encode()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise CredentialsFileError(f"{path}: cannot write: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.link(temp, path)  # fails if the file appeared meanwhile: never replace stored credentials
    except FileExistsError:
        raise CredentialsFileError(f"{path}: already exists; move it away to register another App") from None
    except OSError as exc:
        raise CredentialsFileError(f"{path}: cannot write: {exc.strerror}") from None
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()
