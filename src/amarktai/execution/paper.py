"""Paper execution: two fill models and an in-memory venue that applies them.

PUBLIC paper (`PublicPaperFillModel`) needs no exchange account: takers fill in full at
the top of book (or last trade) moved by a configurable slippage, resting limits fill in
full as soon as a print reaches their price. It is deliberately simple and optimistic;
its results are for leaderboards, not for promising anyone a track record.

VERIFIED paper (`VerifiedPaperFillModel`) is as strict as we can be without a real
exchange: the instrument's real rules are enforced, takers walk the L2 book level by
level (partial fills when the book is thin, real VWAP and slippage), and a resting limit
fills only when the market trades THROUGH it (a print strictly better than our price).
Queue assumption: we are last in the queue at our price, so a print exactly at our
price proves only that the queue ahead was being worked, and fills nothing. A print
through our price fills at most the print's size, shared between our resting orders in
submission order, because the print proves only that much traded beyond us.

Both models trigger stops on prints (a trade, or a candle's range): a buy stop when a
print reaches or exceeds the stop price, a sell stop when one reaches or goes below it.
Fees are `price * qty * rate` in the quote currency, unrounded (the ledger rounds).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from amarktai.execution.orders import (
    Fill,
    Liquidity,
    Order,
    apply_fill,
    transition,
    validate_order,
)
from amarktai.kit.clock import Clock
from amarktai.kit.errors import Conflict, NotFound
from amarktai.kit.ids import new_id
from amarktai.kit.money import ZERO
from amarktai.markets.types import (
    BookLevel,
    Candle,
    Instrument,
    MarketEvent,
    OrderBook,
    Side,
    Trade,
    event_time,
)

BPS = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class Slice:
    """A piece of an execution before it becomes a Fill (price, size, who provided it)."""

    price: Decimal
    qty: Decimal
    liquidity: Liquidity


@dataclass(slots=True)
class MarketState:
    """The latest public data per symbol that fills are computed against."""

    book: OrderBook | None = None
    last_trade: Trade | None = None
    last_candle: Candle | None = None

    @property
    def last_price(self) -> Decimal | None:
        if self.last_trade is not None:
            return self.last_trade.price
        return self.last_candle.close if self.last_candle is not None else None

    def touch(self, side: Side) -> Decimal | None:
        """Best price a taker on `side` would pay/receive now (book first, else last print)."""
        if self.book is not None:
            level = self.book.levels(side)
            if level:
                return level[0].price
        return self.last_price


@dataclass(frozen=True, slots=True)
class Execution:
    """What a submit did: the order as it now stands, its fills, and the price it
    was judged against (the opposite touch at submit time) for slippage reporting."""

    order: Order
    fills: tuple[Fill, ...] = ()
    reference_price: Decimal | None = None

    @property
    def slippage_bps(self) -> Decimal | None:
        """Signed: positive means the fills were worse than the reference price."""
        if self.reference_price is None or self.order.avg_price is None or not self.fills:
            return None
        diff = self.order.avg_price - self.reference_price
        signed = diff if self.order.side == "buy" else -diff
        return signed / self.reference_price * BPS


class FillModel(Protocol):
    """How a paper venue turns orders plus public data into fills."""

    name: str

    def check_rules(self, order: Order, instrument: Instrument, state: MarketState) -> None: ...

    def take(
        self, order: Order, state: MarketState, limit: Decimal | None
    ) -> tuple[list[Slice], str | None]:
        """Immediate (taker) execution of `order.remaining`; returns the slices and, when
        nothing at all can execute, the reason why."""
        ...

    def fee_rate(self, liquidity: Liquidity, instrument: Instrument) -> Decimal: ...

    def print_fill(self, order: Order, event: Trade | Candle, available: Decimal) -> Slice | None:
        """Fill of a resting limit order by a print with `available` size left in it."""
        ...


# ---------------------------------------------------------------- pure book maths


def walk_book(
    levels: Sequence[BookLevel], qty: Decimal, limit: Decimal | None, side: Side
) -> list[Slice]:
    """Consume levels best-first until `qty` is done, the book runs out, or the next level
    is worse than `limit`. Never takes more than a level holds or than was asked."""
    slices: list[Slice] = []
    remaining = qty
    for level in levels:
        if remaining <= 0 or (limit is not None and _worse(level.price, limit, side)):
            break
        take = min(level.qty, remaining)
        slices.append(Slice(level.price, take, "taker"))
        remaining -= take
    return slices


def _worse(price: Decimal, limit: Decimal, side: Side) -> bool:
    return price > limit if side == "buy" else price < limit


def deplete(book: OrderBook, side: Side, slices: Sequence[Slice]) -> OrderBook:
    """The book after our taker slices, so a second order cannot reuse the same liquidity."""
    taken = {s.price: s.qty for s in slices}
    kept = tuple(
        BookLevel(lv.price, lv.qty - taken.get(lv.price, ZERO))
        for lv in book.levels(side)
        if lv.qty - taken.get(lv.price, ZERO) > 0
    )
    if side == "buy":
        return replace(book, asks=kept)
    return replace(book, bids=kept)


def vwap(slices: Sequence[Slice]) -> Decimal:
    qty = sum((s.qty for s in slices), ZERO)
    return sum((s.price * s.qty for s in slices), ZERO) / qty


def print_range(event: Trade | Candle) -> tuple[Decimal, Decimal, Decimal]:
    """(low, high, size) of a print: a trade is a single price, a candle its range."""
    if isinstance(event, Trade):
        return event.price, event.price, event.qty
    return event.low, event.high, event.volume


def stop_triggered(order: Order, event: Trade | Candle) -> bool:
    low, high, _ = print_range(event)
    stop = order.stop_price
    assert stop is not None  # validate_order guarantees it for stop types
    return high >= stop if order.side == "buy" else low <= stop


# ---------------------------------------------------------------- the two models


@dataclass(frozen=True, slots=True)
class PublicPaperFillModel:
    """Top-of-book fills plus slippage; full size always fills (see module docstring)."""

    slippage_bps: Decimal = Decimal(5)
    taker_fee: Decimal = Decimal("0.001")
    maker_fee: Decimal = Decimal("0.001")
    name: str = "paper-public"

    def check_rules(self, order: Order, instrument: Instrument, state: MarketState) -> None:
        validate_order(order)

    def take(
        self, order: Order, state: MarketState, limit: Decimal | None
    ) -> tuple[list[Slice], str | None]:
        touch = state.touch(order.side)
        if touch is None:
            return [], "no_market_data"
        factor = self.slippage_bps / BPS
        price = touch * (1 + factor) if order.side == "buy" else touch * (1 - factor)
        if limit is not None:
            if _worse(touch, limit, order.side):
                return [], None
            price = min(price, limit) if order.side == "buy" else max(price, limit)
        return [Slice(price, order.remaining, "taker")], None

    def fee_rate(self, liquidity: Liquidity, instrument: Instrument) -> Decimal:
        return self.taker_fee if liquidity == "taker" else self.maker_fee

    def print_fill(self, order: Order, event: Trade | Candle, available: Decimal) -> Slice | None:
        low, high, _ = print_range(event)
        limit = order.limit_price
        assert limit is not None
        reached = low <= limit if order.side == "buy" else high >= limit
        return Slice(limit, order.remaining, "maker") if reached else None


@dataclass(frozen=True, slots=True)
class VerifiedPaperFillModel:
    """Exchange rules, L2 book walking, trade-through limit fills (see module docstring).

    `maker_fee`/`taker_fee` override the instrument's fee tier (the account's real tier)."""

    maker_fee: Decimal | None = None
    taker_fee: Decimal | None = None
    name: str = "paper-verified"

    def check_rules(self, order: Order, instrument: Instrument, state: MarketState) -> None:
        validate_order(order)
        if order.limit_price is not None:
            instrument.check_order(order.qty, order.limit_price)
        if order.stop_price is not None:
            instrument.check_order(order.qty, order.stop_price)
        if order.type == "market":
            instrument.check_order(order.qty, state.touch(order.side))

    def take(
        self, order: Order, state: MarketState, limit: Decimal | None
    ) -> tuple[list[Slice], str | None]:
        if state.book is None:
            return [], "no_order_book"
        slices = walk_book(state.book.levels(order.side), order.remaining, limit, order.side)
        if not slices and limit is None:
            return [], "insufficient_liquidity"
        return slices, None

    def fee_rate(self, liquidity: Liquidity, instrument: Instrument) -> Decimal:
        if liquidity == "taker":
            return self.taker_fee if self.taker_fee is not None else instrument.taker_fee
        return self.maker_fee if self.maker_fee is not None else instrument.maker_fee

    def print_fill(self, order: Order, event: Trade | Candle, available: Decimal) -> Slice | None:
        low, high, _ = print_range(event)
        limit = order.limit_price
        assert limit is not None
        through = low < limit if order.side == "buy" else high > limit
        qty = min(order.remaining, available)
        return Slice(limit, qty, "maker") if through and qty > 0 else None


# ---------------------------------------------------------------- the venue


def _no_fill_status(order: Order, problem: str) -> str:
    """A new order with no data to price it is rejected; a thin book just cancels it."""
    if order.status == "new" and problem != "insufficient_liquidity":
        return "rejected"
    return "cancelled"


#: Finished (filled, cancelled, rejected) orders a venue keeps in memory, the oldest
#: dropped first: for `order()` lookups and resubmits of a client order id shortly after.
#: Older ones live in the database only; without a bound a long-running engine would
#: keep every order it ever placed (100 bots on one-minute bars: 144,000 a day).
KEEP_FINISHED = 10_000


@dataclass(slots=True)
class _Book:
    """Venue bookkeeping: orders by id (every open one, the last `KEEP_FINISHED`
    finished ones), open ones per symbol in time priority."""

    orders: dict[str, Order] = field(default_factory=dict)
    by_client: dict[tuple[str, str], str] = field(default_factory=dict)
    open: dict[str, dict[str, None]] = field(default_factory=dict)
    finished: deque[str] = field(default_factory=deque)


class PaperVenue:
    """An in-memory exchange for paper trading, driven by market events.

    Submitting the same (bot_id, client_order_id) again returns the existing order, so a
    retried request after a timeout never places a second order; reusing the id for a
    different request is a Conflict rather than a silent no-op. That holds while the
    venue still holds the order (open, or among its last `keep_finished` finished ones);
    beyond that the database's unique (bot, client order id) is the guard.
    """

    def __init__(
        self,
        model: FillModel,
        instruments: Iterable[Instrument],
        clock: Clock,
        *,
        keep_finished: int = KEEP_FINISHED,
    ) -> None:
        self.model = model
        self.clock = clock
        self.keep_finished = keep_finished
        #: Resting stops whose trigger traded on a print, filled or not since: their new
        #: state (triggered, or cancelled for want of liquidity) must reach the database
        #: even when no fill does. The engine takes them with `take_triggered`.
        self.triggered: list[str] = []
        self._instruments = {i.symbol: i for i in instruments}
        self._markets: dict[str, MarketState] = {}
        self._state = _Book()

    # -- queries

    def order(self, order_id: str) -> Order:
        try:
            return self._state.orders[order_id]
        except KeyError:
            raise NotFound(f"no order {order_id}", code="order_not_found") from None

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        symbols = [symbol] if symbol is not None else list(self._state.open)
        return [self._state.orders[i] for s in symbols for i in self._state.open.get(s, {})]

    def market(self, symbol: str) -> MarketState:
        state = self._markets.get(symbol)
        if state is None:
            state = self._markets[symbol] = MarketState()
        return state

    def instrument(self, symbol: str) -> Instrument:
        try:
            return self._instruments[symbol]
        except KeyError:
            raise NotFound(
                f"no instrument {symbol!r} on this venue", code="unknown_instrument"
            ) from None

    # -- commands

    def submit(self, order: Order) -> Execution:
        """Validate, execute what is immediately executable, rest the remainder if allowed."""
        key = (order.bot_id, order.client_order_id)
        existing_id = self._state.by_client.get(key)
        if existing_id is not None:
            return self._resubmitted(self._state.orders[existing_id], order)
        instrument = self.instrument(order.symbol)
        state = self.market(order.symbol)
        self.model.check_rules(order, instrument, state)
        reference = state.touch(order.side)
        self._state.by_client[key] = order.id
        order, fills = self._execute(order, self.clock.now())
        return Execution(order, tuple(fills), reference)

    def restore(self, order: Order) -> Order:
        """Put back a resting order read from the database after a restart, as it was:
        nothing executes now, it fills or triggers on the next prints like any resting
        order. One the venue already knows is returned as the venue has it."""
        known = self._state.orders.get(order.id)
        if known is not None:
            return known
        if order.is_terminal or order.acts_as == "market":
            raise Conflict(
                f"order {order.id} ({order.type}, {order.status}) cannot rest on the venue",
                code="order_not_restorable",
            )
        self.instrument(order.symbol)  # an unknown symbol is NotFound, as on submit
        self._state.by_client[(order.bot_id, order.client_order_id)] = order.id
        return self._rest(order)

    def take_triggered(self) -> list[Order]:
        """The stops triggered since the last call, as the venue now has them."""
        ids, self.triggered = self.triggered, []
        return [self._state.orders[i] for i in dict.fromkeys(ids) if i in self._state.orders]

    def cancel(self, order_id: str, *, reason: str = "user_cancelled") -> Order:
        order = transition(self.order(order_id), "cancelled", reason=reason)
        self._store(order)
        return order

    def replace(
        self,
        order_id: str,
        *,
        client_order_id: str,
        qty: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> Execution:
        """Cancel/replace: the old order is cancelled first, so both can never fill."""
        old = self.cancel(order_id, reason="replaced")
        new = replace(
            old,
            id=new_id(),
            client_order_id=client_order_id,
            qty=qty if qty is not None else old.remaining,
            limit_price=limit_price if limit_price is not None else old.limit_price,
            stop_price=stop_price if stop_price is not None else old.stop_price,
            created_at=self.clock.now(),
            status="new",
            filled_qty=ZERO,
            avg_price=None,
            fees=ZERO,
            triggered=False,
            reason=None,
        )
        return self.submit(new)

    def on_event(self, event: MarketEvent) -> list[Fill]:
        """Update the market and fill/trigger this symbol's open orders; returns new fills.

        Runs for every market event of every symbol, and most meet no resting order
        there: that case is a dict lookup and an attribute store, nothing else."""
        symbol = event.symbol
        state = self._markets.get(symbol)
        if state is None:
            state = self.market(symbol)
        if isinstance(event, Trade):
            state.last_trade = event
        elif isinstance(event, OrderBook):
            state.book = event
            return []
        else:
            state.last_candle = event
        if not self._state.open.get(symbol):
            return []
        return self._on_print(event)

    # -- internals

    def _resubmitted(self, existing: Order, order: Order) -> Execution:
        if not existing.same_request(order):
            raise Conflict(
                f"client_order_id {order.client_order_id!r} was already used for a different "
                f"order ({existing.id})",
                code="client_order_id_conflict",
            )
        return Execution(existing)

    def _execute(self, order: Order, ts: datetime) -> tuple[Order, list[Fill]]:
        mode = order.acts_as
        if mode == "pending_stop":
            return self._rest(order), []
        limit = order.limit_price if mode == "limit" else None
        state = self.market(order.symbol)
        slices, problem = self.model.take(order, state, limit)
        if order.time_in_force == "FOK" and sum((s.qty for s in slices), ZERO) < order.remaining:
            return self._finish(order, "cancelled", "fok_not_fillable"), []
        if problem is not None and not slices:
            return self._finish(order, _no_fill_status(order, problem), problem), []
        order, fills = self._apply(order, slices, ts)
        if state.book is not None and slices and isinstance(self.model, VerifiedPaperFillModel):
            state.book = deplete(state.book, order.side, slices)
        return self._after_take(order, mode), fills

    def _after_take(self, order: Order, mode: str) -> Order:
        if order.status == "filled":
            return self._store(order)
        if mode == "market":
            return self._finish(order, "cancelled", "insufficient_liquidity")
        if order.time_in_force == "IOC":
            return self._finish(order, "cancelled", "ioc_remainder")
        return self._rest(order)

    def _apply(
        self, order: Order, slices: Sequence[Slice], ts: datetime
    ) -> tuple[Order, list[Fill]]:
        instrument = self._instruments[order.symbol]
        fills = []
        for s in slices:
            rate = self.model.fee_rate(s.liquidity, instrument)
            fill = Fill(
                order.id,
                ts,
                order.symbol,
                order.side,
                s.price,
                s.qty,
                s.price * s.qty * rate,
                instrument.quote,
                s.liquidity,
            )
            order = apply_fill(order, fill)
            fills.append(fill)
        return order, fills

    def _rest(self, order: Order) -> Order:
        if order.status == "new":
            order = transition(order, "open")
        self._state.open.setdefault(order.symbol, {})[order.id] = None
        return self._store(order)

    def _finish(self, order: Order, status: str, reason: str) -> Order:
        order = transition(order, status, reason=reason)  # type: ignore[arg-type]
        return self._store(order)

    def _store(self, order: Order) -> Order:
        state = self._state
        previous = state.orders.get(order.id)
        state.orders[order.id] = order
        if order.is_terminal:
            state.open.get(order.symbol, {}).pop(order.id, None)
            if previous is None or not previous.is_terminal:
                self._retire(order.id)
        return order

    def _retire(self, order_id: str) -> None:
        """Forget the oldest finished orders beyond `keep_finished` (see KEEP_FINISHED)."""
        state = self._state
        state.finished.append(order_id)
        while len(state.finished) > self.keep_finished:
            old = state.orders.pop(state.finished.popleft())
            key = (old.bot_id, old.client_order_id)
            if state.by_client.get(key) == old.id:
                del state.by_client[key]

    def _on_print(self, event: Trade | Candle) -> list[Fill]:
        if not self._state.open.get(event.symbol):
            return []  # hot path: most prints meet no resting order
        fills: list[Fill] = []
        available = print_range(event)[2]
        ts = event_time(event)
        for order_id in list(self._state.open.get(event.symbol, {})):
            order = self._state.orders[order_id]
            if order.acts_as == "pending_stop":
                if stop_triggered(order, event):
                    order = self._store(replace(order, triggered=True))
                    fills.extend(self._execute(order, ts)[1])
                    self.triggered.append(order.id)
                continue
            piece = self.model.print_fill(order, event, available)
            if piece is not None:
                order, new = self._apply(order, [piece], ts)
                self._store(order)
                available -= piece.qty
                fills.extend(new)
        return fills
