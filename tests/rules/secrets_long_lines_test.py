"""Secrets anywhere on a line, however long (a minified JSON config, a long `.env` line), found on
their exact line, in time linear in the line. Lines used to be cut at 4,096 characters before the
secrets rules saw them, so a key past that column passed."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from bot.engine.diff import parse_file_patch
from bot.engine.review import Engine, text_resource
from bot.engine.tree import MemoryTree
from rules.plaintext_secrets import find_secrets
from rules.registry import all_rules, default_rule_set
from tests.rules.linearity import assert_linear
from tests.rules.plaintext_secrets_test import _NoContext

SECRET_RULES = [rule for rule in all_rules() if rule.id.startswith("CB-SECRET-")]
KEY = "AKIAUJZDE8GXD6NCF10E"  # fake, as every secret in the tests
PASSWORD = "Zq7Wm2Lp9Xr4Tb6Vn1Hc"


def _minified(column: int) -> str:
    """One line of JSON with an access key at `column` and a password a little after it."""
    head = '{"padding":"' + "x" * (column - 1 - len('{"padding":"","key":"')) + '","key":"'
    return head + KEY + '","db":{"password":"' + PASSWORD + '"}}'


def test_a_key_at_column_100000_is_found_on_its_line() -> None:
    line = _minified(100_000)
    assert line.index(KEY) == 100_000 - 1
    text = "{}\n" + line + "\n" + "y" * 50_000 + " AKIAQ2WE3RT4YU5IO6PZ\n"
    review = Engine(default_rule_set()).scan(MemoryTree({"config/app.min.json": text}))
    found = sorted((f.rule_id, f.line) for f in review.findings)
    assert found == [("CB-SECRET-001", 2), ("CB-SECRET-001", 3), ("CB-SECRET-008", 2)]
    assert not review.errors


def test_a_long_added_line_of_a_patch_is_scanned_whole() -> None:
    line = "EXPORTS=" + "a" * 10_000 + " AWS_ACCESS_KEY_ID=" + KEY
    diff = parse_file_patch(".env", f"@@ -1,1 +1,2 @@\n HOME=/srv\n+{line}\n", "modified")
    head = MemoryTree({".env": f"HOME=/srv\n{line}\n"})
    review = Engine(default_rule_set()).review_change([diff], head)
    assert [(f.rule_id, f.line) for f in review.findings] == [("CB-SECRET-001", 2)]


def test_find_secrets_reads_a_whole_attribute_value() -> None:
    value = "export A=" + "b" * 20_000 + f"; export AWS_ACCESS_KEY_ID={KEY}"
    assert ("AWS access key id", KEY) in list(find_secrets(value))


def _scan_line(rule_id: str) -> Callable[[str], object]:
    rule = next(r for r in SECRET_RULES if r.id == rule_id)

    def run(line: str) -> object:
        resource = text_resource("config/app.env", [(1, line)])
        assert resource is not None
        return list(rule.check(resource, _NoContext()))

    return run


def _pairs(n: int) -> str:
    """Minified JSON with many secret-looking pairs: every match of the generic rule on one line."""
    return json.dumps({f"k{i}": {"password": f"Zq7Wm2Lp{i:06d}", "token": f"ghp_{i:036d}"} for i in range(n)},
                      separators=(",", ":"))


# Line shapes that grow, each against the rules it stresses most: many candidates on one line, long
# runs of the characters a pattern repeats, the prefixes patterns start with repeated.
SHAPES: list[tuple[str, Callable[[int], str], int]] = [
    ("letters", lambda n: "a" * n, 200_000),
    ("minified JSON of secret pairs", lambda n: _pairs(n // 60), 30_000),
    ("password= repeated", lambda n: "password=" * (n // 9), 30_000),
    ("long names before password", lambda n: ("x_" * 40 + "password") * (n // 88), 30_000),
    ("quotes after password:", lambda n: "password: " + "'" * n, 30_000),
    ("private key markers", lambda n: "-----BEGIN PRIVATE KEY-----" * (n // 27), 30_000),
    ("private key markers and bodies", lambda n: ("-----BEGIN RSA PRIVATE KEY-----" + "A" * 40 + " ") * (n // 72),
     30_000),
    ("AKIA repeated", lambda n: "AKIA" * (n // 4), 30_000),
    ("JWT-like tokens", lambda n: ("eyJ" + "a" * 30 + "." + "b" * 30 + "." + "c" * 30 + " ") * (n // 96), 30_000),
    ("URLs with passwords", lambda n: "postgres://app:Xk9vR2mPq7Lw@db/x " * (n // 34), 30_000),
    ("key=value pairs of a long .env line", lambda n: " ".join(f"K{i}=v{i}" for i in range(n // 10)), 30_000),
]


@pytest.mark.timeout(300)
@pytest.mark.parametrize(("name", "make", "base"), SHAPES, ids=[shape[0] for shape in SHAPES])
def test_every_secrets_rule_is_linear_in_line_length(name: str, make: Callable[[int], str], base: int) -> None:
    def run(line: str) -> None:
        for rule in SECRET_RULES:
            _scan_line(rule.id)(line)

    assert_linear(f"secrets rules: {name}", make, run, base)


def _keys_file(n: int) -> MemoryTree:
    """`n` lines, every fourth one holding a distinct access key: many findings in one file."""
    lines = [f"AWS_ACCESS_KEY_ID=AKIA{i:016d}" if i % 4 == 0 else f"NAME_{i}=value-{i}" for i in range(n)]
    return MemoryTree({"config/keys.env": "\n".join(lines) + "\n"})


@pytest.mark.timeout(300)
def test_a_review_is_linear_in_the_findings_of_one_file() -> None:
    engine = Engine(default_rule_set())
    assert_linear("engine: one file with a secret on every fourth line", _keys_file, engine.scan, 400)
