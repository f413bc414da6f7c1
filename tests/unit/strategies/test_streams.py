"""Every built-in's ``stream`` (the event-driven backtester's default decision source)
against its ``on_bar``, at every bar of the shared real data.

What is compared: the whole decision trace (rule text, signal, target, order, inputs,
indicators; NaN shown as None), so the fast path decides, and explains, exactly what
``on_bar`` does. The reference context is the full history up to the bar
(``bars.upto(i)``), which is what the strategy contract defines; the live engine's
context, the last ``lookback_bars`` bars, is held to the same targets and orders.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from tests.support import scrambled_after

from amarktai.backtest.data import slice_bars
from amarktai.strategies.base import Bars, Decision, OnBarStream, Strategy, StrategyContext
from amarktai.strategies.registry import create_strategy

STRATEGIES: list[tuple[str, dict[str, Any]]] = [
    ("sma_cross", {}),
    ("sma_cross", {"fast": 10, "slow": 50}),
    ("sma_cross", {"fast": 12, "slow": 26, "ma": "ema"}),
    ("rsi_reversion", {}),
    ("bollinger_breakout", {}),
    ("macd", {}),
    ("grid", {"levels": 4, "spacing_pct": 3.0}),
    ("grid", {"reference_price": 40_000.0, "spacing_pct": 10.0}),
    ("grid", {"levels": 3, "spacing_pct": 0.2, "reference_window": 50}),
    ("dca", {"quote_amount": 250, "every_bars": 7}),
]
IDS = [f"{name}-{'-'.join(map(str, p.values())) or 'default'}" for name, p in STRATEGIES]


def _cash(i: int) -> Decimal:
    """Cash that is sometimes short, so DCA's skip branch is exercised too."""
    return Decimal(100) if i % 5 == 0 else Decimal(10_000)


def _full(bars: Bars, i: int) -> StrategyContext:
    return StrategyContext(bars.upto(i), cash=_cash(i), equity=_cash(i), bar_index=i)


def _trace(decision: Decision) -> dict[str, Any]:
    return decision.trace


def _same_everywhere(strategy: Strategy, fresh: Strategy, bars: Bars) -> None:
    stream = strategy.stream(bars)
    targets = stream.targets
    active = None if stream.order_bars is None else set(stream.order_bars.tolist())
    for i in range(len(bars)):
        want = fresh.on_bar(_full(bars, i))
        got = stream.decide(i, cash=_cash(i), equity=_cash(i))
        assert _trace(got) == _trace(want), f"bar {i}"
        if targets is not None:
            expected = np.nan if want.target is None else want.target
            np.testing.assert_equal(targets[i], expected, err_msg=f"bar {i}")
        if active is not None and i not in active:
            assert want.order is None and want.target is None, f"bar {i} is not an order bar"


@pytest.mark.parametrize(("name", "params"), STRATEGIES, ids=IDS)
def test_stream_equals_on_bar_daily(name: str, params: dict[str, Any], btc_daily: Bars) -> None:
    _same_everywhere(create_strategy(name, params), create_strategy(name, params), btc_daily)


@pytest.mark.parametrize(("name", "params"), STRATEGIES, ids=IDS)
def test_stream_equals_on_bar_intraday(name: str, params: dict[str, Any], eth_btc_5m: Bars) -> None:
    _same_everywhere(create_strategy(name, params), create_strategy(name, params), eth_btc_5m)


# Every built-in, latched ones included: rsi_reversion, bollinger_breakout and grid carry
# state from their whole history (ETH/BTC 5m, bar 2708: RSI long for more than 294 bars,
# longer than its window), which a trimmed window alone cannot show; the live context
# also carries the previous bar's target (`previous_target`), as the engine does, and
# the state continues from it.
@pytest.mark.parametrize(("name", "params"), STRATEGIES, ids=IDS)
def test_stream_matches_the_live_lookback_context(
    name: str, params: dict[str, Any], eth_btc_5m: Bars
) -> None:
    """The live engine passes only ``lookback_bars`` of history and the previous bar's
    target: the same target or order at every bar. Indicator values may differ in the
    last bits (a window's sum starts elsewhere; an EMA seed has decayed to 1e-9), so they
    are held to 1e-9 and of the rule text, which prints them, only the verdict after the
    last colon is compared."""
    strategy = create_strategy(name, params)
    stream = strategy.stream(eth_btc_5m)
    live = OnBarStream(create_strategy(name, params), eth_btc_5m)
    for i in range(len(eth_btc_5m)):
        a = stream.decide(i, cash=_cash(i), equity=_cash(i))
        b = live.decide(i, cash=_cash(i), equity=_cash(i))
        assert (a.target, a.order) == (b.target, b.order), f"bar {i}"
        assert a.rule.split(":")[-1] == b.rule.split(":")[-1], f"bar {i}"  # e.g. "stay long"
        for key, value in a.indicators.items():
            np.testing.assert_allclose(b.indicators[key], value, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(("name", "params"), STRATEGIES, ids=IDS)
def test_stream_has_no_look_ahead(name: str, params: dict[str, Any], btc_daily: Bars) -> None:
    t = 900
    altered = scrambled_after(btc_daily, t, seed=11)
    a = create_strategy(name, params).stream(btc_daily)
    b = create_strategy(name, params).stream(altered)
    for i in range(t + 1):
        assert _trace(a.decide(i, cash=_cash(i))) == _trace(b.decide(i, cash=_cash(i)))


def test_default_stream_replays_on_bar_with_signals_as_targets(btc_daily: Bars) -> None:
    """A strategy without its own stream gets ``on_bar`` on the lookback window."""
    strategy = create_strategy("rsi_reversion", {})
    generic = Strategy.stream(strategy, btc_daily)
    assert isinstance(generic, OnBarStream)
    np.testing.assert_array_equal(generic.targets, strategy.signals(btc_daily))
    for i in (0, 10, 500, len(btc_daily) - 1):
        start = max(0, i + 1 - strategy.lookback_bars)
        window = slice_bars(btc_daily, start, i + 1)
        want = strategy.on_bar(StrategyContext(window, cash=_cash(i), bar_index=i))
        assert _trace(generic.decide(i, cash=_cash(i))) == _trace(want)
