from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from amarktai.backtest.data import random_walk_bars
from amarktai.backtest.event import run_event
from amarktai.backtest.models import BacktestConfig, BacktestResult
from amarktai.kit.errors import NotFound, ValidationFailed
from amarktai.strategies.base import Bars, Strategy
from amarktai.strategies.registry import create_strategy

GAPPED = random_walk_bars(3_000, seed=3, gap_sigma=0.002)
SMA = {"fast": 5, "slow": 20}


def test_fills_at_next_open_with_slippage_and_fee() -> None:
    cfg = BacktestConfig(fee_bps=Decimal(10), slippage_bps=Decimal(5))
    result = run_event("sma_cross", GAPPED, params=SMA, config=cfg, decisions="signals")
    assert result.fills
    for fill in result.fills:
        bar = int(np.searchsorted(GAPPED.time, np.datetime64(fill.ts.replace(tzinfo=None))))
        opened = Decimal(repr(float(GAPPED.open[bar])))
        factor = Decimal("1.0005") if fill.side == "buy" else Decimal("0.9995")
        assert fill.price == opened * factor
        assert fill.fee == fill.price * fill.qty * Decimal("0.001")


def test_decision_at_close_fills_one_bar_later() -> None:
    cfg = BacktestConfig(fixed_qty=Decimal(1), initial_cash=Decimal(10**6))
    result = run_event("sma_cross", GAPPED, params=SMA, config=cfg, decisions="signals")
    from amarktai.strategies.registry import create_strategy

    targets = create_strategy("sma_cross", SMA).signals(GAPPED)
    assert targets is not None
    first = result.trades[0]
    decided = int(np.flatnonzero(targets == 1.0)[0])
    assert first.entry_bar == decided + 1
    assert first.entry_price == Decimal(repr(float(GAPPED.open[decided + 1])))


def test_fees_and_pnl_reconcile_with_equity() -> None:
    result = run_event("sma_cross", GAPPED, params=SMA, decisions="signals")
    total_pnl = sum((t.pnl for t in result.trades), Decimal(0))
    assert float(total_pnl) == pytest.approx(result.final_equity - 10_000, abs=1e-6)
    fees = sum((f.fee for f in result.fills), Decimal(0))
    assert abs(fees - sum((t.fees for t in result.trades), Decimal(0))) < Decimal("1e-18")
    assert fees > 0


def test_zero_fee_costs_nothing_more() -> None:
    free = run_event("sma_cross", GAPPED, params=SMA, config=BacktestConfig(fee_bps=Decimal(0)))
    paid = run_event("sma_cross", GAPPED, params=SMA)
    assert all(f.fee == 0 for f in free.fills)
    assert free.final_equity > paid.final_equity


def test_on_bar_and_signals_give_the_same_run() -> None:
    a = run_event("rsi_reversion", GAPPED, decisions="on_bar")
    b = run_event("rsi_reversion", GAPPED, decisions="signals")
    assert [(t.entry_bar, t.exit_bar) for t in a.trades] == [
        (t.entry_bar, t.exit_bar) for t in b.trades
    ]
    assert a.final_equity == b.final_equity


def test_multi_instrument_common_clock() -> None:
    one = random_walk_bars(400, seed=1)
    late = random_walk_bars(300, seed=2)
    shifted = Bars(late.time + np.timedelta64(100, "m"), late.open, late.high, late.low,
                   late.close, late.volume)  # fmt: skip
    data = {"AAA/USD": one, "BBB/USD": shifted}
    both = run_event("sma_cross", data, params=SMA, decisions="signals")
    assert len(both.times) == 400
    cfg = BacktestConfig(initial_cash=Decimal(5_000))
    alone_a = run_event("sma_cross", {"AAA/USD": one}, params=SMA, config=cfg)
    alone_b = run_event("sma_cross", {"BBB/USD": shifted}, params=SMA, config=cfg)
    assert both.final_equity == pytest.approx(alone_a.final_equity + alone_b.final_equity)
    assert {t.symbol for t in both.trades} == {"AAA/USD", "BBB/USD"}
    assert both.equity[0] == pytest.approx(10_000)


def test_unknown_strategy_and_bad_params() -> None:
    bars = random_walk_bars(200)
    with pytest.raises(NotFound) as missing:
        run_event("nope", bars)
    assert missing.value.code == "unknown_strategy"
    with pytest.raises(ValidationFailed) as unknown:
        run_event("sma_cross", bars, params={"speed": 3})
    assert unknown.value.code == "invalid_parameter"
    with pytest.raises(ValidationFailed) as out_of_range:
        run_event("sma_cross", bars, params={"fast": 1})
    assert out_of_range.value.code == "invalid_parameter"


def test_order_strategies_run_event_driven() -> None:
    result = run_event("dca", random_walk_bars(500), decisions="on_bar")
    assert result.fills
    assert all(f.side == "buy" for f in result.fills)


# ------------------------------------------------------------- the stream decision source

STREAMED = [
    ("sma_cross", {"fast": 10, "slow": 50}),
    ("sma_cross", {"fast": 12, "slow": 26, "ma": "ema"}),
    ("rsi_reversion", {}),
    ("bollinger_breakout", {}),
    ("macd", {}),
    ("grid", {"levels": 4, "spacing_pct": 1.0}),
    ("dca", {"quote_amount": 50, "every_bars": 10}),
]
STREAM_CONFIGS = [
    BacktestConfig(slippage_bps=Decimal(3)),
    BacktestConfig(fixed_qty=Decimal("0.5"), initial_cash=Decimal(10**6)),
]


def _full_history(name: str, params: dict[str, Any]) -> Strategy:
    """The strategy with an unbounded look-back, so ``decisions="on_bar"`` passes every
    bar up to now: the strategy contract's reference context."""
    cls = type(create_strategy(name, params))
    unbounded = type(f"FullHistory{cls.__name__}", (cls,), {"lookback_bars": 10**9})
    return unbounded(params)


def _run_record(result: BacktestResult) -> tuple[Any, ...]:
    return (
        [t.to_dict() for t in result.trades],
        [(f.id, f.order_id, f.ts, f.side, f.price, f.qty, f.fee) for f in result.fills],
        result.equity.tolist(),
        result.in_market.tolist(),
        result.decisions,
        result.denied,
    )


@pytest.mark.parametrize("cfg", STREAM_CONFIGS, ids=["fraction", "fixed"])
@pytest.mark.parametrize(("name", "params"), STREAMED, ids=[n for n, _ in STREAMED])
def test_stream_runs_exactly_like_on_bar_on_real_data(
    name: str, params: dict[str, Any], cfg: BacktestConfig, eth_btc_5m: Bars
) -> None:
    """Same fills, Decimal trades, equity at every bar and counts as on_bar on the full
    history: the default source changes the speed, not the backtest."""
    fast = run_event(name, eth_btc_5m, params=params, config=cfg)
    slow = run_event(_full_history(name, params), eth_btc_5m, config=cfg, decisions="on_bar")
    assert fast.fills, "the case trades"
    assert _run_record(fast) == _run_record(slow)


@pytest.mark.parametrize(("name", "params"), STREAMED[:2] + STREAMED[4:5] + STREAMED[6:])
def test_stream_runs_like_the_live_lookback_context(
    name: str, params: dict[str, Any], btc_daily: Bars
) -> None:
    """Windowed strategies decide the same on the live engine's trimmed context."""
    fast = run_event(name, btc_daily, params=params)
    live = run_event(name, btc_daily, params=params, decisions="on_bar")
    assert [(t.entry_bar, t.exit_bar) for t in fast.trades] == [
        (t.entry_bar, t.exit_bar) for t in live.trades
    ]
    assert fast.final_equity == live.final_equity


def test_multi_instrument_stream_equals_signals() -> None:
    data = {"AAA/USD": random_walk_bars(2_000, seed=5), "BBB/USD": random_walk_bars(1_500, seed=6)}
    a = run_event("sma_cross", data, params=SMA)
    b = run_event("sma_cross", data, params=SMA, decisions="signals")
    assert _run_record(a) == _run_record(b)


def test_unknown_decision_source() -> None:
    with pytest.raises(ValidationFailed) as err:
        run_event("sma_cross", GAPPED, params=SMA, decisions="psychic")  # type: ignore[arg-type]
    assert err.value.code == "invalid_backtest_setting"
