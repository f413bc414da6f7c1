"""Turn a strategy Decision into an order proposal, with the pre-trade checks recorded.

Pure and shared by the live/paper engine and the backtester, so a strategy meets the
same sizing rules and the same risk checks everywhere. Spot, long-only: a bot never sells
more than it holds and never buys with more than its allocated cash (including the fee).
Every check, passed or not, lands in the decision trace.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any, Literal

from amarktai.kit.errors import ValidationFailed
from amarktai.kit.money import MAX_AMOUNT, ZERO, to_decimal
from amarktai.markets.types import Instrument
from amarktai.risk.breakers import BreakerLimits
from amarktai.risk.exits import ExitRules
from amarktai.risk.sizing import fractional_kelly, trade_stats
from amarktai.strategies.base import Decision, OrderIntent

Outcome = Literal["order", "hold", "denied"]


@dataclass(frozen=True, slots=True)
class Holdings:
    """The bot's money as the ledger says: quote cash and base position."""

    cash: Decimal
    position_qty: Decimal

    def equity(self, price: Decimal) -> Decimal:
        return self.cash + self.position_qty * price


PRICE_BUFFER = Decimal("0.005")
"""Added to the fee when sizing buys: market buys fill above the last close (spread and
slippage), and a buy sized to the last rand would then need capital the bot lacks. The
backtester, which fills at known prices, sets it to zero."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-bot risk settings (``bots.risk``) the planner and the engine enforce.

    Fractions are of the bot's equity (0.05 = 5 %); values are in the quote currency.
    ``sizing`` scales a strategy's target exposure: "target" leaves it as the strategy
    says, "fixed_fraction" stakes ``fraction`` of equity at a full target, and "kelly"
    stakes the capped fractional Kelly of the bot's own closed trades (shrunk toward no
    edge when they are few; ``fraction`` until ``kelly_min_trades`` trades exist, since a
    bot with no history would otherwise never trade and never get one). Orders a strategy
    sizes itself (qty or notional) are not rescaled. Exit levels and breakers are read
    here only to be validated; the engine applies them.
    """

    max_position_fraction: Decimal = Decimal(1)
    price_buffer: Decimal = PRICE_BUFFER
    max_position_value: Decimal | None = None
    sizing: str = "target"
    fraction: float = 0.1
    kelly_fraction: float = 0.5
    cap: float = 0.25
    kelly_min_trades: int = 10
    exits: ExitRules | None = None
    breakers: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Limits:
        value = _number(raw.get("max_position_fraction", 1), "max_position_fraction")
        if not ZERO < value <= 1:
            raise ValidationFailed(
                "max_position_fraction must be in (0, 1]", code="invalid_risk_setting"
            )
        sizing = str(raw.get("sizing", "target"))
        if sizing not in SIZINGS:
            raise ValidationFailed(
                f"sizing must be one of {', '.join(SIZINGS)}", code="invalid_risk_setting"
            )
        BreakerLimits.from_dict(raw.get("breakers"))
        return cls(
            max_position_fraction=value,
            max_position_value=_positive(raw.get("max_position_value"), "max_position_value"),
            sizing=sizing,
            fraction=_unit(raw.get("fraction", 0.1), "fraction"),
            kelly_fraction=_unit(raw.get("kelly_fraction", 0.5), "kelly_fraction"),
            cap=_unit(raw.get("cap", 0.25), "cap"),
            kelly_min_trades=_count(raw.get("kelly_min_trades", 10), "kelly_min_trades"),
            exits=_exit_rules(raw),
            breakers=dict(raw.get("breakers") or {}),
        )

    def stake(self, trade_returns: Sequence[float]) -> tuple[Decimal, Check | None]:
        """The share of a full target to hold, and the sizing check for the trace."""
        if self.sizing == "target":
            return Decimal(1), None
        if self.sizing == "fixed_fraction" or len(trade_returns) < self.kelly_min_trades:
            why = "fixed fraction" if self.sizing == "fixed_fraction" else (
                f"{len(trade_returns)} closed trades < {self.kelly_min_trades}: fixed fraction"
            )  # fmt: skip
            return _dec(self.fraction), Check("sizing", True, f"{why} {self.fraction:.2%}")
        kelly = fractional_kelly(
            trade_stats(trade_returns), kelly_fraction=self.kelly_fraction, max_fraction=self.cap
        )
        detail = (
            f"kelly {kelly.fraction:.2%} of equity ({kelly.reason} full {kelly.full_kelly:.2%}, "
            f"shrunk {kelly.shrunk_kelly:.2%}, {len(trade_returns)} trades)"
        )
        return _dec(kelly.fraction), Check("sizing", True, detail)


SIZINGS = ("target", "fixed_fraction", "kelly")


def _dec(value: float) -> Decimal:
    return Decimal(repr(value))


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_risk_setting")


def _positive(raw: object, name: str) -> Decimal | None:
    if raw is None:
        return None
    value = _number(raw, name)
    if value <= 0:
        raise _invalid(f"{name} must be positive")
    return value


def _number(raw: object, name: str) -> Decimal:
    """A finite number, or a 422 that names the setting (NaN passes no range check)."""
    try:
        value = to_decimal(raw)
    except ValueError as exc:
        raise _invalid(f"{name} must be a finite number, not {raw!r}") from exc
    if value.copy_abs() >= MAX_AMOUNT:
        raise _invalid(f"{name} must be below 10^20")
    return value


def _unit(raw: object, name: str) -> float:
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise _invalid(f"{name} must be a number in (0, 1]") from exc
    if not 0 < value <= 1:
        raise _invalid(f"{name} must be in (0, 1]")
    return value


def _count(raw: object, name: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise _invalid(f"{name} must be a whole number >= 0")
    return raw


def _exit_rules(raw: dict[str, Any]) -> ExitRules | None:
    """stop_loss_pct, take_profit_pct, trailing_stop_pct (fractions) and
    chandelier {"atr_period": 22, "k": 3}; None when no exit is set."""
    chandelier = raw.get("chandelier")
    if chandelier is not None and not isinstance(chandelier, dict):
        raise _invalid('chandelier must look like {"atr_period": 22, "k": 3}')
    values = {
        "stop_loss": raw.get("stop_loss_pct"),
        "take_profit": raw.get("take_profit_pct"),
        "trailing_stop": raw.get("trailing_stop_pct"),
        "chandelier_multiplier": (chandelier or {}).get("k", 3) if chandelier else None,
    }
    if all(v is None for v in values.values()):
        return None
    try:
        floats = {k: None if v is None else float(v) for k, v in values.items()}
        period = int((chandelier or {}).get("atr_period", 22))
    except (TypeError, ValueError) as exc:
        raise _invalid("exit settings must be numbers") from exc
    if not all(v is None or math.isfinite(v) for v in floats.values()):
        raise _invalid("exit settings must be finite numbers")
    try:
        return ExitRules(**floats, atr_period=period)
    except ValidationFailed as exc:
        raise _invalid(exc.message) from exc


@dataclass(frozen=True, slots=True)
class Exposure:
    """The user's positions across all bots (quote value) and their cap, for one check."""

    current: Decimal
    limit: Decimal


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    passed: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Proposal:
    outcome: Outcome
    side: Literal["buy", "sell"] | None = None
    qty: Decimal = ZERO
    type: str = "market"
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    checks: tuple[Check, ...] = field(default_factory=tuple)
    note: str = ""

    def trace(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "side": self.side,
            "qty": str(self.qty) if self.side else None,
            "type": self.type,
            "limit_price": None if self.limit_price is None else str(self.limit_price),
            "stop_price": None if self.stop_price is None else str(self.stop_price),
            "checks": [c.to_dict() for c in self.checks],
            "note": self.note,
        }


def plan(
    decision: Decision,
    *,
    instrument: Instrument,
    price: Decimal,
    holdings: Holdings,
    limits: Limits | None = None,
    trade_returns: Sequence[float] = (),
    exposure: Exposure | None = None,
) -> Proposal:
    """``trade_returns`` (the bot's closed trades, for Kelly sizing) and ``exposure`` (the
    user's positions and cap) come from the ledger via the engine; both are optional."""
    limits = limits or Limits()
    if price <= 0:
        return Proposal("hold", note="no market price yet")
    if decision.order is not None:
        side, qty = _intent_size(decision.order, price, instrument, limits)
        kind = decision.order
        proposal = _checked(side, qty, instrument, price, holdings, limits, kind)
        return _with_limits(proposal, price, holdings, limits, exposure, None)
    if decision.target is None:
        return Proposal("hold", note="strategy has no target this bar")
    stake, sizing = limits.stake(trade_returns)
    target = Decimal(str(decision.target)) * stake
    want, size = _target_size(target, instrument, price, holdings, limits)
    if want is None:
        return Proposal("hold", checks=(sizing,) if sizing else (), note="already at target")
    proposal = _checked(want, size, instrument, price, holdings, limits, None)
    return _with_limits(proposal, price, holdings, limits, exposure, sizing)


def _with_limits(
    proposal: Proposal,
    price: Decimal,
    holdings: Holdings,
    limits: Limits,
    exposure: Exposure | None,
    sizing: Check | None,
) -> Proposal:
    """Add the sizing note and the value caps (bot position, user exposure) to a buy."""
    extra: list[Check] = [sizing] if sizing else []
    added = proposal.qty * price
    if proposal.side == "buy" and limits.max_position_value is not None:
        after = holdings.position_qty * price + added
        cap = limits.max_position_value
        extra.append(Check("max_position_value", after <= cap, f"{after:.2f} vs cap {cap:.2f}"))
    if proposal.side == "buy" and exposure is not None:
        after = exposure.current + added
        detail = f"user exposure after {after:.2f} vs cap {exposure.limit:.2f}"
        extra.append(Check("user_max_exposure", after <= exposure.limit, detail))
    if not extra:
        return proposal
    checks = (*extra, *proposal.checks)
    ok = proposal.outcome == "order" and all(c.passed for c in extra)
    failed = "; ".join(c.name for c in checks if not c.passed)
    # Built directly: `dataclasses.replace` walks the fields on every call.
    p = proposal
    outcome: Outcome = "order" if ok else "denied"
    return Proposal(outcome, p.side, p.qty, p.type, p.limit_price, p.stop_price, checks, failed)


def _fee_factor(instrument: Instrument, limits: Limits) -> Decimal:
    return 1 + instrument.taker_fee + limits.price_buffer


def _target_size(
    target: Decimal, instrument: Instrument, price: Decimal, holdings: Holdings, limits: Limits
) -> tuple[Literal["buy", "sell"] | None, Decimal]:
    equity = holdings.equity(price)
    wanted_value = min(target, limits.max_position_fraction) * equity
    held_value = holdings.position_qty * price
    diff = wanted_value - held_value
    if diff > 0:
        qty = instrument.round_qty(diff / (price * _fee_factor(instrument, limits)))
        return ("buy", qty) if qty > 0 else (None, ZERO)
    if diff < 0:
        qty = holdings.position_qty if target == 0 else instrument.round_qty(-diff / price)
        return ("sell", min(qty, holdings.position_qty)) if qty > 0 else (None, ZERO)
    return None, ZERO


def _intent_size(
    intent: OrderIntent, price: Decimal, instrument: Instrument, limits: Limits
) -> tuple[Literal["buy", "sell"], Decimal]:
    ref = intent.limit_price or intent.stop_price or price
    if intent.qty is not None:
        return intent.side, instrument.round_qty(intent.qty)
    assert intent.notional is not None
    qty = (intent.notional / (ref * _fee_factor(instrument, limits))).quantize(
        instrument.qty_step, rounding=ROUND_DOWN
    )
    return intent.side, qty


_CAP_SLACK = Decimal("1.0001")  # rounding slack on the position cap, parsed once


def _checked(
    side: Literal["buy", "sell"],
    qty: Decimal,
    instrument: Instrument,
    price: Decimal,
    holdings: Holdings,
    limits: Limits,
    intent: OrderIntent | None,
) -> Proposal:
    checks: list[Check] = []
    ref = (intent.limit_price or intent.stop_price) if intent else None
    ref = ref or price
    if side == "sell":
        ok = qty <= holdings.position_qty
        checks.append(Check("long_only", ok, f"sell {qty} of {holdings.position_qty} held"))
    else:
        cost = qty * ref * (1 + instrument.taker_fee)
        checks.append(
            Check(
                "allocated_capital",
                cost <= holdings.cash,
                f"needs {cost:.2f} {instrument.quote}, bot has {holdings.cash:.2f}",
            )
        )
        after = (holdings.position_qty + qty) * price
        cap = limits.max_position_fraction * holdings.equity(price)
        checks.append(
            Check(
                "max_position",
                after <= cap * _CAP_SLACK,
                f"position after {after:.2f} vs cap {cap:.2f} {instrument.quote}",
            )
        )
    try:
        instrument.check_order(qty, None if intent is None or intent.type == "market" else ref)
        if intent is None or intent.type == "market":
            _check_notional(instrument, qty, price)
        checks.append(Check("instrument_rules", True, "size and precision ok"))
    except ValidationFailed as exc:
        checks.append(Check("instrument_rules", False, f"{exc.code}: {exc.message}"))
    outcome: Outcome = "order" if all(c.passed for c in checks) else "denied"
    return Proposal(
        outcome,
        side,
        qty,
        intent.type if intent else "market",
        intent.limit_price if intent else None,
        intent.stop_price if intent else None,
        tuple(checks),
        "" if outcome == "order" else "; ".join(c.name for c in checks if not c.passed),
    )


def _check_notional(instrument: Instrument, qty: Decimal, price: Decimal) -> None:
    notional = qty * price
    if notional < instrument.min_notional:
        raise ValidationFailed(
            f"{instrument.symbol}: notional {notional:.2f} {instrument.quote} is below the "
            f"minimum notional {instrument.min_notional:f}",
            code="below_min_notional",
        )
