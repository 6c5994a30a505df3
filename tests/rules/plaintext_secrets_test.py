"""Secrets rules: what is found, and that a secret's text never leaves the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.model import Violation
from bot.engine.parsers.dockerfile import parse_dockerfile
from bot.engine.review import text_resource
from rules import dockerfile, plaintext_secrets
from rules._support import is_placeholder, mask, secret_key

RULES = {rule.id: rule for rule in plaintext_secrets.RULES}
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rules"

# Every secret planted in the fixtures (all fake, generated for these tests).
PLANTED = (
    "AKIAUJZDE8GXD6NCF10E", "ASIAPF91DHODZDOC9IS0", "spNxnyVmihA+2O76UMFxFkM+R5Kjp1vRt/1fjORS",
    "yJfm5di4PzJ59FHz5r1pY4OjE2jBMptUsGr7CmY+uCu3ZR1zTOlUcR64cXQLioDn",
    "ghp_MFLZDe1f8rESQedUStPKR0CsTy4Qwb8DwkNh", "gho_FdnXsiVpzz63FfkCzJr4i0B3JrTAwR4y9ojf",
    "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",
    "xoxb-117777412154-7280385280841-S2qHx6kwXoIIXGvOoNZYW2mZ",
    "https://hooks.slack.com/services/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",
    "sk_live_yYTWmE4lBYOvfZ8UzDzV8fUk", "rk_live_kibjL5DZPjN0MEQ7wjJJibaZ", "AIzanr3yBdGBLEPH1qhT61qtc4xatws8phP9nhF",
    "Tr0ub4dor&3xtra", "hunter2-correct-horse", "Zq7Wm2Lp9Xr4Tb6Vn1Hc", "f3b9c2d8e1a7465b9c0d",
    "Pa55w0rd-for-admin", "npm_Zx81Kq0pLm3Vb7Tc9Rw2Ye5Hs4Ua6Jd", "ak_live_4f9d2c7b1e8a6f3d",
    "sntrys_3b8f1c2d9e7a4b6c",
)


def scan(lines: list[str], rule_id: str) -> list[Violation]:
    resource = text_resource("config/app.env", enumerate(lines, start=1))
    assert resource is not None
    return list(RULES[rule_id].check(resource, _NoContext()))


class _NoContext:
    def siblings(self, resource):  # type: ignore[no-untyped-def]
        return [resource]

    def referrers(self, resource, type_=None):  # type: ignore[no-untyped-def]
        return []

    def base(self, resource):  # type: ignore[no-untyped-def]
        return None


def fixture_violations() -> list[Violation]:
    found: list[Violation] = []
    for rule in plaintext_secrets.RULES:
        for path in sorted((FIXTURES / rule.id).rglob("*")):
            if path.is_file():
                resource = text_resource(path.name, enumerate(path.read_text().splitlines(), start=1))
                if resource is not None:
                    found.extend(rule.check(resource, _NoContext()))
    for path in sorted((FIXTURES / "CB-DOCKER-002").rglob("Dockerfile*")):
        parsed = parse_dockerfile(path.name, path.read_text())
        for resource in parsed.resources:
            for rule in dockerfile.RULES:
                found.extend(rule.check(resource, _NoContext()))
    return found


def test_no_secret_text_in_any_violation() -> None:
    found = fixture_violations()
    assert len(found) >= 20
    for violation in found:
        shown = " ".join(str(part) for part in (violation.message, violation.suggestion, violation.key) if part)
        for secret in PLANTED:
            assert secret not in shown
            assert secret[4:] not in shown  # not even the secret minus its well-known prefix


def test_two_secrets_on_a_file_get_different_keys() -> None:
    found = scan(["a = AKIAUJZDE8GXD6NCF10E", "b = AKIAQ2WE3RT4YU5IO6PZ", "c = AKIAUJZDE8GXD6NCF10E"], "CB-SECRET-001")
    assert [v.line for v in found] == [1, 2, 3]
    assert found[0].key == found[2].key != found[1].key
    assert found[0].key == secret_key("AKIAUJZDE8GXD6NCF10E")


@pytest.mark.parametrize(
    ("secret", "shown"),
    [("AKIAUJZDE8GXD6NCF10E", "AKIA****"), ("hunter2hunter2", "hun****"), ("abcdefgh", "ab****"), ("abc", "****")],
)
def test_mask_shows_at_most_a_quarter(secret: str, shown: str) -> None:
    assert mask(secret) == shown


@pytest.mark.parametrize(
    ("value", "placeholder"),
    [
        ("changeme", True), ("<your-password>", True), ("${DB_PASSWORD}", True), ("{{ .Values.pw }}", True),
        ("********", True), ("xxxxxxxx", True), ("", True), ("$(cat /run/secrets/x)", True), ("foo/bar", True),
        ("Tr0ub4dor&3", False), ("s3cr3t-Value", False),
    ],
)
def test_placeholders(value: str, placeholder: bool) -> None:
    assert is_placeholder(value) is placeholder


@pytest.mark.parametrize(
    ("line", "rule_id", "found"),
    [
        ('password = "Tr0ub4dor&3"', "CB-SECRET-008", True),
        ("DB_PASSWORD=Tr0ub4dor&3", "CB-SECRET-008", True),
        ("password := \"Tr0ub4dor&3\"", "CB-SECRET-008", True),
        ("password: ${{ secrets.DB_PASSWORD }}", "CB-SECRET-008", False),
        ("password = os.environ['DB_PASSWORD']", "CB-SECRET-008", False),
        ("password = request.form.password", "CB-SECRET-008", False),
        ("password: DB_PASSWORD_FROM_ENV", "CB-SECRET-008", False),
        ("password: short1", "CB-SECRET-008", False),
        ("password_hash = 'Tr0ub4dor&3'", "CB-SECRET-008", False),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "CB-SECRET-002", False),
        ("key = AKIAIOSFODNN7EXAMPLE", "CB-SECRET-001", False),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", "CB-SECRET-003", True),
        ("    -----BEGIN EC PRIVATE KEY-----", "CB-SECRET-003", True),
        ('if text.startswith("-----BEGIN PRIVATE KEY-----"):', "CB-SECRET-003", False),
        ("-----BEGIN PUBLIC KEY-----", "CB-SECRET-003", False),
        ("token = ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "CB-SECRET-004", False),
        ("key = pk_live_51HqLyjWDarjtT1zdp7dcXYZ1234", "CB-SECRET-006", False),
    ],
)
def test_single_lines(line: str, rule_id: str, found: bool) -> None:
    assert bool(scan([line], rule_id)) is found


def test_private_key_marker_followed_by_prose_is_documentation() -> None:
    assert scan(["-----BEGIN RSA PRIVATE KEY-----", "..."], "CB-SECRET-003") == []
    assert scan(["-----BEGIN RSA PRIVATE KEY-----", "Proc-Type: 4,ENCRYPTED"], "CB-SECRET-003") == []
    assert len(scan(["-----BEGIN RSA PRIVATE KEY-----", "A" * 30 + "b/+" * 12], "CB-SECRET-003")) == 1


HOSTILE_LINES = [
    "a" * 200_000,
    "password=" * 20_000,
    "AKIA" * 50_000,
    "-----BEGIN " * 20_000,
    ("x_" * 40 + "password") * 2_000,
    "password: " + "'" * 100_000,
]


@pytest.mark.timeout(60)  # a regex that backtracks catastrophically never finishes; speed is in bench/
@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_long_hostile_lines_finish_and_are_not_secrets(rule_id: str) -> None:
    for line in HOSTILE_LINES:
        assert scan([line], rule_id) == []
