"""Position sizing: fixed fraction and capped fractional Kelly (QUANT_REFERENCE §1.9).

Sizes in money are ``Decimal`` (they become orders); Kelly fractions are plain floats
(statistics). Kelly from trade statistics is shrunk when the sample is small: the win
rate is pulled toward the break-even rate ``1/(1+b)`` (where Kelly is zero) with
``prior_trades`` pseudo-trades, i.e. ``p' = (n·p + n0·p_be)/(n + n0)``. With 10 trades
and n0 = 30 only a quarter of the observed edge survives; with 300 trades, 91 %. Then the
fraction ``c`` (half Kelly by default: 75 % of the growth at half the volatility) is
applied and the result is capped, because μ estimation error makes full Kelly over-bet.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from amarktai.kit.errors import ValidationFailed
from amarktai.kit.money import to_decimal

DEFAULT_KELLY_FRACTION: Final[float] = 0.5
DEFAULT_MAX_FRACTION: Final[float] = 0.25
DEFAULT_PRIOR_TRADES: Final[int] = 30


@dataclass(frozen=True, slots=True)
class TradeStats:
    trades: int
    win_rate: float
    avg_win: float
    avg_loss: float

    @property
    def payoff_ratio(self) -> float:
        """b = average win / average loss (both positive)."""
        return self.avg_win / self.avg_loss if self.avg_loss > 0 else math.inf


@dataclass(frozen=True, slots=True)
class KellySizing:
    """``fraction`` is what to stake (share of equity); the others explain how it came about."""

    full_kelly: float
    shrunk_kelly: float
    shrunk_win_rate: float
    fraction: float
    capped: bool
    reason: str


def _check_fraction(name: str, value: float, *, upper: float = 1.0) -> float:
    if not (math.isfinite(value) and 0.0 < value <= upper):
        raise ValidationFailed(
            f"{name} must be in (0, {upper:g}].", code="invalid_sizing", details={name: value}
        )
    return float(value)


def fixed_fraction_notional(equity: Decimal | float, fraction: float) -> Decimal:
    """Stake a fixed share of equity: notional = equity × fraction."""
    _check_fraction("fraction", fraction)
    return to_decimal(equity) * to_decimal(fraction)


def fixed_fraction_quantity(
    equity: Decimal | float,
    risk_fraction: float,
    entry_price: Decimal | float,
    stop_price: Decimal | float,
) -> Decimal:
    """Quantity whose loss at the stop is ``risk_fraction`` of equity (fixed-fractional risk).

    The caller quantizes to the exchange's step with ``kit.money.quantize_down``.
    """
    _check_fraction("risk_fraction", risk_fraction)
    entry, stop = to_decimal(entry_price), to_decimal(stop_price)
    if entry <= 0 or stop <= 0 or entry == stop:
        raise ValidationFailed(
            "Entry and stop must be positive and different.",
            code="invalid_sizing",
            details={"entry_price": str(entry), "stop_price": str(stop)},
        )
    return to_decimal(equity) * to_decimal(risk_fraction) / abs(entry - stop)


def kelly_binary(win_rate: float, payoff_ratio: float) -> float:
    """f* = p - (1-p)/b for a bet winning b per unit staked with probability p."""
    if not (0.0 <= win_rate <= 1.0) or not payoff_ratio > 0:
        raise ValidationFailed(
            "Win rate must be in [0, 1] and payoff ratio positive.", code="invalid_sizing"
        )
    return win_rate - (1.0 - win_rate) / payoff_ratio


def kelly_continuous(mu: float, sigma: float, risk_free: float = 0.0) -> float:
    """f* = (μ - r)/σ² with the *arithmetic* mean return μ, in the same units as σ²."""
    if not sigma > 0:
        raise ValidationFailed("Volatility must be positive.", code="invalid_sizing")
    return (mu - risk_free) / sigma**2


def kelly_growth_rate(fraction: float, mu: float, sigma: float, risk_free: float = 0.0) -> float:
    """g(f) = r + f(μ - r) - f²σ²/2: lets the UI show what over-betting costs."""
    return risk_free + fraction * (mu - risk_free) - 0.5 * fraction**2 * sigma**2


def kelly_multi_asset(
    mu: ArrayLike, covariance: ArrayLike, risk_free: float = 0.0
) -> NDArray[np.float64]:
    """f* = Σ⁻¹(μ - r), solved rather than inverted for numerical stability."""
    excess = np.asarray(mu, dtype=np.float64) - risk_free
    return np.asarray(np.linalg.solve(np.asarray(covariance, dtype=np.float64), excess))


def trade_stats(trade_returns: Sequence[float] | ArrayLike) -> TradeStats:
    """Win rate and average win/loss from closed-trade returns (fees already deducted)."""
    arr = np.asarray(trade_returns, dtype=np.float64)
    if arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ValidationFailed("Need finite trade returns.", code="insufficient_history")
    wins, losses = arr[arr > 0], arr[arr < 0]
    return TradeStats(
        trades=int(arr.size),
        win_rate=float(wins.size / arr.size),
        avg_win=float(wins.mean()) if wins.size else 0.0,
        avg_loss=float(-losses.mean()) if losses.size else 0.0,
    )


def fractional_kelly(
    stats: TradeStats,
    *,
    kelly_fraction: float = DEFAULT_KELLY_FRACTION,
    max_fraction: float = DEFAULT_MAX_FRACTION,
    prior_trades: int = DEFAULT_PRIOR_TRADES,
) -> KellySizing:
    """Shrunk, fractional and capped Kelly stake from a strategy's trade statistics."""
    _check_fraction("kelly_fraction", kelly_fraction)
    _check_fraction("max_fraction", max_fraction)
    if prior_trades < 0:
        raise ValidationFailed("prior_trades must be >= 0.", code="invalid_sizing")
    if stats.trades <= 0 or stats.avg_win <= 0:
        return KellySizing(0.0, 0.0, stats.win_rate, 0.0, False, "No winning trades: no edge.")
    # With no loss seen yet the payoff ratio is unknown; assume a symmetric one (b = 1)
    # rather than an infinite edge, and let the shrinkage do its work.
    b = stats.payoff_ratio if stats.avg_loss > 0 else 1.0
    full = kelly_binary(stats.win_rate, b)
    n, n0 = stats.trades, prior_trades
    shrunk_p = (n * stats.win_rate + n0 / (1.0 + b)) / (n + n0)
    shrunk = kelly_binary(shrunk_p, b)
    return _finish(full, shrunk, shrunk_p, kelly_fraction, max_fraction)


def _finish(
    full: float, shrunk: float, shrunk_p: float, kelly_fraction: float, max_fraction: float
) -> KellySizing:
    if shrunk <= 0:
        return KellySizing(full, shrunk, shrunk_p, 0.0, False, "No edge after shrinkage.")
    stake = kelly_fraction * shrunk
    if stake > max_fraction:
        return KellySizing(full, shrunk, shrunk_p, max_fraction, True, "Capped at max fraction.")
    return KellySizing(full, shrunk, shrunk_p, stake, False, "Fractional Kelly.")


def kelly_notional(equity: Decimal | float, sizing: KellySizing) -> Decimal:
    """Money to stake for a Kelly result (zero when there is no edge)."""
    return to_decimal(equity) * to_decimal(sizing.fraction)
