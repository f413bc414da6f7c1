"""The `sim` market: a seeded synthetic market with its own order book and trade prints.

Model, per step of `step_seconds` (time measured in years for the drift/vol maths):

* one market-wide regime follows a Markov chain: each regime has an expected dwell
  time, and on leaving it the next regime is drawn uniformly from the others;
* each symbol's mid follows a log random walk with the regime's drift and volatility,
  plus Poisson jumps with normally distributed log size (crashes and squeezes);
* an L2 book is re-centred on the new mid each step, with a spread in bps and a depth
  profile whose level size grows away from the touch (with lognormal noise);
* a Poisson number of trade prints follows each book, each at the touch (buy at the
  ask, sell at the bid) or, sometimes, strictly inside the spread.

Invariant the tests hold: every trade prints within [best bid, best ask] of the most
recent book of its symbol, and event timestamps never go backwards. All randomness
comes from one `numpy.random.Generator` seeded from `SimConfig.seed`, drawn in a fixed
order, so the same config and start time give the same events bit for bit.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from amarktai.kit.clock import Clock
from amarktai.kit.errors import ValidationFailed
from amarktai.markets.instruments import SIM_INSTRUMENTS, SIM_START_PRICES
from amarktai.markets.types import BookLevel, Instrument, MarketEvent, OrderBook, Trade

SECONDS_PER_YEAR = 365.0 * 86400.0
DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)
_BLOCK = 512

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Regime:
    """A market state: annualised log drift and volatility, and how long it tends to last."""

    name: str
    drift: float
    vol: float
    dwell_hours: float


DEFAULT_REGIMES: tuple[Regime, ...] = (
    Regime("calm", drift=0.0, vol=0.35, dwell_hours=6.0),
    Regime("bull", drift=1.5, vol=0.60, dwell_hours=3.0),
    Regime("stress", drift=-3.0, vol=1.20, dwell_hours=1.0),
)


@dataclass(frozen=True, slots=True)
class SimConfig:
    """Everything that shapes the synthetic market; two equal configs give equal markets."""

    seed: int = 7
    step_seconds: float = 1.0
    instruments: tuple[Instrument, ...] = SIM_INSTRUMENTS
    start_prices: Mapping[str, Decimal] = field(default_factory=lambda: dict(SIM_START_PRICES))
    regimes: tuple[Regime, ...] = DEFAULT_REGIMES
    jumps_per_day: float = 3.0
    jump_mean: float = -0.002
    jump_std: float = 0.012
    spread_bps: float = 8.0
    depth_levels: int = 10
    level_notional: float = 60_000.0
    level_growth: float = 0.35
    trades_per_step: float = 1.5
    trade_notional: float = 4_000.0
    inside_spread_prob: float = 0.1

    def __post_init__(self) -> None:
        problems = [
            (self.step_seconds <= 0, "step_seconds must be > 0"),
            (not self.instruments, "at least one instrument is needed"),
            (not self.regimes, "at least one regime is needed"),
            (self.depth_levels < 1, "depth_levels must be >= 1"),
            (any(r.vol < 0 or r.dwell_hours <= 0 for r in self.regimes), "bad regime"),
            (self.spread_bps <= 0 or self.level_notional <= 0, "spread and depth must be > 0"),
        ]
        missing = [i.symbol for i in self.instruments if i.symbol not in self.start_prices]
        problems.append((bool(missing), f"no start price for {missing}"))
        for bad, message in problems:
            if bad:
                raise ValidationFailed(f"sim config: {message}", code="bad_sim_config")


@dataclass(slots=True)
class _Block:
    """Pre-drawn randomness for a run of steps of one symbol (vectorised for speed)."""

    mid_ticks: IntArray
    half_spread: IntArray
    level_noise: FloatArray
    n_trades: IntArray
    first_trade: IntArray
    buy: npt.NDArray[np.bool_]
    inside: npt.NDArray[np.bool_]
    inside_u: FloatArray
    trade_size: FloatArray


class SimMarket:
    """A reproducible synthetic market; iterate it sync (backtests) or async (live demo).

    `pace="fast"` emits as fast as the consumer takes events; `pace="realtime"` waits,
    using the injected clock and `sleep`, until each step's timestamp is reached, so a
    ManualClock plus a fake sleep makes real-time mode testable without waiting.
    """

    def __init__(
        self,
        config: SimConfig | None = None,
        *,
        clock: Clock | None = None,
        start: datetime | None = None,
        steps: int | None = None,
        pace: str = "fast",
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.config = config or SimConfig()
        if pace not in {"fast", "realtime"}:
            raise ValidationFailed(f"unknown pace {pace!r}", code="bad_sim_config")
        if pace == "realtime" and clock is None:
            raise ValidationFailed("realtime pace needs a clock", code="bad_sim_config")
        self._clock = clock
        self.start = start or (clock.now() if clock is not None else DEFAULT_START)
        if self.start.tzinfo is None:
            raise ValidationFailed("sim start must be timezone-aware", code="bad_sim_config")
        self._steps = steps
        self._pace = pace
        self._sleep = sleep

    def instruments(self) -> Sequence[Instrument]:
        return self.config.instruments

    def steps(self) -> Iterator[list[MarketEvent]]:
        """Each step's events (books first, then that step's trades in time order)."""
        stepper = _Stepper(self.config, self.start)
        count = 0
        while self._steps is None or count < self._steps:
            yield stepper.next_step()
            count += 1

    def events(self) -> Iterator[MarketEvent]:
        for batch in self.steps():
            yield from batch

    async def __aiter__(self) -> AsyncIterator[MarketEvent]:
        for batch in self.steps():
            await self._wait_until(batch[0].ts)
            for event in batch:
                yield event

    async def _wait_until(self, when: datetime) -> None:
        if self._pace == "fast" or self._clock is None:
            await asyncio.sleep(0)  # let other tasks run between steps
            return
        delay = (when - self._clock.now()).total_seconds()
        if delay > 0:
            await self._sleep(delay)


class _Stepper:
    """The walk's mutable state; kept apart so each iteration restarts from the seed."""

    def __init__(self, config: SimConfig, start: datetime) -> None:
        self.cfg = config
        self.start = start
        self.rng = np.random.default_rng(config.seed)
        self.dt_years = config.step_seconds / SECONDS_PER_YEAR
        self.regime = 0
        self.step = 0
        self.log_mid = {
            i.symbol: math.log(float(config.start_prices[i.symbol])) for i in config.instruments
        }
        self.blocks: dict[str, _Block] = {}
        self.offset = _BLOCK

    def next_step(self) -> list[MarketEvent]:
        if self.offset >= _BLOCK:
            self._draw_blocks()
            self.offset = 0
        ts = self.start + timedelta(seconds=self.step * self.cfg.step_seconds)
        books: list[MarketEvent] = []
        trades: list[Trade] = []
        for instrument in self.cfg.instruments:
            block = self.blocks[instrument.symbol]
            book, its_trades = self._emit(instrument, block, self.offset, ts)
            books.append(book)
            trades.extend(its_trades)
        trades.sort(key=lambda t: t.ts)
        self.offset += 1
        self.step += 1
        return [*books, *trades]

    def _draw_blocks(self) -> None:
        regimes = self._draw_regimes()
        for instrument in self.cfg.instruments:
            self.blocks[instrument.symbol] = self._draw_block(instrument, regimes)

    def _draw_regimes(self) -> IntArray:
        """Markov switching of the shared regime, one state per step of the block."""
        regimes = self.cfg.regimes
        leave = np.array(
            [1.0 - math.exp(-self.cfg.step_seconds / (r.dwell_hours * 3600.0)) for r in regimes]
        )
        u = self.rng.random(_BLOCK)
        pick = self.rng.integers(0, max(1, len(regimes) - 1), _BLOCK)
        states = np.empty(_BLOCK, dtype=np.int64)
        state = self.regime
        for k in range(_BLOCK):
            if len(regimes) > 1 and u[k] < leave[state]:
                state = int(pick[k]) + (1 if pick[k] >= state else 0)
            states[k] = state
        self.regime = state
        return states

    def _draw_block(self, instrument: Instrument, regimes: IntArray) -> _Block:
        cfg, rng, n = self.cfg, self.rng, _BLOCK
        drift = np.array([r.drift for r in cfg.regimes])[regimes]
        vol = np.array([r.vol for r in cfg.regimes])[regimes]
        n_jumps = rng.poisson(cfg.jumps_per_day * cfg.step_seconds / 86400.0, n)
        jumps = n_jumps * cfg.jump_mean + np.sqrt(n_jumps) * cfg.jump_std * rng.standard_normal(n)
        shocks = rng.standard_normal(n)
        returns = (drift - 0.5 * vol**2) * self.dt_years + vol * math.sqrt(self.dt_years) * shocks
        log_path = self.log_mid[instrument.symbol] + np.cumsum(returns + jumps)
        self.log_mid[instrument.symbol] = float(log_path[-1])
        step = float(instrument.price_step)
        mid = np.exp(log_path)
        mid_ticks = np.maximum(np.rint(mid / step).astype(np.int64), 2)
        half = np.maximum(np.rint(mid * cfg.spread_bps / 2e4 / step).astype(np.int64), 1)
        n_trades = rng.poisson(cfg.trades_per_step, n).astype(np.int64)
        total = int(n_trades.sum())
        return _Block(
            mid_ticks=mid_ticks,
            half_spread=np.minimum(half, mid_ticks // 2),
            level_noise=rng.lognormal(0.0, 0.3, (n, 2, cfg.depth_levels)),
            n_trades=n_trades,
            first_trade=np.cumsum(n_trades) - n_trades,
            buy=rng.random(total) < 0.5,
            inside=rng.random(total) < cfg.inside_spread_prob,
            inside_u=rng.random(total),
            trade_size=cfg.trade_notional * rng.lognormal(0.0, 1.0, total),
        )

    def _emit(
        self, instrument: Instrument, block: _Block, k: int, ts: datetime
    ) -> tuple[OrderBook, list[Trade]]:
        mid, half = int(block.mid_ticks[k]), int(block.half_spread[k])
        bid_t, ask_t = mid - half, mid + half
        book = self._book(instrument, block, k, ts, bid_t, ask_t, half)
        first = int(block.first_trade[k])
        count = int(block.n_trades[k])
        trades = [
            self._trade(instrument, block, first + j, ts, (j + 1) / (count + 1), bid_t, ask_t)
            for j in range(count)
        ]
        return book, trades

    def _book(
        self,
        instrument: Instrument,
        block: _Block,
        k: int,
        ts: datetime,
        bid_t: int,
        ask_t: int,
        gap: int,
    ) -> OrderBook:
        cfg = self.cfg
        step, qty_step = instrument.price_step, instrument.qty_step
        mid_price = (bid_t + ask_t) / 2 * float(step)
        min_units = int(instrument.min_qty / qty_step)
        depth = cfg.depth_levels
        bid_ticks = [bid_t - i * gap for i in range(depth) if bid_t - i * gap > 0]
        ask_ticks = [ask_t + i * gap for i in range(depth)]

        def level(ticks: int, i: int, side: int) -> BookLevel:
            notional = (
                cfg.level_notional * (1 + cfg.level_growth * i) * block.level_noise[k, side, i]
            )
            units = max(min_units, int(notional / mid_price / float(qty_step)))
            return BookLevel(Decimal(ticks) * step, Decimal(units) * qty_step)

        return OrderBook(
            ts=ts,
            symbol=instrument.symbol,
            bids=tuple(level(t, i, 0) for i, t in enumerate(bid_ticks)),
            asks=tuple(level(t, i, 1) for i, t in enumerate(ask_ticks)),
        )

    def _trade(
        self,
        instrument: Instrument,
        block: _Block,
        j: int,
        ts: datetime,
        frac: float,
        bid_t: int,
        ask_t: int,
    ) -> Trade:
        buy = bool(block.buy[j])
        ticks = ask_t if buy else bid_t
        if block.inside[j] and ask_t - bid_t > 1:
            ticks = bid_t + 1 + int(block.inside_u[j] * (ask_t - bid_t - 1))
        price = Decimal(ticks) * instrument.price_step
        units = max(
            int(instrument.min_qty / instrument.qty_step),
            int(block.trade_size[j] / float(price) / float(instrument.qty_step)),
        )
        return Trade(
            ts=ts + timedelta(seconds=frac * self.cfg.step_seconds),
            symbol=instrument.symbol,
            price=price,
            qty=Decimal(units) * instrument.qty_step,
            side="buy" if buy else "sell",
            trade_id=f"sim-{instrument.symbol}-{self.step}-{j}",
        )
