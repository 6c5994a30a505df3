"""The YAML reader's whole output for a fixed corpus must not change unnoticed.

The other tests assert chosen values and lines; this one pins everything `parse_yaml` returns
(every resource, value type, line, reference, source line and error message) for a corpus kept
in `golden.json`: every YAML, JSON and `.template` file under tests/fixtures and bot/examples as
it was when the snapshot was taken (Kubernetes, CloudFormation, workflows, Helm, plain config),
damaged copies of those files, and short random texts from the alphabet of the fuzz test read
as a manifest, a workflow and a JSON template. The corpus is stored with its results, so
editing a fixture later never breaks this test.

It was recorded from the single-file `yaml_docs.py` before its extractors moved into modules of
their own, to prove the move changed nothing. After an intended change of behaviour, re-record
it and review the diff:

    .venv/bin/python -m tests.engine.parsers.yaml_docs.golden_test
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from bot.engine.parsers.yaml_docs import parse_yaml
from tests.engine.parsers.golden import as_json, damaged, digest, dump, errors_of, read, write

GOLDEN = Path(__file__).with_name("golden.json")
ROOT = Path(__file__).resolve().parents[4]
SOURCES = (ROOT / "tests" / "fixtures", ROOT / "bot" / "examples")
SUFFIXES = (".yml", ".yaml", ".json", ".template")
DAMAGES_PER_FILE = 12
RANDOM_TEXTS = 200
RANDOM_PATHS = ("k8s/fuzz.yaml", ".github/workflows/fuzz.yml", "template.json")
ALPHABET = list("ab:-[]{}&*!|>#'\" \n\t\\%@`") + ["- ", "&a ", "*a", "!Ref ", "<<: ", "Type: AWS::", "kind: "]


def parse(path: str, text: str) -> list[Any]:
    return as_json(dump({path: parse_yaml(path, text)}))  # type: ignore[no-any-return]


def record() -> dict[str, Any]:
    """Build the corpus from the files on disk and the parser as it is now."""
    files = {
        file.relative_to(ROOT).as_posix(): file.read_text()
        for source in SOURCES
        for file in sorted(source.rglob("*"))
        if file.is_file() and file.name.lower().endswith(SUFFIXES)
    }
    rng = random.Random(20240601)
    cases = [{"path": path, "text": text, "result": parse(path, text)} for path, text in files.items()]
    damages: list[dict[str, Any]] = []
    for index, (path, text) in enumerate(files.items()):
        for _ in range(DAMAGES_PER_FILE):
            start, length = rng.randrange(len(text)), rng.randint(1, 12)
            result = parse(path, damaged(text, start, length))
            damages.append({"file": index, "start": start, "length": length,
                            "errors": errors_of(result), "digest": digest(result)})
    texts: list[dict[str, Any]] = []
    for _ in range(RANDOM_TEXTS):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 120)))
        results = [parse(path, text) for path in RANDOM_PATHS]
        texts.append({"text": text, "errors": [errors_of(r) for r in results], "digest": digest(results)})
    return {"files": cases, "damaged": damages, "random": texts}


GOLDEN_DATA = {"files": [], "damaged": [], "random": [], **read(GOLDEN)}


def test_the_corpus_is_not_empty() -> None:
    assert len(GOLDEN_DATA["files"]) >= 25
    sources = {r["source"] for case in GOLDEN_DATA["files"] for _, parsed in case["result"] for r in parsed["resources"]}
    assert sources == {"kubernetes", "cloudformation", "github_actions"}
    assert len(GOLDEN_DATA["damaged"]) >= 300 and len(GOLDEN_DATA["random"]) == RANDOM_TEXTS
    assert any(case["errors"] for case in GOLDEN_DATA["damaged"])


@pytest.mark.parametrize("case", GOLDEN_DATA["files"], ids=lambda case: case["path"])
def test_every_fixture_file_parses_exactly_as_recorded(case: dict[str, Any]) -> None:
    assert parse(case["path"], case["text"]) == case["result"]


def test_damaged_fixtures_parse_exactly_as_recorded() -> None:
    files = GOLDEN_DATA["files"]
    for case in GOLDEN_DATA["damaged"]:
        original = files[case["file"]]
        result = parse(original["path"], damaged(original["text"], case["start"], case["length"]))
        assert (errors_of(result), digest(result)) == (case["errors"], case["digest"]), case


def test_random_texts_parse_exactly_as_recorded() -> None:
    for case in GOLDEN_DATA["random"]:
        results = [parse(path, case["text"]) for path in RANDOM_PATHS]
        assert ([errors_of(r) for r in results], digest(results)) == (case["errors"], case["digest"]), case["text"]


if __name__ == "__main__":
    write(GOLDEN, record())
