"""Breaker rules (pure) and their evaluation on the ledger (both databases)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from amarktai.accounts.models import User
from amarktai.db.engine import make_sessionmaker, transaction
from amarktai.engine.models import Bot
from amarktai.kit.clock import ManualClock
from amarktai.kit.errors import ValidationFailed
from amarktai.kit.ids import new_id
from amarktai.ledger import journal
from amarktai.ledger.service import LedgerService
from amarktai.risk.breakers import (
    BreakerLimits,
    Figures,
    consecutive_losses,
    evaluate,
)
from amarktai.risk.service import Level, RiskService

T0 = datetime(2025, 3, 3, 10, tzinfo=UTC)


def figures(**kw: object) -> Figures:
    base: dict[str, object] = {
        "equity": D(10000),
        "pnl": D(0),
        "day_start_pnl": D(0),
        "peak_pnl": D(0),
        "recent_realised": (),
        "recent_errors": 0,
    }
    return Figures(**{**base, **kw})  # type: ignore[arg-type]


def tripped(fig: Figures, limits: dict[str, object]) -> dict[str, bool]:
    return {c.name: c.tripped for c in evaluate(fig, BreakerLimits.from_dict(limits))}


def test_daily_loss_pct_and_amount_are_flow_adjusted() -> None:
    # equity 9,500 now after losing 500 since the day began: 500 / 10,000 = 5 %
    fig = figures(equity=D(9500), pnl=D(-500), day_start_pnl=D(0))
    assert tripped(fig, {"daily_loss_pct": "0.05"}) == {"daily_loss": True}
    assert tripped(fig, {"daily_loss_pct": "0.06"}) == {"daily_loss": False}
    assert tripped(fig, {"daily_loss_amount": 499}) == {"daily_loss": True}
    # a profit since the day began never trips
    assert tripped(figures(pnl=D(100)), {"daily_loss_amount": 1}) == {"daily_loss": False}


def test_drawdown_from_peak_pnl() -> None:
    # peak PnL 2,000 on 10,000 capital (12,000 equity), now PnL 800: 1,200 / 12,000 = 10 %
    fig = figures(equity=D(10800), pnl=D(800), peak_pnl=D(2000))
    assert tripped(fig, {"max_drawdown_pct": "0.1"}) == {"drawdown": True}
    assert tripped(fig, {"max_drawdown_pct": "0.11"}) == {"drawdown": False}


def test_consecutive_losses_counts_only_the_latest_streak() -> None:
    assert consecutive_losses([D(-1), D(-2), D(5), D(-1)]) == 2
    assert consecutive_losses([D(0), D(-2)]) == 0
    fig = figures(recent_realised=(D(-1), D(-1), D(-3), D(4)))
    assert tripped(fig, {"max_consecutive_losses": 3}) == {"consecutive_losses": True}
    assert tripped(fig, {"max_consecutive_losses": 4}) == {"consecutive_losses": False}


def test_error_burst() -> None:
    limits = {"error_burst_count": 3, "error_burst_window_s": 60}
    assert tripped(figures(recent_errors=3), limits) == {"error_burst": True}
    assert tripped(figures(recent_errors=2), limits) == {"error_burst": False}


def test_no_limits_no_checks_and_bad_limits_refused() -> None:
    assert evaluate(figures(pnl=D(-9999)), BreakerLimits()) == []
    assert not BreakerLimits.from_dict(None).any_enabled
    for bad in (
        {"daily_loss_pct": 1.5},
        {"daily_loss_pct": 0},
        {"max_drawdown_pct": -0.1},
        {"daily_loss_amount": -1},
        {"max_consecutive_losses": 0},
        {"max_consecutive_losses": True},
        {"error_burst_count": 2.5},
        {"dayly_loss_pct": 0.05},
    ):
        with pytest.raises(ValidationFailed) as info:
            BreakerLimits.from_dict(bad)
        assert info.value.code == "invalid_risk_setting"


# -- on the ledger --------------------------------------------------------------------------


@dataclass
class BoastfulBot:
    """A bot's own bookkeeping: it believes it is far in profit. Nothing reads it."""

    memory_pnl: D = D(50000)


@pytest.fixture
def factory(db_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(db_engine)


async def _user_and_bot(s: AsyncSession, risk: dict[str, object]) -> Bot:
    user_id = new_id()
    s.add(User(id=user_id, email=f"{user_id}@example.test", password_hash="x", role="trader",
               is_active=True, totp_enabled=False, created_at=T0))  # fmt: skip
    bot = Bot(id=new_id(), user_id=user_id, name="b", strategy="dca", params={}, exchange="sim",
              symbol="BTC/ZAR", timeframe_s=60, mode="paper_public", status="running",
              risk=risk, created_at=T0, updated_at=T0)  # fmt: skip
    s.add(bot)
    await s.flush()
    ledger = LedgerService(s, ManualClock(T0))
    await ledger.post(journal.deposit(user_id, "ZAR", D(10000)))
    await ledger.post(journal.allocate(user_id, bot.id, "ZAR", D(10000)))
    fill = journal.Fill(bot_id=bot.id, side="buy", base="BTC", quote="ZAR", qty=D("0.008"),
                        price=D(1_000_000), fee=D(8), ref=new_id())  # fmt: skip
    await ledger.post_fill(user_id, fill)
    return bot


def prices(btc: int) -> Callable[[str], D]:
    return {"BTC": D(btc)}.__getitem__


async def test_breaker_uses_the_ledger_not_the_bots_memory(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    clock = ManualClock(T0)
    memory = BoastfulBot()
    async with transaction(factory) as s:
        bot = await _user_and_bot(s, {"breakers": {"daily_loss_pct": "0.05"}})
        risk = RiskService(s, clock)
        first = await risk.evaluate(Level.of_bot(bot), prices(1_000_000), bot)
        assert [c["tripped"] for c in first.checks] == [False]
        # BTC falls 10 %: the position (R8,000) loses R800 = 8 % of the day's equity
        clock.advance(60)
        out = await risk.evaluate(Level.of_bot(bot), prices(900_000), bot)
        assert memory.memory_pnl > 0  # the bot thinks it is winning
        assert out.halted == [bot.id] and bot.status == "halted"
        assert out.events[0].breaker == "daily_loss" and out.events[0].active
        assert D(out.events[0].figures["pnl"]) == D(-808)  # -800 unrealised, -8 fees
        assert out.alerts[0][1] == "alert"
        # evaluated again, the same breaker does not trip twice
        again = await risk.evaluate(Level.of_bot(bot), prices(900_000), bot)
        assert again.events == []


async def test_reset_by_rule_next_day_and_by_hand(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    clock = ManualClock(T0)
    async with transaction(factory) as s:
        bot = await _user_and_bot(
            s, {"breakers": {"daily_loss_amount": 100, "max_drawdown_pct": 0.05}}
        )
        risk = RiskService(s, clock)
        await risk.evaluate(Level.of_bot(bot), prices(1_000_000), bot)
        out = await risk.evaluate(Level.of_bot(bot), prices(900_000), bot)
        assert sorted(e.breaker or "" for e in out.events) == ["daily_loss", "drawdown"]
        clock.advance(86400)
        ruled = await risk.apply_reset_rules()
        assert [e.breaker for e in ruled.events] == ["daily_loss"]
        assert ruled.released == []  # the drawdown trip still holds the bot
        assert bot.status == "halted"
        manual = await risk.reset(Level.of_bot(bot), by="tester")
        assert manual.released == [bot.id] and bot.status == "paused"
        with pytest.raises(Exception) as info:
            await risk.reset(Level.of_bot(bot), by="tester")
        assert getattr(info.value, "code", "") == "no_active_breaker"
