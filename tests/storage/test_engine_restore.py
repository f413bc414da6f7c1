"""A restart: the engine puts its running bots' resting orders back on the paper venue,
so an order the database still shows open goes on to fill (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from amarktai.accounts.models import User
from amarktai.db.engine import make_sessionmaker, transaction
from amarktai.engine.models import FillRow, OrderRow
from amarktai.engine.recorder import Recorder
from amarktai.engine.runner import Engine
from amarktai.engine.service import BotService, BotSpec
from amarktai.execution.orders import new_order, transition
from amarktai.kit.clock import ManualClock
from amarktai.ledger import journal
from amarktai.ledger.service import LedgerService
from amarktai.markets.instruments import default_registry
from amarktai.markets.types import Trade

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
D = Decimal


async def test_a_resting_order_left_open_by_a_restart_fills_after_it(
    trading_db_engine: AsyncEngine,
) -> None:
    clock = ManualClock(T0)
    sessions = make_sessionmaker(trading_db_engine)
    registry = default_registry()
    async with transaction(sessions) as s:
        s.add(User(id="u1", email="r@example.com", password_hash="x", role="trader",
                   is_active=True, totp_enabled=False, created_at=T0))  # fmt: skip
        await s.flush()
        ledger = LedgerService(s, clock)
        await ledger.post(journal.deposit("u1", "ZAR", D(10_000)))
        svc = BotService(s, clock, registry)
        params = {"quote_amount": 200.0, "every_bars": 1000}
        spec = BotSpec("rests", "dca", params, "sim", "BTC/ZAR", 60, "paper_public", {})
        bot = await svc.create("u1", spec)
        await svc.allocate("u1", bot.id, D(5000))
        await svc.act("u1", bot.id, "start")
        # What the previous process left: a buy limit resting below the market.
        order = new_order(
            client_order_id="before-restart", bot_id=bot.id, symbol="BTC/ZAR", side="buy",
            type="limit", qty=D("0.001"), limit_price=D(1_100_000), created_at=T0,
        )  # fmt: skip
        await Recorder(s, ledger).save_order(transition(order, "open"), "u1", T0)

    engine = Engine(sessions, clock, registry)
    await engine.load()
    await engine.load()  # the periodic resync: nothing restored twice
    venue = engine.venues["paper_public"]
    assert [o.id for o in venue.open_orders()] == [order.id]

    clock.set(T0 + timedelta(seconds=5))
    await engine.handle(Trade(clock.now(), "BTC/ZAR", D(1_200_000), D(1), "buy"))
    assert venue.order(order.id).status == "open"  # not through the limit yet
    await engine.handle(Trade(clock.now(), "BTC/ZAR", D(1_090_000), D(1), "sell"))

    async with sessions() as s:
        row = await s.get(OrderRow, order.id)
        fills = list((await s.execute(select(FillRow))).scalars())
        ledger = LedgerService(s, clock)
        position = await ledger.position("u1", bot.id, "BTC", "ZAR")
        _, broken = await ledger.verify()
    assert row is not None and (row.status, row.filled_qty) == ("filled", D("0.001"))
    assert [(f.order_id, f.price, f.qty) for f in fills] == [(order.id, D(1_100_000), D("0.001"))]
    assert fills[0].ledger_entry_id and position.qty == D("0.001") and broken is None
