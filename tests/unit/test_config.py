"""Secrets: generated once and kept 0600 on the embedded default; production refuses weak ones."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from amarktai.config import Settings, resolve_secrets
from amarktai.kit import signing
from amarktai.kit.errors import ConfigError


def test_embedded_default_generates_and_keeps_secrets(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = resolve_secrets(settings)
    path = tmp_path / "secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.secret_key) >= 32 and len(first.encryption_keys) == 1
    signing.load_private(first.signing_key)  # a usable Ed25519 key, generated once
    assert first.signing_key not in repr(first)
    assert resolve_secrets(settings) == first  # kept, not regenerated
    assert settings.effective_database_url.endswith("amarktai.db")


@pytest.mark.parametrize(
    ("secret", "keys", "needle"),
    [
        (None, None, "AMARKTAI_SECRET_KEY is missing"),
        ("short", "k", "AMARKTAI_SECRET_KEY is weak"),
        ("a" * 40, "k", "AMARKTAI_SECRET_KEY is weak"),
        ("x7Gq2LpZ9vR4mN8sT1wY6bK3cF5hJ0dA", None, "AMARKTAI_ENCRYPTION_KEYS is missing"),
    ],
)
def test_production_refuses_missing_or_weak(
    tmp_path: Path, secret: str | None, keys: str | None, needle: str
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        env="production",
        secret_key=SecretStr(secret) if secret else None,
        encryption_keys=SecretStr(keys) if keys else None,
    )
    with pytest.raises(ConfigError, match=needle):
        resolve_secrets(settings)
    assert not (tmp_path / "secrets.json").exists()


def test_production_accepts_strong_secrets_and_rejects_bad_fernet(tmp_path: Path) -> None:
    good = Fernet.generate_key().decode()
    strong = "x7Gq2LpZ9vR4mN8sT1wY6bK3cF5hJ0dA"
    signer = signing.generate_private_text()
    settings = Settings(
        data_dir=tmp_path,
        env="production",
        secret_key=SecretStr(strong),
        encryption_keys=SecretStr(f"{good}, {Fernet.generate_key().decode()}"),
        signing_key=SecretStr(signer),
    )
    assert resolve_secrets(settings).encryption_keys[0] == good
    assert resolve_secrets(settings).signing_key == signer
    bad = Settings(
        data_dir=tmp_path,
        env="production",
        secret_key=SecretStr(strong),
        encryption_keys=SecretStr("not-a-key"),
        signing_key=SecretStr(signer),
    )
    with pytest.raises(ConfigError, match="position"):
        resolve_secrets(bad)


def test_production_refuses_a_missing_or_bad_signing_key(tmp_path: Path) -> None:
    """Track-record exports are signed with it: production never runs on a generated one
    (it would change with the data dir, and every published key with it)."""
    strong = "x7Gq2LpZ9vR4mN8sT1wY6bK3cF5hJ0dA"
    fernet = SecretStr(Fernet.generate_key().decode())
    missing = Settings(
        data_dir=tmp_path, env="production", secret_key=SecretStr(strong), encryption_keys=fernet
    )
    with pytest.raises(ConfigError, match="AMARKTAI_SIGNING_KEY is missing"):
        resolve_secrets(missing)
    for text in ("short", "A" * 44):
        bad = Settings(data_dir=tmp_path, signing_key=SecretStr(text))
        with pytest.raises(ConfigError, match="AMARKTAI_SIGNING_KEY"):
            resolve_secrets(bad)
