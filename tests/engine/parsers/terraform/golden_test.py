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

import hashlib
import json
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from bot.engine.model import Node, ParsedFile, Resource, Unknown
from bot.engine.parsers.terraform import parse_module

GOLDEN = Path(__file__).with_name("golden.json")
ROOT = Path(__file__).resolve().parents[4]
SOURCES = (ROOT / "tests" / "fixtures", ROOT / "bot" / "examples")
DAMAGES_PER_FILE = 12
RANDOM_TEXTS = 200
ALPHABET = list('abc_ ="{}[]()#/*<-\n$%.,:\\1') + ["EOF", "<<EOF\n", "${", "resource"]


def dump_node(node: Node) -> list[Any]:
    """A node as JSON that keeps key order and tells `True` from `1` and `1` from `1.0`."""
    if isinstance(node.value, dict):
        return ["map", [[key, dump_node(child)] for key, child in node.value.items()], node.line, node.end_line]
    if isinstance(node.value, list):
        return ["list", [dump_node(child) for child in node.value], node.line, node.end_line]
    if isinstance(node.value, Unknown):
        return ["Unknown", node.value.expression, node.line, node.end_line]
    return [type(node.value).__name__, repr(node.value), node.line, node.end_line]


def dump_resource(resource: Resource) -> dict[str, Any]:
    return {
        "source": resource.source,
        "kind": resource.kind,
        "type": resource.type,
        "address": resource.address,
        "path": resource.path,
        "line": resource.line,
        "end_line": resource.end_line,
        "references": sorted(resource.references),
        "lines": list(resource.lines),
        "body": dump_node(resource.body),
    }


def dump_file(parsed: ParsedFile) -> dict[str, Any]:
    return {
        "path": parsed.path,
        "errors": [[error.path, error.line, error.message] for error in parsed.errors],
        "resources": [dump_resource(resource) for resource in parsed.resources],
    }


def dump(result: Mapping[str, ParsedFile]) -> list[Any]:
    """`parse_module`'s result in its own order, as plain JSON values."""
    return [[path, dump_file(parsed)] for path, parsed in result.items()]


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def errors_of(result: list[Any]) -> list[Any]:
    return [error for _, parsed in result for error in parsed["errors"]]


def damaged(text: str, start: int, length: int) -> str:
    return text[:start] + text[start + length :]


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


def load() -> dict[str, Any]:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


GOLDEN_DATA = load() if GOLDEN.exists() else {"modules": [], "damaged": [], "random": []}


def test_the_corpus_is_not_empty() -> None:
    assert len(GOLDEN_DATA["modules"]) >= 20
    assert sum(len(case["files"]) for case in GOLDEN_DATA["modules"]) >= 25
    assert len(GOLDEN_DATA["damaged"]) >= 300 and len(GOLDEN_DATA["random"]) == RANDOM_TEXTS
    assert any(errors for case in GOLDEN_DATA["damaged"] for errors in case["errors"])


@pytest.mark.parametrize("case", GOLDEN_DATA["modules"], ids=lambda case: next(iter(case["files"])))
def test_every_fixture_module_parses_exactly_as_recorded(case: dict[str, Any]) -> None:
    assert json.loads(json.dumps(dump(parse_module(case["files"])))) == case["result"]


def test_damaged_fixtures_fail_exactly_as_recorded() -> None:
    modules = GOLDEN_DATA["modules"]
    for case in GOLDEN_DATA["damaged"]:
        text = damaged(modules[case["module"]]["files"][case["path"]], case["start"], case["length"])
        result = json.loads(json.dumps(dump(parse_module({case["path"]: text}))))
        assert (errors_of(result), digest(result)) == (case["errors"], case["digest"]), case


def test_random_texts_parse_exactly_as_recorded() -> None:
    for case in GOLDEN_DATA["random"]:
        result = json.loads(json.dumps(dump(parse_module({"fuzz.tf": case["text"]}))))
        assert (errors_of(result), digest(result)) == (case["errors"], case["digest"]), case["text"]


if __name__ == "__main__":
    data = record()
    with GOLDEN.open("w", encoding="utf-8") as out:  # one case per line, so a diff shows which changed
        out.write("{\n")
        for i, (section, cases) in enumerate(data.items()):
            out.write(f"{json.dumps(section)}: [\n")
            out.write(",\n".join(json.dumps(case, ensure_ascii=False) for case in cases))
            out.write("\n]" + (",\n" if i < len(data) - 1 else "\n"))
        out.write("}\n")
    print(f"wrote {GOLDEN}: {', '.join(f'{len(cases)} {name}' for name, cases in data.items())}")
