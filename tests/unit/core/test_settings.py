"""Settings: environment parsing, masking."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pishkhan.settings import SURFACES, Settings, SettingsError, mask_secret


def test_defaults_are_safe() -> None:
    s = Settings.from_env({})
    assert s.host == "127.0.0.1"  # loopback unless asked otherwise
    assert s.port == 8000
    assert s.workers == 1
    assert s.surfaces == SURFACES
    assert s.admin_token == "" and s.token_secret == ""
    assert s.data_dir == Path("./var")
    assert s.effective_database_url == f"sqlite:///{(Path('./var') / 'pishkhan.sqlite3').resolve()}"


def test_env_parsing(tmp_path: Path) -> None:
    env = {
        "PISHKHAN_DATA_DIR": str(tmp_path),
        "PISHKHAN_DATABASE_URL": " postgresql+psycopg://u:p@db/x ",
        "PISHKHAN_HOST": "0.0.0.0",
        "PISHKHAN_PORT": "9123",
        "PISHKHAN_WORKERS": "3",
        "PISHKHAN_ADMIN_TOKEN": "admintoken123",
        "PISHKHAN_TOKEN_SECRET": "signing-secret",
        "PISHKHAN_SURFACES": " Jibit, payman ,",
        "PISHKHAN_LOG_LEVEL": "debug",
        "PISHKHAN_ACCESS_LOG": "false",
        "PISHKHAN_SEED_WORLD": "0",
        "PISHKHAN_PUBLIC_BASE_URL": "https://sandbox.example/",
        "OTHER_PORT": "1",
    }
    s = Settings.from_env(env)
    assert s.data_dir == tmp_path
    assert s.database_url == "postgresql+psycopg://u:p@db/x"
    assert s.effective_database_url == s.database_url
    assert (s.host, s.port, s.workers) == ("0.0.0.0", 9123, 3)
    assert s.admin_token == "admintoken123" and s.token_secret == "signing-secret"
    assert s.surfaces == ("jibit", "payman")
    assert s.log_level == "DEBUG"
    assert s.access_log is False and s.seed_world is False
    assert s.effective_base_url == "https://sandbox.example"


def test_unknown_surface_rejected() -> None:
    with pytest.raises(SettingsError, match=r"unknown surfaces.*'sepah'"):
        Settings.from_env({"PISHKHAN_SURFACES": "jibit,sepah"})


@pytest.mark.parametrize(
    "env",
    [
        {"PISHKHAN_PORT": "eighty"},
        {"PISHKHAN_PORT": "0"},
        {"PISHKHAN_PORT": "70000"},
        {"PISHKHAN_WORKERS": "0"},
        {"PISHKHAN_WORLD_PEOPLE": "x"},
        {"PISHKHAN_CREDENTIAL_REFRESH": "-1"},
        {"PISHKHAN_CREDENTIAL_REFRESH": "nan"},
        {"PISHKHAN_CREDENTIAL_REFRESH": "soon"},
        {"PISHKHAN_CREDENTIAL_REFRESH": "86401"},
    ],
)
def test_bad_numbers_rejected(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        Settings.from_env(env)


def test_credential_refresh_defaults_to_every_request() -> None:
    assert Settings.from_env({}).credential_refresh == 0.0
    assert Settings.from_env({"PISHKHAN_CREDENTIAL_REFRESH": "0"}).credential_refresh == 0.0
    assert Settings.from_env({"PISHKHAN_CREDENTIAL_REFRESH": "0.5"}).credential_refresh == 0.5
    with pytest.raises(SettingsError, match="CREDENTIAL_REFRESH must be at least 0"):
        Settings.from_env({"PISHKHAN_CREDENTIAL_REFRESH": "-1"})


# Secrets generated into secrets.json, and their check against the database's record: see
# tests/foundation/test_deployment.py.


def test_describe_masks_secrets_and_database_password(tmp_path: Path) -> None:
    s = Settings.from_env(
        {
            "PISHKHAN_DATA_DIR": str(tmp_path),
            "PISHKHAN_DATABASE_URL": "postgresql+psycopg://app:s3cr3t@db.internal:5432/pk",
            "PISHKHAN_ADMIN_TOKEN": "adm-0123456789",
            "PISHKHAN_TOKEN_SECRET": "sig-abcdefghij",
        }
    )
    described = s.describe()
    text = json.dumps(described)
    for secret in ("s3cr3t", "adm-0123456789", "sig-abcdefghij"):
        assert secret not in text
    assert described["database_url"] == "postgresql+psycopg://app:***@db.internal:5432/pk"
    assert described["admin_token"] == "ad***89"
    assert described["token_secret"] == "si***ij"
    assert described["surfaces"] == list(SURFACES)
    assert described["data_dir"] == str(tmp_path)
    assert "extra" not in described
    unset = Settings.from_env({"PISHKHAN_DATA_DIR": str(tmp_path)}).describe()
    assert unset["admin_token"] == (
        "(not set: generated into data_dir/secrets.json on a new database)"
    )
    assert unset["database_url"].startswith("sqlite:///")


def test_mask_secret_short_values() -> None:
    assert mask_secret("abcd") == "***"
    assert mask_secret("abcdefgh") == "ab***gh"


def test_state_refresh_defaults_to_a_second_and_may_be_zero() -> None:
    assert Settings.from_env({}).state_refresh == 1.0
    assert Settings.from_env({"PISHKHAN_STATE_REFRESH": "0"}).state_refresh == 0.0
    with pytest.raises(SettingsError, match="STATE_REFRESH must be at least 0"):
        Settings.from_env({"PISHKHAN_STATE_REFRESH": "-1"})
