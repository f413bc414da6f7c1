"""Portfolio Value at Risk (VaR) and expected shortfall (CVaR / ES).

Conventions (QUANT_REFERENCE §1):

* Inputs are **simple** daily returns; VaR and ES are reported as **positive losses**.
* ``alpha = 1 - confidence`` is the tail probability, taken as the exact decimal complement
  of the confidence the user typed (0.95 -> 0.05, not 0.050000000000000044).
* Historical VaR uses NumPy's ``method="linear"`` quantile (Hyndman & Fan type 7, also R's
  and Excel's default, and what empyrical/vectorbt use). Historical ES is the coherent
  Acerbi-Tasche fractional estimator (equal to Rockafellar-Uryasev), so it does not jump
  when ``n*alpha`` is not an integer.
* Parametric (Gaussian) uses the sample mean and the ddof=1 standard deviation
  (quantstats' convention): ``VaR = -(mu + z*sigma)``, ``ES = -(mu - sigma*phi(z)/alpha)``.
* Cornish-Fisher uses population moments (ddof=0 sigma, biased skew and excess kurtosis),
  as PerformanceAnalytics ``VaR(method="modified")`` does; ES is Boudt, Peterson & Croux
  (2008) in closed form.
* Every reported ES is ``max(ES, VaR)`` (PerformanceAnalytics' "operational" rule): a
  Cornish-Fisher ES can fall below its VaR for large kurtosis, which would be nonsense to a
  user. The raw estimators are still available from the lower-level functions.
* Cornish-Fisher is only used inside its validity domain (QUANT_REFERENCE §1.3 pitfall 1,
  Maillard 2012): the map ``z -> z_cf`` must be strictly increasing over the loss tail,
  from far beyond the normal quantile ``z_alpha`` up to the centre ``0``. Outside it (e.g.
  skew 5, excess kurtosis 95, common for small-cap coins) the "5 % quantile" can land above
  the mean, which was reported as "no loss, band green" next to a modified ES of several
  hundred percent. ``compute_var`` then shows historical VaR/CVaR instead
  (``method_used="historical"``) and says why in ``fallback_reason`` and ``note``. Inside
  the domain the standardised CF quantile is negative at every confidence >= 90 % (the tests
  scan the domain), so a CF VaR of 0 can only come from the drift, as for the Gaussian
  method, where "no loss expected" is what the model honestly says.
* A long-only portfolio cannot lose more than its value (simple returns are >= -100 %), so
  every method's VaR and CVaR are capped at 100 % of it (see ``_cap_long_only``); a cap
  that bites is said in ``note``. Historical and Monte Carlo (which clamps each simulated
  daily return at -100 %) never need it beyond rounding; the Gaussian and Cornish-Fisher
  models put mass below -100 % when sigma is large, and the cap is where that mass would
  really end: at a worthless position.

Horizon scaling (``horizon_days = h``), never a blind square root of time:

* historical: overlapping h-day **compounded** returns of each asset (buy and hold over the
  window), then the portfolio P&L; the windows overlap, so the sample is autocorrelated
  but uses all the data (QUANT_REFERENCE §1.2: 14.76 % vs 18.0 % for √10 on the fixture).
* parametric: ``-(h*mu + z*sigma*sqrt(h))``, i.e. i.i.d. normal daily P&L with drift.
* Cornish-Fisher: i.i.d. cumulant scaling of the daily P&L: mean*h, sigma*sqrt(h),
  skew/sqrt(h), excess kurtosis/h (fat tails fade as days aggregate).
* Monte Carlo: h daily multivariate-normal asset returns are simulated and compounded
  per asset (buy and hold), then valued.

Multi-asset portfolios: holdings values ``v`` (currency) times the asset return matrix give
the portfolio P&L; parametric VaR is ``-(h*v'mu + z*sqrt(h*v'Sigma v))`` so correlation
between holdings is used, not ignored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final, Literal, NamedTuple, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from amarktai.kit.errors import ValidationFailed
from amarktai.kit.money import format_zar

VarMethod = Literal["historical", "parametric", "cornish_fisher", "monte_carlo"]
Band = Literal["green", "amber", "red"]
FloatArray = NDArray[np.float64]

VAR_METHODS: Final[tuple[str, ...]] = get_args(VarMethod)
MIN_HISTORY: Final[int] = 30
"""Below 30 observations a 95 % tail holds one or two points: too few to call a risk figure."""
DEFAULT_VAR_SIMULATIONS: Final[int] = 100_000
"""Quantile standard error at 99 % is about 0.35 % of VaR with this many draws."""
MAX_VAR_DRAWS: Final[int] = 50_000_000
"""Cap on simulations x horizon days x assets for Monte Carlo VaR (about one second of CPU)."""
_CHUNK_FLOATS: Final[int] = 1_000_000
AMBER_FROM_PCT: Final[float] = 5.0
RED_ABOVE_PCT: Final[float] = 10.0


class VarEs(NamedTuple):
    """A VaR / expected-shortfall pair as positive losses in the input's units."""

    var: float
    es: float


class Moments(NamedTuple):
    """Sample moments; both standard deviations are kept because methods differ (§1.2/§1.3)."""

    mean: float
    std: float
    std_population: float
    skew: float
    excess_kurtosis: float


@dataclass(frozen=True, slots=True)
class VarResult:
    """What the API shows: amounts in portfolio currency, percents of portfolio value.

    ``var_percent``/``cvar_percent`` are percents (3.3 means 3.3 %) of the gross portfolio
    value (sum of absolute holding values, so short positions do not shrink the base).
    """

    method: str
    confidence: float
    horizon_days: int
    portfolio_value: float
    var_amount: float
    var_percent: float
    cvar_amount: float
    cvar_percent: float
    band: Band
    sentence: str
    observations: int
    method_used: str
    """The method whose figures are shown: ``method``, or historical when it fell back."""
    note: str | None = None
    fallback_reason: str | None = None
    """Why ``method`` was not used (Cornish-Fisher outside its validity domain), else None."""
    capped: bool = False
    """True when the model's VaR or CVaR exceeded a long-only portfolio's value (capped)."""


# --------------------------------------------------------------------------- validation


def validate_confidence(confidence: float) -> float:
    """Return alpha = 1 - confidence as the exact decimal complement, after range checks."""
    try:
        value = float(confidence)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(
            "Confidence must be a number between 0 and 1.",
            code="invalid_confidence",
            details={"confidence": repr(confidence)},
        ) from exc
    if not (math.isfinite(value) and 0.0 < value < 1.0):
        raise ValidationFailed(
            "Confidence must be strictly between 0 and 1 (e.g. 0.95).",
            code="invalid_confidence",
            details={"confidence": value},
        )
    return float(Decimal(1) - Decimal(repr(value)))


def validate_horizon(horizon_days: int) -> int:
    """Horizons are whole days: a fractional day has no historical window to replay."""
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int | np.integer):
        raise ValidationFailed(
            "Horizon must be a whole number of days.",
            code="invalid_horizon",
            details={"horizon_days": repr(horizon_days)},
        )
    if horizon_days <= 0:
        raise ValidationFailed(
            "Horizon must be at least one day.",
            code="invalid_horizon",
            details={"horizon_days": int(horizon_days)},
        )
    return int(horizon_days)


def validate_method(method: str) -> VarMethod:
    if method not in VAR_METHODS:
        raise ValidationFailed(
            f"Unknown VaR method {method!r}.",
            code="invalid_method",
            details={"method": method, "allowed": list(VAR_METHODS)},
        )
    return method  # type: ignore[return-value]


def require_history(count: int, required: int = MIN_HISTORY) -> None:
    if count < required:
        raise ValidationFailed(
            f"At least {required} returns are needed; got {count}.",
            code="insufficient_history",
            details={"count": int(count), "required": int(required)},
        )


def as_return_array(returns: ArrayLike, *, ndim: int | None = None) -> FloatArray:
    """Coerce to float64 and refuse NaN/inf or returns below -100 % (impossible prices)."""
    try:
        arr = np.asarray(returns, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(
            "Returns must be numbers.", code="invalid_returns", details=None
        ) from exc
    if ndim is not None and arr.ndim != ndim:
        raise ValidationFailed(
            f"Returns must be a {ndim}-D array; got {arr.ndim}-D.",
            code="invalid_returns",
            details={"shape": list(arr.shape)},
        )
    if arr.size and not np.all(np.isfinite(arr)):
        raise ValidationFailed(
            "Returns contain NaN or infinite values.", code="invalid_returns", details=None
        )
    if arr.size and float(arr.min()) < -1.0:
        raise ValidationFailed(
            "A simple return below -100 % is impossible.",
            code="invalid_returns",
            details={"min": float(arr.min())},
        )
    return arr


def _as_values(holdings: ArrayLike | float | Decimal) -> FloatArray:
    """Holdings arrive as Decimal money from the ledger; VaR maths is float64 (PRODUCT conv.)."""
    raw = holdings if isinstance(holdings, Sequence | np.ndarray) else [holdings]
    try:
        values = np.asarray(
            [float(Decimal(str(v))) for v in np.ravel(np.asarray(raw, dtype=object))]
        )
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValidationFailed(
            "Holding values must be numbers.", code="invalid_holdings", details=None
        ) from exc
    if not np.all(np.isfinite(values)):
        raise ValidationFailed(
            "Holding values must be finite.", code="invalid_holdings", details=None
        )
    return values.astype(np.float64)


def _as_return_matrix(returns: ArrayLike, n_assets: int) -> FloatArray:
    arr = as_return_array(returns)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] != n_assets:
        raise ValidationFailed(
            "Returns must have one column per holding.",
            code="shape_mismatch",
            details={"returns_shape": list(arr.shape), "holdings": n_assets},
        )
    return arr


# --------------------------------------------------------------------------- building blocks


def sample_moments(x: ArrayLike) -> Moments:
    """Moments of a 1-D sample; a constant sample gets skew = excess kurtosis = 0."""
    arr = np.asarray(x, dtype=np.float64)
    mean = float(arr.mean())
    dev = arr - mean
    m2 = float(np.mean(dev**2))
    std1 = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
    std0 = math.sqrt(m2)
    if std0 == 0.0:
        return Moments(mean, std1, 0.0, 0.0, 0.0)
    standard = dev / std0  # standardise first: m2**1.5 underflows for tiny variances
    skew = float(np.mean(standard**3))
    exkurt = float(np.mean(standard**4)) - 3.0
    return Moments(mean, std1, std0, skew, exkurt)


def aggregate_returns(returns: ArrayLike, horizon_days: int) -> FloatArray:
    """Overlapping h-day compounded returns along axis 0 (one row per window start).

    A -100 % day (the asset went to zero) makes every window holding it -100 %: it is
    counted apart, because its log growth of -inf would turn the running sums into
    ``-inf - -inf = NaN`` for every later window.
    """
    arr = np.asarray(returns, dtype=np.float64)
    if horizon_days == 1:
        return arr.copy()
    wiped = arr <= -1.0
    log_growth = np.log1p(np.where(wiped, 0.0, arr))
    start = np.zeros((1, *arr.shape[1:]))
    csum = np.concatenate([start, np.cumsum(log_growth, axis=0)])
    wipes = np.concatenate([start, np.cumsum(wiped, axis=0)])
    window_sum = csum[horizon_days:] - csum[:-horizon_days]
    window_wiped = (wipes[horizon_days:] - wipes[:-horizon_days]) > 0
    return np.asarray(np.where(window_wiped, -1.0, np.expm1(window_sum)), dtype=np.float64)


def portfolio_returns(asset_returns: ArrayLike, weights: ArrayLike) -> FloatArray:
    """Daily portfolio simple return for constant weights (simple returns add across assets)."""
    matrix = np.atleast_2d(np.asarray(asset_returns, dtype=np.float64))
    if matrix.shape[0] == 1 and np.ndim(asset_returns) == 1:
        matrix = matrix.T
    return np.asarray(matrix @ np.asarray(weights, dtype=np.float64), dtype=np.float64)


def historical_var_es(x: ArrayLike, confidence: float) -> VarEs:
    """Type-7 (linear) quantile VaR and Acerbi-Tasche ES of returns or P&L ``x``.

    Acerbi-Tasche: ``ES = -[sum of the k worst + (n*alpha - k) * next worst] / (n*alpha)``
    with ``k = floor(n*alpha)``: the average of exactly an alpha share of the sample.
    """
    alpha = validate_confidence(confidence)
    arr = np.sort(np.asarray(x, dtype=np.float64))
    n = arr.size
    var = -float(np.quantile(arr, alpha, method="linear"))
    mass = n * alpha
    k = min(math.floor(mass), n - 1)
    tail = float(arr[:k].sum()) + (mass - k) * float(arr[k])
    return VarEs(var, -tail / mass)


def gaussian_var_es(mean: float, std: float, confidence: float) -> VarEs:
    """Closed-form normal VaR/ES: ``-(mu + z sigma)`` and ``-(mu - sigma phi(z)/alpha)``."""
    alpha = validate_confidence(confidence)
    z = float(stats.norm.ppf(alpha))
    return VarEs(-(mean + z * std), -(mean - std * float(stats.norm.pdf(z)) / alpha))


def cornish_fisher_z(alpha: float, skew: float, excess_kurtosis: float) -> float:
    """Cornish-Fisher adjusted quantile (valid where the expansion is monotone, §1.3)."""
    return float(cornish_fisher_z_array(alpha, np.asarray(skew), np.asarray(excess_kurtosis)))


def cornish_fisher_z_array(
    alpha: float, skew: FloatArray, excess_kurtosis: FloatArray
) -> FloatArray:
    """Vectorised form for rolling backtests (one quantile per window, no Python loop)."""
    z = float(stats.norm.ppf(alpha))
    s, k = skew, excess_kurtosis
    return np.asarray(
        z
        + (z**2 - 1.0) * s / 6.0
        + (z**3 - 3.0 * z) * k / 24.0
        - (2.0 * z**3 - 5.0 * z) * s**2 / 36.0,
        dtype=np.float64,
    )


def cornish_fisher_var_es(
    mean: float, std: float, skew: float, excess_kurtosis: float, confidence: float
) -> VarEs:
    """Modified VaR and raw Boudt-Peterson-Croux modified ES (may be below VaR, §1.3).

    The ES integral of ``u * f_E(u)`` up to ``g = z_cf`` is done analytically with
    ``∫ φ He_n = -φ He_(n-1)`` and ``u He_n = He_(n+1) + n He_(n-1)``, which avoids a
    quadrature per call (important inside rolling backtests).
    """
    alpha = validate_confidence(confidence)
    g = cornish_fisher_z(alpha, skew, excess_kurtosis)
    he1, he2 = g, g**2 - 1.0
    he3, he4 = g**3 - 3.0 * g, g**4 - 6.0 * g**2 + 3.0
    he6 = g**6 - 15.0 * g**4 + 45.0 * g**2 - 15.0
    bracket = (
        1.0
        + skew / 6.0 * (he3 + 3.0 * he1)
        + excess_kurtosis / 24.0 * (he4 + 4.0 * he2)
        + skew**2 / 72.0 * (he6 + 6.0 * he4)
    )
    tail_mean = -float(stats.norm.pdf(g)) / alpha * bracket
    return VarEs(-(mean + g * std), -(mean + std * tail_mean))


CF_TAIL_FLOOR_Z: Final[float] = -8.5
"""Deepest normal quantile the validity check covers: ``Phi(-8.5)`` is about 1e-17, below the
smallest tail probability a float confidence can express (``1 - nextafter(1, 0)`` is 1.1e-16,
``z`` about -8.2), so no VaR level and no tail average here ever reads the curve beyond it."""


def cornish_fisher_valid_array(
    alpha: float, skew: ArrayLike, excess_kurtosis: ArrayLike
) -> NDArray[np.bool_]:
    """Where the Cornish-Fisher expansion is a usable loss quantile at tail probability
    ``alpha``: True where ``z -> z_cf(z)`` is strictly increasing on the whole loss tail,
    from ``CF_TAIL_FLOOR_Z`` up to the centre ``0`` (or up to ``z_alpha`` if that is above 0).

    Why this interval: the VaR reads ``z_cf(z_alpha)``, which is only a quantile if the map
    keeps probabilities in order between the tail and the centre (for skew 5 and excess
    kurtosis 95 it does not, and the 95 % "quantile" lands above the mean: "no loss"); the
    CVaR averages every quantile beyond ``z_alpha``, so the far tail must not bend back
    either (a very negative skew with moderate kurtosis does that, and its modified ES then
    swings between large negative and large positive multiples of sigma). This is Maillard's
    (2012) monotonicity condition on the half of the curve a loss measure reads; his full
    domain would also refuse samples whose *upper* tail bends, which no loss figure touches.

    The slope is a quadratic in ``z``:
    ``dz_cf/dz = (K/8 - S^2/6) z^2 + (S/3) z + (1 - K/8 + 5 S^2/36)``, so its minimum over
    the interval is at an end point or at the vertex: no grid, and vectorised for the
    rolling backtest (one answer per window).
    """
    z = float(stats.norm.ppf(alpha))
    low, high = min(z, CF_TAIL_FLOOR_Z), max(z, 0.0)
    s = np.asarray(skew, dtype=np.float64)
    k = np.asarray(excess_kurtosis, dtype=np.float64)
    a = k / 8.0 - s**2 / 6.0
    b = s / 3.0
    c = 1.0 - k / 8.0 + 5.0 * s**2 / 36.0
    lowest = np.minimum(a * low**2 + b * low + c, a * high**2 + b * high + c)
    convex = a > 0.0
    safe_a = np.where(convex, a, 1.0)
    vertex = -b / (2.0 * safe_a)
    inside = convex & (vertex > low) & (vertex < high)
    lowest = np.where(inside, np.minimum(lowest, c - b**2 / (4.0 * safe_a)), lowest)
    return np.asarray(np.isfinite(lowest) & (lowest > 0.0), dtype=np.bool_)


def cornish_fisher_is_valid(confidence: float, skew: float, excess_kurtosis: float) -> bool:
    """Scalar form of :func:`cornish_fisher_valid_array` taking the user's confidence."""
    alpha = validate_confidence(confidence)
    return bool(cornish_fisher_valid_array(alpha, skew, excess_kurtosis))


def cornish_fisher_invalid_reason(
    confidence: float, skew: float, excess_kurtosis: float, horizon_days: int = 1
) -> str:
    """The sentence a user reads when Cornish-Fisher is refused (moments as the model used
    them, i.e. already scaled to the horizon)."""
    scaled = "" if horizon_days == 1 else f" (scaled to {horizon_days} days)"
    return (
        f"Cornish-Fisher is not valid for skew {skew:.3g} and excess kurtosis "
        f"{excess_kurtosis:.3g}{scaled}: its adjusted quantile does not rise steadily from "
        f"the far loss tail through the {format_confidence(confidence)} level to the centre "
        "(Maillard 2012), so its VaR and CVaR would be artefacts of the expansion, not loss "
        "estimates."
    )


def _psd_factor(cov: FloatArray) -> FloatArray:
    """A matrix L with L L' = cov; clips negative eigenvalues when Cholesky refuses (§1.4)."""
    try:
        return np.asarray(np.linalg.cholesky(cov), dtype=np.float64)
    except np.linalg.LinAlgError:
        eigval, eigvec = np.linalg.eigh(cov)
        return np.asarray(eigvec * np.sqrt(np.clip(eigval, 0.0, None)), dtype=np.float64)


def simulate_normal_pnl(
    mean: FloatArray,
    cov: FloatArray,
    values: FloatArray,
    horizon_days: int,
    simulations: int,
    rng: np.random.Generator,
) -> FloatArray:
    """Buy-and-hold P&L of ``values`` after h compounded daily normal asset returns.

    Simulations are generated in chunks so memory stays near ``_CHUNK_FLOATS`` floats
    whatever the horizon; only the P&L per scenario is kept.
    """
    n_assets = mean.size
    factor = _psd_factor(np.atleast_2d(cov))
    per_sim = horizon_days * n_assets
    chunk = max(1, _CHUNK_FLOATS // per_sim)
    out = np.empty(simulations, dtype=np.float64)
    for start in range(0, simulations, chunk):
        size = min(chunk, simulations - start)
        z = rng.standard_normal((size, horizon_days, n_assets))
        daily = mean + z @ factor.T
        with np.errstate(divide="ignore"):  # a -100 % day: log 0 = -inf, growth -1, exact
            growth = np.expm1(np.log1p(np.maximum(daily, -1.0)).sum(axis=1))
        out[start : start + size] = growth @ values
    return out


# --------------------------------------------------------------------------- top level


class _MethodRisk(NamedTuple):
    """One method's VaR/ES in currency, the scenarios behind it, and what was really used."""

    risk: VarEs
    observations: int
    method_used: VarMethod
    fallback_reason: str | None = None


def _historical(matrix: FloatArray, values: FloatArray, confidence: float, horizon: int) -> VarEs:
    windows = aggregate_returns(matrix, horizon)
    return historical_var_es(windows @ values, confidence)


def _cornish_fisher(
    matrix: FloatArray, values: FloatArray, confidence: float, horizon: int
) -> _MethodRisk:
    """Modified VaR/ES when the expansion is valid for the horizon's moments, else the
    historical figures with the reason (a refusal only when even history is too short)."""
    mom = sample_moments(matrix @ values)
    skew = mom.skew / math.sqrt(horizon)
    kurt = mom.excess_kurtosis / horizon
    if cornish_fisher_is_valid(confidence, skew, kurt):
        scaled = cornish_fisher_var_es(
            horizon * mom.mean, math.sqrt(horizon) * mom.std_population, skew, kurt, confidence
        )
        return _MethodRisk(scaled, len(matrix), "cornish_fisher")
    reason = cornish_fisher_invalid_reason(confidence, skew, kurt, horizon)
    required = MIN_HISTORY + horizon - 1
    if matrix.shape[0] < required:
        raise ValidationFailed(
            f"{reason} The historical fallback needs at least {required} returns; "
            f"got {matrix.shape[0]}.",
            code="cornish_fisher_invalid",
            details={"skew": skew, "excess_kurtosis": kurt, "required": required},
        )
    fallback = _historical(matrix, values, confidence, horizon)
    return _MethodRisk(fallback, matrix.shape[0] - horizon + 1, "historical", reason)


def _method_var_es(
    method: VarMethod,
    matrix: FloatArray,
    values: FloatArray,
    confidence: float,
    horizon: int,
    simulations: int,
    seed: int | np.random.Generator | None,
) -> _MethodRisk:
    """VaR/ES in currency for one method, plus the number of scenarios behind it."""
    if method == "historical":
        require_history(matrix.shape[0], MIN_HISTORY + horizon - 1)
        risk = _historical(matrix, values, confidence, horizon)
        return _MethodRisk(risk, matrix.shape[0] - horizon + 1, method)
    if method == "parametric":
        mu_p = float(matrix.mean(axis=0) @ values)
        cov = np.atleast_2d(np.cov(matrix, rowvar=False, ddof=1))
        sigma_p = math.sqrt(max(float(values @ cov @ values), 0.0))
        risk = gaussian_var_es(horizon * mu_p, math.sqrt(horizon) * sigma_p, confidence)
        return _MethodRisk(risk, len(matrix), method)
    if method == "cornish_fisher":
        return _cornish_fisher(matrix, values, confidence, horizon)
    _check_simulations(simulations, horizon * matrix.shape[1])
    rng = np.random.default_rng(seed)
    cov = np.atleast_2d(np.cov(matrix, rowvar=False, ddof=1))
    pnl = simulate_normal_pnl(matrix.mean(axis=0), cov, values, horizon, simulations, rng)
    return _MethodRisk(historical_var_es(pnl, confidence), simulations, method)


def _check_simulations(simulations: int, draws_per_simulation: int) -> None:
    if simulations < 1 or simulations * draws_per_simulation > MAX_VAR_DRAWS:
        raise ValidationFailed(
            "Monte Carlo VaR simulation count is out of range.",
            code="too_many_simulations",
            details={
                "simulations": int(simulations),
                "max_simulations": MAX_VAR_DRAWS // draws_per_simulation,
            },
        )


def classify_band(var_percent: float) -> Band:
    """Colour band from PRODUCT §6: green < 5 %, amber 5-10 %, red > 10 %."""
    if var_percent < AMBER_FROM_PCT:
        return "green"
    if var_percent <= RED_ABOVE_PCT:
        return "amber"
    return "red"


def format_confidence(confidence: float) -> str:
    """``0.95 -> '95%'``, ``0.975 -> '97.5%'``: no float noise in a sentence for users."""
    text = f"{confidence * 100:.4f}".rstrip("0").rstrip(".")
    return f"{text}%"


def plain_sentence(confidence: float, amount: float, horizon_days: int) -> str:
    period = "the next day" if horizon_days == 1 else f"the next {horizon_days} days"
    money = format_zar(Decimal(repr(float(amount))))
    return (
        f"With {format_confidence(confidence)} confidence, you should not lose more than "
        f"{money} over {period}."
    )


_CAP_TOLERANCE: Final[float] = 1e-9
"""Relative excess over the portfolio value that counts as rounding, not as a capped model."""


def _cap_long_only(risk: VarEs, value: float, method: str) -> tuple[VarEs, str | None]:
    """Cap VaR and ES of a long-only portfolio at its value, with a note when it bites.

    A long position's simple return is never below -100 %, so a loss above the position's
    value is impossible, whatever a fitted Gaussian or Cornish-Fisher tail says. Capping is
    exactly what censoring the model at -100 % does to the VaR (the quantile of
    ``max(R, -1)`` is ``max(q, -1)``). For the ES it is the conservative choice: the ES of
    the censored model is at most 100 % and at most the model's ES, so ``min(ES, 100 %)`` is
    an upper bound that needs no method-specific integral. The note is the honest part: a
    model that needs the cap is telling the user its tail is unreliable for this series.
    Historical and Monte Carlo figures stay within the value by construction; the cap only
    removes float rounding there, silently.
    """
    var, es = min(risk.var, value), min(risk.es, value)
    limit = value * (1.0 + _CAP_TOLERANCE)
    if risk.var <= limit and risk.es <= limit:
        return VarEs(var, es), None
    over = [
        f"{name} {100.0 * (amount / value):,.2f} %"
        for name, amount in (("VaR", risk.var), ("CVaR", risk.es))
        if amount > limit
    ]
    note = (
        f"The {method.replace('_', '-')} model implies a loss above the portfolio's value "
        f"({', '.join(over)}), which a long-only portfolio cannot suffer: capped at 100 %."
    )
    return VarEs(var, es), note


def _result(
    method: str,
    confidence: float,
    horizon: int,
    gross: float,
    risk: VarEs,
    observations: int,
    note: str | None,
    *,
    method_used: str | None = None,
    fallback_reason: str | None = None,
    capped: bool = False,
) -> VarResult:
    var_amount = max(risk.var, 0.0)
    cvar_amount = max(risk.es, var_amount)
    # 100 * (a / g), not 100 * a / g: a loss of exactly the value is then exactly 100 %
    var_pct = 100.0 * (var_amount / gross) if gross > 0 else 0.0
    cvar_pct = 100.0 * (cvar_amount / gross) if gross > 0 else 0.0
    return VarResult(
        method=method,
        confidence=float(confidence),
        horizon_days=horizon,
        portfolio_value=gross,
        var_amount=var_amount,
        var_percent=var_pct,
        cvar_amount=cvar_amount,
        cvar_percent=cvar_pct,
        band=classify_band(var_pct),
        sentence=plain_sentence(confidence, var_amount, horizon),
        observations=observations,
        method_used=method_used or method,
        note=note,
        fallback_reason=fallback_reason,
        capped=capped,
    )


def compute_var(
    returns: ArrayLike,
    holdings: ArrayLike | float | Decimal,
    *,
    method: VarMethod | str = "historical",
    confidence: float = 0.95,
    horizon_days: int = 1,
    simulations: int = DEFAULT_VAR_SIMULATIONS,
    seed: int | np.random.Generator | None = None,
) -> VarResult:
    """Portfolio VaR and CVaR in currency and as a share of the portfolio.

    ``returns``: simple daily returns, shape (T,) for one asset or (T, k) for k assets in
    the same column order as ``holdings`` (current value of each holding, e.g. ZAR; a
    scalar for one asset). Rows must be aligned dates. An empty or all-zero portfolio
    returns a zero result with a note instead of an error: there is simply nothing at risk.

    Cornish-Fisher outside its validity domain falls back to historical (``method_used``,
    ``fallback_reason``); a long-only portfolio's VaR and CVaR never exceed its value
    (``capped``). Every such event is also said in ``note``, the text the UI shows.
    """
    validate_confidence(confidence)
    horizon = validate_horizon(horizon_days)
    checked = validate_method(str(method))
    values = _as_values(holdings)
    gross = float(np.abs(values).sum())
    if values.size == 0 or gross == 0.0:
        return _result(
            checked,
            confidence,
            horizon,
            0.0,
            VarEs(0.0, 0.0),
            0,
            "Portfolio is empty: nothing is at risk.",
        )
    matrix = _as_return_matrix(returns, values.size)
    require_history(matrix.shape[0])
    outcome = _method_var_es(checked, matrix, values, confidence, horizon, simulations, seed)
    notes: list[str] = []
    if outcome.fallback_reason:
        notes.append(f"{outcome.fallback_reason} Historical VaR and CVaR are shown instead.")
    risk, cap_note = outcome.risk, None
    if bool(np.all(values >= 0.0)):  # shorts can lose more than the gross value
        risk, cap_note = _cap_long_only(risk, gross, outcome.method_used)
    if cap_note:
        notes.append(cap_note)
    if risk.var <= 0:
        notes.append("No loss is expected at this confidence level.")
    return _result(
        checked,
        confidence,
        horizon,
        gross,
        risk,
        outcome.observations,
        " ".join(notes) or None,
        method_used=outcome.method_used,
        fallback_reason=outcome.fallback_reason,
        capped=cap_note is not None,
    )
