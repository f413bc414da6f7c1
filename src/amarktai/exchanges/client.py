"""The one interface every venue connector implements, and the values it speaks.

Symbols are ours everywhere (`BTC/ZAR`, upper case, `base/quote`); each connector maps
them to its venue's names (Luno's `XBTZAR`, VALR's `BTCZAR`, OVEX's `btczar`) and back,
so nothing above a connector knows a venue's spelling. Amounts are `Decimal`, times are
timezone-aware UTC. Orders carry our client order id, which every venue here echoes back
(`clientOrderId`, `customerOrderId`, `client_id`): it is how an order is found again
after a timeout without placing it twice (`retry.place_once`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal, Protocol, runtime_checkable

from amarktai.markets.types import Candle, Instrument, OrderBook, Trade

Side = Literal["buy", "sell"]
OrderType = Literal["market", "limit"]
OrderStatus = Literal["open", "partially_filled", "filled", "cancelled", "rejected", "expired"]
VENUES = ("luno", "valr", "ovex", "binance", "kucoin", "bybit")


@dataclass(frozen=True, slots=True)
class Credentials:
    api_key: str
    api_secret: str
    passphrase: str | None = None  # KuCoin

    def __repr__(self) -> str:  # never print a secret
        return f"Credentials(api_key={self.api_key[:4]}…)"


@dataclass(frozen=True, slots=True)
class Ticker:
    symbol: str
    ts: datetime
    bid: Decimal | None
    ask: Decimal | None
    last: Decimal | None


@dataclass(frozen=True, slots=True)
class Balance:
    asset: str
    free: Decimal
    locked: Decimal

    @property
    def total(self) -> Decimal:
        return self.free + self.locked


@dataclass(frozen=True, slots=True)
class OrderRequest:
    symbol: str
    side: Side
    type: OrderType
    qty: Decimal
    client_order_id: str
    price: Decimal | None = None  # required for limit orders
    post_only: bool = False


@dataclass(frozen=True, slots=True)
class VenueOrder:
    symbol: str
    side: Side
    type: OrderType
    status: OrderStatus
    qty: Decimal
    filled_qty: Decimal
    price: Decimal | None
    avg_fill_price: Decimal | None
    venue_order_id: str
    client_order_id: str | None
    ts: datetime


@dataclass(frozen=True, slots=True)
class VenueFill:
    """One of our own executions; `venue_trade_id` is the idempotency key for booking."""

    venue_trade_id: str
    venue_order_id: str
    client_order_id: str | None
    symbol: str
    side: Side
    price: Decimal
    qty: Decimal
    fee: Decimal
    fee_asset: str
    liquidity: Literal["maker", "taker"] | None
    ts: datetime


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    symbol: str
    maker: Decimal  # fractions: 0.001 = 0.1 %
    taker: Decimal


@dataclass(frozen=True, slots=True)
class KeyPermissions:
    """What a key may do; None where the venue does not say."""

    read: bool | None
    trade: bool | None
    withdraw: bool | None


@runtime_checkable
class ExchangeClient(Protocol):
    """Async access to one venue with one key (or none, for public data).

    Every method raises a typed `amarktai.exchanges.errors.ExchangeError` on failure;
    a symbol the venue does not list raises `UnknownSymbol` naming it.
    """

    venue: str

    async def instruments(self) -> Sequence[Instrument]: ...
    async def ticker(self, symbol: str) -> Ticker: ...
    async def order_book(self, symbol: str, depth: int = 50) -> OrderBook: ...
    async def trades(self, symbol: str, limit: int = 100) -> Sequence[Trade]: ...
    async def ohlcv(
        self, symbol: str, timeframe_s: int, since: datetime | None = None, limit: int = 500
    ) -> Sequence[Candle]: ...
    async def balances(self) -> Sequence[Balance]: ...
    async def create_order(self, order: OrderRequest) -> VenueOrder: ...
    async def cancel_order(self, symbol: str, client_order_id: str) -> VenueOrder: ...
    async def fetch_order(self, symbol: str, client_order_id: str) -> VenueOrder: ...
    async def open_orders(self, symbol: str | None = None) -> Sequence[VenueOrder]: ...
    async def my_trades(
        self, symbol: str, since: datetime | None = None, limit: int = 100
    ) -> Sequence[VenueFill]: ...
    async def fees(self, symbol: str) -> FeeSchedule: ...
    async def key_permissions(self) -> KeyPermissions: ...
    async def close(self) -> None: ...
