"""The engine: market events in, strategy decisions, paper orders and fills out.

One engine serves every running bot of the process. Trades are aggregated into candles
per (symbol, timeframe); at each candle close every bot on that stream decides: its
strategy sees the bars and the holdings the LEDGER reports (never a cached figure), the
planner sizes the order and runs the pre-trade checks, the paper venue executes it, and
order, fills, ledger postings and the decision trace are written in one transaction.

A strategy that raises marks only its own bot `errored` with the reason; the others go
on. The engine itself survives a failing step (it logs and continues), because one bad
event must not stop every user's bots.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from amarktai.db.engine import transaction
from amarktai.engine.lifecycle import next_status
from amarktai.engine.models import Bot
from amarktai.engine.planner import Holdings, Limits, Proposal, plan
from amarktai.engine.recorder import (
    Recorder,
    Rows,
    execution_trace,
    fill_event,
    ledger_fill,
    order_event,
    order_from_row,
)
from amarktai.engine.repository import BotState, TradingRepository
from amarktai.execution.orders import Fill, Order, new_order
from amarktai.execution.paper import (
    Execution,
    FillModel,
    PaperVenue,
    PublicPaperFillModel,
    VerifiedPaperFillModel,
)
from amarktai.kit.clock import Clock
from amarktai.kit.errors import DomainError
from amarktai.ledger import journal
from amarktai.ledger.mirror import BalanceMirror
from amarktai.ledger.repository import UserKey
from amarktai.ledger.service import FillRequest, LedgerService, fill_keys
from amarktai.markets.candles import CandleAggregator
from amarktai.markets.history import PriceHistory
from amarktai.markets.instruments import InstrumentRegistry
from amarktai.markets.types import Candle, Instrument, MarketEvent, Trade
from amarktai.risk.exits import PositionState
from amarktai.risk.pretrade import Gate, GateCache, trade_exit
from amarktai.risk.pretrade import gate as risk_gate
from amarktai.risk.service import RiskService
from amarktai.strategies.base import Bars, Decision, Strategy, StrategyContext
from amarktai.strategies.registry import create_strategy

log = structlog.get_logger("amarktai.engine")

MODES = ("paper_public", "paper_verified")
EngineListener = Callable[[str, str, dict[str, Any]], Awaitable[None]]


@dataclass
class BotRunner:
    bot_id: str
    user_id: str
    mode: str
    timeframe: int
    instrument: Instrument
    strategy: Strategy
    limits: Limits
    bar_index: int = 0
    exit_state: PositionState | None = None  # highs and ATR since entry, for trailing exits
    decided: tuple[int, float | None] | None = None  # (bar_index, target) of its last decision
    window: BarWindow = field(default_factory=lambda: BarWindow())
    _keys: tuple[str, list[UserKey], tuple[UserKey, UserKey]] | None = None

    def balance_keys(self, user_id: str) -> list[UserKey]:
        """Every running balance the bot's decision and its fills read."""
        return self._keys_of(user_id)[1]

    def holding_keys(self, user_id: str) -> tuple[UserKey, UserKey]:
        """The bot's quote cash and base position balances."""
        return self._keys_of(user_id)[2]

    def _keys_of(self, user_id: str) -> tuple[str, list[UserKey], tuple[UserKey, UserKey]]:
        """Built once per runner (account paths are checked as they are made), not at
        every close; keyed by the owner read at the close, so they can never be stale."""
        if self._keys is None or self._keys[0] != user_id:
            inst = self.instrument
            keys = [(user_id, *key) for key in fill_keys(self.bot_id, inst.base, inst.quote)]
            held = _holding_keys(user_id, self.bot_id, inst)
            self._keys = (user_id, keys, held)
        return self._keys

    def previous_target(self) -> float | None:
        """The strategy's own target on the bar just before this one (None when it did
        not decide then), which stateful rules continue from (`StrategyContext`)."""
        if self.decided is None or self.decided[0] != self.bar_index - 1:
            return None
        return self.decided[1]

    def push(self, candle: Candle, row: CandleRow | None = None) -> Bars:
        keep = max(self.strategy.lookback_bars, 1) + 1
        self.bar_index += 1
        return self.window.push(row or candle_row(candle), keep)


_COLUMNS = ("open", "high", "low", "close", "volume")
CandleRow = tuple[np.datetime64, tuple[float, ...]]


def candle_row(candle: Candle) -> CandleRow:
    """A candle as one BarWindow row, converted once for every bot on its stream."""
    ts = np.datetime64(candle.ts.replace(tzinfo=None), "ns")
    return ts, tuple(float(getattr(candle, name)) for name in _COLUMNS)


class BarWindow:
    """The last `keep` bars as numpy columns, built incrementally: each push writes one
    row into preallocated arrays and returns read-only views (the same values `_bars`
    builds from the candles). A full buffer is replaced, never written over, so Bars
    handed out earlier stay valid."""

    def __init__(self) -> None:
        self.time: npt.NDArray[np.datetime64] = np.empty(0, dtype="datetime64[ns]")
        self.cols: list[npt.NDArray[np.float64]] = []
        self.start = self.end = 0

    def push(self, row: CandleRow, keep: int) -> Bars:
        if self.end >= len(self.time):
            self._grow(keep)
        i = self.end
        self.time[i], values = row
        for col, value in zip(self.cols, values, strict=True):
            col[i] = value
        self.end += 1
        self.start = max(self.start, self.end - keep)
        views = [_frozen(a[self.start : self.end]) for a in (self.time, *self.cols)]
        return Bars(*views)

    def _grow(self, keep: int) -> None:
        size = max(4 * keep, 64)
        carry = min(self.end - self.start, keep - 1)
        time = np.empty(size, dtype="datetime64[ns]")
        cols = [np.empty(size, dtype=np.float64) for _ in _COLUMNS]
        for new, old in zip((time, *cols), (self.time, *self.cols), strict=False):
            new[:carry] = old[self.end - carry : self.end]
        self.time, self.cols = time, cols
        self.start, self.end = 0, carry


def _frozen(view: npt.NDArray[Any]) -> npt.NDArray[Any]:
    view.flags.writeable = False
    return view


def _bars(candles: Iterable[Candle]) -> Bars:
    rows = list(candles)
    return Bars.from_arrays(
        np.array([c.ts.replace(tzinfo=None) for c in rows], dtype="datetime64[ns]"),
        np.array([float(c.open) for c in rows]),
        np.array([float(c.high) for c in rows]),
        np.array([float(c.low) for c in rows]),
        np.array([float(c.close) for c in rows]),
        np.array([float(c.volume) for c in rows]),
    )


def default_venues(instruments: Iterable[Instrument], clock: Clock) -> dict[str, PaperVenue]:
    insts = list(instruments)
    public: FillModel = PublicPaperFillModel()  # type: ignore[assignment]
    verified: FillModel = VerifiedPaperFillModel()  # type: ignore[assignment]
    models = {"paper_public": public, "paper_verified": verified}
    return {mode: PaperVenue(model, insts, clock) for mode, model in models.items()}


# Candle-close latency buckets (seconds), as Prometheus histograms count them.
CLOSE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


@dataclass
class EngineStats:
    """Running totals the API's /metrics reads (plain numbers: the engine never imports
    a metrics library, and a close pays a few additions, not a registry lookup)."""

    closes: int = 0
    decisions: int = 0
    fills: int = 0
    close_seconds_sum: float = 0.0
    close_buckets: list[int] = field(default_factory=lambda: [0] * len(CLOSE_BUCKETS))
    feed_lag_s: float = 0.0  # wall time past the last closed candle's end

    def record_close(self, seconds: float, decisions: int, fills: int, lag_s: float) -> None:
        self.closes += 1
        self.decisions += decisions
        self.fills += fills
        self.close_seconds_sum += seconds
        for i, bound in enumerate(CLOSE_BUCKETS):
            if seconds <= bound:
                self.close_buckets[i] += 1
                break
        self.feed_lag_s = max(0.0, lag_s)


class Engine:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        registry: InstrumentRegistry,
        *,
        exchange: str = "sim",
        listeners: Iterable[EngineListener] = (),
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.exchange = exchange
        self.registry = registry
        self.venues = default_venues(registry.for_exchange(exchange), clock)
        self.runners: dict[str, BotRunner] = {}
        # symbol -> one candle aggregator per timeframe some bot trades it on
        self._aggregators: dict[str, dict[int, CandleAggregator]] = {}
        self._listeners = list(listeners)
        self.last_prices: dict[str, Decimal] = {}
        self.history = PriceHistory()  # recent 1 s bars: charts and marking to market
        self.mirror = BalanceMirror()  # the bots' running balances between candle closes
        self.stats = EngineStats()  # for /metrics: closes, decisions, fills, latency, lag
        self.events_seen = 0  # market events `run` took from its feeds
        self.feed_restarts = 0  # feeds `run_forever` replaced after they failed or ended

    # -- bot set --------------------------------------------------------------------
    async def load(self) -> None:
        """Pick up every running bot on this engine's exchange (start-up and resync)."""
        async with self.sessions() as s:
            bots = await TradingRepository(s).bots_in(["running"])
        wanted = {b.id for b in bots if b.exchange == self.exchange}
        added = [bot for bot in bots if bot.id in wanted and bot.id not in self.runners]
        for bot in added:
            self._add(bot)
        dropped = sorted(set(self.runners) - wanted)
        for bot_id in dropped:
            self.runners.pop(bot_id)
            self._cancel_in_venues(bot_id, "bot_not_running")
        await self._restore_orders(added)
        await self._announce_stopped(dropped)
        await self._apply_risk_reset_rules()

    async def _announce_stopped(self, bot_ids: list[str]) -> None:
        """The status of bots stopped by another process this engine had no word from (the
        CLI's emergency stop on the in-process bus): the dashboards learn it here, at the
        resync that drops them. A stop made in this process has dropped its runners
        already, so it is not announced twice."""
        if not bot_ids:
            return
        async with self.sessions() as s:
            repo = TradingRepository(s)
            rows = [await repo.bot_any_user(bot_id) for bot_id in bot_ids]
        await self._emit(
            [
                (row.user_id, "bot_status",
                 {"bot_id": row.id, "status": row.status, "reason": row.status_reason})
                for row in rows
                if row is not None
            ]
        )  # fmt: skip

    async def _restore_orders(self, bots: Iterable[Bot]) -> None:
        """Resting orders of bots this engine just picked up, read back from the database:
        a restart leaves them open there while the venues start empty, and an order no
        venue holds would never fill or trigger."""
        modes = {bot.id: bot.mode for bot in bots}
        if not modes:
            return
        async with self.sessions() as s:
            rows = await TradingRepository(s).open_orders(bot_ids=list(modes))
        for row in rows:
            venue = self.venues.get(modes[row.bot_id])
            if venue is None:
                continue
            try:
                venue.restore(order_from_row(row))
            except DomainError as exc:  # e.g. an instrument no longer listed
                log.warning("order_not_restored", order_id=row.id, reason=exc.message)

    def _cancel_in_venues(self, bot_id: str, reason: str) -> None:
        """Resting venue orders of a bot stopped elsewhere (another process, the CLI)."""
        for venue in self.venues.values():
            for order in venue.open_orders():
                if order.bot_id == bot_id:
                    venue.cancel(order.id, reason=reason)

    async def _apply_risk_reset_rules(self) -> None:
        """Lift breaker trips whose rule says they are over (e.g. a new UTC day)."""
        async with transaction(self.sessions) as s:
            done = await RiskService(s, self.clock).apply_reset_rules()
        await self._emit(done.alerts)

    async def publish(self, events: list[tuple[str, str, dict[str, Any]]]) -> None:
        """Hand events raised outside the engine (risk resets, emergency stops) to the
        engine's listeners, after the caller's commit."""
        await self._emit(events)

    async def sync_bot(self, bot_id: str) -> None:
        """Called after a bot's status changed: start or drop its runner, cancel its orders
        when it stops trading."""
        async with self.sessions() as s:
            bot = await TradingRepository(s).bot_any_user(bot_id)
        if bot is not None and bot.status == "running" and bot.exchange == self.exchange:
            if bot_id not in self.runners:
                self._add(bot)
                await self._restore_orders([bot])
            return
        self.runners.pop(bot_id, None)
        await self.cancel_bot_orders(bot_id, "bot_not_running")

    def _add(self, bot: Bot) -> None:
        runner = BotRunner(
            bot_id=bot.id,
            user_id=bot.user_id,
            mode=bot.mode,
            timeframe=bot.timeframe_s,
            instrument=self.registry.get(bot.exchange, bot.symbol),
            strategy=create_strategy(bot.strategy, bot.params),
            limits=Limits.from_dict(bot.risk or {}),
        )
        self.runners[bot.id] = runner
        streams = self._aggregators.setdefault(bot.symbol, {})
        if bot.timeframe_s not in streams:
            streams[bot.timeframe_s] = CandleAggregator(bot.symbol, bot.timeframe_s)

    # -- market events --------------------------------------------------------------
    async def run(self, feed: AsyncIterable[MarketEvent]) -> None:
        async for event in feed:
            self.events_seen += 1
            try:
                await self.handle(event)
            except Exception:  # the engine outlives any single bad step
                log.exception("engine_step_failed", symbol=event.symbol)

    async def run_forever(
        self,
        make_feed: Callable[[], AsyncIterable[MarketEvent]],
        *,
        first_delay_s: float = 1.0,
        max_delay_s: float = 60.0,
    ) -> None:
        """`run` on a fresh feed each time the last one fails or ends: a broken market
        connection must not leave every bot idle until someone restarts the process.
        Restarts back off, doubling up to `max_delay_s`; a feed that delivered events
        before it broke starts the back-off again from `first_delay_s`."""
        delay = first_delay_s
        while True:
            seen = self.events_seen
            failure: Exception | None = None
            try:
                await self.run(make_feed())
            except Exception as exc:
                failure = exc
            if self.events_seen > seen:
                delay = first_delay_s
            self.feed_restarts += 1
            event = "market_feed_ended" if failure is None else "market_feed_failed"
            log.error(event, exchange=self.exchange, restart_in_s=delay, exc_info=failure)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay_s)

    async def handle(self, event: MarketEvent) -> None:
        for venue in self.venues.values():
            fills = venue.on_event(event)
            if fills or venue.triggered:
                await self._record_resting(venue, fills, venue.take_triggered())
        if isinstance(event, Trade):
            self.last_prices[event.symbol] = event.price
            self.history.record(event)
            await self._on_trade(event)
        elif isinstance(event, Candle):
            await self._on_recorded_candle(event)

    async def _on_recorded_candle(self, candle: Candle) -> None:
        """Replayed candles (files with bars, not prints) are closed bars already: bots on
        that symbol and timeframe decide on them directly."""
        self.last_prices[candle.symbol] = candle.close
        runners = [
            r
            for r in self.runners.values()
            if r.instrument.symbol == candle.symbol and r.timeframe == candle.timeframe
        ]
        if runners:
            await self._on_candle(candle, runners)

    async def _on_trade(self, trade: Trade) -> None:
        streams = self._aggregators.get(trade.symbol)
        if not streams:
            return
        symbol = trade.symbol
        for timeframe, aggregator in list(streams.items()):
            for candle in aggregator.add(trade):
                runners = [
                    r
                    for r in self.runners.values()
                    if r.instrument.symbol == symbol and r.timeframe == timeframe
                ]
                if runners:
                    await self._on_candle(candle, runners)

    # -- decisions ------------------------------------------------------------------
    async def _on_candle(self, candle: Candle, runners: list[BotRunner]) -> None:
        """Every bot on this stream decides in one transaction (one commit per candle
        close, not per bot), in two phases. First each bot decides with what was read
        once for all of them (bot rows, ledger holdings, breaker settings): strategy,
        planner, venue; this phase writes nothing, except a full risk gate (breakers set
        or active), which runs in its own savepoint. Then everything is written in one go:
        the ledger books all fills in one batched append (refusing an order only its own
        fills, never another bot's), and orders, fills and traces are bulk-inserted."""
        events: list[tuple[str, str, dict[str, Any]]] = []
        started = time.perf_counter()
        try:
            await self._close(candle, runners, events)
        except BaseException:
            self.mirror.end(committed=False)
            raise
        self.mirror.end(committed=True)
        self.stats.record_close(
            time.perf_counter() - started,
            len(runners),
            sum(1 for _, kind, _ in events if kind == "fill"),
            (self.clock.now() - candle.close_ts).total_seconds(),
        )
        await self._emit(events)

    async def _close(
        self,
        candle: Candle,
        runners: list[BotRunner],
        events: list[tuple[str, str, dict[str, Any]]],
    ) -> None:
        async with transaction(self.sessions) as s:
            ledger = LedgerService(s, self.clock)
            row = candle_row(candle)
            bars = {runner.bot_id: runner.push(candle, row) for runner in runners}
            # The chain lock first: the balances read next then stay true until the
            # commit, so the decisions and the ledger batch share one read of them.
            await ledger.lock()
            # Limits are read for the owners the runners know; a bot whose row names
            # another owner is not in the cache, so it takes the full gate.
            users = {r.user_id for r in runners}
            bots, levels = await TradingRepository(s).close_read([r.bot_id for r in runners], users)
            live = [(r, bots[r.bot_id]) for r in runners if r.bot_id in bots]
            known = await self.mirror.read(
                ledger.repo, [key for r, bot in live for key in r.balance_keys(bot.user_id)]
            )
            close = _Close(s, ledger, candle, bots, known, GateCache.of(levels))
            steps: list[_Step] = []
            for runner, bot in live:
                try:
                    step = await self._decide(close, runner, bot, bars[runner.bot_id])
                except Exception:  # isolate: the other bots still decide on this candle
                    log.exception("bot_step_failed", bot_id=runner.bot_id)
                    continue
                if step is not None:
                    steps.append(step)
            for runner in runners:
                if runner.bot_id not in bots:
                    self.runners.pop(runner.bot_id, None)
            await self._write(s, ledger, steps, events)

    async def _decide(
        self, close: _Close, runner: BotRunner, bot: BotState, bars: Bars
    ) -> _Step | None:
        """One bot's decision, nothing written (see `_on_candle`)."""
        if bot.status != "running":  # stopped elsewhere, or halted earlier in this candle
            self.runners.pop(runner.bot_id, None)
            return None
        candle = close.candle
        price = candle.close
        holdings = _holdings(close.known, bot.user_id, runner)
        ctx = StrategyContext(
            bars=bars,
            position_qty=holdings.position_qty,
            cash=holdings.cash,
            equity=holdings.equity(price),
            bar_index=runner.bar_index - 1,
            previous_target=runner.previous_target(),
        )
        checked = close.cache.quick(bot, runner.limits)
        if checked is None:  # breakers to evaluate: the full gate, which may write
            checked = await self._gate(close, runner, bot)
            if checked is None:
                return None
        step = _Step(bot, runner, self.clock.now(), events=list(checked.alerts))
        if checked.blocked:  # a circuit breaker covers this bot: no new orders
            self.runners.pop(bot.id, None)
            step.rule, step.outcome = "circuit_breaker", "denied"
            step.trace = checked.denied_trace(candle)
            return step
        try:
            decision = runner.strategy.on_bar(ctx)
        except Exception as exc:  # a crashing strategy errors only its own bot
            await self._errored(close.s, bot, step, candle, exc)
            return step
        runner.decided = (runner.bar_index, decision.target)
        if runner.limits.exits is not None:  # else no exit to check, and no state to keep
            exit_decision, runner.exit_state = await trade_exit(
                close.ledger, bot, runner.instrument, runner.exit_state, runner.limits.exits, candle
            )
            decision = exit_decision or decision  # a stop or target overrides the strategy
        proposal = plan(
            decision,
            instrument=runner.instrument,
            price=price,
            holdings=holdings,
            limits=runner.limits,
            trade_returns=checked.trade_returns,
            exposure=checked.exposure,
        )
        self._act(close, step, decision, proposal)
        return step

    async def _gate(self, close: _Close, runner: BotRunner, bot: BotState) -> Gate | None:
        """The full risk gate, on the bot's ORM row, in a savepoint. Bots it halts sit
        out the rest of this close, and what it tripped is re-read for the bots after it.
        None when the row is gone (deleted since this close read it)."""
        repo = TradingRepository(close.s)
        row = await repo.bot_any_user(bot.id)
        if row is None:
            self.runners.pop(bot.id, None)
            return None
        async with close.s.begin_nested():
            checked = await risk_gate(
                close.s, self.clock, row, runner.limits, self.last_prices, self.venues
            )
        for bot_id in checked.pre.halted:
            if bot_id in close.bots:  # its row is in the session already: no query
                halted = await repo.bot_any_user(bot_id)
                close.bots[bot_id].status = halted.status if halted is not None else "halted"
        if checked.pre.events or checked.pre.halted:
            close.cache = await GateCache.load(close.s, close.cache.users)
        return checked

    def _act(self, close: _Close, step: _Step, decision: Decision, proposal: Proposal) -> None:
        """Submit the planned order to the paper venue; the fills are booked in `_write`."""
        step.rule, step.signal, step.outcome = decision.rule, decision.signal, proposal.outcome
        step.trace = {
            **decision.trace,
            "bar": {"ts": close.bar_ts, "close": close.bar_close},
            "risk": proposal.trace(),
        }
        if proposal.outcome != "order" or proposal.side is None:
            return
        order = new_order(
            client_order_id=close.client_order_id,
            bot_id=step.bot.id,
            symbol=step.runner.instrument.symbol,
            side=proposal.side,
            type=proposal.type,
            qty=proposal.qty,
            limit_price=proposal.limit_price,
            stop_price=proposal.stop_price,
            created_at=step.now,
        )
        try:
            step.execution = self.venues[step.runner.mode].submit(order)
        except DomainError as exc:
            step.outcome = "rejected"
            step.trace["execution"] = {"error": exc.code, "message": exc.message}

    async def _write(
        self,
        s: AsyncSession,
        ledger: LedgerService,
        steps: list[_Step],
        events: list[tuple[str, str, dict[str, Any]]],
    ) -> None:
        """Book and store every bot's step of this candle with a handful of statements.

        One savepoint guards the whole batch: if it fails unexpectedly (not a ledger
        refusal, which `_book` handles per order), it is rolled back and each bot's step
        is written alone in its own savepoint, so one bad step cannot sink the others.
        The balance mirror serves the batch only: after a rollback it is forgotten and
        each step re-reads what the steps before it left."""
        try:
            async with s.begin_nested():
                written = await self._book(s, ledger, steps, self.mirror)
        except Exception:
            log.exception("candle_batch_failed", bots=len(steps))
            self.mirror.forget()
            written = []
            for step in steps:
                try:
                    async with s.begin_nested():
                        written += await self._book(s, ledger, [step])
                except Exception:
                    log.exception("bot_step_failed", bot_id=step.bot.id)
        events.extend(written)

    async def _book(
        self,
        s: AsyncSession,
        ledger: LedgerService,
        steps: list[_Step],
        mirror: BalanceMirror | None = None,
    ) -> list[tuple[str, str, dict[str, Any]]]:
        """Post all fills to the ledger in one batched append (an order the ledger
        refuses is not booked, the others are), then bulk-insert orders, fills and
        traces. Returns the events to emit after the commit."""
        trading = [(st, st.execution) for st in steps if st.execution is not None]
        posted = await ledger.post_fills(
            [
                [
                    FillRequest(st.bot.user_id, ledger_fill(f, st.bot.id, st.runner.instrument))
                    for f in execution.fills
                ]
                for st, execution in trading
            ],
            mirror=mirror,
            fresh_refs=True,  # fill ids the venue minted in this step
        )
        booked = {id(st): result for (st, _), result in zip(trading, posted, strict=True)}
        rows = Rows()
        events: list[tuple[str, str, dict[str, Any]]] = []
        now = self.clock.now()
        for st in steps:
            events.extend(st.events)
            user_id, bot_id = st.bot.user_id, st.bot.id
            trace, outcome, order_id = dict(st.trace), st.outcome, None
            result = booked.get(id(st))
            if isinstance(result, DomainError):
                # The ledger has the last word: a fill it refuses (e.g. slippage took the
                # cost past the bot's cash) is not booked and the order is void.
                outcome = "rejected"
                trace["execution"] = {"error": result.code, "message": result.message}
            elif st.execution is not None and result is not None:
                order = st.execution.order
                order_id = order.id
                rows.order(order, user_id, now)
                events.append((user_id, "order", order_event(order)))
                for fill, entry in zip(st.execution.fills, result, strict=True):
                    rows.fill(fill, user_id, bot_id, entry)
                    events.append((user_id, "fill", fill_event(fill, bot_id)))
                trace["execution"] = execution_trace(st.execution)
            rows.trace(user_id, bot_id, st.now, st.rule, st.signal, outcome, trace, order_id)
        await rows.insert(s)
        return events

    async def _persist(
        self,
        recorder: Recorder,
        bot: Bot,
        instrument: Instrument,
        order: Order,
        fills: Iterable[Fill],
        events: list[tuple[str, str, dict[str, Any]]],
    ) -> None:
        now = self.clock.now()
        await recorder.save_order(order, bot.user_id, now)
        events.append((bot.user_id, "order", order_event(order)))
        for fill in fills:
            await recorder.save_fill(fill, bot.user_id, bot.id, instrument)
            events.append((bot.user_id, "fill", fill_event(fill, bot.id)))

    async def _errored(
        self, s: AsyncSession, bot: BotState, step: _Step, candle: Candle, exc: Exception
    ) -> None:
        """Mark the bot errored on its ORM row (stored with the close's commit)."""
        reason = f"strategy raised {type(exc).__name__}: {exc}"[:500]
        row = await TradingRepository(s).bot_any_user(bot.id)
        bot.status = next_status(row.status if row is not None else bot.status, "error")
        if row is not None:
            row.status, row.status_reason, row.updated_at = bot.status, reason, self.clock.now()
        step.rule, step.signal, step.outcome = "strategy error", 0.0, "error"
        step.trace = {"error": reason, "bar": {"ts": candle.ts.isoformat()}}
        self.runners.pop(bot.id, None)
        log.warning("bot_errored", bot_id=bot.id, reason=reason)
        step.events.append(
            (bot.user_id, "bot_status", {"bot_id": bot.id, "status": bot.status, "reason": reason})
        )

    async def _record_resting(
        self, venue: PaperVenue, fills: list[Fill], triggered: list[Order]
    ) -> None:
        """What a print did to resting orders: their fills (booked to the ledger) and
        their new state, including stops that triggered without filling."""
        events: list[tuple[str, str, dict[str, Any]]] = []
        order_ids = [*(f.order_id for f in fills), *(o.id for o in triggered)]
        async with transaction(self.sessions) as s:
            repo, ledger = TradingRepository(s), LedgerService(s, self.clock)
            recorder = Recorder(s, ledger)
            for order_id in dict.fromkeys(order_ids):
                row = await repo.order_by_id(order_id)
                bot = await repo.bot_any_user(row.bot_id) if row else None
                if row is None or bot is None:
                    continue
                order = venue.order(order_id)
                mine = [f for f in fills if f.order_id == order_id]
                inst = self.registry.get(bot.exchange, bot.symbol)
                await self._persist(recorder, bot, inst, order, mine, events)
        await self._emit(events)

    async def cancel_bot_orders(self, bot_id: str, reason: str) -> list[str]:
        """Cancel a bot's resting orders in the venue and the database."""
        cancelled: list[str] = []
        async with transaction(self.sessions) as s:
            for row in await TradingRepository(s).open_orders():
                if row.bot_id != bot_id:
                    continue
                for venue in self.venues.values():
                    try:
                        venue.cancel(row.id, reason=reason)
                    except DomainError:
                        continue
                row.status, row.reason, row.updated_at = "cancelled", reason, self.clock.now()
                cancelled.append(row.id)
        return cancelled

    async def _emit(self, events: list[tuple[str, str, dict[str, Any]]]) -> None:
        for user_id, kind, payload in events:
            for listener in self._listeners:
                await listener(user_id, kind, payload)


def _holding_keys(user_id: str, bot_id: str, instrument: Instrument) -> tuple[UserKey, UserKey]:
    return (
        (user_id, journal.bot_account(bot_id, "cash"), instrument.quote),
        (user_id, journal.bot_account(bot_id, "position"), instrument.base),
    )


def _holdings(known: dict[UserKey, Decimal | None], user_id: str, runner: BotRunner) -> Holdings:
    cash, qty = runner.holding_keys(user_id)
    return Holdings(cash=known[cash] or journal.ZERO, position_qty=known[qty] or journal.ZERO)


async def bot_holdings(
    ledger: LedgerService, user_id: str, bot_id: str, instrument: Instrument
) -> Holdings:
    """The bot's quote cash and base position, read from the ledger's running balances
    (two indexed lookups in one round trip, whatever the length of the history)."""
    cash_key = (journal.bot_account(bot_id, "cash"), instrument.quote)
    qty_key = (journal.bot_account(bot_id, "position"), instrument.base)
    found = await ledger.repo.latest_balances(user_id, [cash_key, qty_key])
    return Holdings(
        cash=found[cash_key] or journal.ZERO, position_qty=found[qty_key] or journal.ZERO
    )


@dataclass(slots=True)
class _Step:
    """One bot's decision on a candle close, waiting to be booked and stored."""

    bot: BotState
    runner: BotRunner
    now: datetime
    rule: str = ""
    signal: float = 0.0
    outcome: str = "hold"
    trace: dict[str, Any] = field(default_factory=dict)
    execution: Execution | None = None
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)


class _Close:
    """One candle close: its transaction, what it read once for all its bots (bot rows,
    balances, the gate's limits and trips) and the bar's text every trace and order of
    the close repeats, formatted once rather than per bot."""

    __slots__ = (
        "bar_close",
        "bar_ts",
        "bots",
        "cache",
        "candle",
        "client_order_id",
        "known",
        "ledger",
        "s",
    )

    def __init__(
        self,
        s: AsyncSession,
        ledger: LedgerService,
        candle: Candle,
        bots: dict[str, BotState],
        known: dict[UserKey, Decimal | None],
        cache: GateCache,
    ) -> None:
        self.s, self.ledger, self.candle = s, ledger, candle
        self.bots, self.known, self.cache = bots, known, cache
        self.bar_ts, self.bar_close = candle.ts.isoformat(), str(candle.close)
        self.client_order_id = f"bar-{candle.ts:%Y%m%dT%H%M%S}"
