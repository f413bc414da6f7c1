"""Orders and fills as immutable values with an explicit state machine.

Orders are frozen: every change (`transition`, `apply_fill`) returns a new Order, so a
venue, a decision trace and the ledger can each keep the version they saw without
anyone mutating it later. Invalid lifecycle moves (filling a cancelled order, cancelling
a filled one) are a Conflict, because they mean two actors disagree about the order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

from amarktai.kit.errors import Conflict, ValidationFailed
from amarktai.kit.ids import new_id
from amarktai.kit.money import ZERO, to_decimal
from amarktai.markets.types import Side

OrderType = Literal["market", "limit", "stop", "stop_limit"]
TimeInForce = Literal["GTC", "IOC", "FOK"]
OrderStatus = Literal["new", "open", "partially_filled", "filled", "cancelled", "rejected"]
Liquidity = Literal["maker", "taker"]

ORDER_TYPES: frozenset[str] = frozenset({"market", "limit", "stop", "stop_limit"})
TIME_IN_FORCE: frozenset[str] = frozenset({"GTC", "IOC", "FOK"})
TERMINAL: frozenset[str] = frozenset({"filled", "cancelled", "rejected"})

_ALLOWED: dict[str, frozenset[str]] = {
    "new": frozenset({"open", "partially_filled", "filled", "cancelled", "rejected"}),
    "open": frozenset({"partially_filled", "filled", "cancelled"}),
    "partially_filled": frozenset({"partially_filled", "filled", "cancelled"}),
    "filled": frozenset(),
    "cancelled": frozenset(),
    "rejected": frozenset(),
}


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution; `fee` is in `fee_asset` (the quote currency for paper fills)."""

    order_id: str
    ts: datetime
    symbol: str
    side: Side
    price: Decimal
    qty: Decimal
    fee: Decimal
    fee_asset: str
    liquidity: Liquidity
    id: str = field(default_factory=new_id)

    @property
    def notional(self) -> Decimal:
        return self.price * self.qty


@dataclass(frozen=True, slots=True)
class Order:
    """An order and its progress. `triggered` marks a stop whose trigger price has traded:
    from then on a stop behaves as a market order and a stop-limit as a limit order."""

    id: str
    client_order_id: str
    bot_id: str
    symbol: str
    side: Side
    type: OrderType
    qty: Decimal
    created_at: datetime
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce = "GTC"
    status: OrderStatus = "new"
    filled_qty: Decimal = ZERO
    avg_price: Decimal | None = None
    fees: Decimal = ZERO
    triggered: bool = False
    reason: str | None = None

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled_qty

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def acts_as(self) -> Literal["market", "limit", "pending_stop"]:
        """How the order trades right now: stops are dormant until triggered."""
        if self.type in ("stop", "stop_limit") and not self.triggered:
            return "pending_stop"
        return "market" if self.type in ("market", "stop") else "limit"

    def same_request(self, other: Order) -> bool:
        """True when two orders ask for the same thing (the idempotent-resubmit test)."""
        fields = (
            "bot_id",
            "symbol",
            "side",
            "type",
            "qty",
            "limit_price",
            "stop_price",
            "time_in_force",
        )
        return all(getattr(self, f) == getattr(other, f) for f in fields)


def new_order(
    *,
    client_order_id: str,
    bot_id: str,
    symbol: str,
    side: str,
    type: str,
    qty: object,
    created_at: datetime,
    limit_price: object = None,
    stop_price: object = None,
    time_in_force: str = "GTC",
    order_id: str | None = None,
) -> Order:
    """Build a validated order from loose input (API payloads, strategy output)."""
    _check_enums(side, type, time_in_force)
    order = Order(
        id=order_id or new_id(),
        client_order_id=client_order_id,
        bot_id=bot_id,
        symbol=symbol,
        side=side,  # type: ignore[arg-type]
        type=type,  # type: ignore[arg-type]
        qty=_number(qty, "qty"),
        created_at=created_at,
        limit_price=None if limit_price is None else _number(limit_price, "limit_price"),
        stop_price=None if stop_price is None else _number(stop_price, "stop_price"),
        time_in_force=time_in_force,  # type: ignore[arg-type]
    )
    validate_order(order)
    return order


def _number(value: object, name: str) -> Decimal:
    try:
        return to_decimal(value)
    except ValueError:
        raise ValidationFailed(f"{name} {value!r} is not a number", code="bad_number") from None


def _check_enums(side: str, type: str, tif: str) -> None:
    if side not in ("buy", "sell"):
        raise ValidationFailed(f"side must be buy or sell, got {side!r}", code="bad_side")
    if type not in ORDER_TYPES:
        raise ValidationFailed(
            f"order type must be one of {sorted(ORDER_TYPES)}, got {type!r}", code="bad_order_type"
        )
    if tif not in TIME_IN_FORCE:
        raise ValidationFailed(
            f"time in force must be one of {sorted(TIME_IN_FORCE)}, got {tif!r}",
            code="bad_time_in_force",
        )


def validate_order(order: Order) -> None:
    """Field rules that hold on every venue, before any exchange-specific rule."""
    _check_enums(order.side, order.type, order.time_in_force)
    if not order.client_order_id:
        raise ValidationFailed("client_order_id is required", code="missing_client_order_id")
    if order.qty <= 0:
        raise ValidationFailed(f"qty must be > 0, got {order.qty}", code="non_positive_qty")
    needs_limit = order.type in ("limit", "stop_limit")
    needs_stop = order.type in ("stop", "stop_limit")
    _check_price("limit_price", order.limit_price, order.type, required=needs_limit)
    _check_price("stop_price", order.stop_price, order.type, required=needs_stop)


def _check_price(name: str, value: Decimal | None, type: str, *, required: bool) -> None:
    if required and value is None:
        raise ValidationFailed(f"a {type} order needs {name}", code=f"missing_{name}")
    if not required and value is not None:
        raise ValidationFailed(f"a {type} order takes no {name}", code=f"unexpected_{name}")
    if value is not None and value <= 0:
        raise ValidationFailed(f"{name} must be > 0, got {value}", code="non_positive_price")


def transition(order: Order, status: OrderStatus, *, reason: str | None = None) -> Order:
    """Move an order to `status`, or raise Conflict if the lifecycle forbids it."""
    _check_transition(order, status)
    return _moved(order, status, reason if reason is not None else order.reason)


def _check_transition(order: Order, status: OrderStatus) -> None:
    if status not in _ALLOWED[order.status]:
        raise Conflict(
            f"order {order.id} cannot go from {order.status} to {status}",
            code="invalid_order_transition",
        )


def _moved(
    order: Order,
    status: OrderStatus,
    reason: str | None,
    filled_qty: Decimal | None = None,
    avg_price: Decimal | None = None,
    fees: Decimal | None = None,
) -> Order:
    """The order with a new status (and fill figures): `dataclasses.replace` without its
    per-call field walk, which every paper fill paid twice."""
    return Order(
        id=order.id,
        client_order_id=order.client_order_id,
        bot_id=order.bot_id,
        symbol=order.symbol,
        side=order.side,
        type=order.type,
        qty=order.qty,
        created_at=order.created_at,
        limit_price=order.limit_price,
        stop_price=order.stop_price,
        time_in_force=order.time_in_force,
        status=status,
        filled_qty=order.filled_qty if filled_qty is None else filled_qty,
        avg_price=order.avg_price if avg_price is None else avg_price,
        fees=order.fees if fees is None else fees,
        triggered=order.triggered,
        reason=reason,
    )


def apply_fill(order: Order, fill: Fill) -> Order:
    """Fold a fill into the order: filled qty, volume-weighted average price, fees, status."""
    if fill.order_id != order.id:
        raise Conflict(
            f"fill for {fill.order_id} applied to {order.id}", code="fill_order_mismatch"
        )
    if fill.qty <= 0 or fill.qty > order.remaining:
        raise Conflict(
            f"fill of {fill.qty} does not fit order {order.id} (remaining {order.remaining})",
            code="overfill",
        )
    filled = order.filled_qty + fill.qty
    previous = (order.avg_price or ZERO) * order.filled_qty
    status: OrderStatus = "filled" if filled == order.qty else "partially_filled"
    _check_transition(order, status)
    return _moved(
        order,
        status,
        order.reason,
        filled_qty=filled,
        avg_price=(previous + fill.price * fill.qty) / filled,
        fees=order.fees + fill.fee,
    )
