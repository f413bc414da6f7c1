"""Closed trades (round trips) from a bot's fills, in exact Decimal.

A closed trade is one exit (sell) fill together with the entry (buy) fills that built the
position it sells from. This matches the ledger's average-cost accounting: the trade's
gross PnL is exactly the realised PnL the ledger booked on the sell (``FillRow.realised_pnl``),
its entry price is the released cost basis per unit, and the entry fees are released with
the same share of the position as the cost basis, so a partial exit carries only its share
and the fees of all trades add up to the fees the bot paid on closed quantity. Net PnL is
gross minus fees (the ledger keeps fees on their own account, never in cost basis).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, localcontext
from typing import Protocol

from amarktai.ledger.journal import PRECISION, ZERO, exact


class FillLike(Protocol):
    """What a round trip needs of a fill; `FillRow` has all of it."""

    @property
    def id(self) -> str: ...
    @property
    def ts(self) -> datetime: ...
    @property
    def symbol(self) -> str: ...
    @property
    def side(self) -> str: ...
    @property
    def price(self) -> Decimal: ...
    @property
    def qty(self) -> Decimal: ...
    @property
    def fee(self) -> Decimal: ...
    @property
    def fee_asset(self) -> str: ...
    @property
    def realised_pnl(self) -> Decimal | None: ...


@dataclass(frozen=True)
class RoundTrip:
    id: str  # the exit fill's id: unique, and sortable by time
    symbol: str
    entry_ts: datetime
    exit_ts: datetime
    qty: Decimal
    entry_price: Decimal
    exit_price: Decimal
    pnl: Decimal
    fees: Decimal
    entry_fills: int

    @property
    def net_pnl(self) -> Decimal:
        return exact(self.pnl - self.fees)

    @property
    def duration_s(self) -> float:
        return (self.exit_ts - self.entry_ts).total_seconds()


@dataclass
class _Open:
    """The position being built: quantity, entry fees not yet released, first entry."""

    qty: Decimal = ZERO
    fees: Decimal = ZERO
    opened_at: datetime | None = None
    entries: int = 0


def quote_fee(fill: FillLike, quote: str) -> Decimal:
    """A fee in the quote currency; a fee charged in the base asset is valued at the fill."""
    if fill.fee_asset == quote:
        return fill.fee
    return mul(fill.fee, fill.price)


def round_trips(fills: Iterable[FillLike], quote: str) -> list[RoundTrip]:
    """Every exit fill as a closed trade, oldest first."""
    state = _Open()
    trips: list[RoundTrip] = []
    for fill in sorted(fills, key=lambda f: (f.ts, f.id)):
        fee = quote_fee(fill, quote)
        if fill.side == "buy":
            _enter(state, fill, fee)
        else:
            trips.append(_exit(state, fill, fee))
    return trips


def _enter(state: _Open, fill: FillLike, fee: Decimal) -> None:
    if state.qty <= 0:
        state.opened_at, state.fees, state.entries = fill.ts, ZERO, 0
    state.qty = exact(state.qty + fill.qty)
    state.fees = exact(state.fees + fee)
    state.entries += 1


def _exit(state: _Open, fill: FillLike, fee: Decimal) -> RoundTrip:
    share = min(_div(fill.qty, state.qty), Decimal(1)) if state.qty > 0 else Decimal(1)
    entry_fees = state.fees if share == 1 else mul(state.fees, share)
    gross = fill.realised_pnl if fill.realised_pnl is not None else ZERO
    proceeds = mul(fill.qty, fill.price)
    trip = RoundTrip(
        id=fill.id,
        symbol=fill.symbol,
        entry_ts=state.opened_at or fill.ts,
        exit_ts=fill.ts,
        qty=fill.qty,
        entry_price=_div(exact(proceeds - gross), fill.qty),
        exit_price=fill.price,
        pnl=gross,
        fees=exact(entry_fees + fee),
        entry_fills=state.entries,
    )
    state.qty = exact(state.qty - fill.qty)
    state.fees = exact(state.fees - entry_fees)
    if state.qty <= 0:
        state.qty, state.fees, state.opened_at, state.entries = ZERO, ZERO, None, 0
    return trip


def mul(a: Decimal, b: Decimal) -> Decimal:
    """Exact product at the ledger's precision and scale."""
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return exact(a * b)


def _div(a: Decimal, b: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return exact(a / b)
