"""Persist what the venue did: order state, fills and their ledger postings, decision traces
(and the events and trace entries that report them).

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
from amarktai.execution.orders import Fill, Order, OrderStatus, OrderType, TimeInForce
from amarktai.execution.paper import Execution
from amarktai.kit.ids import new_id
from amarktai.ledger import journal
from amarktai.ledger.service import LedgerService
from amarktai.markets.types import Instrument, Side


class Recorder:
    def __init__(self, session: AsyncSession, ledger: LedgerService) -> None:
        self.s = session
        self.ledger = ledger

    async def save_order(self, order: Order, user_id: str, now: datetime) -> OrderRow:
        values = order_values(order, user_id, now)
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
        row = FillRow(**fill_values(fill, user_id, bot_id, entry))
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
    executemany insert per table (no ORM unit of work, no flush per row). Rows are kept
    as tuples in the insert's column order, the shape the driver takes, so no dict is
    built and unpacked per row. The fills must already be booked: each carries its
    ledger entry."""

    __slots__ = ("fills", "orders", "traces")

    def __init__(self) -> None:
        self.orders: list[tuple[Any, ...]] = []
        self.fills: list[tuple[Any, ...]] = []
        self.traces: list[tuple[Any, ...]] = []

    def order(self, order: Order, user_id: str, now: datetime) -> None:
        self.orders.append(_order_row(order, user_id, now))

    def fill(self, fill: Fill, user_id: str, bot_id: str, entry: journal.Entry) -> None:
        self.fills.append(_fill_row(fill, user_id, bot_id, entry))

    def trace(
        self,
        user_id: str,
        bot_id: str,
        ts: datetime,
        rule: str,
        signal: float,
        outcome: str,
        trace: dict[str, Any],
        order_id: str | None = None,
    ) -> None:
        row = (new_id(), user_id, bot_id, ts, rule[:200], signal, outcome, trace, order_id)
        self.traces.append(row)

    async def insert(self, s: AsyncSession) -> None:
        """Orders first: fills reference them."""
        await _ORDER_INSERT.run(s, self.orders)
        await _FILL_INSERT.run(s, self.fills)
        await _TRACE_INSERT.run(s, self.traces)


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


def fill_event(fill: Fill, bot_id: str) -> dict[str, Any]:
    return {
        "id": fill.id,
        "order_id": fill.order_id,
        "bot_id": bot_id,
        "symbol": fill.symbol,
        "side": fill.side,
        "price": str(fill.price),
        "qty": str(fill.qty),
        "fee": str(fill.fee),
        "ts": fill.ts.isoformat(),
    }


def execution_trace(execution: Execution) -> dict[str, Any]:
    order = execution.order
    slippage = execution.slippage_bps  # a computed property (Decimal division): read once
    return {
        "status": order.status,
        "filled_qty": str(order.filled_qty),
        "avg_price": None if order.avg_price is None else str(order.avg_price),
        "slippage_bps": None if slippage is None else f"{slippage:.2f}",
    }


def order_event(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "bot_id": order.bot_id,
        "symbol": order.symbol,
        "side": order.side,
        "type": order.type,
        "qty": str(order.qty),
        "status": order.status,
        "filled_qty": str(order.filled_qty),
        "avg_price": None if order.avg_price is None else str(order.avg_price),
    }


_FILL_COLUMNS = (
    "id", "order_id", "user_id", "bot_id", "ts", "symbol", "side", "price", "qty", "fee",
    "fee_asset", "liquidity", "realised_pnl", "ledger_entry_id",
)  # fmt: skip
_TRACE_COLUMNS = (
    "id", "user_id", "bot_id", "ts", "rule", "signal", "outcome", "trace", "order_id",
)  # fmt: skip
_ORDER_COLUMNS = (
    "id", "user_id", "bot_id", "client_order_id", "symbol", "side", "type", "time_in_force",
    "qty", "limit_price", "stop_price", "created_at", "status", "filled_qty", "avg_price",
    "fees", "reason", "updated_at", "triggered",
)  # fmt: skip


def _fill_row(fill: Fill, user_id: str, bot_id: str, entry: journal.Entry) -> tuple[Any, ...]:
    """A fill as a `fills` row, in `_FILL_COLUMNS` order."""
    realised = _realised(entry, bot_id) if fill.side == "sell" else None
    return (
        fill.id, fill.order_id, user_id, bot_id, fill.ts, fill.symbol, fill.side, fill.price,
        fill.qty, fill.fee, fill.fee_asset, fill.liquidity, realised, entry.id,
    )  # fmt: skip


def fill_values(fill: Fill, user_id: str, bot_id: str, entry: journal.Entry) -> dict[str, Any]:
    """A fill as a `fills` row (for ORM rows), realised PnL as the ledger booked it."""
    return dict(zip(_FILL_COLUMNS, _fill_row(fill, user_id, bot_id, entry), strict=True))


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
    row = (new_id(), user_id, bot_id, ts, rule[:200], signal, outcome, trace, order_id)
    return dict(zip(_TRACE_COLUMNS, row, strict=True))


def _realised(entry: journal.Entry, bot_id: str) -> Any:
    """Realised PnL of a sell, as the ledger booked it on the bot's pnl account."""
    pnl_account = journal.bot_account(bot_id, "pnl")
    total = journal.total(p.amount for p in entry.postings if p.account == pnl_account)
    return journal.CONTEXT.minus(total)  # exact (60 digits), and 0 rather than -0


_ORDER_PROGRESS = (
    "status", "filled_qty", "avg_price", "fees", "reason", "updated_at", "triggered",
)  # fmt: skip


def _order_row(order: Order, user_id: str, now: datetime) -> tuple[Any, ...]:
    """An order as an `orders` row, in `_ORDER_COLUMNS` order."""
    return (
        order.id, user_id, order.bot_id, order.client_order_id, order.symbol, order.side,
        order.type, order.time_in_force, order.qty, order.limit_price, order.stop_price,
        order.created_at, order.status, order.filled_qty, order.avg_price, order.fees,
        order.reason, now, order.triggered,
    )  # fmt: skip


def order_values(order: Order, user_id: str, now: datetime) -> dict[str, Any]:
    """An order as an `orders` row (for ORM rows; bulk inserts take `_order_row`)."""
    return dict(zip(_ORDER_COLUMNS, _order_row(order, user_id, now), strict=True))


def order_from_row(row: OrderRow) -> Order:
    """An `orders` row back as the venue's Order (`order_values` inverted)."""
    return Order(
        id=row.id, client_order_id=row.client_order_id, bot_id=row.bot_id, symbol=row.symbol,
        side=cast(Side, row.side), type=cast(OrderType, row.type), qty=row.qty,
        created_at=row.created_at, limit_price=row.limit_price, stop_price=row.stop_price,
        time_in_force=cast(TimeInForce, row.time_in_force),
        status=cast(OrderStatus, row.status), filled_qty=row.filled_qty,
        avg_price=row.avg_price, fees=row.fees, triggered=row.triggered, reason=row.reason,
    )  # fmt: skip


def _columns(model: type[OrderRow | FillRow | DecisionTrace], names: tuple[str, ...]) -> BulkInsert:
    """Every column of the table, or the import fails: a column added to a model but
    not to its row builder must not be silently left to its default."""
    table = cast(Table, model.__table__)
    if sorted(names) != sorted(table.c.keys()):
        raise RuntimeError(f"{table.name}: row builder columns {names} != {table.c.keys()}")
    return BulkInsert(table, names)


_ORDER_INSERT = _columns(OrderRow, _ORDER_COLUMNS)
_FILL_INSERT = _columns(FillRow, _FILL_COLUMNS)
_TRACE_INSERT = _columns(DecisionTrace, _TRACE_COLUMNS)
