from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from amarktai.kit.errors import ValidationFailed
from amarktai.risk.var_backtest import (
    backtest_var,
    christoffersen_independence,
    kupiec_pof,
    rolling_var,
)


def test_kupiec_hand_computed_chi2_case() -> None:
    """T=100, x=5, p=1 %: LR by hand, p-value from the χ²(1) survival erfc(√(LR/2))."""
    t, x, p = 100, 5, 0.01
    lr = -2 * ((t - x) * math.log(1 - p) + x * math.log(p)) + 2 * (
        (t - x) * math.log(1 - x / t) + x * math.log(x / t)
    )
    result = kupiec_pof(x, t, 0.99)
    assert result.statistic == pytest.approx(lr, rel=1e-12)
    assert result.p_value == pytest.approx(math.erfc(math.sqrt(lr / 2)), rel=1e-10)
    assert result.rejected and result.degrees_of_freedom == 1
    assert result.critical_value == pytest.approx(3.841458820694124)


def test_kupiec_reference_table(var_ref: dict[str, Any]) -> None:
    for x, row in var_ref["backtest"]["kupiec_T250_p01"].items():
        result = kupiec_pof(int(x), 250, 0.99)
        assert result.statistic == pytest.approx(row["LR"], abs=1e-6)
        assert result.p_value == pytest.approx(row["p"], abs=1e-6)
    assert kupiec_pof(0, 250, 0.99).rejected  # never breached: too conservative


def test_christoffersen_clustered_reference(var_ref: dict[str, Any]) -> None:
    ref = var_ref["backtest"][
        "christoffersen_clustered_example(T=250, hits at 100,101,102,150,151, p=0.01)"
    ]
    hits = np.zeros(250, dtype=bool)
    hits[[100, 101, 102, 150, 151]] = True
    result = christoffersen_independence(hits)
    assert (result.n00, result.n01, result.n10, result.n11) == (242, 2, 2, 3)
    assert result.test.statistic == pytest.approx(ref["LR_ind"], rel=1e-10)
    assert result.test.p_value == pytest.approx(ref["p_ind"], rel=1e-8)
    assert kupiec_pof(5, 250, 0.99).statistic == pytest.approx(ref["LR_pof"], rel=1e-10)


@pytest.mark.parametrize("level", ["95%", "99%"])
def test_rolling_backtest_reference(
    ref_returns: np.ndarray, var_ref: dict[str, Any], level: str
) -> None:
    ref = var_ref["backtest"][f"{level} rolling-250 hist(linear)"]
    result = backtest_var(ref_returns, window=250, confidence=float(level[:-1]) / 100)
    assert result.observations == ref["T"]
    assert result.breaches == ref["exceptions"]
    assert result.expected_breaches == pytest.approx(ref["expected"])
    ind = result.christoffersen
    assert (ind.n00, ind.n01, ind.n10, ind.n11) == (ref["n00"], ref["n01"], ref["n10"], ref["n11"])
    for test, key in (
        (result.kupiec, "pof"),
        (ind.test, "ind"),
        (result.conditional_coverage, "cc"),
    ):
        assert test.statistic == pytest.approx(ref[f"LR_{key}"], rel=1e-9)
        assert test.p_value == pytest.approx(ref[f"p_{key}"], rel=1e-9)
    assert result.conditional_coverage.degrees_of_freedom == 2
    assert "consistent" in result.verdict


def test_rolling_var_uses_only_the_past(ref_returns: np.ndarray) -> None:
    forecasts = rolling_var(ref_returns, window=100, confidence=0.95)
    assert forecasts.size == ref_returns.size - 100
    assert forecasts[0] == pytest.approx(-np.quantile(ref_returns[:100], 0.05))
    assert forecasts[-1] == pytest.approx(-np.quantile(ref_returns[-101:-1], 0.05))


def test_breach_indices_point_into_the_input(ref_returns: np.ndarray) -> None:
    result = backtest_var(ref_returns, window=250, confidence=0.99)
    forecasts = np.array(result.var_forecasts)
    for i in result.breach_indices:
        assert ref_returns[i] < -forecasts[i - 250]
    assert result.breach_rate == pytest.approx(result.breaches / result.observations)


@pytest.mark.parametrize("method", ["parametric", "cornish_fisher", "monte_carlo"])
def test_other_methods_backtest(ref_returns: np.ndarray, method: str) -> None:
    result = backtest_var(ref_returns, window=250, confidence=0.99, method=method, seed=1)
    assert result.observations == 750 and 0 <= result.breaches <= 750
    if method == "parametric":  # normal VaR understates a t(4) tail: more breaches
        assert result.breaches > 9


def test_monte_carlo_rolling_matches_parametric_closely(ref_returns: np.ndarray) -> None:
    param = rolling_var(ref_returns, window=250, confidence=0.99, method="parametric")
    mc = rolling_var(ref_returns, window=250, confidence=0.99, method="monte_carlo", seed=2)
    np.testing.assert_allclose(mc, param, rtol=0.02)


def test_zero_and_all_breach_edges() -> None:
    zero = kupiec_pof(0, 500, 0.95)
    full = kupiec_pof(500, 500, 0.95)
    assert math.isfinite(zero.statistic) and zero.rejected
    assert full.statistic == pytest.approx(-2 * 500 * math.log(0.05)) and full.rejected
    for hits in (np.zeros(50, bool), np.ones(50, bool), np.r_[np.zeros(49, bool), True]):
        result = christoffersen_independence(hits)
        assert result.test.statistic == 0.0 and result.test.p_value == 1.0


def test_calm_history_gives_zero_breaches_and_too_conservative_verdict() -> None:
    rng = np.random.default_rng(0)
    returns = np.r_[rng.normal(0, 0.05, 250), rng.normal(0, 0.001, 200)]
    result = backtest_var(returns, window=250, confidence=0.99)
    assert result.breaches == 0 and result.breach_indices == ()
    assert result.kupiec.rejected and "conservative" in result.verdict


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"window": 10}, "invalid_window"),
        ({"window": 1000}, "insufficient_history"),
        ({"confidence": 1.0}, "invalid_confidence"),
        ({"method": "nope"}, "invalid_method"),
    ],
)
def test_backtest_bad_input(ref_returns: np.ndarray, kwargs: dict[str, Any], code: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        backtest_var(ref_returns, **kwargs)
    assert info.value.code == code


def test_kupiec_rejects_impossible_counts() -> None:
    with pytest.raises(ValidationFailed):
        kupiec_pof(11, 10, 0.99)
