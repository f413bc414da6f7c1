"""Analytics benchmark: equity curve + performance for one bot with 5,000 fills (SQLite).

Run: ``.venv/bin/python benchmarks/analytics.py [fills] [points]`` (default 5,000 fills,
500 curve points). Seeding (ledger postings and fill rows, one transaction) is not timed.
Timed: loading the bot's entries and fills, sampling instants, the one-pass marked curve,
round trips and the metrics — what ``GET /api/v1/bots/{id}/performance`` does — and, for
comparison, the same curve by one ``LedgerService.mark_to_market`` query per instant.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from amarktai.accounts.models import User
from amarktai.analytics.service import AnalyticsService, PriceBook
from amarktai.db.engine import make_engine, make_sessionmaker, transaction
from amarktai.db.migrate import upgrade
from amarktai.engine.models import Bot, FillRow, OrderRow
from amarktai.kit.clock import ManualClock
from amarktai.kit.ids import new_id
from amarktai.ledger import journal
from amarktai.ledger.service import LedgerService
from amarktai.markets.instruments import default_registry

T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def seed(factory: object, clock: ManualClock, fills: int) -> tuple[str, str]:
    user, bot = new_id(), new_id()
    async with transaction(factory) as s:  # type: ignore[arg-type]
        s.add(User(id=user, email=f"{user}@bench.test", password_hash="x", created_at=T0))
        s.add(Bot(id=bot, user_id=user, name="bench", strategy="dca", params={}, exchange="sim",
                  symbol="BTC/ZAR", timeframe_s=60, mode="paper_public", status="running",
                  risk={}, created_at=T0, updated_at=T0))  # fmt: skip
        s.add(order_row(user, bot))
    async with transaction(factory) as s:  # type: ignore[arg-type]
        ledger = LedgerService(s, clock)
        await ledger.post(journal.deposit(user, "ZAR", Decimal(100_000_000)))
        await ledger.post(journal.allocate(user, bot, "ZAR", Decimal(50_000_000)))
        for i in range(fills):
            clock.advance(60)
            side = "buy" if i % 2 == 0 else "sell"
            qty = Decimal("0.0100") if side == "buy" else Decimal("0.0075")
            price = Decimal(1_000_000 + (i % 97) * 1_000)
            trade = journal.Fill(bot, side, "BTC", "ZAR", qty, price, Decimal("2.5"), "ZAR")
            entry = await ledger.post_fill(user, trade)
            pnl = journal.bot_account(bot, "pnl")
            realised = -sum((p.amount for p in entry.postings if p.account == pnl), Decimal(0))
            s.add(FillRow(id=new_id(), order_id="bench-order", user_id=user, bot_id=bot,
                          ts=clock.now(), symbol="BTC/ZAR", side=side, price=price, qty=qty,
                          fee=Decimal("2.5"), fee_asset="ZAR", liquidity="taker",
                          realised_pnl=realised if side == "sell" else None,
                          ledger_entry_id=entry.id))  # fmt: skip
    return user, bot


def order_row(user: str, bot: str) -> OrderRow:
    """One order that every benchmark fill points at (fills need an order row)."""
    return OrderRow(id="bench-order", user_id=user, bot_id=bot, client_order_id="bench",
                    symbol="BTC/ZAR", side="buy", type="market", time_in_force="gtc",
                    qty=Decimal(1), limit_price=None, stop_price=None, status="filled",
                    filled_qty=Decimal(1), avg_price=None, fees=Decimal(0), reason=None,
                    created_at=T0, updated_at=T0)  # fmt: skip


async def main(fills: int, points: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        await upgrade(engine)
        factory = make_sessionmaker(engine)
        clock = ManualClock(T0)
        user, bot = await seed(factory, clock, fills)
        clock.advance(3600)
        async with factory() as s:
            service = AnalyticsService(s, clock, default_registry())
            start = time.perf_counter()
            perf = await service.bot_performance(user, bot, points)
            ours = time.perf_counter() - start
            curve = await service.bot_curve(user, bot, points)
            book = PriceBook(
                {"BTC": "BTC/ZAR"}, await service.trading.all_fills(user, bot), None, {}
            )
            start = time.perf_counter()
            await LedgerService(s, clock).equity_curve(
                user, [p.ts for p in curve.points], book, bot_id=bot
            )
            per_query = time.perf_counter() - start
        await engine.dispose()
    print(f"bot with {fills:,} fills, {len(curve.points)} curve points (SQLite)")
    print(f"  equity curve + performance (one pass):  {ours * 1000:8.1f} ms")
    print(f"  same curve, one ledger query per point: {per_query * 1000:8.1f} ms")
    metrics = perf["metrics"]
    print(f"  trades {metrics['n_trades']}, total return {metrics['total_return']:.4%}")


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    pts = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    asyncio.run(main(n, pts))
