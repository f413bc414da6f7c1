"""The engine's batched candle close, on SQLite and PostgreSQL: every bot's fill booked in
one batched ledger append, and one bot's refused fill never rolls back another's."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from amarktai.accounts.models import User
from amarktai.db.engine import make_sessionmaker, transaction
from amarktai.engine.models import DecisionTrace, FillRow, OrderRow
from amarktai.engine.runner import BarWindow, Engine, _bars, candle_row
from amarktai.engine.service import BotService, BotSpec
from amarktai.execution.orders import Order
from amarktai.execution.paper import Execution
from amarktai.kit.clock import ManualClock
from amarktai.ledger import journal
from amarktai.ledger.service import LedgerService
from amarktai.markets.instruments import default_registry
from amarktai.markets.types import Candle

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
D = Decimal


def candle(i: int, close: str = "1200000") -> Candle:
    price = D(close)
    return Candle(T0 + timedelta(minutes=i), "BTC/ZAR", price, price, price, price, D(1), 60)


async def test_a_refused_fill_rolls_back_only_its_own_bot(trading_db_engine: AsyncEngine) -> None:
    clock = ManualClock(T0)
    sessions = make_sessionmaker(trading_db_engine)
    registry = default_registry()
    async with transaction(sessions) as s:
        s.add(User(id="u1", email="b@example.com", password_hash="x", role="trader",
                   is_active=True, totp_enabled=False, created_at=T0))  # fmt: skip
        await s.flush()
        await LedgerService(s, clock).post(journal.deposit("u1", "ZAR", D(10_000)))
        svc = BotService(s, clock, registry)
        ids = []
        for name in ("good", "victim", "other"):
            params = {"quote_amount": 200.0, "every_bars": 1}
            spec = BotSpec(name, "dca", params, "sim", "BTC/ZAR", 60, "paper_public", {})
            bot = await svc.create("u1", spec)
            await svc.allocate("u1", bot.id, D(1000))
            await svc.act("u1", bot.id, "start")
            ids.append(bot.id)
    good, victim, other = ids
    engine = Engine(sessions, clock, registry)
    await engine.load()
    venue = engine.venues["paper_public"]
    submit = venue.submit

    def spiking(order: Order) -> Execution:
        """The victim's fill slips 100x past the close: its cost exceeds its cash."""
        done = submit(order)
        if order.bot_id != victim:
            return done
        return replace(done, fills=tuple(replace(f, price=f.price * 100) for f in done.fills))

    venue.submit = spiking  # type: ignore[method-assign]
    for i in range(2):
        clock.set(candle(i).close_ts)
        await engine.handle(candle(i))
    async with sessions() as s:
        ledger = LedgerService(s, clock)
        fills = list((await s.execute(select(FillRow))).scalars())
        orders = list((await s.execute(select(OrderRow))).scalars())
        traces = list((await s.execute(select(DecisionTrace))).scalars())
        positions = {b: (await ledger.position("u1", b, "BTC", "ZAR")).qty for b in ids}
        cash = await ledger.balances("u1", bot_id=victim)
        count, broken = await ledger.verify()
        replay = await ledger.replay()
    assert broken is None and replay.ok
    assert sorted(f.bot_id for f in fills) == sorted([good, good, other, other])
    assert all(f.ledger_entry_id for f in fills) and {o.bot_id for o in orders} == {good, other}
    assert positions[victim] == 0 and positions[good] > 0 and positions[other] > 0
    assert cash[journal.bot_account(victim, "cash")] == {"ZAR": D(1000)}
    refused = [t for t in traces if t.bot_id == victim]
    assert [t.outcome for t in refused] == ["rejected", "rejected"]
    assert refused[0].trace["execution"]["error"] == "insufficient_allocated_capital"
    assert refused[0].order_id is None
    booked = [t for t in traces if t.bot_id == good]
    assert [t.outcome for t in booked] == ["order", "order"] and booked[0].order_id
    assert count == 1 + 3 + 4  # deposit, three allocations, four fills


def test_the_bar_window_matches_rebuilding_the_bars() -> None:
    window = BarWindow()
    kept: list[Candle] = []
    for i in range(300):
        c = candle(i, str(1000 + (i * 37) % 101))
        keep = 5 if i < 150 else 9  # a strategy's lookback may differ between pushes
        kept = [*kept, c][-keep:]
        got, want = window.push(candle_row(c), keep), _bars(kept)
        for name in ("time", "open", "high", "low", "close", "volume"):
            assert np.array_equal(getattr(got, name), getattr(want, name)), (i, name)
            assert not getattr(got, name).flags.writeable
    first = window.push(candle_row(candle(300)), 3)
    before = first.close.copy()
    for i in range(301, 400):
        window.push(candle_row(candle(i, "5")), 3)
    assert np.array_equal(first.close, before)  # bars handed out earlier never change
