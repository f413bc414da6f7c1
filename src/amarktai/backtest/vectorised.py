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

Results: fills come out as columns, round trips are derived from them without a loop
(``_trade_columns``), and the result's ``trades``/``fills`` are ``LazyRecords``: the
Decimal records (the same fields and ids as the event path's) are built when read, a
slice building only its rows. Metrics use the closed trades' pnl column directly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

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
    LazyRecords,
    TradeRecord,
    bars_close_times,
    finish_metrics,
)
from amarktai.execution.orders import Fill
from amarktai.kit.errors import ValidationFailed
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
            cap=float(config.max_position_fraction),
            fixed=None if config.fixed_qty is None else float(config.fixed_qty),
            step=float(instrument.qty_step),
            min_qty=float(instrument.min_qty),
            min_notional=float(instrument.min_notional),
        )

    def round_qty(self, qty: Any) -> Any:
        if self.step <= 0:
            return qty
        return np.floor(qty / self.step + 1e-9) * self.step


@dataclasses.dataclass(frozen=True, slots=True)
class FillColumns:
    """Fills as columns, in order: the bar filled at (its open), side, price, quantity,
    fee, and the position held after the fill (0 closes a round trip)."""

    bar: npt.NDArray[np.int64]
    buy: npt.NDArray[np.bool_]
    price: FloatArray
    qty: FloatArray
    fee: FloatArray
    held: FloatArray

    def __len__(self) -> int:
        return len(self.bar)


@dataclasses.dataclass(slots=True)
class SimOutput:
    """One instrument's simulated run, in floats (converted to records afterwards)."""

    equity: FloatArray
    in_market: np.ndarray
    fills: FillColumns
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


def _levels(targets: FloatArray) -> FloatArray:
    """Each bar's target carried forward over NaN bars (0 before the first target)."""
    finite = np.isfinite(targets)
    first = int(np.argmax(finite))
    if not finite[first]:
        return np.zeros(len(targets))
    if finite[first:].all():  # warm-up NaNs only: nothing to carry
        level = targets.copy()
        level[:first] = 0.0
        return level
    carried = np.maximum.accumulate(np.where(finite, np.arange(len(targets)), -1))
    return np.where(carried >= 0, targets[np.maximum(carried, 0)], 0.0)


def _fixed_loop_free(
    open_: FloatArray, close: FloatArray, targets: FloatArray, cash: float, rules: _Rules
) -> SimOutput | None:
    """Fixed units, enough cash everywhere: positions are the targets carried forward.
    Returns None (use the scan) when any order would be cut or denied.

    Only the bars where the carried target changes can trade, so after one pass to find
    them everything is sized on those few bars; equity is then one multiply-add per bar
    over the stretches of constant holdings."""
    assert rules.fixed is not None
    n = len(close)
    level = _levels(targets)
    if n > 1:
        level[-1] = level[-2]  # the last bar's decision never fills
    change = np.flatnonzero(level[1:] != level[:-1]) + 1
    if n and level[0] != 0.0:
        change = np.concatenate(([0], change))
    wanted_c = rules.round_qty(level[change] * rules.fixed)
    before_c = np.concatenate(([0.0], wanted_c[:-1]))
    delta_c = wanted_c - before_c
    keep = np.abs(delta_c) > rules.step / 2
    at = change[keep]  # decision bars, each filled at +1
    qty, wanted, held = delta_c[keep], wanted_c[keep], before_c[keep]
    side = np.where(qty > 0, 1.0, -1.0)
    price = open_[at + 1] * (1.0 + side * rules.slip)
    size = np.abs(qty)
    fee = price * size * rules.fee
    flow = -qty * price - fee  # cash change at each fill
    cash_after = cash + np.cumsum(flow)
    cash_before = cash_after - flow
    buys = qty > 0
    ref = close[at]
    equity_at = cash_before + held * ref
    afford_close = (size * ref * (1 + rules.fee) <= cash_before) | ~buys
    afford_open = cash_after >= 0
    within_cap = ~buys | (wanted * ref <= rules.cap * equity_at * 1.0001)
    rules_ok = (size >= rules.min_qty) & (size * ref >= rules.min_notional)
    if not (afford_close.all() and afford_open.all() and within_cap.all() and rules_ok.all()):
        return None
    starts = np.concatenate(([0], at + 1))
    length = np.diff(np.append(starts, n))
    qty_per_bar = np.repeat(np.concatenate(([0.0], wanted)), length)
    equity = np.repeat(np.concatenate(([cash], cash_after)), length)
    equity += qty_per_bar * close
    fills = FillColumns(at + 1, buys, price, size, fee, wanted)
    return SimOutput(equity, qty_per_bar > 0, fills, 0, 0)


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
    fills: list[tuple[int, bool, float, float, float, float]] = []
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
    columns = _columns(fills)
    return SimOutput(equity, in_market, columns, 0, denied)


def _columns(fills: list[tuple[int, bool, float, float, float, float]]) -> FillColumns:
    if not fills:
        empty = np.zeros(0)
        return FillColumns(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool), empty, empty,
                           empty, empty)  # fmt: skip
    bar, buy, price, qty, fee, held = zip(*fills, strict=True)
    floats = (np.array(c, dtype=np.float64) for c in (price, qty, fee, held))
    return FillColumns(np.array(bar, dtype=np.int64), np.array(buy, dtype=bool), *floats)


def _mark(
    equity: FloatArray, in_market: np.ndarray, close: FloatArray, s: _State, a: int, b: int
) -> None:
    equity[a:b] = s.cash + s.qty * close[a:b]
    in_market[a:b] = s.qty > 0


def _fill(
    state: _State,
    fills: list[tuple[int, bool, float, float, float, float]],
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
    fills.append((bar, buy, price, qty, fee, state.qty))
    return 0


# ---------------------------------------------------------------------- records, entry


@dataclasses.dataclass(frozen=True, slots=True)
class _TradeColumns:
    """Round trips (flat -> long -> flat) as columns; ``exit_bar`` -1 while open."""

    entry_bar: npt.NDArray[np.int64]
    exit_bar: npt.NDArray[np.int64]
    entry_price: FloatArray
    qty: FloatArray
    exit_price: FloatArray
    pnl: FloatArray
    fees: FloatArray


def _trade_columns(f: FillColumns, last_close: float) -> _TradeColumns:
    """Round trips from the fills, loop-free.

    A trip closes at the fill after which nothing is held. Under average cost, once a
    trip has sold everything it bought, its realised pnl is sells minus buys whatever
    the order of the fills (the cost taken out equals the cost put in), and an open
    trip's realised plus unrealised pnl is sells + held × last close − buys, so net
    pnl = that − fees: the same as ``ledger.Book``, in floats.
    """
    closes = f.held <= 0.0
    trip: npt.NDArray[np.int64] = (np.cumsum(closes) - closes).astype(np.int64)  # trips before
    count = int(trip[-1]) + 1 if len(f) else 0
    value = f.price * f.qty

    def per_trip(weights: FloatArray) -> FloatArray:
        return np.bincount(trip, weights=weights, minlength=count)[:count].astype(np.float64)

    buy_value = per_trip(np.where(f.buy, value, 0.0))
    buy_qty = per_trip(np.where(f.buy, f.qty, 0.0))
    sell_value = per_trip(np.where(f.buy, 0.0, value))
    sell_qty = per_trip(np.where(f.buy, 0.0, f.qty))
    fees = per_trip(f.fee)
    first = np.flatnonzero(np.diff(trip, prepend=-1))  # each trip's first fill
    exit_bar = np.full(count, -1, dtype=np.int64)
    closed_at = np.flatnonzero(closes)
    exit_bar[trip[closed_at]] = f.bar[closed_at]
    left = np.zeros(count)
    if count and not closes[-1]:
        left[-1] = f.held[-1] * last_close
    with np.errstate(invalid="ignore", divide="ignore"):
        exit_price = np.where(exit_bar >= 0, sell_value / sell_qty, np.nan)
    return _TradeColumns(
        entry_bar=f.bar[first].astype(np.int64),
        exit_bar=exit_bar,
        entry_price=buy_value / buy_qty,
        qty=buy_qty,
        exit_price=exit_price,
        pnl=sell_value + left - buy_value - fees,
        fees=fees,
    )


def _decimals(values: FloatArray) -> list[Decimal]:
    """float64 -> Decimal of its shortest repr, as ``to_decimal`` does, for a column."""
    return [Decimal(text) for text in map(repr, values.tolist())]


def _trade_records(symbol: str, times: npt.NDArray[np.int64], t: _TradeColumns) -> Callable[
    [int, int], list[TradeRecord]
]:  # fmt: skip
    def build(a: int, b: int) -> list[TradeRecord]:
        exits = t.exit_bar[a:b].tolist()
        exit_price = _decimals(np.nan_to_num(t.exit_price[a:b]))
        return [
            TradeRecord(symbol, entry, ns_to_datetime(int(times[entry])), ep, qty,
                        None if out < 0 else out,
                        None if out < 0 else ns_to_datetime(int(times[out])),
                        None if out < 0 else xp, pnl, fees)
            for entry, ep, qty, out, xp, pnl, fees in zip(
                t.entry_bar[a:b].tolist(), _decimals(t.entry_price[a:b]), _decimals(t.qty[a:b]),
                exits, exit_price, _decimals(t.pnl[a:b]), _decimals(t.fees[a:b]), strict=True)
        ]  # fmt: skip

    return build


def _fill_records(
    symbol: str, quote: str, times: npt.NDArray[np.int64], f: FillColumns
) -> Callable[[int, int], list[Fill]]:
    def build(a: int, b: int) -> list[Fill]:
        return [
            Fill(f"bt-{symbol}-{bar - 1}", ns_to_datetime(int(times[bar])), symbol,
                 "buy" if buy else "sell", price, qty, fee, quote, "taker",
                 id=f"bt-{symbol}-{bar}")
            for bar, buy, price, qty, fee in zip(
                f.bar[a:b].tolist(), f.buy[a:b].tolist(), _decimals(f.price[a:b]),
                _decimals(f.qty[a:b]), _decimals(f.fee[a:b]), strict=True)
        ]  # fmt: skip

    return build


def _merged(
    parts: list[tuple[npt.NDArray[np.int64], LazyRecords[Any]]], rank: list[int]
) -> LazyRecords[Any]:
    """Several instruments' records in one sequence ordered by (time, symbol), as the
    event path sorts them; ``rank`` is each part's symbol's place in sorted order."""
    if len(parts) == 1:
        return parts[0][1]
    keys = np.concatenate([k for k, _ in parts])
    who = np.concatenate([np.full(len(k), n) for n, (k, _) in enumerate(parts)])
    row = np.concatenate([np.arange(len(k)) for k, _ in parts])
    order = np.lexsort((np.asarray(rank)[who], keys))

    def build(a: int, b: int) -> list[Any]:
        return [parts[n][1][r] for n, r in zip(who[order[a:b]].tolist(), row[order[a:b]].tolist(),
                                                strict=True)]  # fmt: skip

    return LazyRecords(len(keys), build)


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
    has no ``signals()``. Trades and fills come back as ``LazyRecords``: computed as
    columns here, turned into Decimal records when read."""
    config = config or BacktestConfig()
    strat = resolve_strategy(strategy, params)
    series = normalise_data(data, strat)
    cash = config.cash_for(list(series))
    ticks = common_clock(series)
    total: FloatArray = np.zeros(len(ticks))
    in_market = np.zeros(len(ticks), dtype=bool)
    trades: list[tuple[npt.NDArray[np.int64], LazyRecords[Any]]] = []
    fills: list[tuple[npt.NDArray[np.int64], LazyRecords[Any]]] = []
    closed: list[tuple[npt.NDArray[np.int64], FloatArray]] = []
    decisions = denied = 0
    for symbol, bars in series.items():
        instrument = instrument_for(symbol, config, instruments)
        rules = _Rules.of(config, instrument)
        targets = strategy_targets(strat, bars)
        out = simulate_targets(bars.open, bars.close, targets, float(cash[symbol]), rules)
        if len(series) == 1:
            total, in_market = out.equity, out.in_market
        else:
            own = bars_close_times(bars)
            total += on_clock(ticks, own, out.equity, float(cash[symbol]))
            in_market |= on_clock(ticks, own, out.in_market.astype(float), 0.0) > 0
        times = np.asarray(bars.time, dtype="datetime64[ns]").view(np.int64)
        trips = _trade_columns(out.fills, float(bars.close[-1]))
        entry_ns = times[trips.entry_bar]
        trades.append((entry_ns, LazyRecords(len(trips.pnl), _trade_records(symbol, times, trips))))
        fill_ns = times[out.fills.bar]
        fills.append(
            (fill_ns, LazyRecords(len(out.fills), _fill_records(symbol, instrument.quote, times,
                                                               out.fills)))
        )  # fmt: skip
        done = trips.exit_bar >= 0
        closed.append((entry_ns[done], trips.pnl[done]))
        decisions += out.decisions
        denied += out.denied
    rank = [sorted(series).index(symbol) for symbol in series]
    keys = np.concatenate([k for k, _ in closed])
    who = np.concatenate([np.full(len(k), rank[n]) for n, (k, _) in enumerate(closed)])
    closed_pnl = np.concatenate([p for _, p in closed])[np.lexsort((who, keys))]
    return BacktestResult(
        path="vectorised",
        strategy=strat.name,
        params=dict(strat.params.to_dict()),
        config=config,
        times=ticks,
        equity=total,
        in_market=in_market,
        trades=_merged(trades, rank),
        fills=_merged(fills, rank),
        decisions=decisions,
        denied=denied,
        metrics=finish_metrics(ticks, total, closed_pnl, in_market),
        closed_pnl=closed_pnl,
    )
