"""SARIF output validated against the SARIF 2.1.0 schema (fetched from npm, see sarif_schema.py),
with file names that need percent-encoding and messages that must read as plain text."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import unquote

import jsonschema
import pytest

from bot.report.plain import plain_text
from bot.report.sarif import artifact_uri
from tests.cli.main_test import UNENCRYPTED_TF, make_repo, run
from tests.report.sarif_schema import sarif_schema

# RFC 3986 relative-ref with a path only: unreserved, pct-encoded, sub-delims, ":" and "@" (never
# in the first segment, where a colon would read as a scheme), and "/".
_PCHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=@]|%[0-9A-F]{2})"
RELATIVE_PATH = re.compile(rf"^(?:{_PCHAR})+(?:/(?:{_PCHAR}|:)*)*$")
HOSTILE = ["space here.tf", "hash#1.tf", "per%cent.tf", "caf\u00e9/main.tf", "c:colon.tf", "q?uery.tf",
           "new\nline.tf", "back\\slash.tf", "\u65e5\u672c/\u30c6\u30b9\u30c8.tf"]


def _uris(sarif: dict[str, object]) -> list[str]:
    text = json.dumps(sarif)
    return re.findall(r'"uri": "((?:[^"\\]|\\.)*)"', text)


@pytest.mark.parametrize("name", HOSTILE)
def test_check_sarif_is_valid_and_its_uri_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         name: str) -> None:
    repo = make_repo(tmp_path, {"README.md": "x\n"}, {name: UNENCRYPTED_TF, "bad.tf": 'resource "x" {\n'})
    code, out, _err = run(capsys, "check", "--repo", str(repo), "--base", "HEAD~1", "--format", "sarif")
    sarif = json.loads(out)
    jsonschema.Draft4Validator(sarif_schema()).validate(sarif)
    assert code == 1
    (run_,) = sarif["runs"]
    (result,) = [r for r in run_["results"] if r["ruleId"] == "CB-AWS-001"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert unquote(uri) == name and RELATIVE_PATH.match(uri), uri
    for any_uri in _uris(sarif):  # the error's notification too
        assert RELATIVE_PATH.match(json.loads(f'"{any_uri}"')), any_uri


def test_uris_are_percent_encoded() -> None:
    assert artifact_uri("a b#1%.tf") == "a%20b%231%25.tf"
    assert artifact_uri("caf\u00e9/x.tf") == "caf%C3%A9/x.tf"
    assert artifact_uri("dir/sub/plain-name_1.~tf") == "dir/sub/plain-name_1.~tf"
    assert artifact_uri("c:colon.tf") == "c%3Acolon.tf"  # never a scheme
    assert artifact_uri(os.fsdecode(b"caf\xe9.env")) == "caf%E9.env"  # not UTF-8: the bytes as they are


def test_messages_are_plain_text_with_the_markdown_beside(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path, {"README.md": "x\n"}, {"main.tf": UNENCRYPTED_TF, ".env": "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7ABCDEFG\n"})
    code, out, _err = run(capsys, "check", "--repo", str(repo), "--base", "HEAD~1", "--format", "sarif")
    sarif = json.loads(out)
    jsonschema.Draft4Validator(sarif_schema()).validate(sarif)
    results = sarif["runs"][0]["results"]
    assert code == 1 and {r["ruleId"] for r in results} >= {"CB-AWS-001", "CB-SECRET-001"}
    for result in results:
        message = result["message"]
        assert "`" not in message["text"] and "**How to fix:**" not in message["text"]  # "****" masks a secret
        assert "How to fix: " in message["text"]
        assert message["markdown"].startswith(f"**{result['ruleId']}: ")
        assert message["text"] == plain_text(message["markdown"])
        assert message["text"].startswith(f"{result['ruleId']}: ")
    secret = next(r for r in results if r["ruleId"] == "CB-SECRET-001")
    assert "AKIAIOSFODNN7ABCDEFG" not in out and "****" in secret["message"]["text"]


def test_plain_text_unwraps_code_bold_and_links() -> None:
    assert plain_text("**A** uses `x` and ``a`b`` see [docs](https://example.invalid/d)") == \
        "A uses x and a`b see docs (https://example.invalid/d)"
    assert plain_text("no marks here") == "no marks here"
