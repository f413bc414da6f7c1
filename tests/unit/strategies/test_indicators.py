"""Indicators against the ``ta`` library, hand-written references and their streaming twins.

Definitional differences from ``ta`` (0.11), and how each is tested:
- SMA, population rolling std / Bollinger: same definition; compared everywhere.
- EMA / MACD: ``ta`` seeds with the first value (pandas ewm adjust=False); ours seeds
  with an SMA (TA-Lib). ``seed="first"`` matches ``ta`` to 1e-12; the default converges
  once the seed's weight (1-alpha)^k has decayed, so it is compared after 300 bars.
- RSI: ``ta`` seeds Wilder's averages with a zero change on bar 0; ours with the mean
  of the first n changes (Wilder, TA-Lib). Compared after 300 bars.
- ATR: ``ta`` counts bar 0's high-low as a true range and reports 0 in warm-up; ours
  starts at bar 1 (no previous close) as TA-Lib. Compared after 300 bars, and exactly
  against the TA-Lib-seeded anchor in shared/data/reference/misc_ref.json.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
import ta

from amarktai.kit.errors import ValidationFailed
from amarktai.strategies import indicators as ind
from amarktai.strategies.base import Bars

from .conftest import DATA

TIGHT = 1e-9  # same definition: only rounding differs
CONVERGED = 1e-8  # different seeds, compared after 300 bars


def assert_close(
    ours: np.ndarray, theirs: pd.Series | np.ndarray, rtol: float, skip: int = 0, atol: float = 0.0
) -> None:
    a, b = np.asarray(ours)[skip:], np.asarray(theirs, dtype=float)[skip:]
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)


def price_scale(bars: Bars, rel: float) -> float:
    """MACD values hover around zero, so their error is judged against the price level."""
    return rel * float(np.max(np.abs(bars.close)))


@pytest.fixture(params=["btc_daily", "eth_btc_5m"])
def bars(request: pytest.FixtureRequest) -> Bars:
    return request.getfixturevalue(request.param)


def test_sma_and_bollinger_match_ta(bars: Bars) -> None:
    close = pd.Series(bars.close)
    assert_close(ind.sma(bars.close, 20), ta.trend.sma_indicator(close, 20), TIGHT)
    bands = ind.bollinger(bars.close, 20, 2.0)
    ref = ta.volatility.BollingerBands(close, 20, 2)
    assert_close(bands.middle, ref.bollinger_mavg(), TIGHT)
    assert_close(bands.upper, ref.bollinger_hband(), TIGHT)
    assert_close(bands.lower, ref.bollinger_lband(), TIGHT)


def test_ema_matches_ta_exactly_with_first_value_seed(bars: Bars) -> None:
    close = pd.Series(bars.close)
    assert_close(ind.ema(bars.close, 20, seed="first"), ta.trend.ema_indicator(close, 20), 1e-12)
    res, atol = ind.macd(bars.close, seed="first"), price_scale(bars, 1e-12)
    assert_close(res.line, ta.trend.macd(close), 0, atol=atol)
    assert_close(res.signal, ta.trend.macd_signal(close), 0, atol=atol)
    assert_close(res.histogram, ta.trend.macd_diff(close), 0, atol=atol)


def test_sma_seeded_ema_and_macd_converge_to_ta(bars: Bars) -> None:
    close = pd.Series(bars.close)
    assert_close(ind.ema(bars.close, 20), ta.trend.ema_indicator(close, 20), CONVERGED, skip=300)
    res, atol = ind.macd(bars.close), price_scale(bars, CONVERGED)
    assert_close(res.line, ta.trend.macd(close), 0, skip=400, atol=atol)
    assert_close(res.signal, ta.trend.macd_signal(close), 0, skip=400, atol=atol)


def test_rsi_and_atr_converge_to_ta(bars: Bars) -> None:
    close, high, low = pd.Series(bars.close), pd.Series(bars.high), pd.Series(bars.low)
    assert_close(ind.rsi(bars.close, 14), ta.momentum.rsi(close, 14), CONVERGED, skip=300)
    ours = ind.atr(bars.high, bars.low, bars.close, 14)
    theirs = ta.volatility.average_true_range(high, low, close, 14)
    assert_close(ours, theirs, CONVERGED, skip=300)
    assert np.isnan(ours[:14]).all() and np.isfinite(ours[14:]).all()


def _wilder_rsi_loop(close: list[float], n: int) -> list[float]:
    """Wilder's book, literally: seed with plain means, then smooth one bar at a time."""
    changes = [b - a for a, b in itertools.pairwise(close)]
    gain = sum(max(c, 0.0) for c in changes[:n]) / n
    loss = sum(max(-c, 0.0) for c in changes[:n]) / n
    out = [math.nan] * n + [100.0 * gain / (gain + loss)]
    for c in changes[n:]:
        gain = (gain * (n - 1) + max(c, 0.0)) / n
        loss = (loss * (n - 1) + max(-c, 0.0)) / n
        out.append(100.0 * gain / (gain + loss))
    return out


def test_rsi_matches_wilders_definition(btc_daily: Bars) -> None:
    close = btc_daily.close[:400]
    assert_close(ind.rsi(close, 14), np.array(_wilder_rsi_loop(close.tolist(), 14)), 1e-12)


def test_atr_matches_talib_seeded_anchor() -> None:
    ref = json.loads((DATA / "reference" / "misc_ref.json").read_text())["chandelier_N22_M3"]
    rng = np.random.default_rng(5)
    c = 100 * np.exp(np.cumsum(rng.normal(0, 0.03, 300)))
    o = np.r_[100, c[:-1]] * np.exp(rng.normal(0, 0.005, 300))
    h = np.maximum(o, c) * (1 + np.abs(rng.normal(0, 0.01, 300)))
    lo = np.minimum(o, c) * (1 - np.abs(rng.normal(0, 0.01, 300)))
    value = ind.atr(h, lo, c, 22)[-1]
    assert value == pytest.approx(ref["Wilder(TA-Lib-like seed)"]["ATR_last"], rel=1e-12)


def test_rolling_std_stays_exact_on_a_long_high_priced_walk() -> None:
    """pandas' online rolling variance drifts to ~3e-5 here; the chunked sums do not."""
    x = 1e5 + np.cumsum(np.random.default_rng(1).normal(0, 1, 200_000))
    exact = np.lib.stride_tricks.sliding_window_view(x, 20).std(axis=1)
    np.testing.assert_allclose(ind.rolling_std(x, 20)[19:], exact, rtol=1e-11)
    sample = np.lib.stride_tricks.sliding_window_view(x[:5000], 7).std(axis=1, ddof=1)
    np.testing.assert_allclose(ind.rolling_std(x[:5000], 7, ddof=1)[6:], sample, rtol=1e-11)


def _stream(update: Callable[[float], float], xs: np.ndarray) -> np.ndarray:
    return np.array([update(float(x)) for x in xs])


def test_streaming_equals_batch(btc_daily: Bars) -> None:
    c, h, lo = btc_daily.close, btc_daily.high, btc_daily.low
    assert_close(_stream(ind.SMAStream(20).update, c), ind.sma(c, 20), TIGHT)
    assert_close(_stream(ind.EMAStream(20).update, c), ind.ema(c, 20), TIGHT)
    assert_close(
        _stream(ind.EMAStream(20, seed="first").update, c), ind.ema(c, 20, seed="first"), TIGHT
    )
    assert_close(_stream(ind.RSIStream(14).update, c), ind.rsi(c, 14), TIGHT)
    assert_close(_stream(ind.RollingStdStream(20).update, c), ind.rolling_std(c, 20), TIGHT)
    atr_stream = ind.ATRStream(14)
    streamed = np.array([atr_stream.update(*bar) for bar in zip(h, lo, c, strict=True)])
    assert_close(streamed, ind.atr(h, lo, c, 14), TIGHT)


def test_streaming_multi_output_equals_batch(eth_btc_5m: Bars) -> None:
    c = eth_btc_5m.close
    boll, macd = ind.BollingerStream(20, 2.0), ind.MACDStream(12, 26, 9)
    b_rows = np.array([boll.update(float(x)) for x in c])
    m_rows = np.array([macd.update(float(x)) for x in c])
    for got, want in zip(b_rows.T, ind.bollinger(c, 20, 2.0), strict=True):
        assert_close(got, want, TIGHT)
    batch, atol = ind.macd(c, 12, 26, 9), price_scale(eth_btc_5m, 1e-12)
    for got, want in zip(m_rows.T, batch, strict=True):
        assert_close(got, want, 0, atol=atol)


def test_warm_up_lengths_and_short_inputs() -> None:
    x = np.arange(1.0, 31.0)
    assert np.isnan(ind.sma(x, 5)[:4]).all() and ind.sma(x, 5)[4] == 3.0
    assert np.isnan(ind.ema(x, 5)[:4]).all() and ind.ema(x, 5)[4] == 3.0
    assert np.isnan(ind.rsi(x, 14)[:14]).all() and ind.rsi(x, 14)[14] == 100.0
    assert np.isnan(ind.sma(x[:3], 5)).all()
    assert np.isnan(ind.rsi(x[:14], 14)).all()
    assert len(ind.ema(np.array([]), 3)) == 0


def test_flat_series_gives_neutral_rsi_and_zero_width_bands() -> None:
    flat = np.full(50, 7.0)
    assert ind.rsi(flat, 14)[20] == 50.0
    bands = ind.bollinger(flat, 20)
    assert bands.upper[30] == bands.lower[30] == 7.0


def test_leading_nans_are_skipped_so_indicators_chain() -> None:
    x = np.r_[np.full(5, np.nan), np.arange(1.0, 21.0)]
    np.testing.assert_allclose(ind.sma(x, 3)[7:], ind.sma(x[5:], 3)[2:])
    np.testing.assert_allclose(ind.ema(x, 3)[7:], ind.ema(x[5:], 3)[2:])


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_invalid_windows_are_rejected(bad: object) -> None:
    with pytest.raises(ValidationFailed) as err:
        ind.sma(np.arange(10.0), bad)  # type: ignore[arg-type]
    assert err.value.code == "invalid_parameter"


def test_two_dimensional_input_is_rejected() -> None:
    with pytest.raises(ValidationFailed) as err:
        ind.ema(np.ones((3, 3)), 2)
    assert err.value.code == "invalid_series"
