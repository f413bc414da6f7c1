"""The ``*_last`` indicators against the last element of their batch twins, bit for bit,
and the built-ins' ``on_bar`` (which uses them) against the batch formulation it replaced.

Bit for bit matters: indicator values go into decision traces verbatim, so a last-value
shortcut that rounded differently would change what a bot records, not only what it
computes. Floats are compared by their bits (all NaNs count as one value: traces write
NaN as null), so -0.0 and 0.0 are told apart.
"""

from __future__ import annotations

import math
import struct
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amarktai.strategies import indicators as ind
from amarktai.strategies.base import Bars, Decision, StrategyContext
from amarktai.strategies.builtin._rules import carried
from amarktai.strategies.builtin.grid import grid_inventory
from amarktai.strategies.registry import create_strategy


def bits(value: float) -> int | str:
    value = float(value)
    return "nan" if math.isnan(value) else struct.unpack("<q", struct.pack("<d", value))[0]


def assert_bits(got: float, want: float) -> None:
    assert bits(got) == bits(want), (got, want)


@st.composite
def series(draw: st.DrawFn, max_size: int = 400) -> np.ndarray:
    """Price-like paths (a random walk at some level) with optional leading NaNs, plus
    the awkward cases: flat runs, zeros, negative values and tiny or huge scales."""
    size = draw(st.integers(0, max_size))
    kind = draw(st.sampled_from(["walk", "flat", "raw"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "walk":
        level = draw(st.sampled_from([1e-6, 0.05, 1.0, 100.0, 60_000.0, 1e9]))
        steps = rng.standard_normal(size) * draw(st.sampled_from([1e-4, 0.01, 0.2]))
        x = level * np.exp(np.cumsum(steps))
    elif kind == "flat":
        x = np.full(size, draw(st.sampled_from([0.0, 1.0, 123.456])))
        x[rng.random(size) < 0.1] += 1.0
    else:
        x = rng.uniform(-1e3, 1e3, size).round(draw(st.integers(0, 3)))
    lead = draw(st.integers(0, 3)) if size else 0
    x[:lead] = np.nan
    return x


windows = st.integers(1, 60)


@settings(max_examples=300, deadline=None)
@given(series(), windows)
def test_sma_last(x: np.ndarray, n: int) -> None:
    want = ind.sma(x, n)[-1] if len(x) else math.nan
    assert_bits(ind.sma_last(x, n), want)


@settings(max_examples=300, deadline=None)
@given(series(), windows, st.sampled_from(["sma", "first"]))
def test_ema_last(x: np.ndarray, n: int, seed: Any) -> None:
    want = ind.ema(x, n, seed=seed)[-1] if len(x) else math.nan
    assert_bits(ind.ema_last(x, n, seed=seed), want)
    want = ind.wilder(x, n)[-1] if len(x) else math.nan
    assert_bits(ind.wilder_last(x, n), want)


@settings(max_examples=100, deadline=None)
@given(series(max_size=1500), st.integers(1, 4))
def test_ema_last_across_blocks(x: np.ndarray, n: int) -> None:
    """Short EMAs on long series run the batch in several blocks (fallback path)."""
    want = ind.ema(x, n)[-1] if len(x) else math.nan
    assert_bits(ind.ema_last(x, n), want)


@settings(max_examples=300, deadline=None)
@given(series(), windows, st.sampled_from([0.5, 2.0, 2.5]), st.integers(0, 1))
def test_bollinger_last(x: np.ndarray, n: int, k: float, ddof: int) -> None:
    if ddof >= n:
        ddof = 0
    got = ind.bollinger_last(x, n, k, ddof=ddof)
    want = ind.bollinger(x, n, k, ddof=ddof)
    for g, w in zip(got, want, strict=True):
        assert_bits(g, w[-1] if len(x) else math.nan)
    std = ind.rolling_std(x, n, ddof=ddof)[-1] if len(x) else math.nan
    assert_bits(ind.rolling_std_last(x, n, ddof=ddof), std)


@settings(max_examples=300, deadline=None)
@given(series(), st.integers(1, 40))
def test_rsi_last(x: np.ndarray, n: int) -> None:
    want = ind.rsi(x, n)[-1] if len(x) else math.nan
    assert_bits(ind.rsi_last(x, n), want)


@settings(max_examples=200, deadline=None)
@given(series(), st.integers(1, 15), st.integers(1, 40), st.integers(1, 12))
def test_macd_last(x: np.ndarray, fast: int, slow: int, signal: int) -> None:
    got = ind.macd_last(x, fast, slow, signal)
    want = ind.macd(x, fast, slow, signal)
    for g, w in zip(got, want, strict=True):
        assert_bits(g, w[-1] if len(x) else math.nan)


def test_last_values_validate_like_the_batch() -> None:
    with pytest.raises(Exception, match="window must be an integer"):
        ind.sma_last([1.0, 2.0], 0)
    with pytest.raises(Exception, match="ddof must be in"):
        ind.rolling_std_last([1.0, 2.0], 2, ddof=2)
    with pytest.raises(Exception, match="one-dimensional"):
        ind.rsi_last([[1.0, 2.0]], 2)


# ------------------------------------------------------------- on_bar against the batch


def reference_on_bar(name: str, strategy: Any, ctx: StrategyContext) -> Decision:
    """The built-ins' ``on_bar`` as written before the ``*_last`` shortcuts: batch
    columns, the latch over the whole window and ``carried``."""
    close, p = ctx.close, strategy.params
    if name == "sma_cross":
        fast, slow = strategy._averages(close)
        return strategy._decide(float(fast[-1]), float(slow[-1]), ctx.price, len(ctx.bars))
    if name == "macd":
        res = strategy._macd(close)
        values = float(res.line[-1]), float(res.signal[-1]), float(res.histogram[-1])
        return strategy._decide(*values, ctx.price, len(ctx.bars))
    if name == "rsi_reversion":
        rsi, state = strategy._positions(close)
        value = float(rsi[-1])
        event = value < p.oversold or value > p.exit
        target = carried(float(state[-1]), event, ctx.previous_target)
        return strategy._decide(value, target, ctx.price, len(ctx.bars))
    if name == "bollinger_breakout":
        bands, state = strategy._positions(close)
        mid, up, low = (float(b[-1]) for b in bands)
        event = ctx.price > up or ctx.price < mid
        target = carried(float(state[-1]), event, ctx.previous_target)
        return strategy._decide(mid, up, low, target, ctx.price, len(ctx.bars))
    assert name == "grid"
    depth = strategy._depth(close)
    centre = float(strategy._centre(close)[-1])
    d = float(depth[-1])
    if math.isnan(d):
        return strategy._decide(centre, d, math.nan, ctx.price, len(ctx.bars))
    previous = ctx.previous_target
    if previous is not None and math.isfinite(previous):
        held = round(previous * p.levels)
        units = float(grid_inventory(depth[-1:], p.levels, held)[-1])
    else:
        units = strategy._held_units(close, depth)
    return strategy._decide(centre, d, units, ctx.price, len(ctx.bars))


CASES: list[tuple[str, dict[str, Any]]] = [
    ("sma_cross", {}),
    ("sma_cross", {"fast": 3, "slow": 8}),
    ("sma_cross", {"fast": 12, "slow": 26, "ma": "ema"}),
    ("rsi_reversion", {}),
    ("rsi_reversion", {"period": 5, "oversold": 45.0, "exit": 55.0}),
    ("macd", {}),
    ("bollinger_breakout", {}),
    ("bollinger_breakout", {"period": 5, "k": 0.5}),
    ("grid", {"levels": 4, "spacing_pct": 0.5, "reference_window": 20}),
    ("grid", {"reference_price": 0.06, "spacing_pct": 2.0}),
]


@pytest.mark.parametrize(("name", "params"), CASES, ids=[f"{n}-{p}" for n, p in CASES])
def test_on_bar_equals_the_batch_formulation(
    name: str, params: dict[str, Any], eth_btc_5m: Bars
) -> None:
    """The engine's call pattern: a trailing window of ``lookback_bars + 1`` bars and the
    previous target carried, dropped on every seventh bar (a bot's first decision, or a
    gap) so the latch's fallback over the window runs too. Whole traces must be equal."""
    fast, slow = create_strategy(name, params), create_strategy(name, params)
    keep = fast.lookback_bars + 1
    bars = eth_btc_5m
    previous: float | None = None
    for i in range(min(len(bars), 1500)):
        start = max(0, i + 1 - keep)
        window = Bars(*(getattr(bars, c)[start : i + 1] for c in Bars.__slots__))
        carry = None if i % 7 == 0 else previous
        ctx = StrategyContext(window, bar_index=i, previous_target=carry)
        got, want = fast.on_bar(ctx), reference_on_bar(name, slow, ctx)
        assert got.trace == want.trace, f"bar {i}"
        for key, value in want.indicators.items():
            assert_bits(got.indicators[key], value)
        previous = got.target


def test_powers_cache_is_bounded_and_read_only() -> None:
    for size in range(ind._POWERS_MAX_ENTRIES + 5):
        ind.ema(np.arange(size + 3, dtype=np.float64), 2 + size % 3)
    assert len(ind._POWERS) <= ind._POWERS_MAX_ENTRIES
    powers, scaled = next(iter(ind._POWERS.values()))
    assert not powers.flags.writeable and not scaled.flags.writeable


def test_dca_amount_follows_its_params() -> None:
    """The Decimal amount is cached per params object, never across a change of them."""
    dca = create_strategy("dca", {"quote_amount": 100.0})
    assert str(dca.amount) == "100.0"
    dca.params = type(dca.params)(quote_amount=250.5, every_bars=1)
    assert str(dca.amount) == "250.5"
