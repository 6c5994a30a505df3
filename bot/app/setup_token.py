"""The setup token: who may register the App while `compliance-bot serve` has none.

Until the App exists, /setup registers whichever App its visitor asks for and stores its
credentials as this server's, so the first visitor would own the bot. As Jenkins' initial admin
password and Grafana's first login do, the server makes a one-time token at start-up
(`secrets.token_urlsafe`, 256 bits) that only its operator sees:

    the start-up log   one line with the full address, PUBLIC_URL/setup?token=...
    the token file     `setup-token` beside the credentials file (mode 0600, a 0700 folder),
                       replaced at each start, removed once the App is registered
    SETUP_TOKEN        or the operator chooses it (a secrets manager's value): then it is
                       neither logged nor written, the operator has it already

Every /setup page and form needs it (compared in constant time); it stops working once an App
is registered, for the life of the process (a restart with the credentials leaves setup mode).
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from bot.app.logs import redact
from bot.app.setup_settings import SetupSettings

__all__ = ["COOKIE", "TOKEN_FILE_NAME", "SetupGate", "SetupTokenError", "new_token", "open_gate",
           "token_file_path", "write_token_file"]

log = logging.getLogger(__name__)

TOKEN_FILE_NAME = "setup-token"
COOKIE = "setup_token"  # scoped to /setup, HttpOnly, SameSite=Strict (bot.app.setup)
TOKEN_BYTES = 32


class SetupTokenError(Exception):
    """The token file cannot be written; `str()` names the file, never the token."""


def new_token() -> str:
    """A fresh token that the log's redaction leaves whole (a logged address that works)."""
    while True:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        if redact(token) == token:
            return token


def token_file_path(credentials_file: Path) -> Path:
    """Beside the credentials file: the folder only the server's user may read."""
    return credentials_file.with_name(TOKEN_FILE_NAME)


def write_token_file(path: Path, token: str) -> None:
    """Replace `path` with `token` (mode 0600, atomically: never a half-written token)."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise SetupTokenError(f"{path}: cannot write: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(token + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except OSError as exc:
        raise SetupTokenError(f"{path}: cannot write: {exc.strerror}") from None
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()


class SetupGate:
    """The token /setup asks for, until `retire()` (an App is registered)."""

    def __init__(self, token: str, *, file: Path | None = None, chosen: bool = False) -> None:
        self._token = token.encode()
        self.file = file  # where the token was written (None: nowhere)
        self.chosen = chosen  # the operator's SETUP_TOKEN rather than one made here
        self.retired = False

    def __repr__(self) -> str:
        return f"SetupGate(file={self.file!r}, chosen={self.chosen}, retired={self.retired})"

    def accepts(self, given: str) -> bool:
        """Whether `given` is the token, compared in constant time; never once retired."""
        if self.retired or not given:
            return False
        return hmac.compare_digest(self._token, given.encode())

    def retire(self) -> None:
        """The App exists: the token opens nothing any more, and its file goes."""
        self.retired = True
        if self.file is not None:
            with contextlib.suppress(OSError):
                self.file.unlink()

    def where(self) -> str:
        """In words, where the operator finds the token (for the page that refuses a visit)."""
        if self.chosen:
            return ("The token is the SETUP_TOKEN this server was started with: open /setup?token= followed "
                    "by it.")
        found = ("The address to open, with the token, is in the server's start-up log: the line "
                 "\"open …/setup?token=… to register the App\" (for a container: docker compose logs web).")
        if self.file is not None:
            found += (f" The token is also in the file {self.file} on the server (readable only by the "
                      "server's user): open /setup?token= followed by it.")
        return found


def open_gate(settings: SetupSettings, base_url: str) -> SetupGate:
    """The gate for this start: SETUP_TOKEN, else a new token, written beside the credentials file
    and logged once as the address to open (`base_url`/setup?token=...)."""
    if settings.setup_token:
        log.warning("no GitHub App credentials (APP_ID, PRIVATE_KEY, WEBHOOK_SECRET): serving the setup pages; "
                    "open %s/setup?token=<SETUP_TOKEN> to register the App from %s", base_url,
                    settings.manifest_path)
        return SetupGate(settings.setup_token, chosen=True)
    token = new_token()
    path: Path | None = token_file_path(settings.credentials_file)
    try:
        write_token_file(token_file_path(settings.credentials_file), token)
    except SetupTokenError as exc:
        log.warning("setup: the setup token file cannot be written (%s); the address below is the only copy", exc)
        path = None
    # The one deliberate exception to "never log tokens": the operator needs this one to open
    # /setup, and only those who read this log (or the 0600 file) should have it. It is a setup
    # secret, not a credential: it opens nothing once the App is registered (retire), nor after
    # a restart (a new one each start). A SETUP_TOKEN the operator chose is never logged (above).
    log.warning("no GitHub App credentials (APP_ID, PRIVATE_KEY, WEBHOOK_SECRET): serving the setup pages; "
                "open %s/setup?token=%s to register the App from %s%s", base_url, token, settings.manifest_path,
                f" (the token is also in {path})" if path else "")
    return SetupGate(token, file=path)
