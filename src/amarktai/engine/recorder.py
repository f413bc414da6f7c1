"""Persist what the venue did: order state, fills and their ledger postings, decision traces.

Everything one engine step changes is written in one transaction, so an order's status,
its fills and the ledger entries they post can never disagree after a crash.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

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
        row = await self.s.get(OrderRow, order.id)
        if row is None:
            row = OrderRow(
                id=order.id,
                user_id=user_id,
                bot_id=order.bot_id,
                client_order_id=order.client_order_id,
                symbol=order.symbol,
                side=order.side,
                type=order.type,
                time_in_force=order.time_in_force,
                qty=order.qty,
                limit_price=order.limit_price,
                stop_price=order.stop_price,
                created_at=order.created_at,
            )
            self.s.add(row)
        row.status = order.status
        row.filled_qty = order.filled_qty
        row.avg_price = order.avg_price
        row.fees = order.fees
        row.reason = order.reason
        row.updated_at = now
        await self.s.flush()  # fills reference the order row
        return row

    async def save_fill(self, fill: Fill, user_id: str, bot_id: str, inst: Instrument) -> FillRow:
        """Post the fill to the ledger (which refuses to spend unallocated capital) and keep it."""
        entry = await self.ledger.post_fill(
            user_id,
            journal.Fill(
                bot_id=bot_id,
                side=fill.side,
                base=inst.base,
                quote=inst.quote,
                qty=fill.qty,
                price=fill.price,
                fee=fill.fee,
                fee_asset=fill.fee_asset,
                ref=fill.id,
            ),
        )
        realised = _realised(entry, bot_id) if fill.side == "sell" else None
        row = FillRow(
            id=fill.id,
            order_id=fill.order_id,
            user_id=user_id,
            bot_id=bot_id,
            ts=fill.ts,
            symbol=fill.symbol,
            side=fill.side,
            price=fill.price,
            qty=fill.qty,
            fee=fill.fee,
            fee_asset=fill.fee_asset,
            liquidity=fill.liquidity,
            realised_pnl=realised,
            ledger_entry_id=entry.id,
        )
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
            id=new_id(),
            user_id=user_id,
            bot_id=bot_id,
            ts=ts,
            rule=rule[:200],
            signal=signal,
            outcome=outcome,
            trace=trace,
            order_id=order_id,
        )
        self.s.add(row)
        return row


def _realised(entry: journal.Entry, bot_id: str) -> Any:
    """Realised PnL of a sell, as the ledger booked it on the bot's pnl account."""
    pnl_account = journal.bot_account(bot_id, "pnl")
    total = sum((p.amount for p in entry.postings if p.account == pnl_account), start=journal.ZERO)
    return -total
