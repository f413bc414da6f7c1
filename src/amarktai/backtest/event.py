"""Event-driven backtester: the unchanged strategy code, bar by bar, through the live
planner (sizing and pre-trade risk checks) and the paper fill model.

Fill rules (the vectorised path implements exactly the same ones):

1. A decision is made at the close of bar ``t`` from bars ``≤ t`` (trimmed to the
   strategy's ``lookback_bars``); the clock reads bar ``t``'s close time.
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

``decisions="on_bar"`` calls ``Strategy.on_bar`` at every bar: the live code path, whose
cost is O(lookback) per bar. ``decisions="signals"`` takes the per-bar targets from
``Strategy.signals`` (whose contract is "element t equals on_bar at bar t") and keeps
everything else (planner, fills, Decimal ledger) identical; it is the fast way to
replay long histories and must give the same result.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

import numpy as np

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
from amarktai.backtest.data import slice_bars
from amarktai.backtest.ledger import Book
from amarktai.backtest.models import (
    BacktestConfig,
    BacktestResult,
    FloatArray,
    TradeRecord,
    bars_close_times,
    finish_metrics,
)
from amarktai.engine.planner import Holdings, Proposal, plan
from amarktai.execution.orders import Fill, new_order
from amarktai.execution.paper import MarketState, PublicPaperFillModel
from amarktai.kit.errors import ValidationFailed
from amarktai.kit.money import ZERO, to_decimal
from amarktai.markets.types import Instrument, Trade
from amarktai.strategies.base import Bars, Decision, OrderIntent, Strategy, StrategyContext

DecisionSource = Literal["on_bar", "signals"]

__all__ = ["DecisionSource", "run_event"]


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
        self.open_ = bars.open.tolist()
        self.close = bars.close.tolist()
        self.open_ns = bars.time.astype(np.int64).tolist()
        self.targets = _targets(strategy, bars) if source == "signals" else None
        self.lookback = max(1, strategy.lookback_bars)
        self.last = len(bars) - 1
        self.equity: list[float] = []
        self.in_market: list[bool] = []
        self.pending: tuple[Proposal, int] | None = None
        self.decisions = 0
        self.denied = 0
        self.band = float(config.rebalance_band)
        self.cap = float(config.limits.max_position_fraction)

    # -- per bar ---------------------------------------------------------------------

    def step(self, i: int) -> None:
        if self.pending is not None:
            self._fill(i)
        book = self.book
        self.equity.append(book.cash_f + book.qty_f * self.close[i])
        self.in_market.append(book.qty_f > 0.0)
        decision = self._decision(i)
        if decision is None or i == self.last:
            return
        self._plan(decision, i)

    def _decision(self, i: int) -> Decision | None:
        self.decisions += 1
        if self.targets is None:
            decision = self.strategy.on_bar(self._context(i))
            if decision.order is not None:
                return decision
            return self._sized(decision.target, i, decision)
        target = self.targets[i]
        return None if math.isnan(target) else self._sized(target, i, None)

    def _context(self, i: int) -> StrategyContext:
        start = max(0, i + 1 - self.lookback)
        book = self.book
        price = to_decimal(self.close[i])
        return StrategyContext(
            bars=slice_bars(self.bars, start, i + 1),
            position_qty=book.qty,
            cash=book.cash,
            equity=book.cash + book.qty * price,
            bar_index=i,
        )

    def _sized(self, target: float | None, i: int, decision: Decision | None) -> Decision | None:
        """Apply the backtest's sizing rules (fill rule 5) before the planner sees it."""
        if target is None:
            return None
        if self.config.fixed_qty is not None:
            return self._fixed(target)
        book, price = self.book, self.close[i]
        held = book.qty_f * price
        equity = book.cash_f + held
        diff = min(target, self.cap) * equity - held
        flat_out = target == 0.0 and book.qty_f > 0.0
        if not flat_out and (diff == 0.0 or abs(diff) < self.band * equity):
            return None
        return decision or Decision(rule="signals()", signal=0.0, target=target)

    def _fixed(self, target: float) -> Decision | None:
        assert self.config.fixed_qty is not None
        wanted = self.instrument.round_qty(to_decimal(target) * self.config.fixed_qty)
        delta = wanted - self.book.qty
        if delta == 0:
            return None
        side: Literal["buy", "sell"] = "buy" if delta > 0 else "sell"
        intent = OrderIntent(side=side, qty=abs(delta))
        return Decision(rule=f"hold {wanted} units", signal=0.0, order=intent)

    def _plan(self, decision: Decision, i: int) -> None:
        holdings = Holdings(cash=self.book.cash, position_qty=self.book.qty)
        proposal = plan(
            decision,
            instrument=self.instrument,
            price=to_decimal(self.close[i]),
            holdings=holdings,
            limits=self.config.limits,
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
        ts = ns_to_datetime(self.open_ns[i])
        order = new_order(
            client_order_id=f"bt-{self.symbol}-{decided_at}",
            bot_id="backtest",
            symbol=self.symbol,
            side=side,
            type="market",
            qty=proposal.qty,
            created_at=self.clock.now(),
        )
        touch = Trade(ts, self.symbol, to_decimal(self.open_[i]), proposal.qty, side)
        slices, _ = self.model.take(order, MarketState(last_trade=touch), None)
        price = slices[0].price
        qty = self._affordable(side, proposal.qty, price)
        if qty <= 0 or qty < self.instrument.min_qty:
            self.denied += 1
            return
        fee = price * qty * self.model.fee_rate("taker", self.instrument)
        fill = Fill(
            order.id, ts, self.symbol, side, price, qty, fee, self.instrument.quote, "taker"
        )
        self.book.apply(fill, i)

    def _affordable(self, side: str, qty: Decimal, price: Decimal) -> Decimal:
        if side == "sell":
            return min(qty, self.book.qty)
        factor = 1 + self.config.fee_rate
        if qty * price * factor <= self.book.cash:
            return qty
        return self.instrument.round_qty(max(self.book.cash, ZERO) / (price * factor))


def _targets(strategy: Strategy, bars: Bars) -> list[float]:
    values = strategy.signals(bars)
    if values is None:
        raise ValidationFailed(
            f"strategy '{strategy.name}' has no signals(); use decisions='on_bar'",
            code="not_vectorisable",
        )
    return np.asarray(values, dtype=np.float64).tolist()


def run_event(
    strategy: Strategy | str,
    data: Data,
    *,
    params: Mapping[str, Any] | None = None,
    config: BacktestConfig | None = None,
    decisions: DecisionSource = "on_bar",
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
    _drive(list(runners.values()), ticks, clock)
    return _result(strat, config, runners, ticks)


def _drive(runners: list[_Runner], ticks: np.ndarray, clock: BarClock) -> None:
    """Step every instrument's bar at its close tick, instruments in a fixed order."""
    tick_ns = ticks.astype(np.int64)
    if len(runners) == 1:
        runner = runners[0]
        step, close_ns = runner.step, tick_ns.tolist()
        for i in range(len(close_ns)):
            clock.ns = close_ns[i]
            step(i)
        return
    k_all = np.concatenate(
        [np.searchsorted(tick_ns, bars_close_times(r.bars).astype(np.int64)) for r in runners]
    )
    who = np.concatenate([np.full(len(r.bars), n) for n, r in enumerate(runners)])
    idx = np.concatenate([np.arange(len(r.bars)) for r in runners])
    order = np.lexsort((who, k_all))
    for k, n, i in zip(k_all[order].tolist(), who[order].tolist(), idx[order].tolist(),
                       strict=True):  # fmt: skip
        clock.ns = int(tick_ns[k])
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
        total += on_clock(ticks, own, np.asarray(r.equity), r.initial_cash)
        in_market |= on_clock(ticks, own, np.asarray(r.in_market, dtype=float), 0.0) > 0
        trades.extend(r.book.all_trades(to_decimal(r.close[-1])))
        fills.extend(r.book.fills)
    trades.sort(key=lambda t: (t.entry_time, t.symbol))
    fills.sort(key=lambda f: (f.ts, f.symbol))
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
        decisions=sum(r.decisions for r in runners.values()),
        denied=sum(r.denied for r in runners.values()),
        metrics=finish_metrics(ticks, total, tuple(trades), in_market),
    )
