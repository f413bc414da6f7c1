"""VaR backtesting: is the VaR the user sees honest? (QUANT_REFERENCE §1.5)

The VaR for day t is forecast from the ``window`` returns strictly before t, so no
look-ahead; a breach ("hit") is ``r_t < -VaR_t``. Kupiec's proportion-of-failures test
checks the breach count, Christoffersen's test checks that breaches do not cluster, and
their sum is the conditional-coverage test. ``0·ln 0`` is taken as 0 (``scipy.special.xlogy``)
so zero-breach and all-breach histories give finite statistics (x = 0 *does* reject at
T = 250, 99 %: a VaR that is never breached is too conservative).

Kupiec uses all T forecast days; Christoffersen uses the T-1 transitions between them,
the convention most code follows (the exact joint LR would use T-1 in both).

The forecasts are the figures ``var.compute_var`` would have shown on each day, so the test
is of what the user sees: a Cornish-Fisher window outside the expansion's validity domain
falls back to that window's historical VaR (counted in ``fallback_forecasts``, said in
``note``), and every forecast lies in [0, 1]: a VaR is shown floored at zero ("no loss
expected", breached by any loss), and a series of simple returns (>= -100 %) cannot lose
more than everything. Before this, an invalid expansion kept negative forecasts (the
"quantile" above zero), so small gains counted as breaches of a VaR nobody was shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats
from scipy.special import xlogy

from amarktai.kit.errors import ValidationFailed
from amarktai.risk.var import (
    MIN_HISTORY,
    FloatArray,
    VarMethod,
    as_return_array,
    cornish_fisher_valid_array,
    cornish_fisher_z_array,
    format_confidence,
    require_history,
    validate_confidence,
    validate_method,
)

DEFAULT_WINDOW: Final[int] = 250
ROLLING_MC_SIMULATIONS: Final[int] = 100_000
_CHUNK_FLOATS: Final[int] = 2_000_000
_SIGNIFICANCE: Final[float] = 0.05


@dataclass(frozen=True, slots=True)
class LikelihoodRatioTest:
    """A chi-squared likelihood-ratio test; rejection means "the VaR is not honest"."""

    statistic: float
    p_value: float
    degrees_of_freedom: int
    critical_value: float
    rejected: bool


@dataclass(frozen=True, slots=True)
class IndependenceTest:
    """Christoffersen's test with its transition counts (n_ij: state i at t-1, j at t)."""

    n00: int
    n01: int
    n10: int
    n11: int
    test: LikelihoodRatioTest


@dataclass(frozen=True, slots=True)
class VarBacktestResult:
    """Rolling VaR backtest; ``breach_indices`` index the input ``returns`` array."""

    method: str
    confidence: float
    window: int
    observations: int
    breaches: int
    breach_rate: float
    expected_breaches: float
    breach_indices: tuple[int, ...]
    var_forecasts: tuple[float, ...]
    kupiec: LikelihoodRatioTest
    christoffersen: IndependenceTest
    conditional_coverage: LikelihoodRatioTest
    verdict: str
    fallback_forecasts: int = 0
    """Forecasts where Cornish-Fisher was invalid and the window's historical VaR was used."""
    note: str | None = None


class RollingForecasts(NamedTuple):
    """One-day VaR forecasts in [0, 1] and, per forecast, whether it fell back to historical."""

    var: FloatArray
    fell_back: NDArray[np.bool_]


def _lr_test(statistic: float, dof: int) -> LikelihoodRatioTest:
    stat = float(statistic) if statistic > 0 else 0.0  # rounding can leave -1e-15 (or -0.0)
    critical = float(stats.chi2.ppf(1.0 - _SIGNIFICANCE, dof))
    p_value = float(stats.chi2.sf(stat, dof))
    return LikelihoodRatioTest(stat, p_value, dof, critical, p_value < _SIGNIFICANCE)


def kupiec_pof(breaches: int, observations: int, confidence: float) -> LikelihoodRatioTest:
    """Kupiec (1995) LR_pof ~ chi2(1) for ``breaches`` hits in ``observations`` days."""
    if observations <= 0 or not 0 <= breaches <= observations:
        raise ValidationFailed(
            "Breaches must lie between 0 and the number of observations.",
            code="invalid_backtest_counts",
            details={"breaches": int(breaches), "observations": int(observations)},
        )
    p = validate_confidence(confidence)
    x, t = float(breaches), float(observations)
    null = xlogy(t - x, 1.0 - p) + xlogy(x, p)
    observed = xlogy(t - x, 1.0 - x / t) + xlogy(x, x / t)
    return _lr_test(-2.0 * (null - observed), 1)


def _safe_ratio(num: float, den: float) -> float:
    return num / den if den > 0 else 0.0


def christoffersen_independence(hits: ArrayLike) -> IndependenceTest:
    """Christoffersen (1998) LR_ind ~ chi2(1) from the 0/1 breach sequence."""
    seq = np.asarray(hits, dtype=bool)
    prev, curr = seq[:-1], seq[1:]
    n00 = int(np.sum(~prev & ~curr))
    n01 = int(np.sum(~prev & curr))
    n10 = int(np.sum(prev & ~curr))
    n11 = int(np.sum(prev & curr))
    pi0 = _safe_ratio(n01, n00 + n01)
    pi1 = _safe_ratio(n11, n10 + n11)
    pi = _safe_ratio(n01 + n11, n00 + n01 + n10 + n11)
    restricted = xlogy(n00 + n10, 1.0 - pi) + xlogy(n01 + n11, pi)
    unrestricted = xlogy(n00, 1.0 - pi0) + xlogy(n01, pi0) + xlogy(n10, 1.0 - pi1) + xlogy(n11, pi1)
    return IndependenceTest(n00, n01, n10, n11, _lr_test(-2.0 * (restricted - unrestricted), 1))


Reducer = Callable[[FloatArray], tuple[FloatArray, NDArray[np.bool_]]]


def _rolling_windows(returns: FloatArray, window: int, reducer: Reducer) -> RollingForecasts:
    """Apply ``reducer`` (row-wise over windows) in chunks, so memory is bounded for long
    histories: a naive window matrix is (T - window) x window floats."""
    views = np.lib.stride_tricks.sliding_window_view(returns[:-1], window)
    chunk = max(1, _CHUNK_FLOATS // window)
    parts = [reducer(views[i : i + chunk]) for i in range(0, views.shape[0], chunk)]
    var = np.concatenate([p[0] for p in parts])
    fell_back = np.concatenate([p[1] for p in parts])
    return RollingForecasts(np.clip(var, 0.0, 1.0), fell_back)


def _row_moments(block: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    mean = block.mean(axis=1)
    dev = block - mean[:, None]
    std = np.sqrt(np.mean(dev**2, axis=1))
    flat = std == 0.0
    standard = dev / np.where(flat, 1.0, std)[:, None]
    skew = np.where(flat, 0.0, np.mean(standard**3, axis=1))
    kurt = np.where(flat, 0.0, np.mean(standard**4, axis=1) - 3.0)
    return mean, std, skew, kurt


def _none_fell_back(forecast: Callable[[FloatArray], FloatArray]) -> Reducer:
    def reducer(block: FloatArray) -> tuple[FloatArray, NDArray[np.bool_]]:
        return np.asarray(forecast(block), dtype=np.float64), np.zeros(len(block), np.bool_)

    return reducer


def _var_reducer(
    method: VarMethod, alpha: float, seed: int | np.random.Generator | None
) -> Reducer:
    """Row-wise one-day VaR for each method, matching ``var.compute_var`` conventions.

    Monte Carlo uses common random numbers: one set of standard-normal draws shared by all
    windows, so ``VaR_t = -(mu_t + sigma_t * q_alpha(Z))``. For a one-day normal model this
    equals simulating each window separately, at a fraction of the cost.

    Cornish-Fisher checks each window's (skew, excess kurtosis) against the validity domain
    and uses the historical quantile of the windows that fail, as ``compute_var`` does.
    """
    if method == "historical":
        return _none_fell_back(lambda b: -np.quantile(b, alpha, axis=1, method="linear"))
    if method == "parametric":
        z = float(stats.norm.ppf(alpha))
        return _none_fell_back(lambda b: -(b.mean(axis=1) + z * b.std(axis=1, ddof=1)))
    if method == "cornish_fisher":

        def cf(block: FloatArray) -> tuple[FloatArray, NDArray[np.bool_]]:
            mean, std, skew, kurt = _row_moments(block)
            z_cf = cornish_fisher_z_array(alpha, skew, kurt)
            var = np.asarray(-(mean + z_cf * std), dtype=np.float64)
            invalid = ~cornish_fisher_valid_array(alpha, skew, kurt)
            if invalid.any():
                var[invalid] = -np.quantile(block[invalid], alpha, axis=1, method="linear")
            return var, invalid

        return cf
    draws = np.random.default_rng(seed).standard_normal(ROLLING_MC_SIMULATIONS)
    z_mc = float(np.quantile(draws, alpha, method="linear"))
    return _none_fell_back(lambda b: -(b.mean(axis=1) + z_mc * b.std(axis=1, ddof=1)))


def rolling_var(
    returns: ArrayLike,
    *,
    window: int = DEFAULT_WINDOW,
    confidence: float = 0.95,
    method: VarMethod | str = "historical",
    seed: int | np.random.Generator | None = None,
) -> FloatArray:
    """One-day VaR forecasts (loss fractions in [0, 1]) for days ``window .. T-1``."""
    return rolling_forecasts(
        returns, window=window, confidence=confidence, method=method, seed=seed
    ).var


def rolling_forecasts(
    returns: ArrayLike,
    *,
    window: int = DEFAULT_WINDOW,
    confidence: float = 0.95,
    method: VarMethod | str = "historical",
    seed: int | np.random.Generator | None = None,
) -> RollingForecasts:
    """``rolling_var`` plus which forecasts fell back from Cornish-Fisher to historical."""
    alpha = validate_confidence(confidence)
    checked = validate_method(str(method))
    arr = as_return_array(returns, ndim=1)
    _validate_window(window, arr.size)
    return _rolling_windows(arr, window, _var_reducer(checked, alpha, seed))


def _validate_window(window: int, count: int) -> None:
    if isinstance(window, bool) or not isinstance(window, int) or window < MIN_HISTORY:
        raise ValidationFailed(
            f"The rolling window must be a whole number of at least {MIN_HISTORY} days.",
            code="invalid_window",
            details={"window": repr(window)},
        )
    require_history(count, window + 1)


def _describe(
    breaches: int,
    expected: float,
    kupiec: LikelihoodRatioTest,
    independence: LikelihoodRatioTest,
) -> str:
    """One plain sentence for the dashboard; the tests' p-values back it up."""
    head = f"{breaches} breaches against {expected:.1f} expected"
    if kupiec.rejected and breaches > expected:
        return f"{head}: the VaR understates risk (Kupiec p = {kupiec.p_value:.3f})."
    if kupiec.rejected:
        return f"{head}: the VaR is too conservative (Kupiec p = {kupiec.p_value:.3f})."
    if independence.rejected:
        return f"{head}: breaches cluster in time (Christoffersen p = {independence.p_value:.3f})."
    return f"{head}: consistent with an honest VaR (Kupiec p = {kupiec.p_value:.3f})."


def backtest_var(
    returns: ArrayLike,
    *,
    window: int = DEFAULT_WINDOW,
    confidence: float = 0.95,
    method: VarMethod | str = "historical",
    seed: int | np.random.Generator | None = None,
) -> VarBacktestResult:
    """Rolling one-day VaR over ``returns`` (portfolio simple returns) with coverage tests."""
    arr = as_return_array(returns, ndim=1)
    rolled = rolling_forecasts(arr, window=window, confidence=confidence, method=method, seed=seed)
    forecasts = rolled.var
    realised = arr[window:]
    hits = realised < -forecasts
    count, total = int(hits.sum()), int(hits.size)
    alpha = validate_confidence(confidence)
    kupiec = kupiec_pof(count, total, confidence)
    independence = christoffersen_independence(hits)
    cc = _lr_test(kupiec.statistic + independence.test.statistic, 2)
    expected = alpha * total
    return VarBacktestResult(
        method=str(method),
        confidence=float(confidence),
        window=window,
        observations=total,
        breaches=count,
        breach_rate=count / total,
        expected_breaches=expected,
        breach_indices=tuple(int(i) + window for i in np.flatnonzero(hits)),
        var_forecasts=tuple(float(v) for v in forecasts),
        kupiec=kupiec,
        christoffersen=independence,
        conditional_coverage=cc,
        verdict=_describe(count, expected, kupiec, independence.test),
        fallback_forecasts=int(rolled.fell_back.sum()),
        note=_fallback_note(int(rolled.fell_back.sum()), total, confidence),
    )


def _fallback_note(fell_back: int, total: int, confidence: float) -> str | None:
    if fell_back == 0:
        return None
    return (
        f"Cornish-Fisher was outside its validity domain (its adjusted quantile does not "
        f"rise steadily through the {format_confidence(confidence)} loss tail) in "
        f"{fell_back} of {total} windows; those days use the window's historical VaR."
    )
