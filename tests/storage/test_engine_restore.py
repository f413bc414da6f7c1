"""A restart: the engine puts its running bots' resting orders back on the paper venue,
so an order the database still shows open goes on to fill (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from amarktai.accounts.models import User
from amarktai.db.engine import make_sessionmaker, transaction
from amarktai.engine.models import FillRow, OrderRow
from amarktai.engine.recorder import Recorder
from amarktai.engine.runner import Engine
from amarktai.engine.service import BotService, BotSpec
from amarktai.execution.orders import Order, new_order, transition
from amarktai.kit.clock import ManualClock
from amarktai.ledger import journal
from amarktai.ledger.service import LedgerService
from amarktai.markets.instruments import default_registry
from amarktai.markets.types import Trade

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
D = Decimal


async def running_bot(sessions: async_sessionmaker[AsyncSession], clock: ManualClock) -> str:
    async with transaction(sessions) as s:
        s.add(User(id="u1", email="r@example.com", password_hash="x", role="trader",
                   is_active=True, totp_enabled=False, created_at=T0))  # fmt: skip
        await s.flush()
        await LedgerService(s, clock).post(journal.deposit("u1", "ZAR", D(10_000)))
        svc = BotService(s, clock, default_registry())
        params = {"quote_amount": 200.0, "every_bars": 1000}
        spec = BotSpec("rests", "dca", params, "sim", "BTC/ZAR", 60, "paper_public", {})
        bot = await svc.create("u1", spec)
        await svc.allocate("u1", bot.id, D(5000))
        await svc.act("u1", bot.id, "start")
    return bot.id


async def rest(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock, order: Order
) -> None:
    """Store `order` as resting, as a previous process left it."""
    async with transaction(sessions) as s:
        await Recorder(s, LedgerService(s, clock)).save_order(transition(order, "open"), "u1", T0)


def print_at(clock: ManualClock, price: int, seconds: int) -> Trade:
    clock.set(T0 + timedelta(seconds=seconds))
    return Trade(clock.now(), "BTC/ZAR", D(price), D(1), "sell")


async def test_a_resting_order_left_open_by_a_restart_fills_after_it(
    trading_db_engine: AsyncEngine,
) -> None:
    clock = ManualClock(T0)
    sessions = make_sessionmaker(trading_db_engine)
    bot_id = await running_bot(sessions, clock)
    order = new_order(  # a buy limit resting below the market
        client_order_id="before-restart", bot_id=bot_id, symbol="BTC/ZAR", side="buy",
        type="limit", qty=D("0.001"), limit_price=D(1_100_000), created_at=T0,
    )  # fmt: skip
    await rest(sessions, clock, order)

    engine = Engine(sessions, clock, default_registry())
    await engine.load()
    await engine.load()  # the periodic resync: nothing restored twice
    venue = engine.venues["paper_public"]
    assert [o.id for o in venue.open_orders()] == [order.id]

    await engine.handle(print_at(clock, 1_200_000, 5))
    assert venue.order(order.id).status == "open"  # not through the limit yet
    await engine.handle(print_at(clock, 1_090_000, 6))

    async with sessions() as s:
        row = await s.get(OrderRow, order.id)
        fills = list((await s.execute(select(FillRow))).scalars())
        ledger = LedgerService(s, clock)
        position = await ledger.position("u1", bot_id, "BTC", "ZAR")
        _, broken = await ledger.verify()
    assert row is not None and (row.status, row.filled_qty) == ("filled", D("0.001"))
    assert [(f.order_id, f.price, f.qty) for f in fills] == [(order.id, D(1_100_000), D("0.001"))]
    assert fills[0].ledger_entry_id and position.qty == D("0.001") and broken is None


async def test_a_stop_that_triggered_before_a_restart_comes_back_triggered(
    trading_db_engine: AsyncEngine,
) -> None:
    """The trigger is stored when it happens, fill or not, so after a restart the order
    acts as the limit it had become instead of waiting for its stop again."""
    clock = ManualClock(T0)
    sessions = make_sessionmaker(trading_db_engine)
    bot_id = await running_bot(sessions, clock)
    stop = new_order(
        client_order_id="stop", bot_id=bot_id, symbol="BTC/ZAR", side="buy",
        type="stop_limit", qty=D("0.001"), stop_price=D(1_210_000),
        limit_price=D(1_205_000), created_at=T0,
    )  # fmt: skip
    await rest(sessions, clock, stop)
    first = Engine(sessions, clock, default_registry())
    await first.load()
    await first.handle(print_at(clock, 1_200_000, 5))  # under the stop: nothing
    await first.handle(print_at(clock, 1_215_000, 6))  # triggers; above the limit
    async with sessions() as s:
        row = await s.get(OrderRow, stop.id)
        assert row is not None and (row.status, row.triggered) == ("open", True)

    again = Engine(sessions, clock, default_registry())  # the restart
    await again.load()
    assert again.venues["paper_public"].order(stop.id).triggered
    await again.handle(print_at(clock, 1_204_000, 7))  # under the stop, through the limit
    async with sessions() as s:
        row = await s.get(OrderRow, stop.id)
        fills = list((await s.execute(select(FillRow))).scalars())
    assert row is not None and (row.status, row.filled_qty) == ("filled", D("0.001"))
    assert [(f.order_id, f.price) for f in fills] == [(stop.id, D(1_205_000))]
