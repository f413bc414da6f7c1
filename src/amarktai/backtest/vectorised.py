"""Vectorised fast path: the event-driven rules (see ``amarktai.backtest.event``) on
NumPy arrays, for strategies whose ``signals()`` gives a target per bar.

Same rules, float64 instead of Decimal: trades (entry/exit bars, count) are identical
and final equity agrees to ~1e-9 relative (quantity rounding onto the instrument's
grid is done in float, so a quantity can differ by one grid step in rare cases).

How: between two fills the sub-account's cash and position are constant, so whether
bar ``t`` produces an order is a vectorised expression over a block of bars. The loop
runs once per *fill* (scanning blocks that grow geometrically), not once per bar.
With ``fixed_qty``, targets that only switch between levels and cash that is never
short, the whole run is loop-free (cumulative sums), which is the optimiser's and the
benchmark's case.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np

from amarktai.backtest.common import (
    Data,
    common_clock,
    instrument_for,
    normalise_data,
    ns_to_datetime,
    on_clock,
    resolve_strategy,
)
from amarktai.backtest.models import (
    BacktestConfig,
    BacktestResult,
    FloatArray,
    TradeRecord,
    bars_close_times,
    finish_metrics,
)
from amarktai.execution.orders import Fill
from amarktai.kit.errors import ValidationFailed
from amarktai.kit.money import to_decimal
from amarktai.markets.types import Instrument
from amarktai.strategies.base import Bars, Strategy

__all__ = ["run_vectorised", "simulate_targets"]

_FIRST_BLOCK = 256
_MAX_BLOCK = 1 << 16


@dataclasses.dataclass(frozen=True, slots=True)
class _Rules:
    """The settings the simulation needs, as floats."""

    fee: float
    slip: float
    band: float
    cap: float
    fixed: float | None
    step: float
    min_qty: float
    min_notional: float

    @classmethod
    def of(cls, config: BacktestConfig, instrument: Instrument) -> _Rules:
        return cls(
            fee=float(config.fee_rate),
            slip=float(config.slippage_rate),
            band=float(config.rebalance_band),
            cap=float(config.limits.max_position_fraction),
            fixed=None if config.fixed_qty is None else float(config.fixed_qty),
            step=float(instrument.qty_step),
            min_qty=float(instrument.min_qty),
            min_notional=float(instrument.min_notional),
        )

    def round_qty(self, qty: Any) -> Any:
        if self.step <= 0:
            return qty
        return np.floor(qty / self.step + 1e-9) * self.step


@dataclasses.dataclass(slots=True)
class SimOutput:
    """One instrument's simulated run, in floats (converted to records afterwards)."""

    equity: FloatArray
    in_market: np.ndarray
    fills: list[tuple[int, str, float, float, float]]  # bar, side, price, qty, fee
    decisions: int
    denied: int


def simulate_targets(
    open_: FloatArray, close: FloatArray, targets: FloatArray, cash: float, rules: _Rules
) -> SimOutput:
    """The fill rules on arrays; the optimiser calls this directly (no records)."""
    decisions = len(close)  # every bar is a decision point, as in the event path
    if rules.fixed is not None:
        fast = _fixed_loop_free(open_, close, targets, cash, rules)
        if fast is not None:
            return dataclasses.replace(fast, decisions=decisions)
    return dataclasses.replace(_scan(open_, close, targets, cash, rules), decisions=decisions)


# ------------------------------------------------------------------------ loop-free case


def _fixed_loop_free(
    open_: FloatArray, close: FloatArray, targets: FloatArray, cash: float, rules: _Rules
) -> SimOutput | None:
    """Fixed units, enough cash everywhere: positions are the targets carried forward.
    Returns None (use the scan) when any order would be cut or denied."""
    assert rules.fixed is not None
    n = len(close)
    finite = np.isfinite(targets)
    filled = np.where(finite, targets, 0.0)
    carried = np.maximum.accumulate(np.where(finite, np.arange(n), -1))
    wanted = np.where(
        carried >= 0, rules.round_qty(filled[np.maximum(carried, 0)] * rules.fixed), 0
    )
    wanted[-1] = wanted[-2] if n > 1 else 0.0  # the last bar's decision never fills
    held = np.concatenate(([0.0], wanted[:-1]))  # position at bar t's close
    delta = np.diff(np.concatenate(([0.0], wanted)))
    at = np.flatnonzero(np.abs(delta) > rules.step / 2)  # decision bars, each filled at +1
    qty = delta[at]
    side = np.where(qty > 0, 1.0, -1.0)
    price = open_[at + 1] * (1.0 + side * rules.slip)
    size = np.abs(qty)
    fee = price * size * rules.fee
    flow = -qty * price - fee  # cash change at each fill
    cash_after = cash + np.cumsum(flow)
    cash_before = cash_after - flow
    buys = qty > 0
    ref = close[at]
    equity_at = cash_before + held[at] * ref
    afford_close = (size * ref * (1 + rules.fee) <= cash_before) | ~buys
    afford_open = cash_after >= 0
    within_cap = ~buys | (wanted[at] * ref <= rules.cap * equity_at * 1.0001)
    rules_ok = (size >= rules.min_qty) & (size * ref >= rules.min_notional)
    if not (afford_close.all() and afford_open.all() and within_cap.all() and rules_ok.all()):
        return None
    cash_series = cash + np.cumsum(np.bincount(at + 1, weights=flow, minlength=n)[:n])
    equity = cash_series + held * close
    fills = list(
        zip(
            (at + 1).tolist(),
            np.where(buys, "buy", "sell").tolist(),
            price.tolist(),
            size.tolist(),
            fee.tolist(),
            strict=True,
        )
    )
    return SimOutput(equity, held > 0, fills, 0, 0)


# ---------------------------------------------------------------------------- the scan


@dataclasses.dataclass(slots=True)
class _State:
    cash: float
    qty: float = 0.0


def _orders(
    state: _State, tau: FloatArray, c: FloatArray, rules: _Rules
) -> tuple[np.ndarray, np.ndarray, FloatArray]:
    """For a block of bars at constant holdings: which bars would place an order, which
    would be denied by the planner, and the order size (signed; + buy)."""
    held = state.qty * c
    equity = state.cash + held
    if rules.fixed is not None:
        wanted = rules.round_qty(np.where(np.isfinite(tau), tau, 0.0) * rules.fixed)
        signed = np.where(np.isfinite(tau), wanted - state.qty, 0.0)
        act = np.abs(signed) > rules.step / 2
        buy_ok = (signed * c * (1 + rules.fee) <= state.cash) & (
            (state.qty + signed) * c <= rules.cap * equity * 1.0001
        )
    else:
        diff = np.minimum(tau, rules.cap) * equity - held
        flat_out = (tau == 0.0) & (state.qty > 0)
        act = np.isfinite(tau) & (flat_out | ((diff != 0) & (np.abs(diff) >= rules.band * equity)))
        buy_q = rules.round_qty(np.maximum(diff, 0.0) / (c * (1 + rules.fee)))
        sell_q = np.where(tau == 0.0, state.qty, rules.round_qty(np.maximum(-diff, 0.0) / c))
        signed = np.where(diff > 0, buy_q, -np.minimum(sell_q, state.qty))
        signed = np.where(act, signed, 0.0)
        act &= signed != 0
        buy_ok = np.ones_like(act)
    size = np.abs(signed)
    ok = (size >= rules.min_qty) & (size * c >= rules.min_notional) & ((signed < 0) | buy_ok)
    return act & ok, act & ~ok, signed


def _scan(
    open_: FloatArray, close: FloatArray, targets: FloatArray, cash: float, rules: _Rules
) -> SimOutput:
    n = len(close)
    equity = np.empty(n)
    in_market = np.zeros(n, dtype=bool)
    state = _State(cash)
    fills: list[tuple[int, str, float, float, float]] = []
    denied, start, block = 0, 0, _FIRST_BLOCK
    seg = 0  # first bar not yet marked
    while start < n - 1:
        stop = min(start + block, n - 1)
        place, deny, signed = _orders(state, targets[start:stop], close[start:stop], rules)
        hits = np.flatnonzero(place)
        if hits.size == 0:
            denied += int(deny.sum())
            start, block = stop, min(block * 2, _MAX_BLOCK)
            continue
        t = start + int(hits[0])
        denied += int(deny[: hits[0]].sum())
        _mark(equity, in_market, close, state, seg, t + 1)
        denied += _fill(state, fills, t + 1, float(signed[hits[0]]), float(open_[t + 1]), rules)
        seg, start, block = t + 1, t + 1, _FIRST_BLOCK
    _mark(equity, in_market, close, state, seg, n)
    return SimOutput(equity, in_market, fills, 0, denied)


def _mark(
    equity: FloatArray, in_market: np.ndarray, close: FloatArray, s: _State, a: int, b: int
) -> None:
    equity[a:b] = s.cash + s.qty * close[a:b]
    in_market[a:b] = s.qty > 0


def _fill(
    state: _State,
    fills: list[tuple[int, str, float, float, float]],
    bar: int,
    signed: float,
    open_price: float,
    rules: _Rules,
) -> int:
    """Fill rules 2–4 at ``bar``'s open; returns 1 when the order could not be filled."""
    buy = signed > 0
    price = open_price * (1 + rules.slip) if buy else open_price * (1 - rules.slip)
    qty = abs(signed)
    if buy and qty * price * (1 + rules.fee) > state.cash:
        qty = float(rules.round_qty(max(state.cash, 0.0) / (price * (1 + rules.fee))))
    if qty <= 0 or qty < rules.min_qty:
        return 1
    fee = price * qty * rules.fee
    if buy:
        state.cash -= price * qty + fee
        state.qty += qty
    else:
        qty = min(qty, state.qty)
        state.cash += price * qty - fee
        state.qty = 0.0 if abs(state.qty - qty) < rules.step / 2 else state.qty - qty
    fills.append((bar, "buy" if buy else "sell", price, qty, fee))
    return 0


# ---------------------------------------------------------------------- records, entry


def _records(
    symbol: str, bars: Bars, out: SimOutput, quote: str
) -> tuple[list[TradeRecord], list[Fill]]:
    """Average-cost round trips from the fills, like ``ledger.Book`` (in float)."""
    times = bars.time.astype(np.int64)
    trades: list[TradeRecord] = []
    fills: list[Fill] = []
    qty = avg = 0.0
    trip: dict[str, Any] | None = None
    for bar, side, price, size, fee in out.fills:
        ts = ns_to_datetime(int(times[bar]))
        fills.append(_fill_record(symbol, bar, ts, side, price, size, fee, quote))
        if trip is None:
            trip = {"bar": bar, "ts": ts, "bv": 0.0, "bq": 0.0, "sv": 0.0, "sq": 0.0,
                    "real": 0.0, "fees": 0.0}  # fmt: skip
        trip["fees"] += fee
        if side == "buy":
            avg = (avg * qty + price * size) / (qty + size)
            qty += size
            trip["bv"] += price * size
            trip["bq"] += size
            continue
        trip["real"] += (price - avg) * size
        trip["sv"] += price * size
        trip["sq"] += size
        qty -= size
        if qty <= 0:
            qty = avg = 0.0
            trades.append(_trip(symbol, trip, bar, ts, 0.0))
            trip = None
    if trip is not None:
        unrealised = (float(bars.close[-1]) - avg) * qty
        trades.append(_trip(symbol, trip, None, None, unrealised))
    return trades, fills


def _trip(
    symbol: str, trip: dict[str, Any], bar: int | None, ts: datetime | None, unrealised: float
) -> TradeRecord:
    return TradeRecord(
        symbol=symbol,
        entry_bar=trip["bar"],
        entry_time=trip["ts"],
        entry_price=to_decimal(float(trip["bv"] / trip["bq"])),
        qty=to_decimal(float(trip["bq"])),
        exit_bar=bar,
        exit_time=ts,
        exit_price=to_decimal(float(trip["sv"] / trip["sq"])) if bar is not None else None,
        pnl=to_decimal(float(trip["real"] + unrealised - trip["fees"])),
        fees=to_decimal(float(trip["fees"])),
    )


def _fill_record(
    symbol: str, bar: int, ts: datetime, side: str, price: float, qty: float, fee: float, q: str
) -> Fill:
    return Fill(
        order_id=f"bt-{symbol}-{bar - 1}",
        ts=ts,
        symbol=symbol,
        side="buy" if side == "buy" else "sell",
        price=to_decimal(float(price)),
        qty=to_decimal(float(qty)),
        fee=to_decimal(float(fee)),
        fee_asset=q,
        liquidity="taker",
        id=f"bt-{symbol}-{bar}",
    )


def strategy_targets(strategy: Strategy, bars: Bars) -> FloatArray:
    values = strategy.signals(bars)
    if values is None:
        raise ValidationFailed(
            f"strategy '{strategy.name}' emits orders, not targets: use the event-driven path",
            code="not_vectorisable",
        )
    return np.asarray(values, dtype=np.float64)


def run_vectorised(
    strategy: Strategy | str,
    data: Data,
    *,
    params: Mapping[str, Any] | None = None,
    config: BacktestConfig | None = None,
    instruments: Mapping[str, Instrument] | None = None,
) -> BacktestResult:
    """Same inputs and result as ``run_event``; ``not_vectorisable`` when the strategy
    has no ``signals()``."""
    config = config or BacktestConfig()
    strat = resolve_strategy(strategy, params)
    series = normalise_data(data, strat)
    cash = config.cash_for(list(series))
    ticks = common_clock(series)
    total: FloatArray = np.zeros(len(ticks))
    in_market = np.zeros(len(ticks), dtype=bool)
    trades: list[TradeRecord] = []
    fills: list[Fill] = []
    decisions = denied = 0
    for symbol, bars in series.items():
        instrument = instrument_for(symbol, config, instruments)
        rules = _Rules.of(config, instrument)
        targets = strategy_targets(strat, bars)
        out = simulate_targets(bars.open, bars.close, targets, float(cash[symbol]), rules)
        own = bars_close_times(bars)
        total += on_clock(ticks, own, out.equity, float(cash[symbol]))
        in_market |= on_clock(ticks, own, out.in_market.astype(float), 0.0) > 0
        sym_trades, sym_fills = _records(symbol, bars, out, instrument.quote)
        trades.extend(sym_trades)
        fills.extend(sym_fills)
        decisions += out.decisions
        denied += out.denied
    trades.sort(key=lambda t: (t.entry_time, t.symbol))
    fills.sort(key=lambda f: (f.ts, f.symbol))
    return BacktestResult(
        path="vectorised",
        strategy=strat.name,
        params=dict(strat.params.to_dict()),
        config=config,
        times=ticks,
        equity=total,
        in_market=in_market,
        trades=tuple(trades),
        fills=tuple(fills),
        decisions=decisions,
        denied=denied,
        metrics=finish_metrics(ticks, total, tuple(trades), in_market),
    )
