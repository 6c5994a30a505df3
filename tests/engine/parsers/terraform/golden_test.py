"""The Terraform parser's whole output for a fixed corpus must not change unnoticed.

The other tests assert chosen values and lines; this one pins everything `parse_module` returns
(every resource, value type, line, reference, source line and error message) for a corpus kept
in `golden.json`: every `.tf` module under tests/fixtures and bot/examples as it was when the
snapshot was taken, damaged copies of those files (so error lines and messages are pinned too),
and short random texts from the alphabet of the fuzz test. The corpus is stored with its
results, so editing a fixture later never breaks this test.

It was recorded from the single-file parser before it became a package, to prove the split
changed nothing. After an intended change of behaviour, re-record it and review the diff:

    .venv/bin/python -m tests.engine.parsers.terraform.golden_test
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from bot.engine.parsers.terraform import parse_module
from tests.engine.parsers.golden import as_json, damaged, digest, dump, errors_of, read, write

GOLDEN = Path(__file__).with_name("golden.json")
ROOT = Path(__file__).resolve().parents[4]
SOURCES = (ROOT / "tests" / "fixtures", ROOT / "bot" / "examples")
DAMAGES_PER_FILE = 12
RANDOM_TEXTS = 200
ALPHABET = list('abc_ ="{}[]()#/*<-\n$%.,:\\1') + ["EOF", "<<EOF\n", "${", "resource"]


def record() -> dict[str, Any]:
    """Build the corpus from the files on disk and the parser as it is now."""
    modules: dict[str, dict[str, str]] = {}
    for source in SOURCES:
        for file in sorted(source.rglob("*.tf")):
            relative = file.relative_to(ROOT).as_posix()
            modules.setdefault(file.parent.relative_to(ROOT).as_posix(), {})[relative] = file.read_text()
    rng = random.Random(20240601)
    cases: list[dict[str, Any]] = []
    for files in modules.values():
        cases.append({"files": files, "result": dump(parse_module(files))})
    damages: list[dict[str, Any]] = []
    for module_index, files in enumerate(modules.values()):
        for path, text in files.items():
            for _ in range(DAMAGES_PER_FILE):
                start, length = rng.randrange(len(text)), rng.randint(1, 12)
                result = dump(parse_module({path: damaged(text, start, length)}))
                damages.append({"module": module_index, "path": path, "start": start, "length": length,
                                "errors": errors_of(result), "digest": digest(result)})
    texts: list[dict[str, Any]] = []
    for _ in range(RANDOM_TEXTS):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 120)))
        result = dump(parse_module({"fuzz.tf": text}))
        texts.append({"text": text, "errors": errors_of(result), "digest": digest(result)})
    return {"modules": cases, "damaged": damages, "random": texts}


GOLDEN_DATA = {"modules": [], "damaged": [], "random": [], **read(GOLDEN)}


def test_the_corpus_is_not_empty() -> None:
    assert len(GOLDEN_DATA["modules"]) >= 20
    assert sum(len(case["files"]) for case in GOLDEN_DATA["modules"]) >= 25
    assert len(GOLDEN_DATA["damaged"]) >= 300 and len(GOLDEN_DATA["random"]) == RANDOM_TEXTS
    assert any(errors for case in GOLDEN_DATA["damaged"] for errors in case["errors"])


@pytest.mark.parametrize("case", GOLDEN_DATA["modules"], ids=lambda case: next(iter(case["files"])))
def test_every_fixture_module_parses_exactly_as_recorded(case: dict[str, Any]) -> None:
    assert as_json(dump(parse_module(case["files"]))) == case["result"]


def test_damaged_fixtures_fail_exactly_as_recorded() -> None:
    modules = GOLDEN_DATA["modules"]
    for case in GOLDEN_DATA["damaged"]:
        text = damaged(modules[case["module"]]["files"][case["path"]], case["start"], case["length"])
        result = as_json(dump(parse_module({case["path"]: text})))
        assert (errors_of(result), digest(result)) == (case["errors"], case["digest"]), case


def test_random_texts_parse_exactly_as_recorded() -> None:
    for case in GOLDEN_DATA["random"]:
        result = as_json(dump(parse_module({"fuzz.tf": case["text"]})))
        assert (errors_of(result), digest(result)) == (case["errors"], case["digest"]), case["text"]


if __name__ == "__main__":
    write(GOLDEN, record())
