"""The demo account's paper portfolio: R100 000 of paper cash and three paper bots on
`sim` that trade within the first minute (5-second candles; DCA buys on its first bar)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from amarktai.engine.service import BotService, BotSpec
from amarktai.ledger import journal
from amarktai.ledger.service import LedgerService

DEMO_CASH = Decimal(100_000)
DEMO_BOTS: tuple[tuple[str, str, dict[str, Any], str, Decimal], ...] = (
    ("DCA Bitcoin", "dca", {"quote_amount": 500.0, "every_bars": 6}, "BTC/ZAR", Decimal(25_000)),
    ("ETH trend (SMA 5/20)", "sma_cross", {"fast": 5, "slow": 20}, "ETH/ZAR", Decimal(25_000)),
    (
        "XRP mean reversion",
        "rsi_reversion",
        {"period": 7, "oversold": 35.0, "exit": 60.0},
        "XRP/ZAR",
        Decimal(25_000),
    ),
)
TIMEFRAME_S = 5


async def seed_demo_portfolio(session: AsyncSession, bots: BotService, user_id: str) -> int:
    """Idempotent: deposits once (by ref) and creates the bots only for a new demo user."""
    ledger = LedgerService(session, bots.clock)
    await ledger.post(
        journal.deposit(
            user_id, "ZAR", DEMO_CASH, ref=f"demo-seed-{user_id}", description="demo paper capital"
        )
    )
    if await bots.repo.user_bots(user_id):
        return 0
    for name, strategy, params, symbol, allocation in DEMO_BOTS:
        spec = BotSpec(name, strategy, params, "sim", symbol, TIMEFRAME_S, "paper_public", {})
        bot = await bots.create(user_id, spec)
        await bots.allocate(user_id, bot.id, allocation)
        await bots.act(user_id, bot.id, "start")
    return len(DEMO_BOTS)
