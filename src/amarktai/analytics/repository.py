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
from amarktai.ledger.journal import Entry, Kind, PostedLine
from amarktai.ledger.models import JournalEntry, PostingRow


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
        """A user's entries (or those touching one bot), oldest first, in two queries.

        The ledger's paged listing checks "touches this bot" per entry, which has no
        index on the posting's entry id and turns quadratic over a whole history; this
        selects the bot's postings once through the (bot_id, seq) index instead.
        """
        scope: Any = JournalEntry.user_id == user_id
        line_scope: Any = PostingRow.user_id == user_id
        if bot_id is not None:
            ids = select(PostingRow.entry_id).where(PostingRow.bot_id == bot_id)
            scope = and_(scope, JournalEntry.id.in_(ids))
            line_scope = and_(line_scope, PostingRow.entry_id.in_(ids))
        heads = (await self.s.execute(select(JournalEntry).where(scope))).scalars().all()
        rows = await self.s.execute(
            select(
                PostingRow.entry_id,
                PostingRow.account,
                PostingRow.asset,
                PostingRow.amount,
                PostingRow.balance,
            )
            .where(line_scope)
            .order_by(PostingRow.seq, PostingRow.line)
        )
        lines: dict[str, list[PostedLine]] = {}
        for row in rows:
            lines.setdefault(row.entry_id, []).append(
                PostedLine(row.account, row.asset, row.amount, row.balance)
            )
        return sorted((_entry(h, tuple(lines.get(h.id, ()))) for h in heads), key=lambda e: e.seq)


def _entry(head: JournalEntry, lines: tuple[PostedLine, ...]) -> Entry:
    return Entry(
        id=head.id,
        seq=head.seq,
        ts=head.ts,
        kind=Kind(head.kind),
        user_id=head.user_id,
        bot_id=head.bot_id,
        description=head.description,
        reverses_id=head.reverses_id,
        ref=head.ref,
        prev_hash=head.prev_hash,
        hash=head.hash,
        postings=lines,
    )
