"""Performance analytics from an equity curve and closed trades (NumPy float64).

Conventions, chosen to agree with empyrical where both define a number:

- Returns are simple period returns of the equity curve, ``e[i]/e[i-1] − 1``.
- Periods per year are inferred from the *median* timestamp spacing against a
  365-day year (crypto trades every day): daily bars → 365, hourly → 8,760, 1-minute →
  525,600. The median ignores the odd gap (exchange outage) that a mean would smear in.
  Pass ``periods_per_year`` to override.
- CAGR uses elapsed calendar time, ``(t_last − t_first) / 365 days``; on a gapless
  curve this is empyrical's ``len(returns) / periods_per_year``.
- Volatility and Sharpe use the sample deviation (ddof=1); Sortino uses the downside
  deviation ``sqrt(mean(min(r, 0)²))`` over all periods, with a 0 target and no
  risk-free rate. Calmar = CAGR / |max drawdown|.
- Max drawdown is the worst fall from a running peak (a negative fraction), measured
  from the first point of the curve; its peak, trough and recovery times are reported.
- Trades: a win is pnl > 0 (break-even trades count in the total but not as wins);
  profit factor = gross profit / gross loss; expectancy = mean pnl per trade.

Undefined numbers are None, never NaN or inf, so ``to_dict()`` is valid JSON: e.g.
Sharpe of a flat curve (zero volatility), Sortino without a losing period, Calmar
without a drawdown, profit factor without a losing trade, anything from fewer than two
equity points.

Annualised figures need a minimum history, or they are None with the reason in
``unavailable``. A bot 55 seconds old with a 0.019 % loss once showed CAGR −100 %,
Sharpe −498 and Calmar −4,107: the numbers were computed correctly and meant nothing.
Volatility, Sharpe and Sortino scale a per-period figure by √(periods per year), so
they need ``MIN_PERIODS`` returns spread over at least ``MIN_DAYS_RISK`` days; CAGR and
Calmar compound the total return to a year, so they need ``MIN_DAYS_GROWTH`` days (a
week of history already extrapolates 52-fold). Callers may pass lower floors (0
disables them), e.g. to compare with a library that has none.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from amarktai.kit.errors import ValidationFailed

FloatArray = npt.NDArray[np.float64]
SECONDS_PER_YEAR = 365 * 86_400
MIN_PERIODS = 30
MIN_DAYS_RISK = 1.0
MIN_DAYS_GROWTH = 7.0
RISK_FIGURES = ("volatility", "sharpe", "sortino")
GROWTH_FIGURES = ("cagr", "calmar")


@dataclasses.dataclass(frozen=True, slots=True)
class Drawdown:
    depth: float | None
    peak_at: datetime | None
    trough_at: datetime | None
    recovered_at: datetime | None


@dataclasses.dataclass(frozen=True, slots=True)
class TradeStats:
    n_trades: int
    win_rate: float | None
    profit_factor: float | None
    expectancy: float | None
    avg_win: float | None
    avg_loss: float | None


@dataclasses.dataclass(frozen=True, slots=True)
class PerformanceMetrics:
    start: datetime | None
    end: datetime | None
    periods_per_year: float | None
    total_return: float | None
    cagr: float | None
    volatility: float | None
    sharpe: float | None
    sortino: float | None
    calmar: float | None
    max_drawdown: Drawdown
    exposure: float | None
    trades: TradeStats
    unavailable: dict[str, str] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Flat JSON-friendly mapping: floats or None, datetimes as ISO-8601 strings."""
        flat: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Drawdown):
                flat["max_drawdown"] = value.depth
                flat["max_drawdown_peak_at"] = _iso(value.peak_at)
                flat["max_drawdown_trough_at"] = _iso(value.trough_at)
                flat["max_drawdown_recovered_at"] = _iso(value.recovered_at)
            elif isinstance(value, TradeStats):
                flat.update(dataclasses.asdict(value))
            elif isinstance(value, dict):
                flat[f.name] = dict(value)
            elif isinstance(value, datetime):
                flat[f.name] = _iso(value)
            else:
                flat[f.name] = value
        return flat


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _ratio(num: float, den: float) -> float | None:
    return _finite(num / den) if den > 0 else None


def _to_datetime(stamp: np.datetime64) -> datetime:
    ns = int(stamp.astype("datetime64[ns]").astype(np.int64))
    return datetime.fromtimestamp(ns // 1_000_000_000, tz=UTC).replace(
        microsecond=(ns // 1000) % 1_000_000
    )


# ------------------------------------------------------------------------ public API


def infer_periods_per_year(timestamps: npt.ArrayLike) -> float | None:
    """365-day year over the median spacing; None with fewer than two distinct times."""
    stamps = np.asarray(timestamps, dtype="datetime64[ns]")
    if len(stamps) < 2:
        return None
    spacing = float(np.median(np.diff(stamps).astype(np.int64))) / 1e9
    return SECONDS_PER_YEAR / spacing if spacing > 0 else None


def simple_returns(equity: npt.ArrayLike) -> FloatArray:
    e = np.asarray(equity, dtype=np.float64)
    return e[1:] / e[:-1] - 1.0


def sharpe_ratio(returns: FloatArray, periods_per_year: float) -> float | None:
    if len(returns) < 2:
        return None
    std = float(np.std(returns, ddof=1))
    return _ratio(float(np.mean(returns)) * math.sqrt(periods_per_year), std)


def sortino_ratio(returns: FloatArray, periods_per_year: float) -> float | None:
    if len(returns) == 0:
        return None
    downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2)))
    return _ratio(float(np.mean(returns)) * math.sqrt(periods_per_year), downside)


def max_drawdown(times: npt.NDArray[np.datetime64], equity: FloatArray) -> Drawdown:
    """Deepest peak-to-trough fall, the peak before it and the first recovery after it."""
    if len(equity) == 0:
        return Drawdown(None, None, None, None)
    peaks = np.maximum.accumulate(equity)
    dd = equity / peaks - 1.0
    trough = int(np.argmin(dd))
    depth = float(dd[trough])
    if depth >= 0.0:
        return Drawdown(0.0, None, None, None)
    peak = int(np.argmax(equity[: trough + 1]))
    after = np.flatnonzero(equity[trough:] >= equity[peak])
    recovered = _to_datetime(times[trough + int(after[0])]) if after.size else None
    return Drawdown(depth, _to_datetime(times[peak]), _to_datetime(times[trough]), recovered)


def trade_stats(pnl: npt.ArrayLike) -> TradeStats:
    p = np.asarray(pnl, dtype=np.float64)
    if p.size == 0:
        return TradeStats(0, None, None, None, None, None)
    wins, losses = p[p > 0], p[p < 0]
    gross_loss = float(-losses.sum())
    return TradeStats(
        n_trades=int(p.size),
        win_rate=float(wins.size / p.size),
        profit_factor=_ratio(float(wins.sum()), gross_loss),
        expectancy=float(p.mean()),
        avg_win=float(wins.mean()) if wins.size else None,
        avg_loss=float(losses.mean()) if losses.size else None,
    )


def compute_metrics(
    timestamps: npt.ArrayLike,
    equity: npt.ArrayLike,
    trade_pnl: npt.ArrayLike = (),
    *,
    in_market: npt.ArrayLike | None = None,
    periods_per_year: float | None = None,
    min_periods: int = MIN_PERIODS,
    min_days_risk: float = MIN_DAYS_RISK,
    min_days_growth: float = MIN_DAYS_GROWTH,
) -> PerformanceMetrics:
    """All metrics for one equity curve.

    ``timestamps`` are datetime64 (UTC) ascending; ``equity`` the marked-to-market value
    at each; ``trade_pnl`` the net pnl of each closed trade (a closed round trip);
    ``in_market`` an optional boolean per point (position held over the period ending
    there), giving exposure. The ``min_*`` floors are explained in the module docstring.
    """
    times, values = _validated_curve(timestamps, equity)
    ppy = periods_per_year if periods_per_year is not None else infer_periods_per_year(times)
    trades = trade_stats(trade_pnl)
    exposure = _exposure(in_market, len(values))
    if len(values) < 2 or ppy is None:
        start = _to_datetime(times[0]) if len(times) else None
        return PerformanceMetrics(
            start, start, ppy, None, None, None, None, None, None,
            max_drawdown(times, values), exposure, trades,
        )  # fmt: skip
    returns = simple_returns(values)
    total = float(values[-1] / values[0] - 1.0)
    cagr = _cagr(total, times)
    dd = max_drawdown(times, values)
    calmar = _ratio(cagr, -dd.depth) if cagr is not None and dd.depth is not None else None
    metrics = PerformanceMetrics(
        start=_to_datetime(times[0]),
        end=_to_datetime(times[-1]),
        periods_per_year=ppy,
        total_return=total,
        cagr=cagr,
        volatility=_finite(float(np.std(returns, ddof=1)) * math.sqrt(ppy)),
        sharpe=sharpe_ratio(returns, ppy),
        sortino=sortino_ratio(returns, ppy),
        calmar=calmar,
        max_drawdown=dd,
        exposure=exposure,
        trades=trades,
    )
    return _with_history_floors(metrics, len(returns), min_periods, min_days_risk, min_days_growth)


def _with_history_floors(
    metrics: PerformanceMetrics,
    periods: int,
    min_periods: int,
    min_days_risk: float,
    min_days_growth: float,
) -> PerformanceMetrics:
    """Annualised figures set to None, with the reason, where the history is too short."""
    assert metrics.start is not None and metrics.end is not None
    days = (metrics.end - metrics.start).total_seconds() / 86_400
    span = _describe_span(days)
    unavailable: dict[str, str] = {}
    if periods < min_periods or days < min_days_risk:
        why = (
            f"not enough history: {periods} periods over {span}; annualised risk figures "
            f"need {min_periods} periods over {_describe_span(min_days_risk)}"
        )
        unavailable.update(dict.fromkeys(RISK_FIGURES, why))
    if days < min_days_growth:
        why = (
            f"not enough history: {span}; compounding to a year needs "
            f"{_describe_span(min_days_growth)}"
        )
        unavailable.update(dict.fromkeys(GROWTH_FIGURES, why))
    if not unavailable:
        return metrics
    cleared: dict[str, Any] = dict.fromkeys(unavailable)
    return dataclasses.replace(metrics, **cleared, unavailable=unavailable)


def _describe_span(days: float) -> str:
    seconds = days * 86_400
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if days < 2:
        return f"{seconds / 3600:.0f} h"
    return f"{days:.0f} days" if days != 1 else "1 day"


# --------------------------------------------------------------------------- helpers


def _validated_curve(
    timestamps: npt.ArrayLike, equity: npt.ArrayLike
) -> tuple[npt.NDArray[np.datetime64], FloatArray]:
    times = np.asarray(timestamps, dtype="datetime64[ns]")
    values = np.asarray(equity, dtype=np.float64)
    if times.ndim != 1 or values.ndim != 1 or len(times) != len(values):
        raise ValidationFailed(
            "timestamps and equity must be 1-D and equally long", code="invalid_series"
        )
    if len(values) and (not np.all(np.isfinite(values)) or np.any(values <= 0)):
        raise ValidationFailed("equity must be finite and positive", code="invalid_series")
    if len(times) > 1 and np.any(np.diff(times).astype(np.int64) <= 0):
        raise ValidationFailed("timestamps must be strictly increasing", code="invalid_series")
    return times, values


def _cagr(total_return: float, times: npt.NDArray[np.datetime64]) -> float | None:
    years = float((times[-1] - times[0]).astype("timedelta64[ns]").astype(np.int64)) / 1e9
    years /= SECONDS_PER_YEAR
    if years <= 0:
        return None
    return _finite((1.0 + total_return) ** (1.0 / years) - 1.0)


def _exposure(in_market: npt.ArrayLike | None, length: int) -> float | None:
    """Share of periods with a position; the first point opens the curve, not a period."""
    if in_market is None:
        return None
    flags = np.asarray(in_market, dtype=bool)
    if flags.shape != (length,):
        raise ValidationFailed("in_market must match the equity curve", code="invalid_series")
    periods = flags[1:] if length > 1 else flags
    return float(periods.mean()) if periods.size else None
