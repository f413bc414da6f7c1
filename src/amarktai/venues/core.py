"""The venue-neutral heart of the local venue server: accounts, books, orders, matching.

Why it exists: CI has to run the real path (bot → planner → client → HTTP → fill →
ledger) without a remote exchange, and a mock of our own client would prove nothing.
So this is a small exchange instead: it keeps balances per API key, an order book per
pair (fed step by step from the seeded `sim` market or from a replay file), and real
order state, and it matches orders against that book. Each dialect module (VALR's is
`valr_server`) only translates its venue's wire protocol onto `VenueCore`.

Model, deliberately simple and stated here so tests can rely on it:

* Taker liquidity comes from the current book and is consumed: the matching reuses
  `execution.paper.walk_book`/`deplete` (the VERIFIED paper model's maths), so a second
  order cannot take the same level again until the feed publishes the next book.
* A limit order takes what crosses, then rests for the rest (GTC) with its funds
  reserved; a post-only order that would cross fails instead. A market order is
  immediate-or-cancel. A resting order fills, as maker and at its own price, when a
  later book from the feed crosses it (the market traded through it), in time priority.
* Orders are accepted first and settled after (202 semantics): checks of the order's
  shape (pair, size, precision, client id) refuse the request; a shortfall of funds is
  found while settling and the order ends `failed` with the venue's reason.
* Fees come from a tier table (maker/taker fraction per pair, per tier); the buyer pays
  in the base asset and the seller in the quote asset (VALR's convention). A negative
  maker rate is a rebate credited in the same asset. A fee is rounded half-up to the
  asset's precision (the pair's qty step for the base, cents for fiat, 8 places for
  other assets), because a venue books whole units of an asset: an unrounded fee would
  leave the bot holding a quantity off the pair's grid that it could never sell.
* Money is `Decimal` end to end; nothing else is rounded.

It is thread-safe (one re-entrant lock), because the server answers from its own thread
while a test flips fault switches or advances the market from another.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Literal, Protocol

from amarktai.execution.paper import Slice, deplete, walk_book
from amarktai.kit.errors import ValidationFailed
from amarktai.kit.money import ZERO
from amarktai.markets.sim import SimConfig, SimMarket
from amarktai.markets.types import BookLevel, Instrument, MarketEvent, OrderBook, Trade

Side = Literal["buy", "sell"]
OrderKind = Literal["limit", "market"]
Status = Literal["placed", "partially_filled", "filled", "cancelled", "failed"]
FaultKind = Literal["timeout", "5xx", "drop"]

#: Public prints kept per pair (trade history and candles are built from them).
KEEP_TRADES = 5_000
#: Fills kept per account, newest last.
KEEP_FILLS = 10_000
#: Assets booked in cents; any other quote asset is booked to 8 places.
FIAT = frozenset({"ZAR", "USD", "EUR", "GBP"})


class VenueReject(Exception):
    """A request the venue refuses outright; the dialect renders it in its own shape."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind  # unknown_pair, invalid_order, not_found, duplicate_id, forbidden
        self.message = message


# ---------------------------------------------------------------------------- market feed


class BookFeed(Protocol):
    """Where the books and public prints come from, one step at a time."""

    def instruments(self) -> Sequence[Instrument]: ...

    def next_step(self) -> tuple[list[OrderBook], list[Trade]]: ...


class SimFeed:
    """The seeded `sim` market: the same seed gives the same books and prints."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self._market = SimMarket(config or SimConfig())
        self._steps: Iterator[list[MarketEvent]] = self._market.steps()

    def instruments(self) -> Sequence[Instrument]:
        return self._market.instruments()

    def next_step(self) -> tuple[list[OrderBook], list[Trade]]:
        events = next(self._steps)
        books = [e for e in events if isinstance(e, OrderBook)]
        trades = [e for e in events if isinstance(e, Trade)]
        return books, trades


class ReplayFeed:
    """Books and prints read from a JSON-lines file, one step per line, then held.

    Each line is ``{"books": [...], "trades": [...]}`` with books as
    ``{"symbol", "ts", "bids": [[price, qty], ...], "asks": [...]}`` and trades as
    ``{"symbol", "ts", "price", "qty", "side"}`` (numbers as strings, for Decimal). After
    the last line the last books stay in place, so a short recording serves a long test.
    """

    def __init__(self, path: Path, instruments: Sequence[Instrument]) -> None:
        self._instruments = tuple(instruments)
        self._lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
        self._at = 0
        if not self._lines:
            raise ValidationFailed(f"replay file {path} has no steps", code="bad_replay")

    def instruments(self) -> Sequence[Instrument]:
        return self._instruments

    def next_step(self) -> tuple[list[OrderBook], list[Trade]]:
        if self._at >= len(self._lines):
            return [], []
        raw = json.loads(self._lines[self._at])
        self._at += 1
        books = [
            OrderBook(
                ts=datetime.fromisoformat(b["ts"]),
                symbol=b["symbol"],
                bids=tuple(BookLevel(Decimal(p), Decimal(q)) for p, q in b["bids"]),
                asks=tuple(BookLevel(Decimal(p), Decimal(q)) for p, q in b["asks"]),
            )
            for b in raw.get("books", [])
        ]
        trades = [
            Trade(
                ts=datetime.fromisoformat(t["ts"]),
                symbol=t["symbol"],
                price=Decimal(t["price"]),
                qty=Decimal(t["qty"]),
                side=t["side"],
            )
            for t in raw.get("trades", [])
        ]
        return books, trades


# ---------------------------------------------------------------------------- state


@dataclass(slots=True)
class Holding:
    available: Decimal = ZERO
    reserved: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.available + self.reserved


@dataclass(frozen=True, slots=True)
class FeeTier:
    """Maker/taker fractions (0.001 = 0.1 %) per venue pair id, with a fallback."""

    maker: Decimal
    taker: Decimal
    per_pair: Mapping[str, tuple[Decimal, Decimal]] = field(default_factory=dict)

    def rates(self, pair: str) -> tuple[Decimal, Decimal]:
        return self.per_pair.get(pair, (self.maker, self.taker))


@dataclass(slots=True)
class Account:
    key: str
    secret: str
    permissions: tuple[str, ...]
    tier: str
    balances: dict[str, Holding] = field(default_factory=dict)
    fills: deque[VenueFillRecord] = field(default_factory=lambda: deque(maxlen=KEEP_FILLS))

    def holding(self, asset: str) -> Holding:
        found = self.balances.get(asset)
        if found is None:
            found = self.balances[asset] = Holding()
        return found


@dataclass(frozen=True, slots=True)
class VenueFillRecord:
    """One execution of one of an account's orders."""

    trade_id: str
    order_id: str
    customer_order_id: str | None
    pair: str
    side: Side
    price: Decimal
    qty: Decimal
    fee: Decimal  # negative: a maker rebate
    fee_asset: str
    maker: bool
    ts: datetime
    seq: int


@dataclass(slots=True)
class PublicPrint:
    trade_id: str
    pair: str
    price: Decimal
    qty: Decimal
    taker_side: Side
    ts: datetime
    seq: int


@dataclass(slots=True)
class VenueOrderState:
    order_id: str
    account: str
    pair: str
    side: Side
    kind: OrderKind
    qty: Decimal
    price: Decimal | None
    post_only: bool
    customer_order_id: str | None
    created: datetime
    updated: datetime
    time_in_force: str = "GTC"
    remaining: Decimal = ZERO
    status: Status = "placed"
    failed_reason: str = ""
    filled_value: Decimal = ZERO  # sum(price x qty) of fills, for the average price
    reserved: Decimal = ZERO  # funds held for the resting remainder

    @property
    def filled_qty(self) -> Decimal:
        return self.qty - self.remaining

    @property
    def average_price(self) -> Decimal | None:
        filled = self.filled_qty
        return self.filled_value / filled if filled > 0 else None

    @property
    def is_open(self) -> bool:
        return self.status in ("placed", "partially_filled")


@dataclass(slots=True)
class Market:
    instrument: Instrument
    pair: str
    book: OrderBook
    prints: deque[PublicPrint] = field(default_factory=lambda: deque(maxlen=KEEP_TRADES))


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """An order as the dialect parsed it: size in base (`qty`) or, for a market order,
    in quote (`quote_amount`), exactly one of the two."""

    pair: str
    side: Side
    kind: OrderKind
    qty: Decimal | None
    price: Decimal | None = None
    quote_amount: Decimal | None = None
    post_only: bool = False
    customer_order_id: str | None = None
    time_in_force: str = "GTC"


# ---------------------------------------------------------------------------- rate limits


@dataclass
class RateLimiter:
    """Fixed windows, as VALR counts (per calendar minute by default): `limit` calls per
    `window_s` per key; `check` answers the seconds until the window resets when over."""

    limit: int
    window_s: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _counts: dict[str, tuple[int, int]] = field(default_factory=dict)

    def check(self, key: str) -> float | None:
        now = self.clock()
        window = int(now // self.window_s)
        seen_window, count = self._counts.get(key, (window, 0))
        if seen_window != window:
            count = 0
        if count >= self.limit:
            self._counts[key] = (window, count)
            return (window + 1) * self.window_s - now
        self._counts[key] = (window, count + 1)
        return None


# ---------------------------------------------------------------------------- faults


@dataclass(frozen=True, slots=True)
class Fault:
    """One armed failure for the next request that matches it.

    `timeout`: the reply is held `delay_s` (longer than the client waits); `5xx`: a 503
    page instead of a reply; `drop`: the connection is cut after the reply's status line.
    `after_action` says whether the venue acts on the request first (an order placed,
    then the reply lost) — the case `retry.place_once` exists for.
    """

    kind: FaultKind
    method: str | None = None
    path_prefix: str | None = None
    after_action: bool = True
    delay_s: float = 5.0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path_prefix is None or path.startswith(self.path_prefix)
        )


class Faults:
    """Switches a test flips: each armed fault fires once, on the first matching request."""

    def __init__(self) -> None:
        self._armed: list[Fault] = []
        self._lock = threading.Lock()
        self.fired: list[tuple[FaultKind, str, str]] = []

    def arm(self, fault: Fault) -> None:
        with self._lock:
            self._armed.append(fault)

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for i, fault in enumerate(self._armed):
                if fault.matches(method, path):
                    del self._armed[i]
                    self.fired.append((fault.kind, method, path))
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()


# ---------------------------------------------------------------------------- the venue


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class VenueCore:
    """One exchange's state. `pair_id` maps our `BTC/ZAR` to the venue's spelling."""

    def __init__(
        self,
        feed: BookFeed,
        *,
        tiers: Mapping[str, FeeTier],
        pair_id: Callable[[Instrument], str],
        clock: Callable[[], float] = time.time,
        id_prefix: str = "0000",
    ) -> None:
        self.feed = feed
        self.tiers = dict(tiers)
        self.clock = clock
        self.lock = threading.RLock()
        self.faults = Faults()
        self.accounts: dict[str, Account] = {}
        self.orders: dict[str, VenueOrderState] = {}
        self._by_customer: dict[tuple[str, str, str], str] = {}
        self._resting: dict[str, list[str]] = {}  # pair -> order ids in time priority
        self._ids = itertools.count(1)
        self._seq = itertools.count(1)
        self._id_prefix = id_prefix
        self.requests = 0
        #: On: orders are accepted (202) and stay `placed` until `settle_pending()`, as
        #: VALR's matching engine settles after the reply; off: settled before the reply.
        self.hold_settlement = False
        self._pending: list[tuple[str, OrderRequest]] = []
        books, trades = feed.next_step()
        by_symbol = {b.symbol: b for b in books}
        self.markets: dict[str, Market] = {}
        self._pair_of: dict[str, str] = {}
        for instrument in feed.instruments():
            pair = pair_id(instrument)
            book = by_symbol.get(instrument.symbol) or OrderBook(
                ts=_utc(clock()), symbol=instrument.symbol, bids=(), asks=()
            )
            self.markets[pair] = Market(instrument=instrument, pair=pair, book=book)
            self._pair_of[instrument.symbol] = pair
        self._add_prints(trades)

    # -- set-up ---------------------------------------------------------------------

    def add_account(
        self,
        key: str,
        secret: str,
        balances: Mapping[str, Decimal],
        *,
        permissions: Sequence[str] = ("View access", "Trade"),
        tier: str = "default",
    ) -> Account:
        if tier not in self.tiers:
            raise ValidationFailed(f"no fee tier {tier!r}", code="bad_venue_config")
        account = Account(key=key, secret=secret, permissions=tuple(permissions), tier=tier)
        for asset, amount in balances.items():
            account.holding(asset).available = Decimal(amount)
        with self.lock:
            self.accounts[key] = account
        return account

    def new_id(self) -> str:
        """Ids in UUID shape (as VALR's are), deterministic so runs compare."""
        n = next(self._ids)
        return f"{n:08x}-{self._id_prefix}-4000-8000-{n:012x}"

    # -- market data ----------------------------------------------------------------

    def market(self, pair: str) -> Market:
        found = self.markets.get(pair)
        if found is None:
            raise VenueReject("unknown_pair", f"Currency pair {pair} is not supported")
        return found

    def pair_for(self, symbol: str) -> str:
        return self._pair_of[symbol]

    def advance(self, steps: int = 1) -> None:
        """Publish the feed's next books and prints, then fill resting orders they cross."""
        for _ in range(steps):
            books, trades = self.feed.next_step()
            with self.lock:
                for book in books:
                    pair = self._pair_of.get(book.symbol)
                    if pair is not None:
                        self.markets[pair].book = book
                self._add_prints(trades)
                for pair in self.markets:
                    self._match_resting(pair)

    def set_book(self, symbol: str, book: OrderBook) -> None:
        """Replace one pair's book (a test that needs an exact book), then match."""
        with self.lock:
            pair = self._pair_of[symbol]
            self.markets[pair].book = book
            self._match_resting(pair)

    def _add_prints(self, trades: Sequence[Trade]) -> None:
        for trade in trades:
            pair = self._pair_of.get(trade.symbol)
            if pair is None:
                continue
            market = self.markets[pair]
            market.prints.append(
                PublicPrint(
                    trade_id=trade.trade_id or self.new_id(),
                    pair=pair,
                    price=trade.price,
                    qty=trade.qty,
                    taker_side=trade.side,
                    ts=trade.ts,
                    seq=next(self._seq),
                )
            )

    # -- orders ---------------------------------------------------------------------

    def place(self, account: Account, request: OrderRequest) -> VenueOrderState:
        """Accept an order (refusing a malformed one) and settle it against the book."""
        with self.lock:
            market = self.market(request.pair)
            self._check_shape(account, market, request)
            now = _utc(self.clock())
            order = VenueOrderState(
                order_id=self.new_id(),
                account=account.key,
                pair=request.pair,
                side=request.side,
                kind=request.kind,
                qty=request.qty or ZERO,
                price=request.price,
                post_only=request.post_only,
                customer_order_id=request.customer_order_id,
                created=now,
                updated=now,
                time_in_force=request.time_in_force,
            )
            self.orders[order.order_id] = order
            if request.customer_order_id is not None:
                key = (account.key, request.pair, request.customer_order_id)
                self._by_customer[key] = order.order_id
            if self.hold_settlement:
                order.remaining = order.qty
                self._pending.append((order.order_id, request))
            else:
                self._settle(account, market, order, request)
            return order

    def settle_pending(self) -> int:
        """Settle the orders accepted while `hold_settlement` was on, in arrival order;
        returns how many. A cancel that came first leaves its order cancelled."""
        with self.lock:
            pending, self._pending = self._pending, []
            for order_id, request in pending:
                order = self.orders[order_id]
                if order.status == "placed":
                    account = self.accounts[order.account]
                    self._settle(account, self.markets[order.pair], order, request)
            return len(pending)

    def _check_shape(self, account: Account, market: Market, request: OrderRequest) -> None:
        cid = request.customer_order_id
        if cid is not None:
            known = self._by_customer.get((account.key, request.pair, cid))
            if known is not None and self.orders[known].is_open:
                raise VenueReject("duplicate_id", "Duplicate customer order id")
        if request.kind == "limit" and (request.price is None or request.price <= 0):
            raise VenueReject("invalid_order", "Price is required for limit orders")
        if request.qty is None and request.quote_amount is None:
            raise VenueReject("invalid_order", "Order quantity is required")
        if request.qty is not None:
            price = request.price if request.kind == "limit" else None
            try:
                market.instrument.check_order(request.qty, price)
            except ValidationFailed as exc:
                raise VenueReject("invalid_order", exc.message) from exc
        if request.quote_amount is not None and request.quote_amount <= 0:
            raise VenueReject("invalid_order", "Quote amount must be positive")

    def _settle(
        self, account: Account, market: Market, order: VenueOrderState, request: OrderRequest
    ) -> None:
        instrument = market.instrument
        levels = market.book.levels(order.side)
        if request.quote_amount is not None:  # market order sized in quote
            slices = _walk_quote(levels, request.quote_amount, instrument.qty_step)
            order.qty = sum((s.qty for s in slices), ZERO)
            if order.qty <= 0:
                order.remaining = ZERO
                self._fail(order, "Insufficient liquidity")
                return
        else:
            limit = order.price if order.kind == "limit" else None
            slices = walk_book(levels, order.qty, limit, order.side)
        order.remaining = order.qty
        if order.post_only and slices:
            self._fail(order, "Post only cancelled as it would have been a taker")
            return
        taken = sum((s.qty for s in slices), ZERO)
        cost = sum((s.price * s.qty for s in slices), ZERO)
        rest = order.qty - taken if order.kind == "limit" else ZERO
        base, quote = instrument.base, instrument.quote
        if order.side == "buy":
            need_asset, need = quote, cost + (rest * order.price if order.price else ZERO)
        else:
            need_asset, need = base, order.qty if order.kind == "limit" else taken
        if account.holding(need_asset).available < need:
            self._fail(order, "Insufficient Balance")
            return
        if order.kind == "market" and not slices:
            self._fail(order, "Insufficient liquidity")
            return
        for s in slices:
            self._execute(account, market, order, s.price, s.qty, maker=False)
        if slices:
            market.book = deplete(market.book, order.side, slices)
        if order.kind == "limit" and order.remaining > 0:
            self._reserve(account, market, order)
            self._resting.setdefault(order.pair, []).append(order.order_id)
        elif order.remaining > 0:  # a market order does not rest: the rest is cancelled
            order.status = "cancelled"
        order.updated = _utc(self.clock())

    def _fail(self, order: VenueOrderState, reason: str) -> None:
        order.status = "failed"
        order.failed_reason = reason
        order.updated = _utc(self.clock())

    def _reserve(self, account: Account, market: Market, order: VenueOrderState) -> None:
        assert order.price is not None
        asset = market.instrument.quote if order.side == "buy" else market.instrument.base
        amount = order.remaining * order.price if order.side == "buy" else order.remaining
        holding = account.holding(asset)
        holding.available -= amount
        holding.reserved += amount
        order.reserved = amount

    def _release(self, account: Account, market: Market, order: VenueOrderState) -> None:
        asset = market.instrument.quote if order.side == "buy" else market.instrument.base
        holding = account.holding(asset)
        holding.reserved -= order.reserved
        holding.available += order.reserved
        order.reserved = ZERO

    def _execute(
        self,
        account: Account,
        market: Market,
        order: VenueOrderState,
        price: Decimal,
        qty: Decimal,
        *,
        maker: bool,
    ) -> VenueFillRecord:
        """Move the money of one execution: qty x price between base and quote, and the
        fee (buyer in base, seller in quote) off the asset received."""
        instrument = market.instrument
        maker_rate, taker_rate = self.tiers[account.tier].rates(market.pair)
        rate = maker_rate if maker else taker_rate
        value = price * qty
        base, quote = account.holding(instrument.base), account.holding(instrument.quote)
        if order.side == "buy":
            fee = (qty * rate).quantize(instrument.qty_step, ROUND_HALF_UP)
            fee_asset = instrument.base
            spend = min(order.reserved, value) if maker else ZERO
            quote.reserved -= spend
            order.reserved -= spend
            quote.available -= value - spend
            base.available += qty - fee
        else:
            cents = Decimal("0.01") if instrument.quote in FIAT else Decimal("1E-8")
            fee = (value * rate).quantize(cents, ROUND_HALF_UP)
            fee_asset = instrument.quote
            spend = min(order.reserved, qty) if maker else ZERO
            base.reserved -= spend
            order.reserved -= spend
            base.available -= qty - spend
            quote.available += value - fee
        now = _utc(self.clock())
        order.remaining -= qty
        order.filled_value += value
        order.status = "filled" if order.remaining <= 0 else "partially_filled"
        order.updated = now
        fill = VenueFillRecord(
            trade_id=self.new_id(),
            order_id=order.order_id,
            customer_order_id=order.customer_order_id,
            pair=market.pair,
            side=order.side,
            price=price,
            qty=qty,
            fee=fee,
            fee_asset=fee_asset,
            maker=maker,
            ts=now,
            seq=next(self._seq),
        )
        account.fills.append(fill)
        # our execution is a public print too; the taker side is the aggressor's
        taker_side: Side = order.side if not maker else ("sell" if order.side == "buy" else "buy")
        market.prints.append(
            PublicPrint(fill.trade_id, market.pair, price, qty, taker_side, now, fill.seq)
        )
        return fill

    def _match_resting(self, pair: str) -> None:
        """Resting orders the new book crosses fill at their own price, as maker, in time
        priority, each taking (and removing) the crossing liquidity it uses."""
        ids = self._resting.get(pair)
        if not ids:
            return
        market = self.markets[pair]
        still: list[str] = []
        for order_id in ids:
            order = self.orders[order_id]
            if not order.is_open:
                continue
            assert order.price is not None
            crossing = walk_book(
                market.book.levels(order.side), order.remaining, order.price, order.side
            )
            if crossing:
                account = self.accounts[order.account]
                qty = sum((s.qty for s in crossing), ZERO)
                self._execute(account, market, order, order.price, qty, maker=True)
                market.book = deplete(market.book, order.side, crossing)
                if not order.is_open:
                    self._release(account, market, order)  # rounding dust, if any
            if order.is_open:
                still.append(order_id)
        self._resting[pair] = still

    def cancel(self, account: Account, pair: str, *, customer_order_id: str | None = None,
               order_id: str | None = None) -> VenueOrderState:  # fmt: skip
        """Cancel an open order; a finished one is left as it is (as venues do)."""
        with self.lock:
            order = self.find(account, pair, customer_order_id=customer_order_id, order_id=order_id)
            if order.is_open:
                self._release(account, self.market(pair), order)
                order.status = "cancelled"
                order.updated = _utc(self.clock())
            return order

    def find(self, account: Account, pair: str, *, customer_order_id: str | None = None,
             order_id: str | None = None) -> VenueOrderState:  # fmt: skip
        with self.lock:
            self.market(pair)
            if customer_order_id is not None:
                order_id = self._by_customer.get((account.key, pair, customer_order_id))
            order = self.orders.get(order_id or "")
            if order is None or order.account != account.key or order.pair != pair:
                raise VenueReject("not_found", "Order not found")
            return order

    def open_orders(self, account: Account) -> list[VenueOrderState]:
        with self.lock:
            return [o for o in self.orders.values() if o.account == account.key and o.is_open]

    def account_orders(self, key: str) -> list[VenueOrderState]:
        """Every order an account placed (for tests: exactly one, not two)."""
        with self.lock:
            return [o for o in self.orders.values() if o.account == key]

    def fills(self, account: Account, pair: str, limit: int) -> list[VenueFillRecord]:
        """Newest first, as venues list account history."""
        with self.lock:
            mine = [f for f in reversed(account.fills) if f.pair == pair]
            return mine[:limit]

    def prints(self, pair: str, limit: int) -> list[PublicPrint]:
        with self.lock:
            return list(reversed(self.market(pair).prints))[:limit]

    def snapshot(self, pair: str) -> tuple[OrderBook, list[VenueOrderState]]:
        """The feed's book and our resting orders on it (a venue shows both)."""
        with self.lock:
            market = self.market(pair)
            resting = [
                self.orders[i] for i in self._resting.get(pair, ()) if self.orders[i].is_open
            ]
            return market.book, resting


def _walk_quote(levels: Sequence[BookLevel], amount: Decimal, step: Decimal) -> list[Slice]:
    """A market order sized in quote: take levels until `amount` is spent, the last level
    only to the whole qty step the rest of the money buys."""
    slices: list[Slice] = []
    left = amount
    for level in levels:
        if left <= 0:
            break
        qty = min(level.qty, (left / level.price // step) * step)
        if qty <= 0:
            break
        slices.append(Slice(level.price, qty, "taker"))
        left -= qty * level.price
    return slices
