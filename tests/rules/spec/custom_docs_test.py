"""The custom rules the README and docs/rule-language.md show are accepted as written, and the
refusal the docs quote is the one the bot gives."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rules.spec.custom import CUSTOM_RULES_DIR, load_custom_rules

ROOT = Path(__file__).resolve().parents[3]
BLOCK = re.compile(r"```yaml\n(id: ACME-.*?)```\n", re.DOTALL)


def examples(document: str) -> list[str]:
    return BLOCK.findall((ROOT / document).read_text(encoding="utf-8"))


@pytest.mark.parametrize("document", ["README.md", "docs/rule-language.md"])
def test_the_documented_custom_rule_is_accepted(document: str) -> None:
    (text,) = examples(document)
    loaded = load_custom_rules({f"{CUSTOM_RULES_DIR}/owner-tag.yml": text})
    assert loaded.errors == ()
    assert [rule.id for rule in loaded.rules] == ["ACME-S3-001"]


def test_the_documented_refusal_is_the_one_given() -> None:
    (text,) = examples("docs/rule-language.md")
    path = f"{CUSTOM_RULES_DIR}/owner-tag.yml"
    quoted = f"{path}:28: tests.pass[0] (main.tf) must pass, but the rule flagged line 3: "
    for document in ("README.md", "docs/rule-language.md"):
        prose = " ".join((ROOT / document).read_text(encoding="utf-8").split())
        assert f"{path}:28: tests.pass[0] (main.tf) must pass, but" in prose, document
    loaded = load_custom_rules({path: text.replace('owner = "platform"', 'owner = "Platform"')})
    assert [str(e) for e in loaded.errors] == [quoted + 'S3 bucket has no owner tag (tags.owner = "Platform").']
