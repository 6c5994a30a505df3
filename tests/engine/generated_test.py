"""Files a tool writes (lockfiles, minified bundles) are scanned only by the secrets rules whose
specs name the `generated` text type: the formats a provider gives its credentials, not the
generic `password = ...` guess."""

from __future__ import annotations

import pytest

from bot.engine.diff import parse_file_patch
from bot.engine.generated import GENERATED, machine_written
from bot.engine.review import Engine
from bot.engine.tree import MemoryTree
from rules.registry import all_rules, default_rule_set

KEY = "AKIAUJZDE8GXD6NCF10E"  # fake, as every secret in the tests
PASSWORD = "Zq7Wm2Lp9Xr4Tb6Vn1Hc"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx9Fq8kT2wLr0VbN3mYp5Zs7Uc1Oe\n-----END RSA PRIVATE KEY-----"

LOCK = "\n".join([
    "{",
    '  "name": "app",',
    f'  "password": "{PASSWORD}",',
    f'  "resolved": "https://deploy:{PASSWORD}@npm.internal.corp/pkg/-/pkg-1.0.0.tgz",',
    f'  "note": "{KEY}",',
    f'  "key": "{PEM.replace(chr(10), chr(92) + "n")}"',
    "}",
]) + "\n"


@pytest.mark.parametrize("path", ["package-lock.json", "web/yarn.lock", "poetry.lock", "Cargo.lock", "go.sum",
                                  "Gemfile.lock", "Pipfile.lock", "static/app.min.js", "static/app.js.map",
                                  "infra/.terraform.lock.hcl", "composer.lock", "pnpm-lock.yaml"])
def test_lockfiles_and_minified_bundles_are_machine_written(path: str) -> None:
    assert machine_written(path)


@pytest.mark.parametrize("path", ["package.json", "config/app.min.json", "yarn.lock.md", "src/lock.py",
                                  "go.mod", "Cargo.toml", "app.js", "locks/README"])
def test_files_a_person_writes_are_not(path: str) -> None:
    assert not machine_written(path)


def _found(path: str, text: str) -> list[tuple[str, int]]:
    review = Engine(default_rule_set()).scan(MemoryTree({path: text}))
    assert review.errors == ()
    return sorted((f.rule_id, f.line) for f in review.findings if f.rule_id.startswith("CB-SECRET-"))


def test_a_lockfile_is_scanned_for_credential_formats_only() -> None:
    assert _found("package-lock.json", LOCK) == [("CB-SECRET-001", 5), ("CB-SECRET-003", 6), ("CB-SECRET-009", 4)]


def test_the_same_lines_in_a_file_a_person_writes_are_scanned_by_every_rule() -> None:
    found = _found("config/settings.json", LOCK)
    assert found == [("CB-SECRET-001", 5), ("CB-SECRET-003", 6), ("CB-SECRET-008", 3), ("CB-SECRET-009", 4)]


def test_a_change_to_a_lockfile_is_read_as_generated_text_too() -> None:
    lines = LOCK.splitlines()
    patch = f"@@ -0,0 +1,{len(lines)} @@\n" + "".join(f"+{line}\n" for line in lines)
    diff = parse_file_patch("yarn.lock", patch, "added")
    review = Engine(default_rule_set()).review_change([diff], MemoryTree({"yarn.lock": LOCK}))
    assert sorted((f.rule_id, f.line) for f in review.findings) == [
        ("CB-SECRET-001", 5), ("CB-SECRET-003", 6), ("CB-SECRET-009", 4)]


def test_the_generic_rules_do_not_read_generated_text_and_the_format_rules_do() -> None:
    secrets = {rule.id: rule for rule in all_rules() if rule.id.startswith("CB-SECRET-")}
    reading = {rule_id for rule_id, rule in secrets.items() if GENERATED in rule.types}
    assert "CB-SECRET-008" not in reading  # `password = ...`: a package name there, not a password
    assert {"CB-SECRET-001", "CB-SECRET-003", "CB-SECRET-004", "CB-SECRET-009"} <= reading
    assert all("text" in rule.types for rule in secrets.values())
