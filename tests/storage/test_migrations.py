"""Upgrading a database that already holds data (SQLite file; 0007 on PostgreSQL too)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from amarktai.db.engine import make_engine
from amarktai.db.migrate import alembic_config, current_revision, head_revision, upgrade

FILL = (
    "INSERT INTO fills (id, order_id, user_id, bot_id, ts, symbol, side, price, qty, fee, "
    "fee_asset, liquidity) VALUES ('f1', 'o1', 'u1', 'b1', '2026-01-01 00:00:00', 'BTC/ZAR', "
    "'buy', '1', '0.1', '0', 'ZAR', 'maker')"
)
ORDER = (
    "INSERT INTO orders (id, user_id, bot_id, client_order_id, symbol, side, type, "
    "time_in_force, qty, status, filled_qty, fees, created_at, updated_at) VALUES "
    "('o1', 'u1', 'b1', 'c1', 'BTC/ZAR', 'buy', 'stop_limit', 'GTC', '0.1', 'open', '0', "
    "'0', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
)


async def test_orders_placed_before_0006_read_back_untriggered_and_it_downgrades(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    await upgrade(engine, "0005")
    async with engine.begin() as conn:
        await conn.execute(text("PRAGMA foreign_keys=OFF"))  # the order alone is enough
        await conn.execute(text(ORDER))
        await conn.execute(text(FILL))
    await upgrade(engine)
    assert await current_revision(engine) == head_revision()
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT id, triggered FROM orders"))).all()
    assert [tuple(r) for r in rows] == [("o1", 0)]

    def downgrade(conn: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")

    async with engine.begin() as conn:
        await conn.run_sync(downgrade)
        columns = [r[1] for r in (await conn.execute(text("PRAGMA table_info(orders)"))).all()]
        assert "triggered" not in columns
        for table in ("orders", "fills"):  # the rows survive the column
            count = await conn.execute(text(f"SELECT count(*) FROM {table}"))
            assert count.scalar_one() == 1
    await engine.dispose()


USER = (
    "INSERT INTO users (id, email, password_hash, role, is_active, totp_secret_enc, "
    "totp_enabled, created_at) VALUES ('u1', 'a@example.com', 'h', 'trader', true, 'enc', "
    "true, '2026-01-01 00:00:00')"
)


async def _pg_execute(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own (no revision applied), on each backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
        return
    server: str = request.getfixturevalue("postgres_url")  # skips when there is no server
    dsn = server.replace("postgresql+asyncpg://", "postgresql://")
    name = f"amarktai_m_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_execute(dsn, f'CREATE DATABASE "{name}"'))
    yield f"{server.rpartition('/')[0]}/{name}"
    asyncio.run(_pg_execute(dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _downgrade_to(revision: str) -> Callable[[Connection], None]:
    def run(conn: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)

    return run


def _user_columns(conn: Connection) -> list[str]:
    return [c["name"] for c in inspect(conn).get_columns("users")]


async def test_0007_totp_last_step_upgrades_empty_and_downgrades_keeping_users(
    blank_url: str,
) -> None:
    pool = {"poolclass": NullPool} if blank_url.startswith("postgresql") else {}
    engine = make_engine(blank_url, **pool)
    await upgrade(engine, "0006")
    async with engine.begin() as conn:
        await conn.execute(text(USER))
    await upgrade(engine, "0007")
    async with engine.connect() as conn:
        row = (await conn.execute(text("SELECT id, totp_last_step FROM users"))).one()
    assert tuple(row) == ("u1", None)  # no code accepted yet: the next valid one passes
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE users SET totp_last_step = 59000000"))

    async with engine.begin() as conn:
        await conn.run_sync(_downgrade_to("0006"))
        assert "totp_last_step" not in await conn.run_sync(_user_columns)
        users = await conn.execute(text("SELECT id, totp_enabled FROM users"))
        assert [r[0] for r in users] == ["u1"]  # the account and its 2FA survive
    await upgrade(engine)
    assert await current_revision(engine) == head_revision()
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT totp_last_step FROM users"))).scalar_one() is None
    await engine.dispose()


async def test_0008_feature_settings_upgrades_and_downgrades(blank_url: str) -> None:
    pool = {"poolclass": NullPool} if blank_url.startswith("postgresql") else {}
    engine = make_engine(blank_url, **pool)
    await upgrade(engine, "0008")
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO feature_settings (feature, scope, updated_at) "
                "VALUES ('backtests', 'trader', '2026-12-07 00:00:00+00:00')"
            )
        )
    async with engine.begin() as conn:
        await conn.run_sync(_downgrade_to("0007"))
        assert "feature_settings" not in await conn.run_sync(lambda c: inspect(c).get_table_names())
    await upgrade(engine)
    async with engine.connect() as conn:  # back up: empty, so every feature is visible
        assert (await conn.execute(text("SELECT count(*) FROM feature_settings"))).scalar() == 0
    await engine.dispose()
