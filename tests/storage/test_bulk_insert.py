"""BulkInsert writes exactly what the ORM writes (same column types, same stored text),
on SQLite and PostgreSQL, and refuses rows of the wrong width before touching the table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

import pytest
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from amarktai.accounts.models import User
from amarktai.db.bulk import BulkInsert
from amarktai.db.engine import make_sessionmaker, transaction
from amarktai.engine.models import Bot, DecisionTrace

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
