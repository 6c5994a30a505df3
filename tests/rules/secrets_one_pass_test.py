"""The secrets rules' one pass (rules/_secret_scan.py) finds exactly what reading every line with
every rule finds: on every fixture, on generated lines built from the rules' own words and their
case-folding look-alikes, and across the resources the engine hands over in turn.

The oracle is the rules themselves with the search replaced by one that hands every line to every
rule (a mask with every bit set), which is what each rule did before the pass existed.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli.local import FsTree
from bot.engine.model import Finding, Resource, Violation
from bot.engine.review import Engine, RuleSet, text_resource
from bot.engine.tree import MemoryTree
from rules import _secret_scan, plaintext_secrets
from rules._secret_scan import WORDS, LineScan, folded, numbered_lines
from rules.registry import all_rules, default_controls
from tests.rules.plaintext_secrets_test import PLANTED, _NoContext

SECRET_RULES = [rule for rule in all_rules() if rule.id.startswith("CB-SECRET-")]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rules"
EVERY_BIT = -1  # `mask & bit` is non-zero for every bit


def _every_line(resource: Resource) -> LineScan:
    lines = list(numbered_lines(resource))
    return LineScan(lines, dict.fromkeys(range(len(lines)), EVERY_BIT))


@contextlib.contextmanager
def _reading_every_line() -> Iterator[None]:
    """The rules as they were before the one pass: every line to every rule."""
    original = vars(plaintext_secrets)["line_scan"]
    setattr(plaintext_secrets, "line_scan", _every_line)  # noqa: B010 - not exported: reached by name
    try:
        yield
    finally:
        setattr(plaintext_secrets, "line_scan", original)  # noqa: B010


def _scan_fixture(directory: Path) -> tuple[Finding, ...]:
    return Engine(RuleSet(SECRET_RULES, default_controls())).scan(FsTree(directory)).findings


@pytest.mark.timeout(300)
def test_every_fixture_gets_the_same_findings_as_reading_every_line() -> None:
    directories = sorted(p for p in FIXTURES.iterdir() if p.is_dir())
    one_pass = {d.name: _scan_fixture(d) for d in directories}
    with _reading_every_line():
        every_line = {d.name: _scan_fixture(d) for d in directories}
    assert one_pass == every_line  # rule ids, lines, messages (masked secrets), keys: whole findings
    for directory in directories:
        if directory.name.startswith("CB-SECRET-"):
            assert any(f.rule_id == directory.name for f in one_pass[directory.name]), directory.name
    assert sum(len(found) for found in one_pass.values()) > 50


def _violations(resource: Resource) -> list[tuple[str, list[Violation]]]:
    return [(rule.id, list(rule.check(resource, _NoContext()))) for rule in SECRET_RULES]


# Fragments a line is built from: every rule's words in every case, the letters Python's
# case-insensitive matching equates with ASCII ones, the planted secrets, and the characters that
# sit between names and values.
_FRAGMENTS = sorted({*(w for words in WORDS.values() for w in words), *(w.upper() for words in WORDS.values()
                                                                             for w in words),
                     "\u0130", "\u0131", "\u017f", "\u212a", "AWS_SECRET_ACCESS_KEY", "aws_ſecret_access_key",
                     "db_password", "twılio", "TWİLIO", "AccountKey=", "-----BEGIN RSA PRIVATE KEY-----", "\\n",
                     "-----END RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEAx9Fq8kT2wLr0VbN3mYp5Zs7Uc1Oe",
                     "=", ": ", "\"", "'", " ", ",", "@", "https://", "user:", "x", "Zq7Wm2Lp9Xr4Tb6Vn1Hc",
                     *(p for p in PLANTED if isinstance(p, str))})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_FRAGMENTS), max_size=12).map("".join), min_size=1, max_size=8))
def test_generated_lines_get_the_same_violations_as_reading_every_line(lines: list[str]) -> None:
    resource = text_resource("config/app.env", list(enumerate(lines, start=1)))
    assert resource is not None
    one_pass = _violations(resource)
    with _reading_every_line():
        every_line = _violations(resource)
    assert one_pass == every_line


def test_the_generated_lines_do_find_secrets() -> None:
    """The fragments above reach findings of most rules (so the comparison compares something)."""
    lines = [f"{p}" for p in PLANTED if isinstance(p, str)] + ["aws_ſecret_access_key=spNxnyVmihA+2O76UMFxFkM+R5Kjp1vRt/1fjORS"]
    resource = text_resource("config/app.env", list(enumerate(lines, start=1)))
    assert resource is not None
    found = {rule_id for rule_id, violations in _violations(resource) if violations}
    assert len(found) >= 12
    assert "CB-SECRET-002" in found  # matched through the long s, which `folded` reads as `s`


def test_folding_reads_every_case_insensitive_match_of_a_word_letter_as_that_letter() -> None:
    everything = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    letters = sorted({c for words in WORDS.values() for w in words for c in w if c.isalpha()})
    for letter in letters:
        matching = set(re.findall("(?i)" + re.escape(letter), everything))
        assert len(matching) >= 2, letter  # the letter and its upper case at least
        assert {folded(c) for c in matching} == {letter}, letter
    assert len(folded(everything)) == len(everything)  # each character stays where it was


def test_each_rule_reads_only_the_lines_holding_its_words() -> None:
    resource = text_resource("a.env", [(1, "HOME=/srv"), (2, "key: value"), (3, "x = AKIAUJZDE8GXD6NCF10E"),
                                       (7, "url: https://h/x"), (8, "nothing here")])
    assert resource is not None
    scan = _secret_scan.scan_lines(list(numbered_lines(resource)))
    assert [n for n, _ in scan.candidates("assigned_secret")] == [2]
    assert [n for n, _ in scan.candidates("aws_access_key_id")] == [3]
    assert [n for n, _ in scan.candidates("url_credentials")] == [7]
    assert list(scan.candidates("private_key")) == []


def test_a_key_far_into_a_long_line_is_a_candidate_of_that_line_only() -> None:
    lines = [(1, "a" * 50), (2, "x" * 100_000 + "AKIAUJZDE8GXD6NCF10E"), (3, "y" * 10)]
    assert [n for n, _ in _secret_scan.scan_lines(lines).candidates("aws_access_key_id")] == [2]


def _resources(texts: list[str]) -> Iterator[Resource]:
    for number, text in enumerate(texts):
        resource = text_resource(f"f{number}.env", [(1, text)])
        assert resource is not None
        yield resource


def test_the_kept_search_belongs_to_the_resource_being_judged() -> None:
    """Rules run on one resource, then the next: each sees its own lines, never the last one's."""
    rule = next(r for r in SECRET_RULES if r.id == "CB-SECRET-001")
    first, second, third = _resources(["k=AKIAUJZDE8GXD6NCF10E", "nothing", "k=ASIAPF91DHODZDOC9IS0"])
    assert len(list(rule.check(first, _NoContext()))) == 1
    assert list(rule.check(second, _NoContext())) == []
    assert [v.key for v in rule.check(third, _NoContext())] == [v.key for v in rule.check(third, _NoContext())]
    assert len(list(rule.check(first, _NoContext()))) == 1


def test_a_review_of_many_files_finds_each_files_own_secrets() -> None:
    files = {f"conf/{n}.env": ("k=AKIAUJZDE8GXD6NCF10E\n" if n % 2 else "nothing=here\n") for n in range(6)}
    review = Engine(RuleSet(SECRET_RULES, default_controls())).scan(MemoryTree(files))
    assert sorted(f.path for f in review.findings) == ["conf/1.env", "conf/3.env", "conf/5.env"]
