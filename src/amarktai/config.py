"""Settings from the environment (prefix AMARKTAI_) and the secrets kept in the data dir.

The embedded default must run with zero configuration yet never ship a hard-coded
secret, so missing secrets are generated once and kept (mode 0600) in the data dir.
Production mode refuses to start instead, naming what is missing or weak. The signing
key (Ed25519, `amarktai.kit.signing`) signs track-record exports; its public half is
published so anyone can check an export came from this platform unchanged.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from amarktai.kit import signing
from amarktai.kit.errors import ConfigError

MIN_SECRET_LEN = 32
SECRETS_FILE = "secrets.json"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AMARKTAI_", env_file=".env", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path("var")
    database_url: str | None = None
    redis_url: str | None = None
    secret_key: SecretStr | None = None
    encryption_keys: SecretStr | None = Field(
        default=None, description="Comma-separated Fernet keys; the first encrypts, all decrypt."
    )
    signing_key: SecretStr | None = Field(
        default=None,
        description="Ed25519 private key (base64 of 32 bytes) that signs track-record exports.",
    )
    admin_email: str | None = None
    admin_password: SecretStr | None = None
    demo_email: str | None = None
    demo_password: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    access_token_ttl_s: int = 15 * 60
    refresh_token_ttl_s: int = 30 * 24 * 3600
    max_body_bytes: int = 1024 * 1024
    login_free_attempts: int = 5
    login_lockout_base_s: int = 30
    login_lockout_max_s: int = 3600
    log_json: bool = True
    log_level: str = "INFO"
    web_dist: Path | None = None
    # Real-time: the durable per-user stream keeps at least this many messages and at
    # least this much time (whichever keeps more is trimmed later; Redis trims lazily).
    stream_max_len: int = Field(default=10_000, ge=1)
    stream_max_age_s: float = Field(default=24 * 3600, gt=0)
    ws_queue_size: int = Field(default=1024, ge=1, description="per-client send queue bound")
    ws_heartbeat_s: float = Field(default=15.0, gt=0)
    ws_auth_timeout_s: float = Field(default=10.0, gt=0)
    ws_session_check_s: float = Field(
        default=30.0,
        gt=0,
        description="how often an open socket re-reads its session: the backstop that closes "
        "it when a revocation never reached this process over the bus",
    )
    ws_max_message_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        description="largest client frame or message; bigger ones close the socket (1009)",
    )
    ws_price_interval_s: float = Field(default=1.0, gt=0, description="price/candle throttle")
    # Heavy jobs (backtests, optimisations): in this process by default; "dramatiq" sends
    # them over Redis (AMARKTAI_REDIS_URL) to `amarktai worker` processes.
    job_queue: Literal["inprocess", "dramatiq"] = "inprocess"
    job_workers: int = Field(default=2, ge=1, le=64, description="concurrent jobs per process")

    @cached_property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'amarktai.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")


@dataclass(frozen=True)
class Secrets:
    secret_key: str
    encryption_keys: tuple[str, ...]
    signing_key: str = field(repr=False)  # base64 Ed25519 private key (`kit.signing`)


def _weak(secret: str) -> bool:
    return len(secret) < MIN_SECRET_LEN or len(set(secret)) < 10


def _valid_fernet(key: str) -> bool:
    try:
        Fernet(key.encode())
    except (ValueError, TypeError):
        return False
    return True


def secrets_path(settings: Settings) -> Path:
    return settings.data_dir / SECRETS_FILE


def read_secrets_file(path: Path) -> dict[str, object]:
    if not path.exists():
        return {}
    data: dict[str, object] = json.loads(path.read_text())
    return data


def ensure_private_dir(path: Path) -> None:
    """The data directory holds the database, the secrets and backups: only its owner
    may list or enter it (0700), whatever the umask, also when an older version made it
    0755. A directory someone else owns is left as it is."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o077:
        os.chmod(path, 0o700)


def write_secrets_file(path: Path, data: dict[str, object]) -> None:
    ensure_private_dir(path.parent)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2)
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def resolve_secrets(settings: Settings) -> Secrets:
    """Secrets from the environment, else from (or generated into) the data dir file."""
    env_key = settings.secret_key.get_secret_value() if settings.secret_key else None
    env_fernet = settings.encryption_keys.get_secret_value() if settings.encryption_keys else None
    env_signing = settings.signing_key.get_secret_value() if settings.signing_key else None
    if settings.env == "production":
        problems = []
        if not env_key:
            problems.append("AMARKTAI_SECRET_KEY is missing")
        elif _weak(env_key):
            problems.append(f"AMARKTAI_SECRET_KEY is weak (need >= {MIN_SECRET_LEN} varied chars)")
        if not env_fernet:
            problems.append("AMARKTAI_ENCRYPTION_KEYS is missing")
        if not env_signing:
            problems.append(
                "AMARKTAI_SIGNING_KEY is missing (generate one: amarktai keys new-signing-key)"
            )
        if problems:
            raise ConfigError("refusing to start in production: " + "; ".join(problems))
    path = secrets_path(settings)
    stored = read_secrets_file(path)
    changed = False
    if not env_key:
        if not stored.get("secret_key"):
            stored["secret_key"] = secrets.token_urlsafe(48)
            changed = True
        env_key = str(stored["secret_key"])
    elif _weak(env_key):
        raise ConfigError(f"AMARKTAI_SECRET_KEY is weak (need >= {MIN_SECRET_LEN} varied chars)")
    if env_fernet:
        keys = tuple(k.strip() for k in env_fernet.split(",") if k.strip())
    else:
        if not stored.get("encryption_keys"):
            stored["encryption_keys"] = [Fernet.generate_key().decode()]
            changed = True
        keys = tuple(str(k) for k in stored["encryption_keys"])  # type: ignore[attr-defined]
    bad = [i for i, k in enumerate(keys) if not _valid_fernet(k)]
    if not keys or bad:
        raise ConfigError(f"AMARKTAI_ENCRYPTION_KEYS: key(s) at position {bad} are not Fernet keys")
    signing_source = "AMARKTAI_SIGNING_KEY"
    if not env_signing:
        signing_source = f"signing_key in {path}"
        if not stored.get("signing_key"):
            stored["signing_key"] = signing.generate_private_text()
            changed = True
        env_signing = str(stored["signing_key"])
    try:
        signing.load_private(env_signing)
    except ValueError as exc:
        raise ConfigError(f"{signing_source}: {exc}") from None
    if changed:
        write_secrets_file(path, stored)
    return Secrets(secret_key=env_key, encryption_keys=keys, signing_key=env_signing)


def get_settings() -> Settings:
    return Settings()
