"""Installation access tokens shared by every process of one App, through a `SharedStore`.

Why: each process minting its own token per installation (githubkit's default) costs a mint
request (signed with the App's JWT) per process and per hour, and N web servers with M workers
hold N + M live tokens per installation.
Here a token is minted once, kept until `MARGIN` before GitHub's `expires_at`, and read by every
process. GitHub answering 401 to a kept token (revoked, or the App's key rotated) drops it, and
the request is made once more with a freshly minted one.

Each process also keeps the tokens it used in memory (bounded), so a store that is away costs
one mint per installation and process, not one per request.

A token is a secret: it never appears in a key or a log line, and what is stored is sealed
(AES-GCM, with a key derived from the App's private key, which every process of the App holds
and a Redis dump does not). The key's name is the sealed data's associated data, so a value
copied under another installation's key does not open. A value that does not open is a miss.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from githubkit import AppInstallationAuthStrategy
from githubkit.auth.app import AppAuth

from bot.github.store import SharedStore

__all__ = ["MARGIN", "InstallationTokens", "SharedTokenAuthStrategy"]

log = logging.getLogger(__name__)

MARGIN = dt.timedelta(minutes=5)  # a token is not handed out closer than this to its expiry
MEMO_ENTRIES = 10_000  # installations whose tokens this process keeps in memory
_SEAL_VERSION = b"t1"
_NONCE_BYTES = 12


class InstallationTokens:
    """Tokens by installation id in `store`, sealed with a key derived from `private_key`."""

    def __init__(self, store: SharedStore, private_key: str, margin: dt.timedelta = MARGIN) -> None:
        self.store = store
        self.margin = margin
        self._aead = AESGCM(hashlib.sha256(b"compliance-bot installation tokens\x00" + private_key.encode()).digest())
        self._memo: dict[int, tuple[str, dt.datetime]] = {}  # this process's: installation -> (token, expires_at)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    @contextlib.asynccontextmanager
    async def minting(self, installation_id: int) -> AsyncIterator[None]:
        """Held while one job of this process mints an installation's token: the others wait for
        it instead of minting their own (each process still mints its own when the store is away)."""
        lock = self._locks.setdefault(installation_id, asyncio.Lock())
        self._waiting[installation_id] = self._waiting.get(installation_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._waiting[installation_id] -= 1
            if not self._waiting[installation_id]:
                del self._waiting[installation_id], self._locks[installation_id]

    def key(self, installation_id: int) -> str:
        return self.store.key("installation", str(installation_id), "token")

    async def get(self, installation_id: int) -> str | None:
        """The kept token, or None (none kept, too close to its expiry, or not sealed by this App)."""
        memo = self._memo.get(installation_id)
        if memo is not None and memo[1] - self.margin > _now():
            return memo[0]
        key = self.key(installation_id)
        sealed = await self.store.get(key)
        if sealed is None:
            return None
        if not sealed.startswith(_SEAL_VERSION) or len(sealed) <= len(_SEAL_VERSION) + _NONCE_BYTES:
            return None
        nonce = sealed[len(_SEAL_VERSION): len(_SEAL_VERSION) + _NONCE_BYTES]
        try:
            opened = json.loads(self._aead.decrypt(nonce, sealed[len(_SEAL_VERSION) + _NONCE_BYTES:], key.encode()))
            token, expires = str(opened["token"]), dt.datetime.fromisoformat(str(opened["expires_at"]))
        except (InvalidTag, ValueError, KeyError, TypeError):
            log.info("the kept token of installation %d does not open (another key sealed it); minting one",
                     installation_id)
            return None
        if expires - self.margin <= _now():
            return None
        self._remember(installation_id, token, expires)
        return token

    def _remember(self, installation_id: int, token: str, expires_at: dt.datetime) -> None:
        self._memo.pop(installation_id, None)
        self._memo[installation_id] = (token, expires_at)
        while len(self._memo) > MEMO_ENTRIES:
            del self._memo[next(iter(self._memo))]  # the installation served longest ago

    async def put(self, installation_id: int, token: str, expires_at: dt.datetime) -> bool:
        """Keep `token` until `margin` before `expires_at`; False when it lives too short to keep."""
        ttl = (expires_at - self.margin - _now()).total_seconds()
        if ttl <= 1:
            return False
        self._remember(installation_id, token, expires_at)
        key = self.key(installation_id)
        nonce = os.urandom(_NONCE_BYTES)
        payload = json.dumps({"token": token, "expires_at": expires_at.isoformat()}).encode()
        return await self.store.set(key, _SEAL_VERSION + nonce + self._aead.encrypt(nonce, payload, key.encode()), ttl)

    async def drop(self, installation_id: int) -> None:
        self._memo.pop(installation_id, None)
        await self.store.delete(self.key(installation_id))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class _SharedTokenAuth(AppAuth):
    """githubkit's installation auth, with tokens from `InstallationTokens` instead of its
    per-process cache, and one more try with a new token when GitHub refuses a kept one (401)."""

    tokens: InstallationTokens | None = None

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        from githubkit.auth._url import require_app_auth, require_basic_auth, require_bypass

        tokens = self.tokens
        if (tokens is None or not isinstance(self.installation_id, int) or require_bypass(request.url)
                or require_app_auth(self._get_api_route(request.url)) or require_basic_auth(request.url)):
            flow = super().async_auth_flow(request)
            sent = await flow.__anext__()
            while True:
                response = yield sent
                try:
                    sent = await flow.asend(response)
                except StopAsyncIteration:
                    return
        installation = self.installation_id
        token = await tokens.get(installation)
        fresh = False
        for attempt in range(2):
            if token is None:
                async with tokens.minting(installation):
                    token = await tokens.get(installation)  # another job of this process minted it meanwhile
                    if token is None:
                        token = await self._minted(tokens, installation, (yield await self._mint_request()))
                        fresh = True
            request.headers["Authorization"] = f"token {token}"
            response = yield request
            if response.status_code != 401 or fresh or attempt:
                return
            log.info("GitHub refused the kept token of installation %d (401); minting a new one", installation)
            await tokens.drop(installation)
            token = None

    async def _mint_request(self) -> httpx.Request:
        minting = self._build_installation_auth_request()
        minting.headers["Authorization"] = f"Bearer {await self.aget_jwt()}"
        return minting

    async def _minted(self, tokens: InstallationTokens, installation: int, response: httpx.Response) -> str:
        """The token GitHub minted (raising githubkit's error for a refusal), kept for every process."""
        await response.aread()
        parsed = self._parse_installation_auth_response(response).parsed_data
        expires = dt.datetime.strptime(parsed.expires_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        await tokens.put(installation, parsed.token, expires)
        return str(parsed.token)


@dataclass
class SharedTokenAuthStrategy(AppInstallationAuthStrategy):
    """`AppInstallationAuthStrategy` whose tokens are shared through `tokens`."""

    tokens: InstallationTokens | None = None

    def get_auth_flow(self, github: Any) -> httpx.Auth:
        return _SharedTokenAuth(github, self.app_id, self.private_key, self.client_id, self.client_secret,
                                self.installation_id, self.repositories, self.repository_ids, self.permissions,
                                tokens=self.tokens)
