"""Persist what the venue did: order state, fills and their ledger postings, decision traces.

Everything one engine step changes is written in one transaction, so an order's status,
its fills and the ledger entries they post can never disagree after a crash.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from amarktai.db.bulk import BulkInsert
from amarktai.engine.models import DecisionTrace, FillRow, OrderRow
from amarktai.execution.orders import Fill, Order
from amarktai.kit.ids import new_id
from amarktai.ledger import journal
from amarktai.ledger.service import LedgerService
from amarktai.markets.types import Instrument


class Recorder:
    def __init__(self, session: AsyncSession, ledger: LedgerService) -> None:
        self.s = session
        self.ledger = ledger

    async def save_order(self, order: Order, user_id: str, now: datetime) -> OrderRow:
        values = _order_values(order, user_id, now)
        row = await self.s.get(OrderRow, order.id)
        if row is None:
            row = OrderRow(**values)
            self.s.add(row)
        else:
            for name in _ORDER_PROGRESS:
                setattr(row, name, values[name])
        await self.s.flush()  # fills reference the order row
        return row

    async def save_fill(self, fill: Fill, user_id: str, bot_id: str, inst: Instrument) -> FillRow:
        """Post the fill to the ledger (which refuses to spend unallocated capital) and keep it."""
        entry = await self.ledger.post_fill(user_id, ledger_fill(fill, bot_id, inst))
        row = FillRow(**_fill_values(fill, user_id, bot_id, entry))
        self.s.add(row)
        return row

    def save_trace(
        self,
        *,
        user_id: str,
        bot_id: str,
        ts: datetime,
        rule: str,
        signal: float,
        outcome: str,
        trace: dict[str, Any],
        order_id: str | None = None,
    ) -> DecisionTrace:
        row = DecisionTrace(
            **_trace_values(user_id, bot_id, ts, rule, signal, outcome, trace, order_id)
        )
        self.s.add(row)
        return row


class Rows:
    """New orders, fills and decision traces of one engine step, stored with one
    executemany insert per table (no ORM unit of work, no flush per row). The fills must
    already be booked: each carries its ledger entry."""

    def __init__(self) -> None:
        self.orders: list[dict[str, Any]] = []
        self.fills: list[dict[str, Any]] = []
        self.traces: list[dict[str, Any]] = []

    def order(self, order: Order, user_id: str, now: datetime) -> None:
        self.orders.append(_order_values(order, user_id, now))

    def fill(self, fill: Fill, user_id: str, bot_id: str, entry: journal.Entry) -> None:
        self.fills.append(_fill_values(fill, user_id, bot_id, entry))

    def trace(
        self,
        *,
        user_id: str,
        bot_id: str,
        ts: datetime,
        rule: str,
        signal: float,
        outcome: str,
        trace: dict[str, Any],
        order_id: str | None = None,
    ) -> None:
        self.traces.append(
            _trace_values(user_id, bot_id, ts, rule, signal, outcome, trace, order_id)
        )

    async def insert(self, s: AsyncSession) -> None:
        """Orders first: fills reference them."""
        for bulk, rows in (
            (_ORDER_INSERT, self.orders),
            (_FILL_INSERT, self.fills),
            (_TRACE_INSERT, self.traces),
        ):
            await bulk.run(s, [tuple(row[name] for name in bulk.columns) for row in rows])


def ledger_fill(fill: Fill, bot_id: str, inst: Instrument) -> journal.Fill:
    """A venue fill as the ledger books it; the fill id is its idempotency ref."""
    return journal.Fill(
        bot_id=bot_id,
        side=fill.side,
        base=inst.base,
        quote=inst.quote,
        qty=fill.qty,
        price=fill.price,
        fee=fill.fee,
        fee_asset=fill.fee_asset,
        ref=fill.id,
    )


def _fill_values(fill: Fill, user_id: str, bot_id: str, entry: journal.Entry) -> dict[str, Any]:
    return {
        "id": fill.id,
        "order_id": fill.order_id,
        "user_id": user_id,
        "bot_id": bot_id,
        "ts": fill.ts,
        "symbol": fill.symbol,
        "side": fill.side,
        "price": fill.price,
        "qty": fill.qty,
        "fee": fill.fee,
        "fee_asset": fill.fee_asset,
        "liquidity": fill.liquidity,
        "realised_pnl": _realised(entry, bot_id) if fill.side == "sell" else None,
        "ledger_entry_id": entry.id,
    }


def _trace_values(
    user_id: str,
    bot_id: str,
    ts: datetime,
    rule: str,
    signal: float,
    outcome: str,
    trace: dict[str, Any],
    order_id: str | None,
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "user_id": user_id,
        "bot_id": bot_id,
        "ts": ts,
        "rule": rule[:200],
        "signal": signal,
        "outcome": outcome,
        "trace": trace,
        "order_id": order_id,
    }


def _realised(entry: journal.Entry, bot_id: str) -> Any:
    """Realised PnL of a sell, as the ledger booked it on the bot's pnl account."""
    pnl_account = journal.bot_account(bot_id, "pnl")
    total = sum((p.amount for p in entry.postings if p.account == pnl_account), start=journal.ZERO)
    return -total


_ORDER_PROGRESS = ("status", "filled_qty", "avg_price", "fees", "reason", "updated_at")


def _order_values(order: Order, user_id: str, now: datetime) -> dict[str, Any]:
    """An order as an `orders` row (used for ORM rows and bulk inserts alike)."""
    return {
        "id": order.id,
        "user_id": user_id,
        "bot_id": order.bot_id,
        "client_order_id": order.client_order_id,
        "symbol": order.symbol,
        "side": order.side,
        "type": order.type,
        "time_in_force": order.time_in_force,
        "qty": order.qty,
        "limit_price": order.limit_price,
        "stop_price": order.stop_price,
        "created_at": order.created_at,
        "status": order.status,
        "filled_qty": order.filled_qty,
        "avg_price": order.avg_price,
        "fees": order.fees,
        "reason": order.reason,
        "updated_at": now,
    }


def _columns(model: type[OrderRow | FillRow | DecisionTrace]) -> BulkInsert:
    table = cast(Table, model.__table__)
    return BulkInsert(table, tuple(table.c.keys()))


# Every column of each table: the *_values helpers above set them all.
_ORDER_INSERT = _columns(OrderRow)
_FILL_INSERT = _columns(FillRow)
_TRACE_INSERT = _columns(DecisionTrace)
