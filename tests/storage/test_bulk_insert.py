"""BulkInsert writes exactly what the ORM writes (same column types, same stored text),
on SQLite and PostgreSQL, and refuses rows of the wrong width before touching the table."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import cast

import pytest
from sqlalchemy import Table, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from amarktai.accounts.models import User
from amarktai.db.bulk import BulkInsert
from amarktai.db.engine import make_sessionmaker, transaction
from amarktai.engine.models import Bot, DecisionTrace, OrderRow

TRACE = BulkInsert(
    cast(Table, DecisionTrace.__table__),
    ("id", "user_id", "bot_id", "ts", "rule", "signal", "outcome", "trace", "order_id"),
)


async def _owner(engine: AsyncEngine) -> tuple[str, str]:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    async with transaction(make_sessionmaker(engine)) as s:
        user = User(id="u1", email="bulk@example.com", password_hash="x", created_at=now)
        s.add(user)
        await s.flush()
        s.add(
            Bot(
                id="b1",
                user_id="u1",
                name="b",
                strategy="dca",
                params={},
                exchange="sim",
                symbol="BTC/ZAR",
                timeframe_s=60,
                mode="paper_public",
                status="created",
                risk={},
                created_at=now,
                updated_at=now,
            )
        )
    return "u1", "b1"


async def test_bulk_rows_read_back_like_orm_rows(db_engine: AsyncEngine) -> None:
    user, bot = await _owner(db_engine)
    ts = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
    trace = {"rule": "x", "price": 1.5, "nested": {"a": [1, None]}}
    sessions = make_sessionmaker(db_engine)
    async with transaction(sessions) as s:
        await TRACE.run(s, [("t1", user, bot, ts, "rule", 0.25, "hold", trace, None)])
        s.add(
            DecisionTrace(
                id="t2", user_id=user, bot_id=bot, ts=ts, rule="rule", signal=0.25,
                outcome="hold", trace=trace, order_id=None,
            )
        )  # fmt: skip
    async with sessions() as s:
        rows = (await s.execute(select(DecisionTrace).order_by(DecisionTrace.id))).scalars().all()
    bulk, orm = rows
    for name in ("user_id", "bot_id", "ts", "rule", "signal", "outcome", "trace", "order_id"):
        assert getattr(bulk, name) == getattr(orm, name), name
    assert bulk.ts == ts and bulk.ts.tzinfo is not None


async def test_a_row_of_the_wrong_width_writes_nothing(db_engine: AsyncEngine) -> None:
    user, bot = await _owner(db_engine)
    ts = datetime(2026, 3, 4, tzinfo=UTC)
    sessions = make_sessionmaker(db_engine)
    with pytest.raises(ValueError, match="9 values"):
        async with transaction(sessions) as s:
            good = ("t1", user, bot, ts, "rule", 0.0, "hold", {}, None)
            await TRACE.run(s, [good, good[:-1]])
    async with sessions() as s:
        assert (await s.execute(select(DecisionTrace))).first() is None


def test_unknown_columns_are_refused() -> None:
    with pytest.raises(ValueError, match="no column"):
        BulkInsert(cast(Table, DecisionTrace.__table__), ("id", "nope"))


async def test_shared_objects_are_converted_once_equal_values_keep_their_own_text(
    db_engine: AsyncEngine,
) -> None:
    """The per-batch reuse of a converted value is by identity: rows sharing an instant
    read back alike, and equal decimals with different text are each stored as given."""
    user, bot = await _owner(db_engine)
    ts = datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
    table = cast(Table, OrderRow.__table__)
    orders = BulkInsert(table, tuple(table.c.keys()))
    rows = []
    for i, qty in enumerate((Decimal("1.0"), Decimal("1.00"), Decimal("1.0"))):
        values = {
            "id": f"o{i}", "user_id": user, "bot_id": bot, "client_order_id": f"c{i}",
            "symbol": "BTC/ZAR", "side": "buy", "type": "market", "time_in_force": "gtc",
            "qty": qty, "limit_price": None, "stop_price": None, "created_at": ts,
            "status": "filled", "filled_qty": qty, "avg_price": None, "fees": Decimal(0),
            "reason": None, "updated_at": ts, "triggered": False,
        }  # fmt: skip
        rows.append(tuple(values[name] for name in orders.columns))
    sessions = make_sessionmaker(db_engine)
    async with transaction(sessions) as s:
        await orders.run(s, rows)
    async with sessions() as s:
        stored = (await s.execute(select(OrderRow).order_by(OrderRow.id))).scalars().all()
        raw = (await s.execute(text("SELECT qty FROM orders ORDER BY id"))).scalars().all()
    assert [o.created_at for o in stored] == [ts, ts, ts]
    assert [o.qty for o in stored] == [Decimal(1)] * 3
    if db_engine.dialect.name == "sqlite":  # text storage: each row keeps its own digits
        assert raw == ["1.0", "1.00", "1.0"]
