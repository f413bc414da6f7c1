"""Turn a strategy Decision into an order proposal, with the pre-trade checks recorded.

Pure and shared by the live/paper engine and the backtester, so a strategy meets the
same sizing rules and the same risk checks everywhere. Spot, long-only: a bot never sells
more than it holds and never buys with more than its allocated cash (including the fee).
Every check, passed or not, lands in the decision trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any, Literal

from amarktai.kit.errors import ValidationFailed
from amarktai.kit.money import ZERO, to_decimal
from amarktai.markets.types import Instrument
from amarktai.strategies.base import Decision, OrderIntent

Outcome = Literal["order", "hold", "denied"]


@dataclass(frozen=True, slots=True)
class Holdings:
    """The bot's money as the ledger says: quote cash and base position."""

    cash: Decimal
    position_qty: Decimal

    def equity(self, price: Decimal) -> Decimal:
        return self.cash + self.position_qty * price


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-bot risk settings the planner enforces (fractions of the bot's equity)."""

    max_position_fraction: Decimal = Decimal(1)
    # Live/paper market buys fill above the last close (spread, slippage); sizing a buy
    # to the last rand would then need capital the bot lacks, so keep 50 bps spare. The
    # backtester, which fills at the next open and trims unaffordable buys, uses 0.
    price_buffer: Decimal = Decimal("0.005")

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Limits:
        value = to_decimal(raw.get("max_position_fraction", 1))
        if not ZERO < value <= 1:
            raise ValidationFailed(
                "max_position_fraction must be in (0, 1]", code="invalid_risk_setting"
            )
        return cls(max_position_fraction=value)


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
) -> Proposal:
    limits = limits or Limits()
    if price <= 0:
        return Proposal("hold", note="no market price yet")
    if decision.order is not None:
        side, qty = _intent_size(decision.order, price, instrument, limits)
        kind = decision.order
        return _checked(side, qty, instrument, price, holdings, limits, kind)
    if decision.target is None:
        return Proposal("hold", note="strategy has no target this bar")
    want, size = _target_size(Decimal(str(decision.target)), instrument, price, holdings, limits)
    if want is None:
        return Proposal("hold", note="already at target")
    return _checked(want, size, instrument, price, holdings, limits, None)


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
                after <= cap * Decimal("1.0001"),
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
