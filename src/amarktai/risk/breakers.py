"""Circuit-breaker rules (pure): ledger figures in, trip or no trip out.

The figures (``Figures``) are computed by ``risk.service`` from the ledger and the trading
tables only, never from what a bot believes about itself, so a bot whose own bookkeeping
is wrong cannot talk its way past a breaker. Money figures are ``Decimal`` in the quote
currency (ZAR).

PnL here is *total* PnL: realised + unrealised - fees, which excludes capital moved in or
out (allocations, deposits), so topping a bot up neither hides a loss nor counts as a gain.
Percentages are of the equity at the reference point, flow-adjusted:
``equity_now - pnl_now + pnl_ref``.

Rules (each off unless its limit is set):

* ``daily_loss_pct`` / ``daily_loss_amount``: loss since the first evaluation of the UTC
  day. Resets by rule at the next UTC day (or by hand).
* ``max_drawdown_pct``: fall of total PnL from its peak. Resets by hand only.
* ``max_consecutive_losses``: the last N closed trades (sell fills) all realised a loss.
  Resets by hand only.
* ``max_exposure`` (user level) is not a breaker but a pre-trade cap on the value of all
  the user's positions; the planner checks it before each buy.
* ``error_burst_count`` within ``error_burst_window_s``: decisions that ended "error" or
  "rejected". Resets by rule once the window holds fewer errors (or by hand).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any, Final, Literal

from amarktai.kit.errors import ValidationFailed
from amarktai.kit.money import MAX_AMOUNT, ZERO, to_decimal

ResetRule = Literal["next_utc_day", "window", "manual"]
BREAKER_NAMES: Final[tuple[str, ...]] = (
    "daily_loss",
    "drawdown",
    "consecutive_losses",
    "error_burst",
)
DEFAULT_ERROR_WINDOW_S: Final[int] = 600
_PCT_FIELDS: Final[tuple[str, ...]] = ("daily_loss_pct", "max_drawdown_pct")
_INT_FIELDS: Final[tuple[str, ...]] = ("max_consecutive_losses", "error_burst_count")


@dataclass(frozen=True, slots=True)
class BreakerLimits:
    """Limits at one level (bot, user or platform); ``None`` switches a rule off."""

    daily_loss_pct: Decimal | None = None
    daily_loss_amount: Decimal | None = None
    max_drawdown_pct: Decimal | None = None
    max_consecutive_losses: int | None = None
    error_burst_count: int | None = None
    error_burst_window_s: int = DEFAULT_ERROR_WINDOW_S
    max_exposure: Decimal | None = None  # a pre-trade cap on held positions, not a breaker

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> BreakerLimits:
        """Validated limits; unknown keys are refused so a typo never disables a breaker."""
        if not raw:  # most bots set none: every rule off (checked once per candle close)
            return cls()
        raw = dict(raw)
        unknown = set(raw) - {f.name for f in fields(cls)}
        if unknown:
            raise _invalid(f"unknown breaker setting(s): {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for name in _PCT_FIELDS:
            values[name] = _optional_pct(name, raw.get(name))
        for name in ("daily_loss_amount", "max_exposure"):
            values[name] = _optional_amount(name, raw.get(name))
        for name in _INT_FIELDS:
            values[name] = _optional_count(name, raw.get(name))
        window = raw.get("error_burst_window_s", DEFAULT_ERROR_WINDOW_S)
        values["error_burst_window_s"] = _optional_count("error_burst_window_s", window)
        return cls(**values)

    @property
    def any_enabled(self) -> bool:
        return any(
            v is not None
            for v in (
                self.daily_loss_pct,
                self.daily_loss_amount,
                self.max_drawdown_pct,
                self.max_consecutive_losses,
                self.error_burst_count,
            )
        )

    def to_dict(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {k: str(v) if isinstance(v, Decimal) else v for k, v in values.items()}


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_risk_setting")


def _optional_pct(name: str, value: object) -> Decimal | None:
    """Percentages as fractions: 0.05 means 5 %."""
    if value is None:
        return None
    number = _number(name, value)
    if not ZERO < number < 1:
        raise _invalid(f"{name} must be a fraction in (0, 1), e.g. 0.05 for 5%")
    return number


def _optional_amount(name: str, value: object) -> Decimal | None:
    if value is None:
        return None
    number = _number(name, value)
    if number <= 0:
        raise _invalid(f"{name} must be a positive amount")
    return number


def _number(name: str, value: object) -> Decimal:
    """A finite number, or a 422 naming the setting (NaN would pass no range check)."""
    try:
        number = to_decimal(value)
    except ValueError as exc:
        raise _invalid(f"{name} must be a finite number, not {value!r}") from exc
    if number.copy_abs() >= MAX_AMOUNT:
        raise _invalid(f"{name} must be below 10^20")
    return number


def _optional_count(name: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _invalid(f"{name} must be a whole number of at least 1")
    return value


@dataclass(frozen=True, slots=True)
class Figures:
    """What the ledger says at one level, at one instant."""

    equity: Decimal
    pnl: Decimal
    day_start_pnl: Decimal
    peak_pnl: Decimal
    recent_realised: tuple[Decimal, ...]  # newest first, one per closed trade
    recent_errors: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "equity": str(self.equity),
            "pnl": str(self.pnl),
            "day_start_pnl": str(self.day_start_pnl),
            "peak_pnl": str(self.peak_pnl),
            "consecutive_losses": consecutive_losses(self.recent_realised),
            "recent_errors": self.recent_errors,
        }


@dataclass(frozen=True, slots=True)
class BreakerCheck:
    """One rule evaluated: the figure, the limit, and whether it trips."""

    name: str
    tripped: bool
    value: str
    limit: str
    reset_rule: ResetRule
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tripped": self.tripped,
            "value": self.value,
            "limit": self.limit,
            "reset_rule": self.reset_rule,
            "detail": self.detail,
        }


def consecutive_losses(realised_newest_first: Sequence[Decimal]) -> int:
    """How many of the latest closed trades in a row realised a loss."""
    count = 0
    for pnl in realised_newest_first:
        if pnl >= 0:
            break
        count += 1
    return count


def _base(figures: Figures, reference_pnl: Decimal) -> Decimal:
    """Equity at the reference point, without the capital moved since."""
    return figures.equity - figures.pnl + reference_pnl


def _fraction(loss: Decimal, base: Decimal) -> Decimal:
    return loss / base if base > 0 else ZERO


def daily_loss(figures: Figures, limits: BreakerLimits) -> BreakerCheck | None:
    if limits.daily_loss_pct is None and limits.daily_loss_amount is None:
        return None
    loss = max(figures.day_start_pnl - figures.pnl, ZERO)
    pct = _fraction(loss, _base(figures, figures.day_start_pnl))
    over_pct = limits.daily_loss_pct is not None and pct >= limits.daily_loss_pct
    over_amount = limits.daily_loss_amount is not None and loss >= limits.daily_loss_amount
    limit = " / ".join(
        text
        for text in (
            f"{limits.daily_loss_pct:%}" if limits.daily_loss_pct is not None else "",
            f"{limits.daily_loss_amount:.2f}" if limits.daily_loss_amount is not None else "",
        )
        if text
    )
    return BreakerCheck(
        "daily_loss",
        over_pct or over_amount,
        f"{loss:.2f} ({pct:.2%})",
        limit,
        "next_utc_day",
        f"lost {loss:.2f} today ({pct:.2%} of the day's starting equity)",
    )


def drawdown(figures: Figures, limits: BreakerLimits) -> BreakerCheck | None:
    if limits.max_drawdown_pct is None:
        return None
    fall = max(figures.peak_pnl - figures.pnl, ZERO)
    pct = _fraction(fall, _base(figures, figures.peak_pnl))
    return BreakerCheck(
        "drawdown",
        pct >= limits.max_drawdown_pct,
        f"{pct:.2%}",
        f"{limits.max_drawdown_pct:.2%}",
        "manual",
        f"equity is {fall:.2f} ({pct:.2%}) below its peak",
    )


def losing_streak(figures: Figures, limits: BreakerLimits) -> BreakerCheck | None:
    if limits.max_consecutive_losses is None:
        return None
    streak = consecutive_losses(figures.recent_realised)
    return BreakerCheck(
        "consecutive_losses",
        streak >= limits.max_consecutive_losses,
        str(streak),
        str(limits.max_consecutive_losses),
        "manual",
        f"{streak} losing trades in a row",
    )


def error_burst(figures: Figures, limits: BreakerLimits) -> BreakerCheck | None:
    if limits.error_burst_count is None:
        return None
    return BreakerCheck(
        "error_burst",
        figures.recent_errors >= limits.error_burst_count,
        str(figures.recent_errors),
        str(limits.error_burst_count),
        "window",
        f"{figures.recent_errors} errors or rejections in {limits.error_burst_window_s} s",
    )


def evaluate(figures: Figures, limits: BreakerLimits) -> list[BreakerCheck]:
    """Every enabled rule, tripped or not (all of them go into the trace)."""
    rules = (daily_loss, drawdown, losing_streak, error_burst)
    return [check for rule in rules if (check := rule(figures, limits)) is not None]
