"""Upgrading a database that already holds data (SQLite file)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection

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
