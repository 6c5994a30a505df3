"""Blob ids computed as git computes them, and a cache that only keeps texts matching their id."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot.github.blobs import BlobCache, git_blob_id, is_blob_of

TEXTS = ["", "resource \"aws_ebs_volume\" \"v\" {\n  encrypted = true\n}\n", "crlf\r\nline\r\n", "naïve ✓ 🚀\n"]


@pytest.mark.parametrize("text", TEXTS)
def test_blob_ids_are_what_git_hash_object_says(text: str, tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(text.encode("utf-8"))
    expected = subprocess.run(["git", "hash-object", str(path)], capture_output=True, text=True, check=True).stdout
    assert git_blob_id(text.encode("utf-8")) == expected.strip()
    assert is_blob_of(text, expected.strip()) and is_blob_of(text, expected.strip().upper())


def test_sha256_repositories_hash_with_sha256(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    subprocess.run(["git", "init", "-q", "--object-format=sha256", str(repo)], check=True)
    (repo / "f").write_bytes(b"hello\n")
    oid = subprocess.run(["git", "-C", str(repo), "hash-object", "f"], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert len(oid) == 64 and git_blob_id(b"hello\n", 64) == oid and is_blob_of("hello\n", oid)


def test_a_text_that_is_not_its_blob_is_never_cached() -> None:
    cache = BlobCache()
    new_oid = git_blob_id(b"encrypted = false\n")
    assert cache.put(new_oid, "encrypted = true\n") is False  # an older head's text under a newer id
    assert cache.get(new_oid) is None and len(cache) == 0
    assert cache.put(new_oid, "encrypted = false\n") is True
    assert cache.get(new_oid) == "encrypted = false\n"


def test_least_recently_used_texts_leave_first() -> None:
    cache = BlobCache(max_bytes=10)
    a, b, c = "aaaa", "bbbb", "cccc"
    ids = {t: git_blob_id(t.encode()) for t in (a, b, c)}
    cache.put(ids[a], a)
    cache.put(ids[b], b)
    assert cache.get(ids[a]) == a  # a is now the most recently used
    cache.put(ids[c], c)
    assert cache.get(ids[b]) is None and cache.get(ids[a]) == a and cache.get(ids[c]) == c
