"""The engine on recorded market data (replay candles), on SQLite and PostgreSQL:
decisions on real bars, every fill booked, the ledger balanced and its chain intact."""

from __future__ import annotations

from decimal import Decimal

import pytest
from benchmarks.shared_data import find_shared_data_dir
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from amarktai.accounts.models import User
from amarktai.db.engine import make_engine, make_sessionmaker, transaction
from amarktai.engine.models import DecisionTrace, FillRow
from amarktai.engine.runner import Engine
from amarktai.engine.service import BotService, BotSpec
from amarktai.kit.clock import ManualClock
from amarktai.ledger import journal
from amarktai.ledger.service import LedgerService
from amarktai.markets.instruments import default_registry
from amarktai.markets.replay import ReplayMarket


async def test_engine_trades_replayed_eth_btc_candles(db_engine: AsyncEngine) -> None:
    try:
        path = find_shared_data_dir() / "intraday" / "ETH_BTC-5m.feather"
    except Exception as exc:  # the shared data folder lives beside the repo
        pytest.skip(f"shared data not available: {exc}")
    market = ReplayMarket.from_files([path])
    events = list(market.events())[:400]
    clock = ManualClock(events[0].ts)
    # A pooled engine, as the platform runs it (the fixture's PostgreSQL engine has no
    # pool, which would open a connection per candle; on SQLite the inline pool).
    pooled = make_engine(db_engine.url.render_as_string(hide_password=False), inline=True)
    sessions = make_sessionmaker(pooled)
    registry = default_registry()
    async with transaction(sessions) as s:
        s.add(
            User(
                id="u1",
                email="r@example.com",
                password_hash="x",
                role="trader",
                is_active=True,
                totp_enabled=False,
                created_at=clock.now(),
            )
        )
        await s.flush()
        await LedgerService(s, clock).post(journal.deposit("u1", "BTC", Decimal(10)))
        svc = BotService(s, clock, registry)
        bot = await svc.create(
            "u1",
            BotSpec(
                "replay",
                "sma_cross",
                {"fast": 5, "slow": 20},
                "replay",
                "ETH/BTC",
                300,
                "paper_public",
                {},
            ),
        )
        await svc.allocate("u1", bot.id, Decimal(1))
        await svc.act("u1", bot.id, "start")
    engine = Engine(sessions, clock, registry, exchange="replay")
    await engine.load()
    for event in events:
        clock.set(max(clock.now(), event.ts))
        await engine.handle(event)
    async with sessions() as s:
        fills = int((await s.execute(select(func.count(FillRow.id)))).scalar_one())
        decisions = int((await s.execute(select(func.count(DecisionTrace.id)))).scalar_one())
        ledger = LedgerService(s, clock)
        count, broken = await ledger.verify()
        replay = await ledger.replay("u1")
        cash = await ledger.balances("u1", account=journal.bot_account(bot.id, "cash"))
    await pooled.dispose()
    assert decisions == len(events)  # one decision per replayed 5-minute bar
    assert fills >= 2 and broken is None and replay.ok and count >= fills
    assert Decimal(0) <= cash[journal.bot_account(bot.id, "cash")]["BTC"] <= Decimal(1)
