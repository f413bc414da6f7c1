"""The CLI as an operator runs it: real processes on a SQLite data dir."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

AMARKTAI = [sys.executable, "-m", "amarktai.cli.main"]


def run(
    data: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "AMARKTAI_DATA_DIR": str(data), **(env or {})}
    full_env.pop("AMARKTAI_DATABASE_URL", None)
    return subprocess.run(
        [*AMARKTAI, *args], env=full_env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "var"


def test_db_upgrade_users_create_and_audit_verify(data: Path) -> None:
    assert run(data, "db", "upgrade").returncode == 0
    r = run(
        data,
        "users",
        "create",
        "--email",
        "ops@example.com",
        "--password",
        "a long admin password",
        "--admin",
    )
    assert r.returncode == 0, r.stderr
    assert "created admin ops@example.com" in r.stdout
    dup = run(
        data, "users", "create", "--email", "ops@example.com", "--password", "a long admin password"
    )
    assert dup.returncode == 1 and "email_taken" in dup.stderr
    weak = run(data, "users", "create", "--email", "x@example.com", "--password", "short")
    assert weak.returncode == 1 and "weak_password" in weak.stderr
    ok = run(data, "audit", "verify")
    assert ok.returncode == 0 and "1 entries verified" in ok.stdout
    with sqlite3.connect(data / "amarktai.db") as conn:
        conn.execute('UPDATE audit_log SET details = \'{"email": "evil"}\' WHERE seq = 1')
    bad = run(data, "audit", "verify")
    assert bad.returncode == 1 and "broken at entry 1" in bad.stderr


def test_keys_rotate_reencrypts_everything(data: Path) -> None:
    assert run(data, "db", "upgrade").returncode == 0
    from cryptography.fernet import Fernet

    secrets = json.loads((data / "secrets.json").read_text())
    old_key = secrets["encryption_keys"][0]
    token = Fernet(old_key.encode()).encrypt(b"exchange-secret").decode()
    with sqlite3.connect(data / "amarktai.db") as conn:
        conn.execute(
            "INSERT INTO users (id, email, password_hash, role, is_active, totp_enabled, "
            "created_at) VALUES ('u1', 'k@example.com', 'x', 'trader', 1, 0, '2026-01-01')"
        )
        conn.execute(
            "INSERT INTO api_keys (id, user_id, exchange, label, key_enc, secret_enc, key_hint, "
            "created_at) VALUES ('k1', 'u1', 'luno', 'l', ?, ?, 'h', '2026-01-01')",
            (token, token),
        )
    r = run(data, "keys", "rotate", "--drop-old")
    assert r.returncode == 0, r.stderr
    assert "re-encrypted 1 stored secrets" in r.stdout
    new_keys = json.loads((data / "secrets.json").read_text())["encryption_keys"]
    assert new_keys != [old_key] and len(new_keys) == 1
    with sqlite3.connect(data / "amarktai.db") as conn:
        stored = conn.execute("SELECT secret_enc FROM api_keys").fetchone()[0]
    assert Fernet(new_keys[0].encode()).decrypt(stored.encode()) == b"exchange-secret"
    assert run(data, "audit", "verify").returncode == 0


def test_production_mode_refuses_to_start_and_says_why(data: Path) -> None:
    r = run(data, "db", "upgrade", env={"AMARKTAI_ENV": "production"})
    assert r.returncode == 2 and "AMARKTAI_SECRET_KEY is missing" in r.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_demo_starts_migrates_and_prints_demo_login(data: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "AMARKTAI_DATA_DIR": str(data),
        "AMARKTAI_DEMO_EMAIL": "d@example.com",
        "AMARKTAI_DEMO_PASSWORD": "demo password 123",
    }
    proc = subprocess.Popen(
        [*AMARKTAI, "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as r:
                    assert json.loads(r.read())["status"] == "ready"
                    break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.3)
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/auth/login",
            data=json.dumps({"email": "d@example.com", "password": "demo password 123"}).encode(),
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as r:
            assert "access_token" in json.loads(r.read())
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
    assert "demo login (shown once): d@example.com" in out
