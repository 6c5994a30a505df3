"""Settings: Probot's names, defaults, one-line errors, and secrets that never show."""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import ValidationError

from bot.app.settings import Settings, SettingsError, load_settings, redact_url

SECRET = "webhook-secret-for-tests"


def _pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, fmt: serialization.PrivateFormat,
         encryption: serialization.KeySerializationEncryption | None = None) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, fmt, encryption or serialization.NoEncryption()
    ).decode()


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def pem(rsa_key: rsa.RSAPrivateKey) -> str:
    # GitHub hands out PKCS#1 ("BEGIN RSA PRIVATE KEY") keys.
    return _pem(rsa_key, serialization.PrivateFormat.TraditionalOpenSSL)


@pytest.fixture()
def env(pem: str) -> dict[str, str]:
    return {"APP_ID": "123456", "PRIVATE_KEY": pem, "WEBHOOK_SECRET": SECRET}


def _error(env: dict[str, str]) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    message = str(caught.value)
    assert "\n" not in message, "the error must be one line"
    return message


def test_defaults(env: dict[str, str], pem: str) -> None:
    settings = load_settings(env)
    assert settings.app_id == 123456
    assert settings.private_key is not None
    assert settings.private_key.get_secret_value() == pem
    assert settings.webhook_secret.get_secret_value() == SECRET
    assert settings.github_api_url == "https://api.github.com"
    assert settings.redis_url is None
    assert settings.log_level == "INFO"
    assert settings.check_name == "compliance"
    assert settings.worker_concurrency == 4
    assert settings.http_timeout == 10.0
    assert (settings.review_seconds, settings.review_memory_mb) == (600.0, 2048)
    assert (settings.worker_heartbeat, settings.claim_idle, settings.shutdown_grace) == (10.0, 30.0, 25.0)


def test_every_setting_is_read(env: dict[str, str]) -> None:
    env.update(
        GITHUB_API_URL="https://ghe.example.com/api/v3/",
        REDIS_URL="redis://127.0.0.1:6379/2",
        LOG_LEVEL="debug",
        CHECK_NAME="policy",
        WORKER_CONCURRENCY="8",
        HTTP_TIMEOUT="2.5",
        REVIEW_SECONDS="120",
        REVIEW_MEMORY_MB="1024",
        WORKER_HEARTBEAT="2",
        CLAIM_IDLE="9",
        SHUTDOWN_GRACE="0",
    )
    settings = load_settings(env)
    assert (settings.review_seconds, settings.review_memory_mb) == (120.0, 1024)
    assert (settings.worker_heartbeat, settings.claim_idle, settings.shutdown_grace) == (2.0, 9.0, 0.0)
    assert settings.github_api_url == "https://ghe.example.com/api/v3"
    assert settings.redis_url == "redis://127.0.0.1:6379/2"
    assert settings.log_level == "DEBUG"
    assert settings.check_name == "policy"
    assert settings.worker_concurrency == 8
    assert settings.http_timeout == 2.5


def test_reads_os_environ_by_default(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CHECK_NAME", "from-environ")
    assert load_settings().check_name == "from-environ"
    assert Settings().check_name == "from-environ"  # type: ignore[call-arg]  # plain construction reads the environment


def test_names_are_case_sensitive_and_empty_means_unset(env: dict[str, str]) -> None:
    env["check_name"] = "lowercase-is-not-the-setting"
    env["REDIS_URL"] = ""
    settings = load_settings(env)
    assert settings.check_name == "compliance"
    assert settings.redis_url is None


def test_escaped_single_line_key(env: dict[str, str], pem: str) -> None:
    env["PRIVATE_KEY"] = pem.replace("\n", "\\n")
    assert "\n" not in env["PRIVATE_KEY"]
    settings = load_settings(env)
    assert settings.private_key is not None
    assert settings.private_key.get_secret_value() == pem


def test_base64_key_and_pkcs8_key(env: dict[str, str], pem: str, rsa_key: rsa.RSAPrivateKey) -> None:
    env["PRIVATE_KEY"] = base64.b64encode(pem.encode()).decode()
    assert load_settings(env).private_key.get_secret_value() == pem  # type: ignore[union-attr]
    env["PRIVATE_KEY"] = _pem(rsa_key, serialization.PrivateFormat.PKCS8)
    assert "BEGIN PRIVATE KEY" in load_settings(env).private_key.get_secret_value()  # type: ignore[union-attr]


def test_private_key_path(env: dict[str, str], pem: str, tmp_path: Path) -> None:
    key_file = tmp_path / "app.private-key.pem"
    key_file.write_text(pem)
    del env["PRIVATE_KEY"]
    env["PRIVATE_KEY_PATH"] = str(key_file)
    settings = load_settings(env)
    assert settings.private_key is not None
    assert settings.private_key.get_secret_value() == pem
    assert settings.private_key_path == key_file


def test_private_key_wins_over_path_like_probot(env: dict[str, str], pem: str, tmp_path: Path) -> None:
    env["PRIVATE_KEY_PATH"] = str(tmp_path / "does-not-exist.pem")
    assert load_settings(env).private_key.get_secret_value() == pem  # type: ignore[union-attr]


def test_missing_everything_names_each_setting_on_one_line() -> None:
    message = _error({})
    assert message == (
        "APP_ID is required (the GitHub App's numeric id); "
        "PRIVATE_KEY is required (the GitHub App's PEM private key, or set PRIVATE_KEY_PATH); "
        "WEBHOOK_SECRET is required (the secret GitHub signs webhook deliveries with)"
    )


def test_missing_app_id(env: dict[str, str]) -> None:
    del env["APP_ID"]
    assert _error(env) == "APP_ID is required (the GitHub App's numeric id)"


def test_missing_secret(env: dict[str, str]) -> None:
    del env["WEBHOOK_SECRET"]
    assert _error(env) == "WEBHOOK_SECRET is required (the secret GitHub signs webhook deliveries with)"


def test_missing_key(env: dict[str, str]) -> None:
    del env["PRIVATE_KEY"]
    assert _error(env) == "PRIVATE_KEY is required (the GitHub App's PEM private key, or set PRIVATE_KEY_PATH)"


def test_key_file_not_found(env: dict[str, str]) -> None:
    del env["PRIVATE_KEY"]
    env["PRIVATE_KEY_PATH"] = "/x"
    assert _error(env) == "PRIVATE_KEY_PATH: file not found: /x"


def test_key_path_is_a_directory(env: dict[str, str], tmp_path: Path) -> None:
    del env["PRIVATE_KEY"]
    env["PRIVATE_KEY_PATH"] = str(tmp_path)
    assert _error(env) == f"PRIVATE_KEY_PATH: is a directory, not a key file: {tmp_path}"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("APP_ID", "my-app", "APP_ID: must be an integer (the GitHub App's numeric id)"),
        ("APP_ID", "0", "APP_ID: must be greater than 0 (the GitHub App's numeric id)"),
        ("WORKER_CONCURRENCY", "0", "WORKER_CONCURRENCY: must be at least 1"),
        ("WORKER_CONCURRENCY", "four", "WORKER_CONCURRENCY: must be an integer"),
        ("HTTP_TIMEOUT", "soon", "HTTP_TIMEOUT: must be a number"),
        ("HTTP_TIMEOUT", "0", "HTTP_TIMEOUT: must be greater than 0"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("GITHUB_API_URL", "api.github.com", "GITHUB_API_URL: must be an http(s) URL such as https://api.github.com"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL: must be a redis://, rediss:// or unix:// URL"),
        ("WEBHOOK_SECRET", "   ", "WEBHOOK_SECRET is required (the secret GitHub signs webhook deliveries with)"),
    ],
)
def test_invalid_values_are_named(env: dict[str, str], name: str, value: str, expected: str) -> None:
    env[name] = value
    assert _error(env) == expected


def test_two_problems_one_line(env: dict[str, str]) -> None:
    env["APP_ID"] = "x"
    env["HTTP_TIMEOUT"] = "-1"
    assert _error(env) == (
        "APP_ID: must be an integer (the GitHub App's numeric id); HTTP_TIMEOUT: must be greater than 0"
    )


def test_garbage_key_is_rejected_without_echo(env: dict[str, str], pem: str) -> None:
    body = pem.splitlines()[5]
    env["PRIVATE_KEY"] = "-----BEGIN RSA PRIVATE KEY-----\n" + body + "\n-----END RSA PRIVATE KEY-----\n"
    message = _error(env)
    assert message.startswith("PRIVATE_KEY: not a valid PEM private key")
    assert body not in message


def test_not_pem_at_all(env: dict[str, str]) -> None:
    env["PRIVATE_KEY"] = "hunter2-is-not-a-key"
    message = _error(env)
    assert message == "PRIVATE_KEY: not a PEM private key (expected '-----BEGIN RSA PRIVATE KEY-----')"
    assert "hunter2" not in message


def test_path_given_as_key_gets_a_hint(env: dict[str, str]) -> None:
    env["PRIVATE_KEY"] = "/etc/bot/key.pem"
    assert _error(env) == "PRIVATE_KEY: looks like a file path; put the path in PRIVATE_KEY_PATH instead"


def test_ec_key_is_not_an_rsa_key(env: dict[str, str]) -> None:
    env["PRIVATE_KEY"] = _pem(ec.generate_private_key(ec.SECP256R1()), serialization.PrivateFormat.PKCS8)
    assert _error(env) == "PRIVATE_KEY: not an RSA private key (GitHub App keys are RSA; this is an EC key)"


def test_encrypted_key(env: dict[str, str], rsa_key: rsa.RSAPrivateKey) -> None:
    env["PRIVATE_KEY"] = _pem(rsa_key, serialization.PrivateFormat.PKCS8,
                              serialization.BestAvailableEncryption(b"pass"))
    assert _error(env) == "PRIVATE_KEY: the private key is encrypted; use the unencrypted key GitHub generated"


def test_bad_key_file_names_the_path(env: dict[str, str], tmp_path: Path) -> None:
    key_file = tmp_path / "key.pem"
    key_file.write_text("not a key")
    del env["PRIVATE_KEY"]
    env["PRIVATE_KEY_PATH"] = str(key_file)
    assert _error(env) == (
        f"PRIVATE_KEY_PATH ({key_file}): not a PEM private key (expected '-----BEGIN RSA PRIVATE KEY-----')"
    )


def test_repr_and_str_hide_key_secret_and_redis_password(env: dict[str, str], pem: str,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    env["REDIS_URL"] = "redis://worker:redis-pass-123@cache:6379/0"
    settings = load_settings(env)
    key_line = pem.splitlines()[3]
    for text in (repr(settings), str(settings), f"{settings}", f"{settings!r}"):
        assert key_line not in text
        assert "BEGIN RSA" not in text
        assert SECRET not in text
        assert "redis-pass-123" not in text
        assert "app_id=123456" in text
        assert "redis://worker:***@cache:6379/0" in text
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("settings: %s %r", settings, settings)
    assert SECRET not in caplog.text and key_line not in caplog.text
    assert settings.redis_url_redacted == "redis://worker:***@cache:6379/0"


def test_validation_errors_from_plain_construction_do_not_echo_the_key(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    env["PRIVATE_KEY"] = "-----BEGIN RSA PRIVATE KEY-----\nsecret-material-xyz\n-----END RSA PRIVATE KEY-----"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(Exception) as caught:
        Settings()  # type: ignore[call-arg]
    assert "secret-material-xyz" not in str(caught.value)
    assert "secret-material-xyz" not in repr(caught.value)


def test_settings_are_immutable(env: dict[str, str]) -> None:
    settings = load_settings(env)
    with pytest.raises(ValidationError, match="frozen"):
        settings.app_id = 1
    assert settings.app_id == 123456


def test_redact_url() -> None:
    assert redact_url("redis://:pw@h:1/0") == "redis://:***@h:1/0"
    assert redact_url("rediss://user:pw@h") == "rediss://user:***@h"
    assert redact_url("redis://h:6379") == "redis://h:6379"


def test_plain_construction_reads_only_the_uppercase_names(env: dict[str, str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("check_name", "lowercase-is-not-the-setting")
    assert Settings().check_name == "compliance"  # type: ignore[call-arg]
    # Keyword arguments use the same names (handy in other tests).
    assert Settings(APP_ID=7, PRIVATE_KEY=env["PRIVATE_KEY"], WEBHOOK_SECRET="s").app_id == 7  # type: ignore[call-arg]


def test_settings_come_only_from_the_mapping_handed_in(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://elsewhere:6379/0")
    monkeypatch.setenv("CHECK_NAME", "from-the-process")
    settings = load_settings(env)
    assert settings.redis_url is None and settings.check_name == "compliance"
    assert load_settings({**env, "REDIS_NAMESPACE": "team-a"}).redis_namespace == "team-a"
    assert "REDIS_NAMESPACE: may hold only letters" in _error({**env, "REDIS_NAMESPACE": "no spaces"})


def test_claim_idle_follows_the_heartbeat_and_must_outlast_it(env: dict[str, str]) -> None:
    assert load_settings({**env, "WORKER_HEARTBEAT": "1"}).claim_idle == 3.0
    assert "CLAIM_IDLE: must be longer than WORKER_HEARTBEAT" in _error({**env, "WORKER_HEARTBEAT": "5",
                                                                        "CLAIM_IDLE": "5"})
    assert "REVIEW_MEMORY_MB: must be at least 256" in _error({**env, "REVIEW_MEMORY_MB": "64"})
    assert "REVIEW_SECONDS: must be greater than 0" in _error({**env, "REVIEW_SECONDS": "0"})


def test_public_url_log_format_and_report_ttl(env: dict[str, str]) -> None:
    settings = load_settings(env)
    assert (settings.public_url, settings.log_format, settings.report_ttl_days) == (None, "json", 30)
    settings = load_settings({**env, "PUBLIC_URL": "https://bot.example.com:8443/compliance/", "LOG_FORMAT": "TEXT",
                              "REPORT_TTL_DAYS": "7"})
    assert (settings.public_url, settings.log_format, settings.report_ttl_days) == (
        "https://bot.example.com:8443/compliance", "text", 7)
    for bad in ("bot.example.com", "ftp://bot.example.com", "https://", "https://bot.example.com/?x=1",
                "https://bot.example.com/#top", "javascript:alert(1)", "https://bot example.com"):
        assert _error({**env, "PUBLIC_URL": bad}) == ("PUBLIC_URL: must be the server's public http(s) base URL, "
                                                      "such as https://bot.example.com"), bad
    assert _error({**env, "LOG_FORMAT": "xml"}) == "LOG_FORMAT: must be json or text"
    assert _error({**env, "REPORT_TTL_DAYS": "0"}) == "REPORT_TTL_DAYS: must be at least 1"
