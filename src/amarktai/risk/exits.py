"""Per-trade exits: stop-loss, take-profit, trailing stop and chandelier exit.

Timing (QUANT_REFERENCE §1.10): every level is computed from *completed* bars and tested
intrabar on the next bar, so a signal never uses the bar it trades on. A long exits when
``low <= stop`` and is filled at ``min(open, stop)`` (a gap through the stop fills at the
open, not at a price that never traded); take-profit fills at ``max(open, target)``. When a
stop and the target are both inside one bar the stop wins: without ticks we cannot know
which came first, and the pessimistic answer is the honest one.

The chandelier stop here is PRODUCT §6's "highest high since entry minus k×ATR" and it
ratchets (never loosens), so it cannot move down when an old high would drop out of a
rolling window. ``chandelier_levels`` gives the textbook rolling-N version for charts and
for the reference values. ATR is Wilder's, seeded with the mean of the first N true ranges
that have a previous close (TA-Lib's convention).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Final, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import signal

from amarktai.kit.errors import ValidationFailed

Side = Literal["long", "short"]
AtrKind = Literal["wilder", "sma", "ema"]
ExitReason = Literal["stop_loss", "trailing_stop", "chandelier", "take_profit"]
FloatArray = NDArray[np.float64]

DEFAULT_ATR_PERIOD: Final[int] = 22
DEFAULT_ATR_MULTIPLIER: Final[float] = 3.0


# --------------------------------------------------------------------------- indicators


def true_range(high: ArrayLike, low: ArrayLike, close: ArrayLike) -> FloatArray:
    """TR = max(H-L, |H-C₋₁|, |L-C₋₁|); the first bar has no C₋₁, so TR₀ = H₀-L₀."""
    h, lo, c = (np.asarray(a, dtype=np.float64) for a in (high, low, close))
    prev = np.concatenate([[np.nan], c[:-1]])
    with np.errstate(invalid="ignore"):
        stacked = np.vstack([h - lo, np.abs(h - prev), np.abs(lo - prev)])
    return np.asarray(np.nanmax(stacked, axis=0), dtype=np.float64)


def average_true_range(
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    period: int = DEFAULT_ATR_PERIOD,
    kind: AtrKind = "wilder",
) -> FloatArray:
    """ATR series (NaN until defined). Variants differ by 4-7 % on the same bars (§1.10)."""
    tr = true_range(high, low, close)
    out = np.full(tr.size, np.nan)
    if kind == "sma":
        csum = np.concatenate([[0.0], np.cumsum(tr)])
        out[period - 1 :] = (csum[period:] - csum[:-period]) / period
        return out
    if kind == "ema":
        return _recursive_mean(tr, 2.0 / (period + 1), tr[0], 0)
    if tr.size <= period:
        return out
    seed = float(tr[1 : period + 1].mean())
    return _recursive_mean(tr, 1.0 / period, seed, period)


def _recursive_mean(tr: FloatArray, weight: float, seed: float, start: int) -> FloatArray:
    """y_t = (1-w)·y_{t-1} + w·TR_t from y_start = seed, as an IIR filter (no Python loop)."""
    out = np.full(tr.size, np.nan)
    out[start] = seed
    if tr.size > start + 1:
        decay = 1.0 - weight
        filtered, _ = signal.lfilter([weight], [1.0, -decay], tr[start + 1 :], zi=[decay * seed])
        out[start + 1 :] = filtered
    return out


def wilder_update(previous_atr: float, tr: float, period: int) -> float:
    """One Wilder step, for live bars: ATR_t = (ATR_{t-1}(N-1) + TR_t)/N."""
    return (previous_atr * (period - 1) + tr) / period


def chandelier_levels(
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    period: int = DEFAULT_ATR_PERIOD,
    multiplier: float = DEFAULT_ATR_MULTIPLIER,
    kind: AtrKind = "wilder",
) -> tuple[FloatArray, FloatArray]:
    """Rolling chandelier stops (long: HH_N - M·ATR, short: LL_N + M·ATR) per bar."""
    h, lo = np.asarray(high, dtype=np.float64), np.asarray(low, dtype=np.float64)
    atr = average_true_range(h, lo, close, period, kind)
    hh = np.full(h.size, np.nan)
    ll = np.full(h.size, np.nan)
    if h.size >= period:
        hh[period - 1 :] = np.lib.stride_tricks.sliding_window_view(h, period).max(axis=1)
        ll[period - 1 :] = np.lib.stride_tricks.sliding_window_view(lo, period).min(axis=1)
    return hh - multiplier * atr, ll + multiplier * atr


# --------------------------------------------------------------------------- position exits


@dataclass(frozen=True, slots=True)
class Bar:
    open: float
    high: float
    low: float
    close: float


@dataclass(frozen=True, slots=True)
class ExitRules:
    """Fractions of the entry price (0.05 = 5 %); ``None`` switches a rule off."""

    stop_loss: float | None = None
    take_profit: float | None = None
    trailing_stop: float | None = None
    chandelier_multiplier: float | None = None
    atr_period: int = DEFAULT_ATR_PERIOD

    def __post_init__(self) -> None:
        for name in ("stop_loss", "trailing_stop"):
            value = getattr(self, name)
            if value is not None and not 0 < value < 1:
                raise ValidationFailed(f"{name} must be in (0, 1).", code="invalid_exit_rule")
        if self.take_profit is not None and not self.take_profit > 0:
            raise ValidationFailed("take_profit must be positive.", code="invalid_exit_rule")
        if self.chandelier_multiplier is not None and not self.chandelier_multiplier > 0:
            raise ValidationFailed(
                "chandelier multiplier must be positive.", code="invalid_exit_rule"
            )
        if self.atr_period < 1:
            raise ValidationFailed("atr_period must be >= 1.", code="invalid_exit_rule")


@dataclass(frozen=True, slots=True)
class PositionState:
    """Everything known after the last *completed* bar; pass it to ``check_exit``."""

    side: Side
    entry_price: float
    highest_high: float
    lowest_low: float
    prev_close: float
    atr: float | None = None
    chandelier_stop: float | None = None
    bars_held: int = 0


@dataclass(frozen=True, slots=True)
class ExitDecision:
    should_exit: bool
    reason: ExitReason | None = None
    level: float | None = None
    fill_price: float | None = None


def open_position(side: Side, entry_price: float, atr: float | None = None) -> PositionState:
    """State at entry; ``atr`` is the ATR of the bar before entry (needed by the chandelier)."""
    if side not in ("long", "short") or not (math.isfinite(entry_price) and entry_price > 0):
        raise ValidationFailed(
            "Need side long/short and a positive entry price.", code="invalid_position"
        )
    return PositionState(side, entry_price, entry_price, entry_price, entry_price, atr)


def _stop_levels(state: PositionState, rules: ExitRules) -> list[tuple[ExitReason, float]]:
    sign = 1.0 if state.side == "long" else -1.0
    levels: list[tuple[ExitReason, float]] = []
    if rules.stop_loss is not None:
        levels.append(("stop_loss", state.entry_price * (1 - sign * rules.stop_loss)))
    if rules.trailing_stop is not None:
        extreme = state.highest_high if state.side == "long" else state.lowest_low
        levels.append(("trailing_stop", extreme * (1 - sign * rules.trailing_stop)))
    if rules.chandelier_multiplier is not None and state.chandelier_stop is not None:
        levels.append(("chandelier", state.chandelier_stop))
    return levels


def check_exit(state: PositionState, bar: Bar, rules: ExitRules) -> ExitDecision:
    """Does ``bar`` (the bar now trading) hit a level set by earlier bars, and at what fill?"""
    long = state.side == "long"
    stops = _stop_levels(state, rules)
    if stops:
        reason, level = (max if long else min)(stops, key=lambda item: item[1])
        if (bar.low <= level) if long else (bar.high >= level):
            fill = min(bar.open, level) if long else max(bar.open, level)
            return ExitDecision(True, reason, level, fill)
    if rules.take_profit is not None:
        sign = 1.0 if long else -1.0
        target = state.entry_price * (1 + sign * rules.take_profit)
        if (bar.high >= target) if long else (bar.low <= target):
            fill = max(bar.open, target) if long else min(bar.open, target)
            return ExitDecision(True, "take_profit", target, fill)
    return ExitDecision(False)


def advance(state: PositionState, bar: Bar, rules: ExitRules) -> PositionState:
    """Fold a completed bar into the state: extremes, Wilder ATR and the ratcheted chandelier."""
    tr = max(bar.high - bar.low, abs(bar.high - state.prev_close), abs(bar.low - state.prev_close))
    atr = tr if state.atr is None else wilder_update(state.atr, tr, rules.atr_period)
    highest = max(state.highest_high, bar.high)
    lowest = min(state.lowest_low, bar.low)
    chandelier = state.chandelier_stop
    if rules.chandelier_multiplier is not None:
        offset = rules.chandelier_multiplier * atr
        if state.side == "long":
            candidate = highest - offset
            chandelier = candidate if chandelier is None else max(chandelier, candidate)
        else:
            candidate = lowest + offset
            chandelier = candidate if chandelier is None else min(chandelier, candidate)
    return replace(
        state,
        highest_high=highest,
        lowest_low=lowest,
        prev_close=bar.close,
        atr=atr,
        chandelier_stop=chandelier,
        bars_held=state.bars_held + 1,
    )
