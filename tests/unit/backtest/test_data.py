from __future__ import annotations

import numpy as np
import pytest

from amarktai.backtest.data import load_bars, random_walk_bars, validate_bars
from amarktai.backtest.event import run_event
from amarktai.kit.errors import ValidationFailed
from amarktai.strategies.base import Bars


def _with(bars: Bars, **cols: np.ndarray) -> Bars:
    base = {k: getattr(bars, k) for k in ("time", "open", "high", "low", "close", "volume")}
    return Bars.from_arrays(**{**base, **cols})


def test_random_walk_is_seeded_and_gapless() -> None:
    a, b = random_walk_bars(500, seed=7), random_walk_bars(500, seed=7)
    assert np.array_equal(a.close, b.close)
    assert np.array_equal(a.open[1:], a.close[:-1])
    validate_bars(a)


def test_empty_range_is_refused(btc_daily: Bars) -> None:
    from datetime import UTC, datetime

    with pytest.raises(ValidationFailed) as err:
        load_bars("daily/binance_daily_Bitcoin.csv", start=datetime(2030, 1, 1, tzinfo=UTC))
    assert err.value.code == "empty_range"


def test_too_short_range_for_the_strategy() -> None:
    with pytest.raises(ValidationFailed) as err:
        run_event("sma_cross", random_walk_bars(40), params={"fast": 10, "slow": 50})
    assert err.value.code == "range_too_short"


def test_gap_in_timestamps_is_named() -> None:
    bars = random_walk_bars(100)
    times = bars.time.copy()
    times[60:] += np.timedelta64(5, "m")
    with pytest.raises(ValidationFailed) as err:
        validate_bars(_with(bars, time=times))
    assert err.value.code == "data_gap"
    assert err.value.details["bar"] == 60


def test_real_file_with_missing_candles_is_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        load_bars("intraday/XRP_ETH-1m.feather")
    assert err.value.code == "data_gap"


def test_nan_price_is_named() -> None:
    bars = random_walk_bars(100)
    close = bars.close.copy()
    close[42] = np.nan
    with pytest.raises(ValidationFailed) as err:
        validate_bars(_with(bars, close=close))
    assert err.value.code == "bad_value"
    assert err.value.details == {"column": "close", "bar": 42}


def test_unsorted_times_are_refused() -> None:
    bars = random_walk_bars(10)
    times = bars.time[::-1].copy()
    with pytest.raises(ValidationFailed) as err:
        validate_bars(_with(bars, time=times))
    assert err.value.code == "unsorted_data"
