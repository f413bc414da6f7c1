"""Performance metrics: a case small enough to check by hand, and empyrical on real BTC."""

from __future__ import annotations

import json
import math
from pathlib import Path

import empyrical
import numpy as np
import pandas as pd
import pytest

from amarktai.analytics.metrics import compute_metrics, infer_periods_per_year, trade_stats
from amarktai.kit.errors import ValidationFailed

DATA = Path(__file__).resolve().parents[4] / "shared" / "data"


# The formulas themselves, on curves too short for the young-history floors.
NO_FLOORS = {"min_periods": 0, "min_days_risk": 0.0, "min_days_growth": 0.0}


def days(n: int, start: str = "2024-01-01") -> np.ndarray:
    return np.arange(np.datetime64(start), np.datetime64(start) + n).astype("datetime64[ns]")


def test_hand_computed_small_curve() -> None:
    equity = np.array([100.0, 110.0, 99.0, 121.0])
    m = compute_metrics(
        days(4), equity, [10.0, -11.0, 22.0], in_market=[False, True, True, False], **NO_FLOORS
    )
    r = np.array([0.10, -0.10, 121.0 / 99.0 - 1.0])
    assert m.periods_per_year == 365.0
    assert m.total_return == pytest.approx(0.21)
    assert m.cagr == pytest.approx(1.21 ** (365 / 3) - 1)
    assert m.volatility == pytest.approx(np.std(r, ddof=1) * math.sqrt(365))
    assert m.sharpe == pytest.approx(r.mean() / np.std(r, ddof=1) * math.sqrt(365))
    assert m.sortino == pytest.approx(r.mean() / math.sqrt(0.01 / 3) * math.sqrt(365))
    assert m.max_drawdown.depth == pytest.approx(-0.10)
    assert m.max_drawdown.peak_at is not None and m.max_drawdown.peak_at.day == 2
    assert m.max_drawdown.trough_at is not None and m.max_drawdown.trough_at.day == 3
    assert m.max_drawdown.recovered_at is not None and m.max_drawdown.recovered_at.day == 4
    assert m.calmar == pytest.approx(m.cagr / 0.10)
    assert m.exposure == pytest.approx(2 / 3)
    assert (m.trades.n_trades, m.trades.win_rate) == (3, pytest.approx(2 / 3))
    assert m.trades.profit_factor == pytest.approx(32 / 11)
    assert m.trades.expectancy == pytest.approx(7.0)


def test_matches_empyrical_on_real_btc() -> None:
    df = pd.read_csv(DATA / "daily" / "binance_daily_Bitcoin.csv")
    times = pd.to_datetime(df.Date).to_numpy()
    equity = df.close.to_numpy()
    returns = equity[1:] / equity[:-1] - 1.0
    m = compute_metrics(times, equity)
    ann = {"annualization": 365}
    assert m.sharpe == pytest.approx(empyrical.sharpe_ratio(returns, **ann), rel=1e-12)
    assert m.sortino == pytest.approx(empyrical.sortino_ratio(returns, **ann), rel=1e-12)
    assert m.max_drawdown.depth == pytest.approx(empyrical.max_drawdown(returns), rel=1e-12)
    assert m.cagr == pytest.approx(empyrical.annual_return(returns, **ann), rel=1e-12)
    assert m.calmar == pytest.approx(empyrical.calmar_ratio(returns, **ann), rel=1e-12)
    assert m.volatility == pytest.approx(empyrical.annual_volatility(returns, **ann), rel=1e-12)
    assert (
        m.max_drawdown.peak_at is not None
        and m.max_drawdown.peak_at.isoformat()[:10] == "2021-11-08"
    )
    assert (
        m.max_drawdown.trough_at is not None
        and m.max_drawdown.trough_at.isoformat()[:10] == "2022-11-21"
    )


def test_periods_per_year_follow_the_bar_spacing() -> None:
    start = np.datetime64("2024-01-01T00:00")
    assert infer_periods_per_year(start + np.arange(10) * np.timedelta64(1, "h")) == 8760
    minutes = start + np.arange(10) * np.timedelta64(1, "m")
    assert infer_periods_per_year(np.r_[minutes, minutes[-1] + np.timedelta64(3, "h")]) == 525_600
    assert infer_periods_per_year(start[None]) is None


@pytest.mark.parametrize("equity", [[], [100.0]])
def test_empty_and_single_point_curves_are_all_none(equity: list[float]) -> None:
    m = compute_metrics(days(len(equity)), equity)
    d = m.to_dict()
    json.dumps(d)
    for key in ("total_return", "cagr", "volatility", "sharpe", "sortino", "calmar"):
        assert d[key] is None
    assert d["n_trades"] == 0 and d["win_rate"] is None


def test_flat_curve_has_no_risk_ratios() -> None:
    flat = np.full(30, 500.0)
    d = compute_metrics(days(30), flat, in_market=np.zeros(30, bool), **NO_FLOORS).to_dict()
    json.dumps(d, allow_nan=False)
    assert d["total_return"] == 0.0 and d["cagr"] == 0.0 and d["volatility"] == 0.0
    assert d["sharpe"] is None and d["sortino"] is None and d["calmar"] is None
    assert d["max_drawdown"] == 0.0 and d["max_drawdown_peak_at"] is None
    assert d["exposure"] == 0.0


def test_rising_curve_without_losses() -> None:
    m = compute_metrics(days(5), [1.0, 1.1, 1.2, 1.3, 1.4], [5.0, 3.0], **NO_FLOORS)
    assert m.sortino is None and m.calmar is None and m.sharpe is not None and m.sharpe > 0
    assert m.trades.profit_factor is None and m.trades.win_rate == 1.0 and m.trades.avg_loss is None
    assert m.max_drawdown.depth == 0.0


def test_break_even_trades_count_but_do_not_win() -> None:
    stats = trade_stats([0.0, 0.0, -1.0])
    assert (
        stats.win_rate == 0.0
        and stats.profit_factor == 0.0
        and stats.expectancy == pytest.approx(-1 / 3)
    )


@pytest.mark.parametrize(
    ("times", "equity"),
    [
        (days(3), [1.0, 2.0]),
        (days(3), [1.0, -2.0, 3.0]),
        (days(3), [1.0, float("nan"), 3.0]),
        (days(3)[::-1], [1.0, 2.0, 3.0]),
    ],
)
def test_bad_curves_are_rejected(times: np.ndarray, equity: list[float]) -> None:
    with pytest.raises(ValidationFailed) as err:
        compute_metrics(times, equity)
    assert err.value.code == "invalid_series"


def seconds(n: int, step_s: float = 0.5) -> np.ndarray:
    start = np.datetime64("2026-12-01T00:00:00", "ns")
    return start + (np.arange(n) * step_s * 1e9).astype("timedelta64[ns]")


def test_a_55_second_old_bot_gets_no_annualised_figures_and_says_why() -> None:
    """The issue's case: 55 s, a 0.019 % loss, sub-second points (CAGR was -1.0, Sharpe
    -497.8, Calmar -4107, periods per year 56 million)."""
    rng = np.random.default_rng(3)
    equity = 10_000 * np.cumprod(1 + rng.normal(-2e-6, 1e-5, 111))
    m = compute_metrics(seconds(111), equity, [])  # 0.5 s apart: 55 s
    d = m.to_dict()
    json.dumps(d, allow_nan=False)
    for name in ("cagr", "volatility", "sharpe", "sortino", "calmar"):
        assert d[name] is None
        assert d["unavailable"][name].startswith("not enough history: ")
    assert "55 s" in d["unavailable"]["cagr"] and "7 days" in d["unavailable"]["cagr"]
    assert d["total_return"] is not None and d["max_drawdown"] is not None  # not annualised
    assert d["n_trades"] == 0


def test_floors_lift_as_history_grows() -> None:
    rng = np.random.default_rng(5)
    two_days = compute_metrics(days(3), [100.0, 101.0, 100.5])
    assert set(two_days.unavailable) == {"cagr", "calmar", "volatility", "sharpe", "sortino"}
    hourly = np.arange(np.datetime64("2026-01-01T00"), np.datetime64("2026-01-03T00"))
    equity = 100 * np.cumprod(1 + rng.normal(0, 0.01, len(hourly)))
    m = compute_metrics(hourly.astype("datetime64[ns]"), equity)  # 2 days, 47 periods
    assert m.sharpe is not None and m.volatility is not None
    assert m.cagr is None and set(m.unavailable) == {"cagr", "calmar"}
    month = compute_metrics(days(31), 100 * np.cumprod(1 + rng.normal(0, 0.01, 31)))
    assert month.unavailable == {} and month.cagr is not None and month.sharpe is not None
