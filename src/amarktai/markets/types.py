"""Market data value types shared by the sim, replay and exchange feeds.

Everything is a frozen dataclass with `Decimal` money so an event can be handed to any
number of bots, fill models and the ledger without anyone mutating it underneath the
others, and without float rounding leaking into balances.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from amarktai.kit.errors import ValidationFailed
from amarktai.kit.money import ZERO, quantize_down

Side = Literal["buy", "sell"]
SIDES: frozenset[str] = frozenset({"buy", "sell"})


def _on_grid(value: Decimal, step: Decimal) -> bool:
    return step <= 0 or value % step == 0


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable pair with the exchange's rules, so orders are checked before they leave us.

    Fees are fractions (0.001 = 0.1 %); steps are the exchange's price/quantity grids.
    """

    symbol: str
    base: str
    quote: str
    price_step: Decimal
    qty_step: Decimal
    min_qty: Decimal
    min_notional: Decimal
    maker_fee: Decimal
    taker_fee: Decimal
    exchange: str = "sim"

    def round_qty(self, qty: Decimal) -> Decimal:
        """Round toward zero: rounding a quantity up could spend money the bot lacks."""
        return quantize_down(qty, self.qty_step)

    def round_price(self, price: Decimal) -> Decimal:
        return quantize_down(price, self.price_step)

    def check_order(self, qty: Decimal, price: Decimal | None) -> None:
        """Apply the exchange's size and precision rules; `price` None skips price rules.

        Raises ValidationFailed with a stable code so the API and the decision trace can
        say exactly which rule an order broke and by how much.
        """
        if not _on_grid(qty, self.qty_step):
            raise ValidationFailed(
                f"{self.symbol}: quantity {qty:f} is not a multiple of the quantity step "
                f"{self.qty_step:f}",
                code="off_precision_qty",
            )
        if qty < self.min_qty:
            raise ValidationFailed(
                f"{self.symbol}: quantity {qty:f} is below the minimum quantity {self.min_qty:f}",
                code="below_min_qty",
            )
        if price is None:
            return
        if not _on_grid(price, self.price_step):
            raise ValidationFailed(
                f"{self.symbol}: price {price:f} is not a multiple of the price step "
                f"{self.price_step:f}",
                code="off_precision_price",
            )
        notional = qty * price
        if notional < self.min_notional:
            raise ValidationFailed(
                f"{self.symbol}: notional {qty:f} x {price:f} = {notional:f} {self.quote} is below "
                f"the minimum notional {self.min_notional:f} {self.quote}",
                code="below_min_notional",
            )


@dataclass(frozen=True, slots=True)
class Trade:
    """One public trade print; `side` is the aggressor (taker) side."""

    ts: datetime
    symbol: str
    price: Decimal
    qty: Decimal
    side: Side
    trade_id: str | None = None


@dataclass(frozen=True, slots=True)
class Candle:
    """OHLCV bar keyed by its open time; `timeframe` is its length in seconds."""

    ts: datetime
    symbol: str
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    timeframe: int

    @property
    def close_ts(self) -> datetime:
        """When the bar is complete: feeds emit bars then, so nobody sees the future."""
        return self.ts + timedelta(seconds=self.timeframe)


@dataclass(frozen=True, slots=True)
class BookLevel:
    price: Decimal
    qty: Decimal


@dataclass(frozen=True, slots=True)
class OrderBook:
    """An L2 snapshot: bids best (highest) first, asks best (lowest) first.

    The ordering is checked on construction because fill models walk the levels in
    order and would silently give wrong prices on a mis-sorted or crossed book.
    """

    ts: datetime
    symbol: str
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]

    def __post_init__(self) -> None:
        _check_side(self.symbol, self.bids, descending=True)
        _check_side(self.symbol, self.asks, descending=False)
        if self.bids and self.asks and self.bids[0].price >= self.asks[0].price:
            raise ValidationFailed(
                f"{self.symbol}: crossed book, best bid {self.bids[0].price} >= best ask "
                f"{self.asks[0].price}",
                code="bad_order_book",
            )

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0].price if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0].price if self.asks else None

    @property
    def mid(self) -> Decimal | None:
        if not self.bids or not self.asks:
            return None
        return (self.bids[0].price + self.asks[0].price) / 2

    @property
    def spread(self) -> Decimal | None:
        if not self.bids or not self.asks:
            return None
        return self.asks[0].price - self.bids[0].price

    def levels(self, side: Side) -> tuple[BookLevel, ...]:
        """The levels a taker on `side` consumes: a buyer lifts asks, a seller hits bids."""
        return self.asks if side == "buy" else self.bids


def _check_side(symbol: str, levels: tuple[BookLevel, ...], *, descending: bool) -> None:
    previous: Decimal | None = None
    for i, level in enumerate(levels):
        if level.price <= ZERO or level.qty <= ZERO:
            raise ValidationFailed(
                f"{symbol}: book level {i} has non-positive price or qty "
                f"({level.price}, {level.qty})",
                code="bad_order_book",
            )
        if previous is not None and (
            (descending and level.price >= previous) or (not descending and level.price <= previous)
        ):
            order = "descending" if descending else "ascending"
            raise ValidationFailed(
                f"{symbol}: book levels must be strictly {order} by price (level {i}: "
                f"{level.price} after {previous})",
                code="bad_order_book",
            )
        previous = level.price


MarketEvent = Trade | Candle | OrderBook


def event_time(event: MarketEvent) -> datetime:
    """When an event becomes known: a candle only at its close, so replay never leaks."""
    return event.close_ts if isinstance(event, Candle) else event.ts
