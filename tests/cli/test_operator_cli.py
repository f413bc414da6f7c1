"""What an operator needs at the console (issue 15 item 11): a password reset (also for a
lost demo password), breaker resets, and bot ids whole at 80 columns."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from tests.cli.test_cli import run
from tests.cli.test_ledger_cli import cli

from amarktai.accounts.passwords import Passwords
from amarktai.bootstrap import ensure_demo_user
from amarktai.config import Settings
from amarktai.db.engine import make_engine, make_sessionmaker, transaction
from amarktai.engine.models import Bot
from amarktai.runtime import build_runtime

NEW = "a brand new long password"


def _hash_of(data: Path, email: str) -> str:
    with sqlite3.connect(data / "amarktai.db") as conn:
        return str(
            conn.execute("SELECT password_hash FROM users WHERE email = ?", (email,)).fetchone()[0]
        )


def _user(data: Path, email: str = "ops@example.com") -> None:
    assert cli(data, "db", "upgrade").returncode == 0
    made = cli(data, "users", "create", "--email", email, "--password", "the first long password")
    assert made.returncode == 0, made.stderr


def test_set_password_resets_it_and_signs_every_session_out(tmp_path: Path) -> None:
    data = tmp_path / "var"
    _user(data)
    with sqlite3.connect(data / "amarktai.db") as conn:
        uid = conn.execute("SELECT id FROM users").fetchone()[0]
        conn.execute(
            "INSERT INTO auth_sessions (id, user_id, created_at, last_used_at, expires_at) "
            "VALUES ('s1', ?, '2026-01-01', '2026-01-01', '2099-01-01')",
            (uid,),
        )
    r = cli(data, "users", "set-password", "--email", "OPS@example.com", "--password", NEW)
    assert r.returncode == 0, r.stderr
    assert "1 session(s) signed out" in r.stdout
    assert Passwords().verify(_hash_of(data, "ops@example.com"), NEW)
    with sqlite3.connect(data / "amarktai.db") as conn:
        reason = conn.execute("SELECT revoke_reason FROM auth_sessions").fetchone()[0]
        events = [e for (e,) in conn.execute("SELECT event FROM audit_log")]
    assert reason == "password_reset" and "user.password_reset" in events
    weak = cli(data, "users", "set-password", "--email", "ops@example.com", "--password", "x")
    assert weak.returncode == 1 and "weak_password" in weak.stderr
    unknown = cli(data, "users", "set-password", "--email", "no@example.com", "--password", NEW)
    assert unknown.returncode == 1 and "user_not_found" in unknown.stderr


def test_the_demo_password_from_the_environment_wins_over_a_lost_one(tmp_path: Path) -> None:
    data = tmp_path / "var"
    _user(data, "demo@example.com")
    before = _hash_of(data, "demo@example.com")

    async def start(password: str | None) -> None:
        settings = Settings(data_dir=data, env="test", demo_password=password)
        runtime = build_runtime(settings, passwords=Passwords(time_cost=1, memory_kib=1024))
        try:
            await ensure_demo_user(runtime)
        finally:
            await runtime.close()

    asyncio.run(start(None))  # not named: the existing password stays
    assert _hash_of(data, "demo@example.com") == before
    asyncio.run(start(NEW))
    assert Passwords().verify(_hash_of(data, "demo@example.com"), NEW)
    changed = _hash_of(data, "demo@example.com")
    asyncio.run(start(NEW))  # already that password: no new hash, no new audit entry
    assert _hash_of(data, "demo@example.com") == changed


async def _bot(data: Path, email: str) -> str:
    engine = make_engine(f"sqlite+aiosqlite:///{data / 'amarktai.db'}")
    now = datetime.now(UTC)
    async with transaction(make_sessionmaker(engine)) as s:
        user_id = (
            await s.execute(text("SELECT id FROM users WHERE email = :e"), {"e": email})
        ).scalar_one()
        s.add(Bot(id="botcli0000000000000000001", user_id=user_id, name="a long bot name",
                  strategy="dca", params={}, exchange="sim", symbol="BTC/ZAR", timeframe_s=60,
                  mode="paper_public", status="running", risk={}, created_at=now,
                  updated_at=now))  # fmt: skip
    await engine.dispose()
    return "botcli0000000000000000001"


def test_bots_list_keeps_ids_whole_and_risk_reset_releases_halted_bots(tmp_path: Path) -> None:
    data = tmp_path / "var"
    _user(data)
    bot_id = asyncio.run(_bot(data, "ops@example.com"))
    narrow = run(data, "bots", "list", env={"COLUMNS": "80"})  # a real 80-column console
    assert narrow.returncode == 0, narrow.stderr
    assert bot_id in narrow.stdout, narrow.stdout
    assert re.search(r"\b[0-9a-z]{26}\b", narrow.stdout)  # the user id, whole too

    stopped = cli(data, "emergency-stop", "--user", "ops@example.com")
    assert stopped.returncode == 0, stopped.stderr
    nothing = cli(data, "risk", "reset", "--platform")
    assert nothing.returncode == 1 and "no_active_breaker" in nothing.stderr
    reset = cli(data, "risk", "reset", "--user", "ops@example.com")
    assert reset.returncode == 0, reset.stderr
    assert f"1 bot(s) paused and ready to start: {bot_id}" in reset.stdout
    with sqlite3.connect(data / "amarktai.db") as conn:
        assert conn.execute("SELECT status FROM bots").fetchone()[0] == "paused"
    both = cli(data, "risk", "reset", "--user", "ops@example.com", "--platform")
    assert both.returncode == 1 and "exactly one" in both.stderr
