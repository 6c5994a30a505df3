"""Content git calls binary (a NUL byte in its first 8 KiB) is scanned for secrets all the same:
a text file with a stray NUL (`# \\0` on the first line of an `.env`) or UTF-16 text by every
secrets rule, on its exact lines; real binaries (images, archives, executables) only for
credentials of a recognisable format, so their random bytes, compressed data and string tables
make no noise. Such content is never parsed as infrastructure."""

from __future__ import annotations

import codecs
import gzip
import io
import random
import struct
import zipfile
import zlib

import pytest

from bot.engine.review import Engine
from bot.engine.tree import BinaryText, MemoryTree, decode_text
from rules.registry import default_rule_set

KEY = "AKIAUJZDE8GXD6NCF10E"  # fake
PASSWORD = "Zq7Wm2Lp9Xr4Tb6Vn1Hc"
ENV = f"DB_PASSWORD={PASSWORD}\nAWS_ACCESS_KEY_ID={KEY}\n"


def _noise(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 640, 480, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(_noise(200_000))) \
        + chunk(b"IEND", b"")


def deflated_zip() -> bytes:
    """An archive whose member holds secrets, compressed: nothing readable, nothing reported."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config/.env", ENV * 50)
        archive.writestr("blob.bin", _noise(50_000))
    return out.getvalue()


def stored_zip() -> bytes:
    """The same member stored uncompressed (as in a jar or a wheel of data files): the key is in
    the bytes, and a key of its format is found even in binary content."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("blob.bin", _noise(20_000))
        archive.writestr("config/.env", ENV)
    return out.getvalue()


def executable() -> bytes:
    """An ELF-like file: a header, machine code (noise), and a string table of the literals a
    program holds, passwords and URLs among them, which only a text rule would guess at."""
    strings = [b"password=%s", b"db_password=Hq4TnZ8wVx2cR7uk", b"token: Xk9vR2mPq7LwQ3tY",
               b"postgres://admin:Wq4Rt8Yu2Io6Pa0S@db.internal/prod", b"api_key=Jf2r8PZqWm4kTb7Vx1Nc",
               b"usage: tool [--password PASSWORD]", b"secret_key: %(secret)s"]
    return b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + _noise(12_000) + b"\x00".join(strings) + b"\x00" + _noise(4_000)


def archive_gz() -> bytes:
    return gzip.compress((ENV * 100).encode())


BINARIES = {"assets/logo.png": png, "dist/bundle.zip": deflated_zip, "bin/tool": executable,
            "backups/env.gz": archive_gz}


@pytest.mark.parametrize("path", sorted(BINARIES))
def test_real_binaries_are_binary_and_make_no_noise(path: str) -> None:
    text = decode_text(BINARIES[path]())
    assert isinstance(text, BinaryText) and not text.looks_like_text
    review = Engine(default_rule_set()).scan(MemoryTree({path: text}))
    assert review.findings == () and review.errors == ()
    assert [(n.path, n.what) for n in review.not_reviewed] == [(path, "binary file")]


def test_a_key_of_a_recognisable_format_is_found_in_binary_content() -> None:
    text = decode_text(stored_zip())
    assert isinstance(text, BinaryText) and not text.looks_like_text
    review = Engine(default_rule_set()).scan(MemoryTree({"dist/data.jar": text}))
    assert [f.rule_id for f in review.findings] == ["CB-SECRET-001"]  # not the password: too weak a sign there
    assert [(n.path, n.what) for n in review.not_reviewed] == [("dist/data.jar", "binary file")]


@pytest.mark.parametrize(("name", "data"), [
    ("NUL on the first line", f"# \0\n{ENV}".encode()),
    ("NULs between lines", f"HOME=/srv\n\0\0\0\n{ENV}".encode()),
    ("UTF-16 with a byte-order mark", codecs.BOM_UTF16_LE + f"# exported\n{ENV}".encode("utf-16-le")),
    ("UTF-16 without one", f"# exported\n{ENV}".encode("utf-16-le")),
])
def test_a_text_file_with_nul_bytes_is_scanned_as_text(name: str, data: bytes) -> None:
    text = decode_text(data)
    assert isinstance(text, BinaryText) and text.looks_like_text, name
    review = Engine(default_rule_set()).scan(MemoryTree({"config/.env": text}))
    lines = text.split("\n")
    expected = [("CB-SECRET-008", lines.index(f"DB_PASSWORD={PASSWORD}") + 1),
                ("CB-SECRET-001", lines.index(f"AWS_ACCESS_KEY_ID={KEY}") + 1)]
    assert sorted((f.rule_id, f.line) for f in review.findings) == sorted(expected)
    assert review.not_reviewed == () and review.errors == ()


def test_lines_keep_their_numbers_once_nuls_are_dropped() -> None:
    assert decode_text(b"a\0\nb\n\0c\0\n") == "a\nb\nc\n"
    assert decode_text(b"plain\ntext\n") == "plain\ntext\n" and not isinstance(decode_text(b"x"), BinaryText)


@pytest.mark.parametrize("path", ["main.tf", "k8s/deploy.yaml", "Dockerfile"])
def test_binary_infrastructure_is_an_error_and_never_parsed(path: str) -> None:
    text = decode_text(b"# \0\n" + ENV.encode())
    review = Engine(default_rule_set()).scan(MemoryTree({path: text}))
    assert [(e.path, e.message) for e in review.errors] == [
        (path, "file could not be read: binary (a NUL byte in its first 8 KiB)")]
