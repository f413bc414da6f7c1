"""Vectorised == event-driven on real data: same trades (entry/exit bars, count) and
final equity within 1e-9 relative (Decimal vs float64 arithmetic)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from amarktai.backtest.data import random_walk_bars
from amarktai.backtest.event import run_event
from amarktai.backtest.models import BacktestConfig, LazyRecords
from amarktai.backtest.vectorised import run_vectorised
from amarktai.kit.errors import ValidationFailed
from amarktai.strategies.base import Bars

REL = 1e-9
CASES = [
    ("sma_cross", {"fast": 10, "slow": 50}, BacktestConfig()),
    ("sma_cross", {"fast": 5, "slow": 20}, BacktestConfig(slippage_bps=Decimal(5))),
    ("sma_cross", {"fast": 10, "slow": 50}, BacktestConfig(fixed_qty=Decimal("0.01"))),
    ("rsi_reversion", {}, BacktestConfig()),
    ("macd", {}, BacktestConfig(rebalance_band=Decimal(0))),
    ("grid", {}, BacktestConfig()),
]


def _close(a: Decimal | None, b: Decimal | None) -> bool:
    if a is None or b is None:
        return a is b
    return float(a) == pytest.approx(float(b), rel=REL, abs=1e-9)


def _same(bars: Bars, name: str, params: dict[str, int], cfg: BacktestConfig) -> None:
    event = run_event(name, bars, params=params, config=cfg, decisions="signals")
    fast = run_vectorised(name, bars, params=params, config=cfg)
    assert [(t.entry_bar, t.exit_bar) for t in event.trades] == [
        (t.entry_bar, t.exit_bar) for t in fast.trades
    ]
    assert len(event.fills) == len(fast.fills)
    assert fast.final_equity == pytest.approx(event.final_equity, rel=REL)
    assert event.decisions == fast.decisions
    # Record by record: the vectorised columns give the Decimal ledger's trades and fills.
    for e, v in zip(event.trades, fast.trades, strict=True):
        assert (e.symbol, e.entry_time, e.exit_time) == (v.symbol, v.entry_time, v.exit_time)
        for field in ("entry_price", "qty", "exit_price", "pnl", "fees"):
            assert _close(getattr(e, field), getattr(v, field)), field
    for e, v in zip(event.fills, fast.fills, strict=True):
        assert (e.id, e.order_id, e.ts, e.side) == (v.id, v.order_id, v.ts, v.side)
        assert all(_close(getattr(e, f), getattr(v, f)) for f in ("price", "qty", "fee"))
    np.testing.assert_allclose(fast.closed_pnl, event.closed_pnl, rtol=REL, atol=1e-9)
    np.testing.assert_array_equal(fast.in_market, event.in_market)
    assert fast.summary()["closed_trades"] == event.summary()["closed_trades"]


@pytest.mark.parametrize(("name", "params", "cfg"), CASES)
def test_daily_btc(btc_daily: Bars, name: str, params: dict[str, int], cfg: BacktestConfig) -> None:
    _same(btc_daily, name, params, cfg)


@pytest.mark.parametrize(("name", "params", "cfg"), CASES)
def test_intraday(eth_btc_5m: Bars, name: str, params: dict[str, int], cfg: BacktestConfig) -> None:
    _same(eth_btc_5m, name, params, cfg)


def test_multi_instrument(btc_daily: Bars, eth_btc_5m: Bars) -> None:
    data = {"AAA/USD": random_walk_bars(2_000, seed=5), "BBB/USD": random_walk_bars(1_500, seed=6)}
    event = run_event("sma_cross", data, params={"fast": 5, "slow": 30}, decisions="signals")
    fast = run_vectorised("sma_cross", data, params={"fast": 5, "slow": 30})
    assert len(event.trades) == len(fast.trades)
    assert fast.final_equity == pytest.approx(event.final_equity, rel=REL)


def test_cash_short_fixed_qty_uses_the_scan() -> None:
    """Fixed units the cash cannot always pay for: orders get denied or cut, which the
    loop-free shortcut refuses and the scan reproduces."""
    bars = random_walk_bars(3_000, seed=9, gap_sigma=0.002)
    cfg = BacktestConfig(initial_cash=Decimal(100), fixed_qty=Decimal("0.999"))
    _same(bars, "sma_cross", {"fast": 5, "slow": 20}, cfg)


def test_order_strategy_is_not_vectorisable() -> None:
    with pytest.raises(ValidationFailed) as err:
        run_vectorised("dca", random_walk_bars(300))
    assert err.value.code == "not_vectorisable"


def test_records_are_built_lazily_and_consistently() -> None:
    bars = random_walk_bars(5_000, seed=4, gap_sigma=0.001)
    cfg = BacktestConfig(fixed_qty=Decimal(1), initial_cash=Decimal(10**6))
    result = run_vectorised("sma_cross", bars, params={"fast": 5, "slow": 20}, config=cfg)
    trades = result.trades
    assert isinstance(trades, LazyRecords) and len(trades) > 10
    head = trades[:3]  # a slice builds only its rows
    assert trades[0] == head[0] and trades[-1] == tuple(trades)[-1]
    assert list(trades[2:5]) == list(tuple(trades)[2:5])
    assert trades == tuple(trades) and trades[::2] == tuple(trades)[::2]
    with pytest.raises(IndexError):
        trades[len(trades)]
    assert trades[-1].is_open == (result.in_market[-1] and True)
    assert result.summary()["closed_trades"] == len(result.closed_trades)


def test_multi_instrument_records_are_ordered_by_time_then_symbol() -> None:
    late = random_walk_bars(1_500, seed=6)
    data = {"BBB/USD": random_walk_bars(2_000, seed=5), "AAA/USD": late}
    event = run_event("sma_cross", data, params={"fast": 5, "slow": 30}, decisions="signals")
    fast = run_vectorised("sma_cross", data, params={"fast": 5, "slow": 30})
    assert [(t.symbol, t.entry_bar) for t in fast.trades] == [
        (t.symbol, t.entry_bar) for t in event.trades
    ]
    assert [(f.symbol, f.id) for f in fast.fills] == [(f.symbol, f.id) for f in event.fills]
    np.testing.assert_allclose(fast.closed_pnl, event.closed_pnl, rtol=REL)
