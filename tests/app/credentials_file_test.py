"""The credentials file /setup writes and serve/worker read: written 0600 and never replaced,
refused when others may read it, the environment winning over it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.app.credentials_file import (
    CredentialsFileError,
    credentials_path,
    read_credentials,
    with_credentials,
    write_credentials,
)
from bot.app.settings import load_settings


@pytest.fixture(scope="module")
def pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


def test_where_it_is() -> None:
    assert credentials_path({"APP_CREDENTIALS_FILE": "/run/app.env", "DATA_DIR": "/data"}) == Path("/run/app.env")
    assert credentials_path({"DATA_DIR": "/data"}) == Path("/data/app.env")


def test_written_then_read_back_into_settings(tmp_path: Path, pem: str) -> None:
    path = tmp_path / "new" / "app.env"
    write_credentials(path, {"APP_ID": "7", "PRIVATE_KEY": pem.strip().replace("\n", "\\n"), "WEBHOOK_SECRET": "s3"},
                      "GitHub App my-bot")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["app.env"]  # no temporary file left
    settings = load_settings(with_credentials({"APP_CREDENTIALS_FILE": str(path)}))
    assert settings.app_id == 7 and settings.webhook_secret.get_secret_value() == "s3"
    assert settings.private_key is not None and settings.private_key.get_secret_value() == pem


def test_the_environment_wins(tmp_path: Path) -> None:
    path = tmp_path / "app.env"
    write_credentials(path, {"APP_ID": "7", "WEBHOOK_SECRET": "from-file"})
    merged = with_credentials({"APP_CREDENTIALS_FILE": str(path), "WEBHOOK_SECRET": "from-env", "APP_ID": ""})
    assert merged["WEBHOOK_SECRET"] == "from-env" and merged["APP_ID"] == "7"
    assert with_credentials({"APP_CREDENTIALS_FILE": str(tmp_path / "none.env")}) == {
        "APP_CREDENTIALS_FILE": str(tmp_path / "none.env")}


def test_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "app.env"
    write_credentials(path, {"APP_ID": "1"})
    with pytest.raises(CredentialsFileError, match="already exists; move it away"):
        write_credentials(path, {"APP_ID": "2"})
    assert read_credentials(path) == {"APP_ID": "1"}


def test_a_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "app.env"
    path.write_text("APP_ID=1\n")
    path.chmod(0o644)
    with pytest.raises(CredentialsFileError, match=r"readable by other users \(mode 0644\); run chmod 600"):
        read_credentials(path)


def test_unknown_lines_are_refused_by_line_without_their_value(tmp_path: Path) -> None:
    path = tmp_path / "app.env"
    path.write_text("# comment\nAPP_ID=1\nDATABASE_URL=postgresql://u:hunter2@db/x\n")
    path.chmod(0o600)
    with pytest.raises(CredentialsFileError, match=r"app.env:3: expected one of APP_ID") as raised:
        read_credentials(path)
    assert "hunter2" not in str(raised.value)


def test_values_on_more_than_one_line_are_not_written(tmp_path: Path) -> None:
    with pytest.raises(CredentialsFileError, match="PRIVATE_KEY cannot be stored"):
        write_credentials(tmp_path / "app.env", {"PRIVATE_KEY": "a\nb"})
    assert not (tmp_path / "app.env").exists()
