"""Read-only queries for analytics and exports: keyset pages in time order, chain links.

Every query a user can trigger is scoped to that user; the chain links are hashes only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from amarktai.analytics.track_record import Link
from amarktai.engine.models import FillRow
from amarktai.ledger.journal import Entry
from amarktai.ledger.models import JournalEntry, PostingRow
from amarktai.ledger.repository import LedgerRepository


@dataclass(frozen=True)
class Window:
    """Optional filters shared by the exports: one bot, and a [start, end] time range."""

    user_id: str
    bot_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class LedgerLine:
    seq: int
    line: int
    entry_id: str
    ts: datetime
    kind: str
    bot_id: str | None
    description: str
    account: str
    asset: str
    amount: Decimal
    balance: Decimal
    hash: str


class AnalyticsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def fills_after(self, window: Window, after_id: str | None, limit: int) -> list[FillRow]:
        """Oldest first, keyset on the (time-sortable) fill id."""
        filters: list[Any] = [FillRow.user_id == window.user_id]
        if window.bot_id is not None:
            filters.append(FillRow.bot_id == window.bot_id)
        if window.start is not None:
            filters.append(FillRow.ts >= window.start)
        if window.end is not None:
            filters.append(FillRow.ts <= window.end)
        if after_id is not None:
            filters.append(FillRow.id > after_id)
        query = select(FillRow).where(*filters).order_by(FillRow.id).limit(limit)
        return list((await self.s.execute(query)).scalars())

    async def ledger_lines_after(
        self, window: Window, after: tuple[int, int], limit: int
    ) -> list[LedgerLine]:
        """Postings in journal order with their entry's header, keyset on (seq, line)."""
        seq, line = after
        filters: list[Any] = [
            PostingRow.user_id == window.user_id,
            or_(PostingRow.seq > seq, and_(PostingRow.seq == seq, PostingRow.line > line)),
        ]
        if window.bot_id is not None:
            filters.append(PostingRow.bot_id == window.bot_id)
        if window.start is not None:
            filters.append(PostingRow.ts >= window.start)
        if window.end is not None:
            filters.append(PostingRow.ts <= window.end)
        query = (
            select(
                PostingRow.seq,
                PostingRow.line,
                PostingRow.entry_id,
                PostingRow.ts,
                JournalEntry.kind,
                PostingRow.bot_id,
                JournalEntry.description,
                PostingRow.account,
                PostingRow.asset,
                PostingRow.amount,
                PostingRow.balance,
                JournalEntry.hash,
            )
            .join(JournalEntry, JournalEntry.id == PostingRow.entry_id)
            .where(*filters)
            .order_by(PostingRow.seq, PostingRow.line)
            .limit(limit)
        )
        rows = (await self.s.execute(query)).all()
        return [LedgerLine(**row._asdict()) for row in rows]

    async def links_from(self, first_seq: int) -> list[Link]:
        """(seq, prev_hash, hash) of every platform entry from `first_seq` to the tip."""
        query = (
            select(JournalEntry.seq, JournalEntry.prev_hash, JournalEntry.hash)
            .where(JournalEntry.seq >= first_seq)
            .order_by(JournalEntry.seq)
        )
        return [Link(*row) for row in (await self.s.execute(query)).all()]

    async def entries(self, user_id: str, bot_id: str | None) -> list[Entry]:
        """A user's entries (or those touching one bot), oldest first."""
        return await LedgerRepository(self.s).history(user_id, bot_id)
