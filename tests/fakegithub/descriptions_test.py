"""Fetching GitHub's descriptions: pinned, checked, safely unpacked, once, by one process at a time.

These tests run `npm pack` for real (the smallest package, @octokit/webhooks-schemas, 47 kB; npm
serves it from its own cache after the first run) into temporary cache folders.
"""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.fakegithub import descriptions
from tests.fakegithub.descriptions import WEBHOOK_SCHEMAS, DescriptionsUnavailable, IntegrityError

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_every_package_is_pinned_by_version_and_sha512() -> None:
    for pkg in descriptions.PACKAGES:
        assert pkg.version[0].isdigit() and "^" not in pkg.version and "~" not in pkg.version
        assert pkg.integrity.startswith("sha512-") and len(pkg.integrity) == len("sha512-") + 88


def test_fetch_unpacks_only_the_listed_files_and_marks_the_integrity(tmp_path: Path) -> None:
    folder = descriptions.fetch(WEBHOOK_SCHEMAS, tmp_path)
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert files == [".integrity", "package.json", "schema.json"]
    assert (folder / ".integrity").read_text().strip() == WEBHOOK_SCHEMAS.integrity
    assert json.loads((folder / "package.json").read_text())["version"] == WEBHOOK_SCHEMAS.version
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".") and p.name != ".lock"] == []
    stamp = (folder / "schema.json").stat().st_mtime_ns
    assert descriptions.fetch(WEBHOOK_SCHEMAS, tmp_path) == folder  # reused, not fetched again
    assert (folder / "schema.json").stat().st_mtime_ns == stamp


def test_a_tarball_with_another_integrity_is_refused(tmp_path: Path) -> None:
    forged = dataclasses.replace(WEBHOOK_SCHEMAS, integrity="sha512-" + "A" * 86 + "==")
    with pytest.raises(IntegrityError, match=r"Refusing @octokit/webhooks-schemas@7\.6\.1: its tarball's integrity is sha512-"):
        descriptions.fetch(forged, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock"]  # nothing unpacked, nothing left


def test_a_stale_cache_is_replaced(tmp_path: Path) -> None:
    folder = tmp_path / WEBHOOK_SCHEMAS.folder
    folder.mkdir()
    (folder / ".integrity").write_text("sha512-something-else\n")
    (folder / "schema.json").write_text("{}")
    descriptions.fetch(WEBHOOK_SCHEMAS, tmp_path)
    assert json.loads((folder / "schema.json").read_text())["$schema"].startswith("http://json-schema.org/draft-07")


def test_no_npm_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(DescriptionsUnavailable, match=r"`npm` is not on PATH\. Install Node\.js 20 or later with npm"):
        descriptions.fetch(WEBHOOK_SCHEMAS, tmp_path)


def test_an_unknown_version_names_npm_and_the_registry(tmp_path: Path) -> None:
    missing = dataclasses.replace(WEBHOOK_SCHEMAS, version="0.0.0-does-not-exist")
    with pytest.raises(DescriptionsUnavailable, match=r"npm pack @octokit/webhooks-schemas@0\.0\.0-does-not-exist` failed"):
        descriptions.fetch(missing, tmp_path)


def _tarball(path: Path, members: dict[str, tarfile.TarInfo | bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, content in members.items():
            if isinstance(content, bytes):
                info = tarfile.TarInfo(name)
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
            else:
                content.name = name
                tar.addfile(content)


def test_unpacking_takes_no_links_and_nothing_outside(tmp_path: Path) -> None:
    pkg = dataclasses.replace(WEBHOOK_SCHEMAS, members=("schema.json",))
    link = tarfile.TarInfo()
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    _tarball(tmp_path / "link.tgz", {"package/schema.json": link})
    with pytest.raises(DescriptionsUnavailable, match="not a regular file"):
        descriptions._extract(pkg, tmp_path / "link.tgz", tmp_path / "out1")

    # A member outside package/ is never taken, even when it would land on a wanted path.
    _tarball(tmp_path / "escape.tgz", {"package/../../escape.json": b"{}", "package/schema.json": b"{}"})
    descriptions._extract(pkg, tmp_path / "escape.tgz", tmp_path / "out2")
    assert not (tmp_path / "escape.json").exists()
    assert sorted(p.name for p in (tmp_path / "out2" / "package").iterdir()) == ["schema.json"]

    _tarball(tmp_path / "missing.tgz", {"package/other.json": b"{}"})
    with pytest.raises(DescriptionsUnavailable, match="has no package/schema.json"):
        descriptions._extract(pkg, tmp_path / "missing.tgz", tmp_path / "out3")


def test_two_processes_fetching_at_once_both_get_one_complete_copy(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from tests.fakegithub import descriptions as d; "
        "print(d.fetch(d.WEBHOOK_SCHEMAS, Path(sys.argv[1])))"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    folder = tmp_path / WEBHOOK_SCHEMAS.folder
    assert {out.strip() for out, _ in results} == {str(folder)}
    assert (folder / ".integrity").read_text().strip() == WEBHOOK_SCHEMAS.integrity
    assert json.loads((folder / "schema.json").read_text())["definitions"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", WEBHOOK_SCHEMAS.folder]  # no half copies


def test_the_chosen_webhook_examples_are_the_listed_ones() -> None:
    folder = descriptions.webhooks_dir()
    for example in descriptions.EXAMPLES:
        payload = descriptions.webhook_example(example.file)
        assert descriptions.canonical_sha256(payload) == example.sha256
        assert (folder / example.file).read_text().endswith("}\n")  # pretty-printed, one trailing newline
    ready = descriptions.webhook_example("pull_request.ready_for_review.json")
    assert ready["action"] == "ready_for_review" and "installation" in ready  # the with-installation variant
    assert descriptions.webhook_example("ping.json")["hook"]["app_id"]  # the with-app_id variant
    assert "organization" in descriptions.webhook_example("pull_request_review.submitted.with-organization.json")
