from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from amarktai.kit.errors import ValidationFailed
from amarktai.risk.var import (
    VAR_METHODS,
    aggregate_returns,
    classify_band,
    compute_var,
    cornish_fisher_var_es,
    gaussian_var_es,
    historical_var_es,
    sample_moments,
)

RNG_RETURNS = np.random.default_rng(11).standard_t(5, size=(600, 3)) * 0.02
HOLDINGS = np.array([5_000.0, 3_000.0, 2_000.0])


# --------------------------------------------------------------------------- definitions


@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.975, 0.99])
def test_historical_var_is_numpy_linear_quantile(confidence: float) -> None:
    x = RNG_RETURNS[:, 0]
    expected = -np.quantile(x, 1 - confidence, method="linear")
    assert historical_var_es(x, confidence).var == pytest.approx(expected, rel=1e-12)


def test_historical_es_is_acerbi_tasche() -> None:
    x = RNG_RETURNS[:333, 1]
    alpha = 0.05
    worst = np.sort(x)
    mass = x.size * alpha  # 16.65: not an integer, so the definitions differ
    k = math.floor(mass)
    expected = -(worst[:k].sum() + (mass - k) * worst[k]) / mass
    assert historical_var_es(x, 0.95).es == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("confidence", [0.95, 0.99])
def test_parametric_is_gaussian_closed_form(confidence: float) -> None:
    x = RNG_RETURNS[:, 2]
    mu, sigma = x.mean(), x.std(ddof=1)
    alpha = 1 - confidence
    z = stats.norm.ppf(alpha)
    result = compute_var(x, 1.0, method="parametric", confidence=confidence)
    assert result.var_amount == pytest.approx(-(mu + z * sigma), rel=1e-12)
    assert result.cvar_amount == pytest.approx(-(mu - sigma * stats.norm.pdf(z) / alpha), rel=1e-12)


@pytest.mark.parametrize("horizon", [1, 5])
def test_multi_asset_parametric_uses_covariance(horizon: int) -> None:
    mu = RNG_RETURNS.mean(axis=0)
    cov = np.cov(RNG_RETURNS, rowvar=False)
    z = stats.norm.ppf(0.01)
    sigma_p = math.sqrt(HOLDINGS @ cov @ HOLDINGS)
    expected = -(horizon * HOLDINGS @ mu + z * sigma_p * math.sqrt(horizon))
    result = compute_var(
        RNG_RETURNS, HOLDINGS, method="parametric", confidence=0.99, horizon_days=horizon
    )
    assert result.var_amount == pytest.approx(expected, rel=1e-12)
    assert result.var_percent == pytest.approx(100 * expected / HOLDINGS.sum(), rel=1e-12)


def test_multi_asset_diversifies_below_sum_of_parts() -> None:
    whole = compute_var(RNG_RETURNS, HOLDINGS, method="parametric").var_amount
    parts = sum(
        compute_var(RNG_RETURNS[:, i], HOLDINGS[i], method="parametric").var_amount
        for i in range(3)
    )
    assert whole < parts


def test_multi_asset_historical_is_quantile_of_portfolio_pnl() -> None:
    pnl = RNG_RETURNS @ HOLDINGS
    result = compute_var(RNG_RETURNS, HOLDINGS, method="historical", confidence=0.95)
    assert result.var_amount == pytest.approx(-np.quantile(pnl, 0.05), rel=1e-12)


def test_historical_horizon_uses_overlapping_compounded_windows() -> None:
    x = RNG_RETURNS[:, 0]
    h = 7
    windows = np.array([np.prod(1 + x[i : i + h]) - 1 for i in range(x.size - h + 1)])
    np.testing.assert_allclose(aggregate_returns(x, h), windows, rtol=1e-10, atol=1e-14)
    result = compute_var(x, 100.0, horizon_days=h, confidence=0.99)
    assert result.var_amount == pytest.approx(-100 * np.quantile(windows, 0.01), rel=1e-9)
    assert result.observations == x.size - h + 1


def test_cornish_fisher_reduces_to_gaussian_without_skew_or_kurtosis() -> None:
    for confidence in (0.9, 0.95, 0.99, 0.999):
        cf = cornish_fisher_var_es(0.001, 0.03, 0.0, 0.0, confidence)
        gauss = gaussian_var_es(0.001, 0.03, confidence)
        assert cf.var == pytest.approx(gauss.var, rel=1e-12)
        assert cf.es == pytest.approx(gauss.es, rel=1e-12)


def test_cornish_fisher_es_matches_boudt_quadrature() -> None:
    """The closed form equals the integral definition of Boudt et al. (2008)."""
    from scipy import integrate

    mu, sigma, s, k, alpha = 0.0005, 0.02, -0.4, 2.5, 0.025
    cf = cornish_fisher_var_es(mu, sigma, s, k, 1 - alpha)
    g = -(cf.var + mu) / sigma

    def density(u: float) -> float:
        he3, he4 = u**3 - 3 * u, u**4 - 6 * u**2 + 3
        he6 = u**6 - 15 * u**4 + 45 * u**2 - 15
        return float(stats.norm.pdf(u) * (1 + s / 6 * he3 + k / 24 * he4 + s**2 / 72 * he6))

    integral, _ = integrate.quad(lambda u: u * density(u), -np.inf, g)
    assert cf.es == pytest.approx(-(mu + sigma * integral / alpha), rel=1e-8)


# --------------------------------------------------------------------------- reference values


@pytest.mark.parametrize("level", ["95%", "99%"])
def test_reference_values_n1000(
    ref_returns: np.ndarray, var_ref: dict[str, Any], level: str
) -> None:
    ref = var_ref["n1000"][level]
    confidence = float(level[:-1]) / 100
    hist = historical_var_es(ref_returns, confidence)
    assert hist.var == pytest.approx(ref["hist_VaR_by_numpy_method"]["linear"], rel=1e-12)
    assert hist.es == pytest.approx(
        ref["hist_ES_definitions"]["Acerbi-Tasche fractional"], rel=1e-12
    )
    m = sample_moments(ref_returns)
    gauss = gaussian_var_es(m.mean, m.std, confidence)
    assert gauss.var == pytest.approx(ref["gauss"]["VaR ddof1 (mu + z s)"], rel=1e-12)
    assert gauss.es == pytest.approx(ref["gauss"]["ES ddof1 (mu - s phi(z)/a)"], rel=1e-12)
    cf_ref = ref["cornish_fisher_biased_moments"]
    assert m.skew == pytest.approx(cf_ref["skew"], rel=1e-10)
    assert m.excess_kurtosis == pytest.approx(cf_ref["exkurt"], rel=1e-12)
    cf = cornish_fisher_var_es(m.mean, m.std_population, m.skew, m.excess_kurtosis, confidence)
    assert cf.var == pytest.approx(cf_ref["VaR_CF"], rel=1e-10)
    assert cf.es == pytest.approx(
        cf_ref["ES_CF_Boudt2008(PerformanceAnalytics 'modified')"], rel=1e-10
    )
    top = compute_var(ref_returns, 1.0, method="cornish_fisher", confidence=confidence)
    assert top.cvar_amount == pytest.approx(cf_ref["ES_CF_operational=max(ES,VaR)"], rel=1e-10)


@pytest.mark.parametrize("level", ["95%", "99%"])
def test_reference_values_first250(
    ref_returns: np.ndarray, var_ref: dict[str, Any], level: str
) -> None:
    ref = var_ref["first250"][level]
    hist = historical_var_es(ref_returns[:250], float(level[:-1]) / 100)
    assert hist.var == pytest.approx(ref["hist_VaR_by_numpy_method"]["linear"], rel=1e-12)
    assert hist.es == pytest.approx(
        ref["hist_ES_definitions"]["Acerbi-Tasche fractional"], rel=1e-12
    )


def test_reference_ten_day_99(ref_returns: np.ndarray, var_ref: dict[str, Any]) -> None:
    ref = var_ref["ten_day_99"]
    hist = compute_var(ref_returns, 1.0, confidence=0.99, horizon_days=10)
    gauss = compute_var(ref_returns, 1.0, method="parametric", confidence=0.99, horizon_days=10)
    assert hist.var_amount == pytest.approx(
        ref["hist on overlapping 10d returns (991 obs, autocorrelated)"], rel=1e-10
    )
    assert gauss.var_amount == pytest.approx(ref["gauss 10d: -(10 mu + z s sqrt10)"], rel=1e-12)
    assert hist.var_amount < ref["sqrt10 x hist 1d VaR"]  # fat tails: √t over-states here


@pytest.mark.parametrize("level", ["95%", "99%"])
def test_monte_carlo_matches_normal_reference(
    ref_returns: np.ndarray, var_ref: dict[str, Any], level: str
) -> None:
    confidence = float(level[:-1]) / 100
    n = 200_000
    result = compute_var(
        ref_returns, 1.0, method="monte_carlo", confidence=confidence, simulations=n, seed=7
    )
    expected = var_ref["n1000"][level]["gauss"]["VaR ddof1 (mu + z s)"]
    alpha = 1 - confidence
    sigma = ref_returns.std(ddof=1)
    density = stats.norm.pdf(stats.norm.ppf(alpha)) / sigma
    standard_error = math.sqrt(alpha * (1 - alpha) / n) / density
    assert abs(result.var_amount - expected) < 4 * standard_error


def test_monte_carlo_is_reproducible_with_seed() -> None:
    a = compute_var(RNG_RETURNS, HOLDINGS, method="monte_carlo", simulations=5_000, seed=3)
    b = compute_var(RNG_RETURNS, HOLDINGS, method="monte_carlo", simulations=5_000, seed=3)
    assert a == b


# --------------------------------------------------------------------------- result shape


def test_result_sentence_band_and_decimal_holdings() -> None:
    x = RNG_RETURNS[:, 0]
    result = compute_var(x, Decimal("123456.78"), confidence=0.95)
    assert result.sentence.startswith("With 95% confidence, you should not lose more than R")
    assert result.sentence.endswith(" over the next day.")
    whole, cents = f"{result.var_amount:,.2f}".split(".")
    assert f"R {whole.replace(',', ' ')},{cents} " in result.sentence  # the app's en-ZA form
    assert result.band == classify_band(result.var_percent)
    ten = compute_var(x, 1000.0, confidence=0.975, horizon_days=10)
    assert "With 97.5% confidence" in ten.sentence
    assert ten.sentence.endswith("over the next 10 days.")


def test_sentence_matches_product_example() -> None:
    from amarktai.risk.var import plain_sentence

    assert plain_sentence(0.95, 1234.56, 1) == (
        "With 95% confidence, you should not lose more than R 1 234,56 over the next day."
    )


@pytest.mark.parametrize(
    ("percent", "band"),
    [(0.0, "green"), (4.99, "green"), (5.0, "amber"), (10.0, "amber"), (10.01, "red")],
)
def test_bands(percent: float, band: str) -> None:
    assert classify_band(percent) == band


@pytest.mark.parametrize("holdings", [0.0, [0.0, 0.0], []])
def test_empty_portfolio_gives_zero_result(holdings: Any) -> None:
    result = compute_var([], holdings, method="parametric")
    assert result.var_amount == 0.0 and result.cvar_amount == 0.0
    assert result.band == "green" and result.note


def test_all_gains_history_reports_no_loss() -> None:
    result = compute_var(np.linspace(0.01, 0.02, 60), 1000.0)
    assert result.var_amount == 0.0 and result.note


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("confidence", [0.0, 1.0, -0.5, 1.5, float("nan"), "x"])
def test_bad_confidence(confidence: Any) -> None:
    with pytest.raises(ValidationFailed) as info:
        compute_var(RNG_RETURNS[:, 0], 1.0, confidence=confidence)
    assert info.value.code == "invalid_confidence" and info.value.status == 422


@pytest.mark.parametrize("horizon", [0, -3, 1.5, True])
def test_bad_horizon(horizon: Any) -> None:
    with pytest.raises(ValidationFailed) as info:
        compute_var(RNG_RETURNS[:, 0], 1.0, horizon_days=horizon)
    assert info.value.code == "invalid_horizon"


@pytest.mark.parametrize("method", VAR_METHODS)
def test_short_history_is_refused(method: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        compute_var(RNG_RETURNS[:29, 0], 1.0, method=method)
    assert info.value.code == "insufficient_history"
    assert info.value.details["count"] == 29


def test_historical_horizon_needs_more_history() -> None:
    with pytest.raises(ValidationFailed) as info:
        compute_var(RNG_RETURNS[:35, 0], 1.0, horizon_days=10)
    assert info.value.code == "insufficient_history"
    assert info.value.details == {"count": 35, "required": 39}


@pytest.mark.parametrize(
    ("returns", "holdings", "code"),
    [
        (RNG_RETURNS, [1.0, 2.0], "shape_mismatch"),
        (np.full(40, np.nan), 1.0, "invalid_returns"),
        (np.full(40, -1.5), 1.0, "invalid_returns"),
        (RNG_RETURNS[:, 0], "abc", "invalid_holdings"),
    ],
)
def test_bad_shapes_and_values(returns: Any, holdings: Any, code: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        compute_var(returns, holdings)
    assert info.value.code == code


def test_unknown_method_and_simulation_cap() -> None:
    with pytest.raises(ValidationFailed) as info:
        compute_var(RNG_RETURNS[:, 0], 1.0, method="magic")
    assert info.value.code == "invalid_method"
    with pytest.raises(ValidationFailed) as info:
        compute_var(RNG_RETURNS[:, 0], 1.0, method="monte_carlo", simulations=10**9)
    assert info.value.code == "too_many_simulations"


# --------------------------------------------------------------------------- properties

returns_strategy = arrays(
    np.float64,
    st.integers(40, 120),
    elements=st.floats(-0.3, 0.3, allow_nan=False, allow_infinity=False),
)
confidences = st.floats(0.80, 0.995)


@settings(max_examples=60, deadline=None)
@given(returns_strategy, confidences, confidences)
def test_var_is_monotone_in_confidence(x: np.ndarray, c1: float, c2: float) -> None:
    low, high = sorted((c1, c2))
    for method in ("historical", "parametric"):
        a = compute_var(x, 1000.0, method=method, confidence=low)
        b = compute_var(x, 1000.0, method=method, confidence=high)
        assert a.var_amount <= b.var_amount + 1e-9


@settings(max_examples=40, deadline=None)
@given(returns_strategy, confidences, st.integers(1, 5))
def test_cvar_is_at_least_var(x: np.ndarray, confidence: float, horizon: int) -> None:
    for method in VAR_METHODS:
        r = compute_var(
            x,
            1000.0,
            method=method,
            confidence=confidence,
            horizon_days=horizon,
            simulations=2_000,
            seed=1,
        )
        assert r.cvar_amount >= r.var_amount >= 0.0
        raw = historical_var_es(x, confidence)
        assert raw.es >= raw.var - 1e-12


@settings(max_examples=40, deadline=None)
@given(returns_strategy, confidences, st.floats(1.0, 1e7))
def test_doubling_holdings_doubles_var(x: np.ndarray, confidence: float, value: float) -> None:
    matrix = np.column_stack([x, x[::-1]])
    holdings = np.array([value, value / 3])
    for method in VAR_METHODS:
        one = compute_var(
            matrix, holdings, method=method, confidence=confidence, simulations=2_000, seed=5
        )
        two = compute_var(
            matrix, 2 * holdings, method=method, confidence=confidence, simulations=2_000, seed=5
        )
        assert two.var_amount == pytest.approx(2 * one.var_amount, rel=1e-9, abs=1e-9)
        assert two.cvar_amount == pytest.approx(2 * one.cvar_amount, rel=1e-9, abs=1e-9)
        assert two.var_percent == pytest.approx(one.var_percent, rel=1e-9, abs=1e-9)
