"""A candle close decides on what the database says inside its own transaction (both
databases): a pause, a trip or a limit written elsewhere between two closes counts at the
next one, with no `sync_bot` call; a breaker that halts a user's bots stops its later bots
within the same close; a crashing strategy's bot is stored errored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from amarktai.accounts.models import User
from amarktai.db.engine import make_sessionmaker, transaction
from amarktai.engine.models import Bot, DecisionTrace, FillRow
from amarktai.engine.recorder import Rows
from amarktai.engine.runner import Engine
from amarktai.engine.service import BotService, BotSpec
from amarktai.kit.clock import ManualClock
from amarktai.kit.ids import new_id
from amarktai.ledger import journal
from amarktai.ledger.service import LedgerService
from amarktai.markets.instruments import default_registry
from amarktai.markets.types import Candle
from amarktai.risk.service import Level, RiskService
from amarktai.strategies.base import Decision, Strategy, StrategyContext, StrategyParams
from amarktai.strategies.registry import register, unregister

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
D = Decimal
DCA: tuple[str, dict[str, object]] = ("dca", {"quote_amount": 200.0, "every_bars": 1})


class Crashing(Strategy):
    name = "test_close_crashing"
    description = "raises on every bar"
    Params = StrategyParams

    @property
    def warmup_bars(self) -> int:
        return 1

    def on_bar(self, ctx: StrategyContext) -> Decision:
        raise RuntimeError("boom")


@pytest.fixture(autouse=True)
def crashing_strategy() -> Iterator[None]:
    register(Crashing)
    yield
    unregister(Crashing.name)


def candle(i: int) -> Candle:
    price = D(1_200_000)
    return Candle(T0 + timedelta(minutes=i), "BTC/ZAR", price, price, price, price, D(1), 60)


class Desk:
    """One user, some running bots on BTC/ZAR 1-minute bars, and the engine."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: ManualClock) -> None:
        self.sessions, self.clock = sessions, clock
        self.engine = Engine(sessions, clock, default_registry())
        self.bots: list[str] = []

    @classmethod
    async def open(cls, db: AsyncEngine, *strategies: tuple[str, dict[str, object]]) -> Desk:
        desk = cls(make_sessionmaker(db), ManualClock(T0))
        async with transaction(desk.sessions) as s:
            s.add(User(id="u1", email="c@example.com", password_hash="x", role="trader",
                       is_active=True, totp_enabled=False, created_at=T0))  # fmt: skip
            await s.flush()
            await LedgerService(s, desk.clock).post(journal.deposit("u1", "ZAR", D(10_000)))
            svc = BotService(s, desk.clock, default_registry())
            for i, (name, params) in enumerate(strategies):
                spec = BotSpec(f"b{i}", name, params, "sim", "BTC/ZAR", 60, "paper_public", {})
                bot = await svc.create("u1", spec)
                await svc.allocate("u1", bot.id, D(1000))
                await svc.act("u1", bot.id, "start")
                desk.bots.append(bot.id)
        await desk.engine.load()
        return desk

    async def close(self, i: int) -> None:
        self.clock.set(candle(i).close_ts)
        await self.engine.handle(candle(i))

    async def outcomes(self, i: int) -> dict[str, str]:
        """Each bot's decision outcome at close `i` (absent: it did not decide)."""
        ts = candle(i).close_ts
        async with self.sessions() as s:
            rows = (await s.execute(select(DecisionTrace).where(DecisionTrace.ts == ts))).scalars()
            return {t.bot_id: t.outcome for t in rows}

    async def status(self, bot_id: str) -> tuple[str, str | None]:
        async with self.sessions() as s:
            bot = await s.get(Bot, bot_id)
            assert bot is not None
            return bot.status, bot.status_reason


async def test_a_pause_made_elsewhere_counts_at_the_next_close(
    trading_db_engine: AsyncEngine,
) -> None:
    desk = await Desk.open(trading_db_engine, DCA, DCA)
    kept, paused = desk.bots
    await desk.close(0)
    assert await desk.outcomes(0) == {kept: "order", paused: "order"}
    async with transaction(desk.sessions) as s:  # the API or another process; no sync_bot
        await BotService(s, desk.clock, default_registry()).act("u1", paused, "pause")
    await desk.close(1)
    assert await desk.outcomes(1) == {kept: "order"}
    assert set(desk.engine.runners) == {kept}


@pytest.mark.parametrize("scope", ["bot", "user", "platform"])
async def test_a_trip_recorded_elsewhere_denies_at_the_next_close(
    trading_db_engine: AsyncEngine, scope: str
) -> None:
    desk = await Desk.open(trading_db_engine, DCA, DCA)
    free, covered = desk.bots
    await desk.close(0)
    level = {
        "bot": Level("bot", covered, "u1"),
        "user": Level.of_user("u1"),
        "platform": Level.platform(),
    }[scope]
    async with transaction(desk.sessions) as s:
        RiskService(s, desk.clock).record(level, "emergency_stop", "stop", {}, active=True)
    await desk.close(1)
    expected = {covered: "denied", free: "order" if scope == "bot" else "denied"}
    assert await desk.outcomes(1) == expected


async def test_user_limits_set_elsewhere_apply_at_the_next_close(
    trading_db_engine: AsyncEngine,
) -> None:
    desk = await Desk.open(trading_db_engine, DCA)
    (bot,) = desk.bots
    await desk.close(0)
    async with transaction(desk.sessions) as s:
        await RiskService(s, desk.clock).set_limits(Level.of_user("u1"), {"max_exposure": "1"})
    await desk.close(1)
    assert await desk.outcomes(1) == {bot: "denied"}
    async with desk.sessions() as s:
        trace = (
            await s.execute(select(DecisionTrace).where(DecisionTrace.ts == candle(1).close_ts))
        ).scalar_one()
    checks = {c["name"]: c["passed"] for c in trace.trace["risk"]["checks"]}
    assert checks["user_max_exposure"] is False


async def test_a_breaker_halting_the_user_stops_its_later_bots_in_the_same_close(
    trading_db_engine: AsyncEngine,
) -> None:
    desk = await Desk.open(trading_db_engine, DCA, DCA)
    await desk.close(0)
    async with transaction(desk.sessions) as s:
        await RiskService(s, desk.clock).set_limits(
            Level.of_user("u1"), {"error_burst_count": 1, "error_burst_window_s": 3600}
        )
        s.add(DecisionTrace(id=new_id(), user_id="u1", bot_id=desk.bots[0], ts=T0,
                            rule="x", signal=0.0, outcome="error", trace={}))  # fmt: skip
    await desk.close(1)
    # The first bot's gate trips the user's breaker, which halts both bots: the first is
    # denied, the second no longer decides in this close.
    assert sorted((await desk.outcomes(1)).values()) == ["denied"]
    for bot_id in desk.bots:
        assert (await desk.status(bot_id))[0] == "halted"
    assert desk.engine.runners == {}


async def test_a_crashing_strategy_leaves_its_bot_stored_errored(
    trading_db_engine: AsyncEngine,
) -> None:
    desk = await Desk.open(trading_db_engine, DCA, (Crashing.name, {}))
    good, bad = desk.bots
    await desk.close(0)
    assert await desk.outcomes(0) == {good: "order", bad: "error"}
    status, reason = await desk.status(bad)
    assert status == "errored" and reason == "strategy raised RuntimeError: boom"
    assert await desk.status(good) == ("running", None)
    async with desk.sessions() as s:
        fills = (await s.execute(select(FillRow))).scalars().all()
    assert [f.bot_id for f in fills] == [good]
    await desk.close(1)
    assert await desk.outcomes(1) == {good: "order"}


async def test_limits_of_an_owner_the_engine_did_not_expect_still_apply(
    trading_db_engine: AsyncEngine,
) -> None:
    """The close reads the limits of the owners its runners name; a bot row that names
    another owner takes the full gate, which reads that owner's limits itself."""
    desk = await Desk.open(trading_db_engine, DCA)
    (bot,) = desk.bots
    desk.engine.runners[bot].user_id = "someone-else"
    async with transaction(desk.sessions) as s:
        await RiskService(s, desk.clock).set_limits(Level.of_user("u1"), {"max_exposure": "1"})
    await desk.close(0)
    assert await desk.outcomes(0) == {bot: "denied"}


async def test_a_failed_batch_is_written_bot_by_bot(
    trading_db_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch's savepoint is rolled back (ledger postings included) and each bot's
    step is written again alone; the balance mirror is re-read, so nothing is booked
    twice and nothing is lost."""
    desk = await Desk.open(trading_db_engine, DCA, DCA)
    insert = Rows.insert

    async def fail_batches(self: Rows, s: AsyncSession) -> None:
        if len(self.traces) > 1:
            raise RuntimeError("batch insert failed")
        await insert(self, s)

    monkeypatch.setattr(Rows, "insert", fail_batches)
    await desk.close(0)
    await desk.close(1)
    assert await desk.outcomes(1) == dict.fromkeys(desk.bots, "order")
    async with desk.sessions() as s:
        fills = (await s.execute(select(FillRow))).scalars().all()
        ledger = LedgerService(s, desk.clock)
        count, broken = await ledger.verify()
        positions = [(await ledger.position("u1", b, "BTC", "ZAR")).qty for b in desk.bots]
    assert sorted(f.bot_id for f in fills) == sorted(desk.bots * 2)
    assert broken is None and count == 1 + 2 + 4  # deposit, allocations, four fills
    assert positions == [sum(f.qty for f in fills if f.bot_id == b) for b in desk.bots]
