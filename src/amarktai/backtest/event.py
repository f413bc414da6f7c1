"""Event-driven backtester: the unchanged strategy code, bar by bar, through the live
planner (sizing and pre-trade risk checks) and the paper fill model.

Fill rules (the vectorised path implements exactly the same ones):

1. A decision is made at the close of bar ``t`` from bars ``≤ t`` (all of them with
   the default decision source, the last ``lookback_bars`` with ``"on_bar"``, as
   live); the clock reads bar ``t``'s close time.
2. Its order is sized by ``engine.planner.plan`` at the close price of bar ``t`` and,
   if the checks pass, fills in full as a market (taker) order at the **open of bar
   t + 1**, moved against us by ``slippage_bps`` (``PublicPaperFillModel``). A decision
   on the last bar has no next open and is never filled.
3. Fee = fill price × qty × ``fee_bps`` on buys and on sells, in the quote currency.
4. A buy that costs more at the next open than the cash left (a gap up) is cut to what
   the cash buys; if that is below the instrument's minimum it is not filled.
5. Targets: a target that differs from the holding by less than ``rebalance_band`` of
   equity is left alone unless it is a move to flat. With ``fixed_qty`` a target ``t``
   means ``t × fixed_qty`` units and any change is traded.
6. Equity is marked at each bar close; an open position at the end is valued at the
   last close with no exit fee and reported as an open trade.
7. Several instruments run on one clock (the union of their bar close times), each
   in its own sub-account (``BacktestConfig.allocation``), like separate bots.

Decision sources (``decisions=``), all feeding the same planner, fills and ledger:

- ``"stream"`` (default): ``Strategy.stream(bars)``, the strategy's own fast path. Its
  decision at bar ``t`` equals ``on_bar`` on the history up to ``t`` (trace included;
  ``tests/unit/strategies/test_streams.py`` checks every built-in at every bar of the
  real data). A target strategy's per-bar target is a float read at each bar; the full
  ``Decision``, the sizing, the planner's checks, the fill model and the Decimal book
  run only on bars whose target needs an order, so a bar that changes nothing
  allocates nothing. Order strategies are asked only on their ``order_bars``.
- ``"on_bar"``: ``Strategy.on_bar`` at every bar on the last ``lookback_bars`` bars,
  exactly the live engine's call; O(lookback) per bar.
- ``"signals"``: targets from ``Strategy.signals`` (contract: element t equals on_bar
  at bar t), the planner seeing a bare ``Decision(rule="signals()")``.

Equity is marked from the holdings after each fill (rule 6), as floats, once per
stretch between fills rather than once per bar; the values are the same.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from amarktai.backtest.common import (
    BarClock,
    Data,
    common_clock,
    instrument_for,
    normalise_data,
    ns_to_datetime,
    on_clock,
    resolve_strategy,
)
from amarktai.backtest.ledger import Book
from amarktai.backtest.models import (
    BacktestConfig,
    BacktestResult,
    FloatArray,
    TradeRecord,
    bars_close_times,
    closed_pnl_of,
    finish_metrics,
)
from amarktai.engine.planner import Holdings, Proposal, plan
from amarktai.execution.orders import Fill, new_order
from amarktai.execution.paper import MarketState, PublicPaperFillModel
from amarktai.kit.errors import ValidationFailed
from amarktai.kit.money import ZERO, to_decimal
from amarktai.markets.types import Instrument, Trade
from amarktai.strategies.base import (
    Bars,
    Decision,
    DecisionStream,
    OnBarStream,
    OrderIntent,
    Strategy,
)

DecisionSource = Literal["stream", "on_bar", "signals"]

__all__ = ["DecisionSource", "run_event"]


class _SignalsStream(DecisionStream):
    """``decisions="signals"``: the targets of ``Strategy.signals`` and nothing else."""

    def __init__(self, strategy: Strategy, bars: Bars) -> None:
        super().__init__(bars)
        values = strategy.signals(bars)
        if values is None:
            raise ValidationFailed(
                f"strategy '{strategy.name}' has no signals(); use decisions='stream'",
                code="not_vectorisable",
            )
        self.targets = np.asarray(values, dtype=np.float64)

    def decide(
        self, i: int, *, position_qty: Decimal = ZERO, cash: Decimal = ZERO, equity: Decimal = ZERO
    ) -> Decision:
        assert self.targets is not None
        target = float(self.targets[i])
        return Decision(rule="signals()", signal=0.0, target=None if target != target else target)


def _decision_stream(strategy: Strategy, bars: Bars, source: DecisionSource) -> DecisionStream:
    if source == "stream":
        return strategy.stream(bars)
    if source == "on_bar":
        return OnBarStream(strategy, bars)
    if source == "signals":
        return _SignalsStream(strategy, bars)
    raise ValidationFailed(f"unknown decision source {source!r}", code="invalid_backtest_setting")


class _Runner:
    """One instrument's simulation: its bars, sub-account and pending order."""

    def __init__(
        self,
        symbol: str,
        bars: Bars,
        strategy: Strategy,
        instrument: Instrument,
        cash: Decimal,
        config: BacktestConfig,
        clock: BarClock,
        source: DecisionSource,
    ) -> None:
        self.symbol, self.bars, self.strategy = symbol, bars, strategy
        self.instrument, self.config, self.clock = instrument, config, clock
        self.book = Book(symbol, cash)
        self.initial_cash = float(cash)
        self.model = PublicPaperFillModel(
            slippage_bps=config.slippage_bps, taker_fee=config.fee_rate, maker_fee=config.fee_rate
        )
        self.stream = _decision_stream(strategy, bars, source)
        targets = self.stream.targets
        self.targets: list[float] | None = None if targets is None else targets.tolist()
        self.active: list[bool] | None = None
        if self.targets is None and self.stream.order_bars is not None:
            flags = np.zeros(len(bars), dtype=bool)
            flags[self.stream.order_bars] = True
            self.active = flags.tolist()
        # Per-bar reads go through lists; columns read only at orders stay arrays.
        self.close = bars.close.tolist()
        self.open_ns = np.asarray(bars.time, dtype="datetime64[ns]").view(np.int64)
        self.close_ns = np.asarray(bars_close_times(bars), dtype="datetime64[ns]").view(np.int64)
        self.last = len(bars) - 1
        # Holdings after each fill, from that bar on: (bar, cash, qty) as floats.
        self.marks: list[tuple[int, float, float]] = [(0, self.initial_cash, 0.0)]
        self.pending: tuple[Proposal, int] | None = None
        self.denied = 0
        self.band = float(config.rebalance_band)
        self.cap = float(config.max_position_fraction)
        self.limits = config.risk_limits
        self.fixed = config.fixed_qty
        self.units: dict[float, Decimal] = {}  # fixed_qty: target -> units on the grid
        # (target, fills so far) last seen to need no order with fixed_qty: until either
        # changes the answer is the same, so those bars cost one comparison.
        self.quiet: tuple[float, int] = (math.nan, -1)

    # -- per bar ---------------------------------------------------------------------

    def run(self) -> None:
        """Every bar in order: ``step`` inlined for a lone instrument's target stream."""
        targets = self.targets
        if targets is None:
            for i in range(len(self.close)):
                self.step(i)
            return
        fill, sized, marks = self._fill, self._target, self.marks
        for i in range(self.last):
            if self.pending is not None:
                fill(i)
            target = targets[i]
            if target != target or (target == self.quiet[0] and len(marks) == self.quiet[1]):
                continue
            sized(i, target, None)
        if self.pending is not None:
            fill(self.last)

    def step(self, i: int) -> None:
        if self.pending is not None:
            self._fill(i)
        if i == self.last:  # a decision on the last bar has no next open to fill at
            return
        targets = self.targets
        if targets is not None:
            target = targets[i]
            if target != target or (target == self.quiet[0] and len(self.marks) == self.quiet[1]):
                return  # NaN (no decision), or a fixed target already held
            self._target(i, target, None)
            return
        if self.active is not None and not self.active[i]:
            return
        decision = self.stream.decide(i, **self._holdings(i))
        if decision.order is not None:
            self._plan(decision, i)
        elif decision.target is not None:
            self._target(i, decision.target, decision)

    def _holdings(self, i: int) -> dict[str, Decimal]:
        book = self.book
        return {
            "position_qty": book.qty,
            "cash": book.cash,
            "equity": book.cash + book.qty * to_decimal(self.close[i]),
        }

    def _target(self, i: int, target: float, decision: Decision | None) -> None:
        """Fill rule 5 (sizing) with floats; the decision is asked for only if it trades."""
        if self.fixed is not None:
            self._fixed(i, target)
            return
        book, price = self.book, self.close[i]
        held = book.qty_f * price
        equity = book.cash_f + held
        diff = min(target, self.cap) * equity - held
        flat_out = target == 0.0 and book.qty_f > 0.0
        if not flat_out and (diff == 0.0 or abs(diff) < self.band * equity):
            return
        if decision is None:
            decision = self.stream.decide(i, **self._holdings(i))
            if decision.target != target:
                raise RuntimeError(
                    f"{self.strategy.name}: stream target {target} at bar {i} but its "
                    f"decision says {decision.target}"
                )
        self._plan(decision, i)

    def _fixed(self, i: int, target: float) -> None:
        assert self.fixed is not None
        wanted = self.units.get(target)
        if wanted is None:
            wanted = self.instrument.round_qty(to_decimal(target) * self.fixed)
            self.units[target] = wanted
        delta = wanted - self.book.qty
        if delta == 0:
            self.quiet = (target, len(self.marks))
            return
        side: Literal["buy", "sell"] = "buy" if delta > 0 else "sell"
        intent = OrderIntent(side=side, qty=abs(delta))
        self._plan(Decision(rule=f"hold {wanted} units", signal=0.0, order=intent), i)

    def _plan(self, decision: Decision, i: int) -> None:
        holdings = Holdings(cash=self.book.cash, position_qty=self.book.qty)
        proposal = plan(
            decision,
            instrument=self.instrument,
            price=to_decimal(self.close[i]),
            holdings=holdings,
            limits=self.limits,
        )
        if proposal.outcome == "order" and proposal.type == "market":
            self.pending = (proposal, i)
        elif proposal.outcome != "hold":
            self.denied += 1

    # -- fills -------------------------------------------------------------------------

    def _fill(self, i: int) -> None:
        """Fill rule 2–4: the pending market order at this bar's open."""
        assert self.pending is not None
        proposal, decided_at = self.pending
        self.pending = None
        side = proposal.side
        assert side is not None
        self.clock.ns = int(self.close_ns[i])
        ts = ns_to_datetime(int(self.open_ns[i]))
        order_id = f"bt-{self.symbol}-{decided_at}"
        order = new_order(
            client_order_id=order_id,
            order_id=order_id,
            bot_id="backtest",
            symbol=self.symbol,
            side=side,
            type="market",
            qty=proposal.qty,
            created_at=self.clock.now(),
        )
        touch = Trade(ts, self.symbol, to_decimal(float(self.bars.open[i])), proposal.qty, side)
        slices, _ = self.model.take(order, MarketState(last_trade=touch), None)
        price = slices[0].price
        qty = self._affordable(side, proposal.qty, price)
        if qty <= 0 or qty < self.instrument.min_qty:
            self.denied += 1
            return
        fee = price * qty * self.model.fee_rate("taker", self.instrument)
        fill = Fill(order.id, ts, self.symbol, side, price, qty, fee, self.instrument.quote,
                    "taker", id=f"bt-{self.symbol}-{i}")  # fmt: skip
        self.book.apply(fill, i)
        self.marks.append((i, self.book.cash_f, self.book.qty_f))

    def _affordable(self, side: str, qty: Decimal, price: Decimal) -> Decimal:
        if side == "sell":
            return min(qty, self.book.qty)
        factor = 1 + self.config.fee_rate
        if qty * price * factor <= self.book.cash:
            return qty
        return self.instrument.round_qty(max(self.book.cash, ZERO) / (price * factor))

    # -- after the run -----------------------------------------------------------------

    def equity(self) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
        """Rule 6 per bar: the holdings in force at each bar's close, marked at it."""
        bars, cash, qty = (np.array(c) for c in zip(*self.marks, strict=True))
        length = np.diff(np.append(bars, len(self.close)))
        cash_per_bar = np.repeat(cash, length)
        qty_per_bar = np.repeat(qty, length)
        return cash_per_bar + qty_per_bar * self.bars.close, qty_per_bar > 0.0


def run_event(
    strategy: Strategy | str,
    data: Data,
    *,
    params: Mapping[str, Any] | None = None,
    config: BacktestConfig | None = None,
    decisions: DecisionSource = "stream",
    instruments: Mapping[str, Instrument] | None = None,
) -> BacktestResult:
    """Run the event-driven backtest (fill rules in the module docstring).

    ``data`` is one ``Bars`` (symbol ``ASSET/USD``) or symbol → ``Bars``. Unknown
    strategies raise ``NotFound(unknown_strategy)``; bad params ``invalid_parameter``.
    """
    config = config or BacktestConfig()
    strat = resolve_strategy(strategy, params)
    series = normalise_data(data, strat)
    cash = config.cash_for(list(series))
    clock = BarClock()
    runners = {
        s: _Runner(s, b, strat, instrument_for(s, config, instruments), cash[s], config, clock,
                   decisions)
        for s, b in series.items()
    }  # fmt: skip
    ticks = common_clock(series)
    _drive(list(runners.values()), ticks)
    return _result(strat, config, runners, ticks)


def _drive(runners: list[_Runner], ticks: np.ndarray) -> None:
    """Step every instrument's bar at its close tick, instruments in a fixed order; each
    runner sets the shared clock to its bar's close time before it stamps anything."""
    if len(runners) == 1:
        runners[0].run()
        return
    tick_ns = ticks.astype(np.int64)
    k_all = np.concatenate(
        [np.searchsorted(tick_ns, bars_close_times(r.bars).astype(np.int64)) for r in runners]
    )
    who = np.concatenate([np.full(len(r.bars), n) for n, r in enumerate(runners)])
    idx = np.concatenate([np.arange(len(r.bars)) for r in runners])
    order = np.lexsort((who, k_all))
    for n, i in zip(who[order].tolist(), idx[order].tolist(), strict=True):
        runners[n].step(i)


def _result(
    strategy: Strategy,
    config: BacktestConfig,
    runners: Mapping[str, _Runner],
    ticks: np.ndarray,
) -> BacktestResult:
    total: FloatArray = np.zeros(len(ticks))
    in_market = np.zeros(len(ticks), dtype=bool)
    trades: list[TradeRecord] = []
    fills: list[Fill] = []
    for r in runners.values():
        own = bars_close_times(r.bars)
        equity, held = r.equity()
        total += on_clock(ticks, own, equity, r.initial_cash)
        in_market |= on_clock(ticks, own, held.astype(float), 0.0) > 0
        trades.extend(r.book.all_trades(to_decimal(r.close[-1])))
        fills.extend(r.book.fills)
    if len(runners) > 1:
        trades.sort(key=lambda t: (t.entry_time, t.symbol))
        fills.sort(key=lambda f: (f.ts, f.symbol))
    closed = closed_pnl_of(trades)
    return BacktestResult(
        path="event",
        strategy=strategy.name,
        params=dict(strategy.params.to_dict()),
        config=config,
        times=ticks,
        equity=total,
        in_market=in_market,
        trades=tuple(trades),
        fills=tuple(fills),
        decisions=sum(len(r.bars) for r in runners.values()),
        denied=sum(r.denied for r in runners.values()),
        metrics=finish_metrics(ticks, total, closed, in_market),
        closed_pnl=closed,
    )
