"""The catalog cache (rules/spec/cache.py): what it reads back is what the YAML files give, it is
read back only into the classes it stores, and any edit of a catalog file is another entry."""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

import pytest

from rules.registry import Control, Framework, _read_framework_files
from rules.spec import cache, catalog
from rules.spec.cache import CacheFormatError, cached, catalog_key, decode, encode
from rules.spec.catalog import SPEC_CLASSES


def test_the_shipped_specs_read_back_equal_to_the_yaml_files() -> None:
    specs = catalog._read_specs(resources.files("rules") / "specs")
    stored = json.dumps(encode(specs, SPEC_CLASSES))
    assert decode(json.loads(stored), SPEC_CLASSES) == specs
    assert len(specs) > 100


def test_the_framework_files_read_back_equal() -> None:
    classes: dict[str, type] = {"Framework": Framework, "Control": Control}
    frameworks = _read_framework_files()
    assert decode(json.loads(json.dumps(encode(frameworks, classes))), classes) == frameworks


@pytest.mark.parametrize("data", [
    {"$class": "Popen", "fields": {}},  # not a class it stores: never looked up anywhere else
    {"$class": "Fix", "fields": {"set": "x", "extra": 1}},  # not its fields
    {"$enum": "Severity", "value": "apocalyptic"},
    {"$dict": [[1]]},
    {"something": "else"},
])
def test_anything_else_in_a_cache_file_is_refused(data: object) -> None:
    with pytest.raises(CacheFormatError):
        decode(data, SPEC_CLASSES)


def test_a_value_of_a_class_it_does_not_store_is_not_written() -> None:
    with pytest.raises(CacheFormatError):
        encode(Path("/etc"), SPEC_CLASSES)


def _catalog(tmp_path: Path) -> Path:
    folder = tmp_path / "catalog"
    (folder / "specs" / "aws").mkdir(parents=True)
    (folder / "specs" / "aws" / "CB-AWS-001.yml").write_text("id: CB-AWS-001\n")
    (folder / "checks.py").write_text("X = 1\n")
    return folder


def test_editing_a_catalog_file_makes_another_key(tmp_path: Path) -> None:
    folder = _catalog(tmp_path)
    first = catalog_key(folder)
    assert catalog_key(folder) == first
    spec = folder / "specs" / "aws" / "CB-AWS-001.yml"
    spec.write_text("id: CB-AWS-002\n")  # same size
    os.utime(spec, ns=(spec.stat().st_atime_ns, spec.stat().st_mtime_ns + 1_000_000))
    second = catalog_key(folder)
    assert second != first
    (folder / "checks.py").write_text("X = 22\n")
    assert catalog_key(folder) not in (first, second)
    (folder / "notes.txt").write_text("not part of the catalog")
    assert catalog_key(folder) == catalog_key(folder)


def test_a_second_process_reads_the_entry_instead_of_making_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("COMPLIANCE_BOT_CACHE", raising=False)
    made: list[int] = []

    def make() -> tuple[str, ...]:
        made.append(1)
        return ("a", "b")

    assert cached("section", make, {}, key="k1") == ("a", "b")
    assert cached("section", make, {}, key="k1") == ("a", "b")
    assert made == [1]
    entry = tmp_path / cache.FOLDER / "section-k1.json"
    assert entry.stat().st_mode & 0o077 == 0  # the user's own
    assert cached("section", make, {}, key="k2") == ("a", "b")  # another catalog: made again
    assert made == [1, 1]
    assert cached("section", make, {}, key="k1") == ("a", "b")  # and the first one's entry is still read
    assert made == [1, 1]
    for n, key in enumerate(("k3", "k4", "k5"), 1):  # written later, each one's entry newer
        os.utime(entry, ns=(0, n))
        cached("section", make, {}, key=key)
    assert not entry.exists()  # past KEPT_CATALOGS catalogs, the oldest entry is gone
    assert sorted(p.name for p in (tmp_path / cache.FOLDER).iterdir()) == [
        f"section-k{n}.json" for n in range(2, 2 + cache.KEPT_CATALOGS)]


def test_a_corrupt_entry_is_made_again_and_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("COMPLIANCE_BOT_CACHE", raising=False)
    folder = tmp_path / cache.FOLDER
    folder.mkdir()
    (folder / "section-k.json").write_text('{"$class": "Spec", "fields": {')
    assert cached("section", lambda: ("fresh",), {}, key="k") == ("fresh",)
    assert json.loads((folder / "section-k.json").read_text()) == {"$tuple": ["fresh"]}


def test_an_unwritable_cache_folder_leaves_the_cache_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))  # a file where the folder would be
    monkeypatch.delenv("COMPLIANCE_BOT_CACHE", raising=False)
    assert cached("section", lambda: ("made",), {}, key="k") == ("made",)


def test_the_cache_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("COMPLIANCE_BOT_CACHE", "off")
    assert cached("section", lambda: ("made",), {}, key="k") == ("made",)
    assert list(tmp_path.iterdir()) == []
