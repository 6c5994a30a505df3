"""Blob texts cached by the id git computes from their bytes, verified before they are cached.

A blob's content never changes, so a text may be shared by every job and every repository that
names the same id, but only if the text really is that blob: each text is hashed the way git
hashes a blob (`blob <size>\\0<bytes>`, SHA-1 or SHA-256 by the id's length) and compared with
the id GitHub returned beside it. A text that does not match is never cached.

`SharedBlobs` is the same across processes (in Redis, `bot.app.shared_cache`): a text read back
from it is verified again before use, so whatever that store holds, a review only ever sees the
blob its id names.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Collection, Mapping

from bot.github.store import SharedStore

SHA1_HEX, SHA256_HEX = 40, 64
SHARED_TTL_SECONDS = 24 * 3600  # a blob's text never changes; a day bounds what an idle Redis holds


def git_blob_id(data: bytes, length: int = SHA1_HEX) -> str:
    """The id git gives a blob with these bytes (`git hash-object`), in the repository's hash."""
    digest = hashlib.sha256() if length == SHA256_HEX else hashlib.sha1(usedforsecurity=False)
    digest.update(b"blob %d\x00" % len(data))
    digest.update(data)
    return digest.hexdigest()


def is_blob_of(text: str, oid: str) -> bool:
    """Whether `text` (UTF-8, as GitHub returns blob texts) is exactly the blob `oid`."""
    return git_blob_id(text.encode("utf-8", errors="surrogatepass"), len(oid)) == oid.lower()


class BlobCache:
    """Verified blob texts by id, least recently used dropped past `max_bytes`."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self._items: OrderedDict[str, str] = OrderedDict()
        self._bytes = 0
        self._max = max_bytes

    def __len__(self) -> int:
        return len(self._items)

    def get(self, oid: str) -> str | None:
        text = self._items.get(oid)
        if text is not None:
            self._items.move_to_end(oid)
        return text

    def put(self, oid: str, text: str) -> bool:
        """Cache `text` as blob `oid`; False (and nothing cached) unless the text hashes to that id."""
        if oid in self._items:
            return True
        if len(text) > self._max or not is_blob_of(text, oid):
            return False
        self._items[oid] = text
        self._bytes += len(text)
        while self._bytes > self._max:
            _, dropped = self._items.popitem(last=False)
            self._bytes -= len(dropped)
        return True


class SharedBlobs:
    """Blob texts by id in a store every process reads (`{<namespace>:blob:<id>}:text`, UTF-8)."""

    def __init__(self, store: SharedStore, ttl: float = SHARED_TTL_SECONDS) -> None:
        self.store = store
        self.ttl = ttl

    def key(self, oid: str) -> str:
        return self.store.key("blob", oid.lower(), "text")

    async def get_many(self, oids: Collection[str]) -> dict[str, str]:
        """The texts the store holds that are the blobs their ids name (each verified); others left out."""
        ordered = sorted(oids)
        values = await self.store.get_many([self.key(oid) for oid in ordered])
        found: dict[str, str] = {}
        for oid, value in zip(ordered, values, strict=True):
            if value is None:
                continue
            try:
                text = value.decode("utf-8", errors="surrogatepass")
            except UnicodeDecodeError:
                continue
            if is_blob_of(text, oid):
                found[oid] = text
        return found

    async def put_many(self, texts: Mapping[str, str]) -> int:
        """Share verified texts (the caller checked them); the store leaves out those too large."""
        return await self.store.set_many({self.key(oid): text.encode("utf-8", errors="surrogatepass")
                                          for oid, text in texts.items()}, self.ttl)
