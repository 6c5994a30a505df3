"""Secrets rules: what is found, and that a secret's text never leaves the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.model import Violation
from bot.engine.parsers.dockerfile import parse_dockerfile
from bot.engine.review import text_resource
from rules._support import is_placeholder, mask, masked, secret_key
from rules.registry import all_rules

RULES = {rule.id: rule for rule in all_rules() if rule.id.startswith("CB-SECRET-")}
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
    "RoIba7ZzbaqgQQCWA/6LZ2/mXP2+WhzDuX1OFHRb", "Jf2r8PZqWm4kTb7Vx1Nc9Ld3Hs6Ya0Ue5Gi2Ko8R",
    "django-insecure-7q#w9z!k2m@x4v8b", "Wq4Rt8Yu2Io6Pa0S", "pa$$w0rd-2024", "abc<def>ghi123", "Hq4TnZ8wVx2c",
    "Zx81Kq0pLm3Vb7Tc", "R7u#kLm2Qx9zW", "R7ukLm2Qx9z!", "Xk9vR2mPq7Lw", "s3cr3t-Repl1ca", "Tq83!vLm",
    ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzdmMtYmlsbGluZyIsInJvbGUiOiJzZXJ2aWNlX3JvbGUiLCJpYXQiOjE3MTcwMDAwMDB9"
    ".DVWqyfkrFAZd6-6X_yZl-DcI08WoHmiXWnhREl_Asie"),
    "YxWnK8eR/m3rC8noIwWcMK9DFhh2dd6r50jskBcgm1vd+6cQUcoJ1esV2yOnzV3+1BPQO7kJmcpROEu+W/dTEA==",
    "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",
    "AC17bfbf59480e98e99cfe2fea43bebfc6", "SK9bc04025e4d3b1bb3a3f57fbbbdb14a1", "key-36fd3d424bd18d6092fa571c98980c66",
    "npm_mhZXP37XFjT0upP6fBw5G04JRF6D3NxNiNkE",
    ("pypi-AgEIcHlwaS5vcmcmCRuEC2zRqIj4PsEYcOZTNppX50b-RzcbOV9nwog4JkdzFjhQSXO-u-Jh97FhZ58upvQLZo5xMuTThZJjF84Ky9iiL"
    "ixYmpxx-PEy4FWdSNp-fm4VGQnny-2"),
    ("https://contoso.webhook.office.com/webhookb2/b0dc28c2-19b9-6adc-7338-ec8a91508304@5a38d0e4-0719-d91b-2152-"
    "b497d85b37dd/IncomingWebhook/4cead3cfd4257e68460ab25ad947c034/c49b8206-d962-7bd0-108d-3ddc389a8126"),
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
    for rule in RULES.values():
        for path in sorted((FIXTURES / rule.id).rglob("*")):
            if path.is_file():
                resource = text_resource(path.name, enumerate(path.read_text().splitlines(), start=1))
                if resource is not None:
                    found.extend(rule.check(resource, _NoContext()))
    for path in sorted((FIXTURES / "CB-DOCKER-002").rglob("Dockerfile*")):
        parsed = parse_dockerfile(path.name, path.read_text())
        for resource in parsed.resources:
            for rule in (r for r in all_rules() if r.id.startswith("CB-DOCKER-")):
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
def test_a_shown_prefix_is_at_most_a_quarter(secret: str, shown: str) -> None:
    assert masked(secret).shown(with_prefix=True) == shown
    assert masked(secret).shown(with_prefix=False) == mask(secret) == "****"


@pytest.mark.parametrize(
    ("value", "placeholder"),
    [
        ("changeme", True), ("<your-password>", True), ("${DB_PASSWORD}", True), ("{{ .Values.pw }}", True),
        ("********", True), ("xxxxxxxx", True), ("", True), ("$(cat /run/secrets/x)", True), ("foo/bar", True),
        ("Tr0ub4dor&3", False), ("s3cr3t-Value", False),
        # a whole-value reference or a closed template is a placeholder; a `$`, `<` or `>` among the
        # characters of a literal is not
        ("$DB_PASS", True), ("'$DB_PASS'", True), ("$USER:$PASS", True), ("%DB_PASSWORD%", True),
        ("<PASSWORD>", True), ("prefix-${SUFFIX}", True), ("<%= ENV['DB_PASSWORD'] %>", True), ("#{db_pass}", True),
        ("pa$$w0rd", False), ("S3cure$Pass!", False), ("abc<def>ghi123", False), ("a>b<c9Xk", False),
        ("${unclosed", False), ("$(unclosed", False),
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
        ("password: pa$$w0rd-2024", "CB-SECRET-008", True),
        ("password = $DB_PASSWORD", "CB-SECRET-008", False),
        ("$this->password = $config->dbPass;", "CB-SECRET-008", False),
        ("secret_key: Wq4Rt8Yu2Io6Pa0S", "CB-SECRET-008", True),
        ("tokenKey = 'Wq4Rt8Yu2Io6Pa0S'", "CB-SECRET-008", True),
        ("DBPASS=Wq4Rt8Yu2Io6Pa0S", "CB-SECRET-008", False),  # one word: DBPASS could be anything
        ("passthrough = Wq4Rt8Yu2Io6Pa0S", "CB-SECRET-008", False),
        ("update_password: on_create", "CB-SECRET-008", False),
        ("update_password: Wq4Rt8Yu2Io6Pa0S", "CB-SECRET-008", True),
        ("enable_password: s3cr3t-pw", "CB-SECRET-008", True),  # a Cisco enable password is a password
        ("SENDGRID_API_KEY=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", "CB-SECRET-008",
         False),  # reported once, by CB-SECRET-012
        ("DATABASE_URL=postgres://app:Xk9vR2mPq7Lw@db:5432/app", "CB-SECRET-009", True),
        ("DATABASE_URL=postgres://app:Xk9vR2mPq7Lw@[fd00::5]:5432/app", "CB-SECRET-009", True),
        ("git clone https://x-access-token:@github.com/acme/app", "CB-SECRET-009", False),
        ("see https://user@host and http://host:8080@proxy", "CB-SECRET-009", False),
        ("jdbc:postgresql://db:5432/app?user=app&password=Xk9vR2mPq7Lw", "CB-SECRET-009", False),
        ("Authorization: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg", "CB-SECRET-010", True),
        ("slack: https://hooks.slack.com/services/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", "CB-SECRET-005", True),
        ("docs: https://hooks.slack.com/services/incoming-webhooks-reference", "CB-SECRET-005", False),
        ("SID=SK9bc04025e4d3b1bb3a3f57fbbbdb14a1", "CB-SECRET-013", False),  # no sign of Twilio on the line
        ("AccountKey=" + "A" * 86 + "==", "CB-SECRET-011", False),
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
    "a://b:" * 30_000,
    "postgres://u:" + "p" * 100_000 + "@",
    "eyJ" + "a" * 2_000 + "." + "b" * 10_000,
    "eyJhbGciOiJIUzI1NiJ9." * 10_000,
    "AccountKey=" * 20_000,
    "SG." * 50_000,
    "https://x.webhook.office.com/webhookb2/" * 5_000,
    "pypi-AgEIcHlwaS5vcmc" * 10_000,
]


@pytest.mark.timeout(60)  # a regex that backtracks catastrophically never finishes; speed is in bench/
@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_long_hostile_lines_finish_and_are_not_secrets(rule_id: str) -> None:
    for line in HOSTILE_LINES:
        assert scan([line], rule_id) == []
