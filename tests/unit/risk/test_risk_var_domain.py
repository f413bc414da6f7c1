"""Cornish-Fisher's validity domain and the 100 % cap (the "VaR R0.00, CVaR 268 %" issue).

The synthetic series (``tests.support.heavy_tailed_returns``: Student-t with 2.5 degrees of
freedom plus rare +50..100 % jumps) has skew about 5 and excess kurtosis about 100. There
the raw Cornish-Fisher 95 % quantile is above zero and the modified ES is above 100 % of
the position; before the fix the user was told "you should not lose more than R0.00".
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats
from tests.support import heavy_tailed_returns

from amarktai.kit.errors import ValidationFailed
from amarktai.risk.var import (
    CF_TAIL_FLOOR_Z,
    VAR_METHODS,
    aggregate_returns,
    compute_var,
    cornish_fisher_is_valid,
    cornish_fisher_valid_array,
    cornish_fisher_var_es,
    cornish_fisher_z_array,
    historical_var_es,
    sample_moments,
)
from amarktai.risk.var_backtest import backtest_var, rolling_forecasts, rolling_var

HEAVY = heavy_tailed_returns()


def test_fixture_is_outside_the_domain_and_broke_the_raw_expansion() -> None:
    m = sample_moments(HEAVY)
    assert 4.0 < m.skew < 6.0 and 85.0 < m.excess_kurtosis < 120.0
    raw = cornish_fisher_var_es(m.mean, m.std_population, m.skew, m.excess_kurtosis, 0.95)
    assert raw.var < 0.0 and raw.es > 1.0  # "quantile" above zero, ES above 100 %
    assert not cornish_fisher_is_valid(0.95, m.skew, m.excess_kurtosis)


@pytest.mark.parametrize("confidence", [0.95, 0.99])
def test_invalid_cornish_fisher_falls_back_to_historical(confidence: float) -> None:
    value = 10_000.0
    result = compute_var(HEAVY, value, method="cornish_fisher", confidence=confidence)
    hist = compute_var(HEAVY, value, method="historical", confidence=confidence)
    assert "R0.00" not in result.sentence  # was: "not lose more than R0.00", band green
    assert 0.0 < result.var_percent <= result.cvar_percent <= 100.0
    assert result.var_amount == pytest.approx(hist.var_amount, rel=1e-12)
    assert result.cvar_amount == pytest.approx(hist.cvar_amount, rel=1e-12)
    assert result.band == hist.band and result.observations == hist.observations
    assert result.method == "cornish_fisher" and result.method_used == "historical"
    reason = result.fallback_reason or ""
    assert reason.startswith("Cornish-Fisher is not valid for skew 4.9")
    assert "excess kurtosis 103" in reason and "Maillard" in reason
    assert result.note is not None and reason in result.note
    assert "Historical VaR and CVaR are shown instead" in result.note
    assert hist.fallback_reason is None and hist.method_used == "historical"


def test_fallback_uses_the_horizon_scaled_moments_and_multi_asset_pnl() -> None:
    matrix = np.column_stack([HEAVY, np.zeros_like(HEAVY)])  # the coin plus cash
    holdings = np.array([8_000.0, 2_000.0])
    five = compute_var(matrix, holdings, method="cornish_fisher", horizon_days=5)
    hist = compute_var(matrix, holdings, method="historical", horizon_days=5)
    assert five.method_used == "historical" and "(scaled to 5 days)" in (five.note or "")
    assert five.var_amount == pytest.approx(hist.var_amount, rel=1e-12)
    assert five.cvar_amount <= 8_000.0  # the cash cannot be lost


def test_fallback_needs_enough_history_for_the_horizon() -> None:
    short = HEAVY[np.argsort(-HEAVY)][:40]  # the 40 largest days: still far outside
    m = sample_moments(short)
    assert not cornish_fisher_is_valid(0.95, m.skew / np.sqrt(20), m.excess_kurtosis / 20)
    with pytest.raises(ValidationFailed) as info:
        compute_var(short, 1.0, method="cornish_fisher", horizon_days=20)
    assert info.value.code == "cornish_fisher_invalid"
    assert "Cornish-Fisher is not valid" in str(info.value)


def test_valid_cornish_fisher_is_unchanged(ref_returns: np.ndarray) -> None:
    m = sample_moments(ref_returns)
    result = compute_var(ref_returns, 1.0, method="cornish_fisher", confidence=0.99)
    raw = cornish_fisher_var_es(m.mean, m.std_population, m.skew, m.excess_kurtosis, 0.99)
    assert result.method_used == "cornish_fisher" and result.fallback_reason is None
    assert result.var_amount == pytest.approx(raw.var, rel=1e-12)
    assert result.note is None and not result.capped


# --------------------------------------------------------------------------- the domain


@pytest.mark.parametrize(
    ("skew", "kurt", "valid"),
    [
        (0.0, 0.0, True),  # the normal distribution
        (0.0, 7.9, True),  # Maillard at S = 0: 0 <= K <= 8
        (0.0, 8.1, False),
        (0.0, -0.5, False),  # platykurtic: the far loss tail bends back
        (0.14, 3.45, True),  # BTC daily (recorded history)
        (-0.27, 4.23, True),  # BTC/ETH/LTC/PAXG portfolio
        (5.0, 95.0, False),  # the issue
        (-8.0, 79.0, False),  # monotone near z_alpha, bends back at z = -3.4
    ],
)
def test_validity_domain_points(skew: float, kurt: float, valid: bool) -> None:
    for confidence in (0.9, 0.95, 0.99):
        assert cornish_fisher_is_valid(confidence, skew, kurt) is valid


def _slope(z: np.ndarray, s: float, k: float) -> np.ndarray:
    return np.gradient(cornish_fisher_z_array_at(z, s, k), z)


def cornish_fisher_z_array_at(z: np.ndarray, s: float, k: float) -> np.ndarray:
    """The CF polynomial at arbitrary ``z`` (the library takes alpha, not z)."""
    return z + (z**2 - 1) * s / 6 + (z**3 - 3 * z) * k / 24 - (2 * z**3 - 5 * z) * s**2 / 36


@settings(max_examples=300, deadline=None)
@given(st.floats(-8.0, 8.0), st.floats(-3.0, 150.0), st.floats(0.51, 0.999))
def test_validity_matches_a_dense_scan_of_the_slope(s: float, k: float, conf: float) -> None:
    alpha = 1.0 - conf
    z_alpha = float(stats.norm.ppf(alpha))
    grid = np.linspace(min(z_alpha, CF_TAIL_FLOOR_Z), 0.0, 20_001)
    slope = (
        1 + s * grid / 3 + k * (grid**2 - 1) / 8 - s**2 * (6 * grid**2 - 5) / 36
    )  # analytic dz_cf/dz
    lowest = float(slope.min())
    assume(abs(lowest) > 1e-6)  # the boundary itself is a matter of rounding
    assert bool(cornish_fisher_valid_array(alpha, s, k)) is (lowest > 0)
    np.testing.assert_allclose(_slope(grid, s, k)[1:-1], slope[1:-1], atol=1e-3 * (1 + abs(k)))


@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99, 0.999])
def test_inside_the_domain_the_tail_quantile_is_below_the_mean(confidence: float) -> None:
    """So "no loss expected" from Cornish-Fisher can only be the drift, never the artefact."""
    s, k = (a.ravel() for a in np.meshgrid(np.linspace(-8, 8, 161), np.linspace(-3, 120, 247)))
    alpha = round(1 - confidence, 12)
    valid = cornish_fisher_valid_array(alpha, s, k)
    assert valid.any() and not valid.all()
    assert float(cornish_fisher_z_array(alpha, s[valid], k[valid]).max()) < -0.4


# --------------------------------------------------------------------------- the cap


def test_parametric_tail_beyond_the_position_is_capped_with_a_note() -> None:
    wild = np.tile([-0.9, 2.5, -0.6, 1.2], 20)  # sigma ~ 150 % a day
    result = compute_var(wild, 1_000.0, method="parametric", confidence=0.99)
    assert result.var_amount == result.cvar_amount == 1_000.0  # was: VaR 269 %, CVaR 316 %
    assert result.var_percent == result.cvar_percent == 100.0 and result.capped
    assert "cannot suffer" in (result.note or "") and "capped at 100 %" in (result.note or "")
    short = compute_var(wild, -1_000.0, method="parametric", confidence=0.99)
    assert not short.capped and short.var_amount > 1_000.0  # a short can lose more


def test_heavy_tail_99_no_method_reports_more_than_the_position() -> None:
    for method in VAR_METHODS:
        result = compute_var(HEAVY, 500.0, method=method, confidence=0.99, seed=3)
        assert 0.0 < result.var_amount <= result.cvar_amount <= 500.0, method
        assert result.cvar_percent <= 100.0


heavy_returns = st.one_of(
    st.floats(-1.0, 0.3, allow_nan=False),
    st.floats(-1.0, 10.0, allow_nan=False),  # jumps and wipe-outs, within a simple return
)


@settings(max_examples=80, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(35, 90), st.integers(1, 3)), elements=heavy_returns),
    st.lists(st.floats(0.0, 1e6), min_size=3, max_size=3),
    st.floats(0.5, 0.999),
    st.integers(1, 5),
)
def test_long_only_var_and_cvar_stay_within_the_portfolio(
    returns: np.ndarray, holdings: list[float], confidence: float, horizon: int
) -> None:
    values = np.asarray(holdings[: returns.shape[1]])
    for method in VAR_METHODS:
        try:
            r = compute_var(
                returns, values, method=method, confidence=confidence,
                horizon_days=horizon, simulations=500, seed=1,
            )  # fmt: skip
        except ValidationFailed as exc:  # too short for the horizon: a refusal, not a figure
            assert exc.code in {"insufficient_history", "cornish_fisher_invalid"}
            continue
        assert 0.0 <= r.var_amount <= r.cvar_amount <= r.portfolio_value, method
        assert 0.0 <= r.var_percent <= r.cvar_percent <= 100.0, method


# --------------------------------------------------------------------------- backtest


def test_rolling_backtest_falls_back_and_keeps_no_negative_forecast() -> None:
    window = 250
    cf = rolling_var(HEAVY, window=window, confidence=0.95, method="cornish_fisher")
    assert cf.min() >= 0.0 and cf.max() <= 1.0  # was: 689 of 750 forecasts negative
    rolled = rolling_forecasts(HEAVY, window=window, confidence=0.95, method="cornish_fisher")
    hist = rolling_var(HEAVY, window=window, confidence=0.95, method="historical")
    np.testing.assert_array_equal(rolled.var, cf)
    assert rolled.fell_back.sum() > 0.5 * rolled.fell_back.size  # most windows hold a jump
    np.testing.assert_allclose(rolled.var[rolled.fell_back], hist[rolled.fell_back])
    for i in np.flatnonzero(rolled.fell_back)[:5]:
        block = HEAVY[i : i + window]
        assert rolled.var[i] == pytest.approx(historical_var_es(block, 0.95).var)
    result = backtest_var(HEAVY, window=window, confidence=0.95, method="cornish_fisher")
    assert result.fallback_forecasts == int(rolled.fell_back.sum())
    assert result.note and f"in {result.fallback_forecasts} of 750 windows" in result.note
    assert min(result.var_forecasts) >= 0.0
    plain = backtest_var(HEAVY, window=window, confidence=0.95, method="historical")
    assert plain.fallback_forecasts == 0 and plain.note is None


def test_backtest_forecasts_are_the_figures_a_user_sees() -> None:
    """An all-gains window has a negative historical quantile: the user sees VaR 0."""
    rng = np.random.default_rng(4)
    returns = np.r_[rng.uniform(0.001, 0.02, 60), rng.normal(0.0, 0.02, 40)]
    forecasts = rolling_var(returns, window=40, confidence=0.95, method="historical")
    assert forecasts.min() == 0.0
    shown = compute_var(returns[:40], 1.0, method="historical", confidence=0.95)
    assert forecasts[0] == shown.var_amount == 0.0


def test_a_wiped_out_day_compounds_to_minus_100_percent_not_nan() -> None:
    returns = np.r_[np.full(20, 0.01), -1.0, np.full(20, 0.02)]
    windows = aggregate_returns(returns, 3)
    assert np.all(np.isfinite(windows))
    np.testing.assert_array_equal(windows[18:21], -1.0)  # the three windows holding it
    assert windows[21] == pytest.approx(1.02**3 - 1)
    result = compute_var(returns, 100.0, method="historical", horizon_days=3, confidence=0.99)
    assert result.var_amount == pytest.approx(100.0) and result.cvar_amount == 100.0
