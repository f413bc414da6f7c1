"""Every SQL statement the ledger runs; the service above it holds the rules.

Reads return the pure values of ``amarktai.ledger.journal`` so nothing above this module
can lazily touch the database or mutate a stored row.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Select, Table, TextualSelect, and_, exists, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from amarktai.db.bulk import BulkInsert
from amarktai.kit.ids import new_ids
from amarktai.ledger.chain import ChainPosting
from amarktai.ledger.journal import ZERO, Entry, Kind, PostedLine, bot_of_path
from amarktai.ledger.models import JournalEntry, PostingRow

BATCH = 1000
KEYS_PER_QUERY = 500  # keys per batched balance read (PostgreSQL allows 1664 columns)
UserKey = tuple[str, str, str]  # (user_id, account, asset)
_PostingSelect = Select[int, int, datetime, str, str, str | None, str, Decimal, Decimal]


@dataclass(frozen=True)
class ChainTip:
    seq: int
    hash: str
    ts: datetime


@dataclass(frozen=True)
class BalanceScope:
    """Which postings a balance query sees; `max_seq` is the point-in-time cut."""

    user_id: str
    bot_id: str | None = None
    account: str | None = None
    max_seq: int | None = None


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def tip(self) -> ChainTip | None:
        row = (await self.session.execute(_tip())).one_or_none()
        return ChainTip(row.seq, row.hash, row.ts) if row else None

    async def hash_at(self, seq: int) -> str | None:
        value = await self.session.scalar(select(JournalEntry.hash).where(JournalEntry.seq == seq))
        return str(value) if value is not None else None

    async def balances_after(self, seq: int) -> dict[UserKey, Decimal]:
        """The latest running balance of every key posted to after `seq` (through the
        journal's seq index and the postings' (entry_id, line) index)."""
        after = select(JournalEntry.id).where(JournalEntry.seq > seq)
        rows = await self.session.execute(
            select(PostingRow.user_id, PostingRow.account, PostingRow.asset, PostingRow.balance)
            .where(PostingRow.entry_id.in_(after))
            .order_by(PostingRow.seq, PostingRow.line)
        )
        return {(r.user_id, r.account, r.asset): r.balance for r in rows}

    async def seq_at(self, as_of: datetime) -> int:
        """Last seq posted at or before `as_of`; ts never decreases along seq."""
        value = await self.session.scalar(
            select(func.max(JournalEntry.seq)).where(JournalEntry.ts <= as_of)
        )
        return int(value or 0)

    async def find_by_ref(self, kind: Kind, ref: str) -> Entry | None:
        query = select(JournalEntry).where(JournalEntry.kind == kind.value, JournalEntry.ref == ref)
        found = await self._entries(query)
        return found[0] if found else None

    async def get(self, entry_id: str, user_id: str) -> Entry | None:
        query = select(JournalEntry).where(
            JournalEntry.id == entry_id, JournalEntry.user_id == user_id
        )
        found = await self._entries(query)
        return found[0] if found else None

    async def bot_owner(self, bot_id: str) -> str | None:
        owner = await self.session.scalar(
            select(PostingRow.user_id).where(PostingRow.bot_id == bot_id).limit(1)
        )
        return str(owner) if owner is not None else None

    async def latest_balance(
        self, user_id: str, account: str, asset: str, max_seq: int | None = None
    ) -> Decimal:
        value = await self.session.scalar(_latest(user_id, account, asset, max_seq))
        return value if value is not None else ZERO

    async def latest_balances(
        self, user_id: str, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], Decimal | None]:
        """Current balance of each (account, asset) in one round trip; None = never posted."""
        if not keys:
            return {}
        columns = [
            _latest(user_id, account, asset, None).scalar_subquery().label(f"k{i}")
            for i, (account, asset) in enumerate(keys)
        ]
        row = (await self.session.execute(select(*columns))).one()
        return dict(zip(keys, row, strict=True))

    async def latest_balances_many(
        self, keys: Collection[UserKey]
    ) -> dict[UserKey, Decimal | None]:
        """Current balance of many (user, account, asset) keys, any users, in one round
        trip per `KEYS_PER_QUERY` keys (one indexed seek each); None = never posted."""
        wanted = list(dict.fromkeys(keys))
        found: dict[UserKey, Decimal | None] = {}
        for start in range(0, len(wanted), KEYS_PER_QUERY):
            chunk = wanted[start : start + KEYS_PER_QUERY]
            params: dict[str, str] = {}
            for i, (user_id, account, asset) in enumerate(chunk):
                params[f"u{i}"], params[f"a{i}"], params[f"s{i}"] = user_id, account, asset
            row = (await self.session.execute(_latest_many(len(chunk)), params)).one()
            found.update(zip(chunk, row, strict=True))
        return found

    async def find_by_refs(
        self, refs: Collection[tuple[Kind, str]]
    ) -> dict[tuple[Kind, str], Entry]:
        """Entries already posted under any of these (kind, ref) pairs, in one query."""
        if not refs:
            return {}
        wanted = set(refs)
        query = select(JournalEntry).where(JournalEntry.ref.in_(sorted({r for _, r in wanted})))
        found = {}
        for entry in await self._entries(query):
            if entry.ref is not None and (entry.kind, entry.ref) in wanted:
                found[(entry.kind, entry.ref)] = entry
        return found

    async def balances(self, scope: BalanceScope) -> list[tuple[str, str, Decimal]]:
        """Latest running balance of every (account, asset) in scope, one window query."""
        rank = (
            func.row_number()
            .over(
                partition_by=(PostingRow.account, PostingRow.asset),
                order_by=(PostingRow.seq.desc(), PostingRow.line.desc()),
            )
            .label("rank")
        )
        filters: list[Any] = [PostingRow.user_id == scope.user_id]
        if scope.bot_id is not None:
            filters.append(PostingRow.bot_id == scope.bot_id)
        if scope.account is not None:
            filters.append(PostingRow.account == scope.account)
        if scope.max_seq is not None:
            filters.append(PostingRow.seq <= scope.max_seq)
        ranked = (
            select(PostingRow.account, PostingRow.asset, PostingRow.balance, rank)
            .where(*filters)
            .subquery()
        )
        rows = await self.session.execute(
            select(ranked.c.account, ranked.c.asset, ranked.c.balance).where(ranked.c.rank == 1)
        )
        return [(row.account, row.asset, row.balance) for row in rows]

    async def insert_many(self, entries: Sequence[Entry]) -> None:
        """Append entries (already chained, in seq order) and their posting rows with two
        executemany inserts."""
        if not entries:
            return
        await _ENTRY_INSERT.run(self.session, [_entry_row(e) for e in entries])
        await _POSTING_INSERT.run(self.session, _posting_rows(entries))

    async def history(self, user_id: str, bot_id: str | None) -> list[Entry]:
        """A user's entries (or those touching one bot), oldest first, in two queries.

        For whole histories (analytics, exports): the paged listing's per-entry "touches
        this bot" EXISTS check grows badly over a long history, so this selects the bot's
        postings once through the (bot_id, seq) index instead.
        """
        scope: Any = JournalEntry.user_id == user_id
        line_scope: Any = PostingRow.user_id == user_id
        if bot_id is not None:
            ids = select(PostingRow.entry_id).where(PostingRow.bot_id == bot_id)
            scope = and_(scope, JournalEntry.id.in_(ids))
            line_scope = and_(line_scope, PostingRow.entry_id.in_(ids))
        heads = (await self.session.execute(select(JournalEntry).where(scope))).scalars().all()
        rows = await self.session.execute(
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

    async def page(self, scope: BalanceScope, before_seq: int | None, limit: int) -> list[Entry]:
        """Newest first: a user's entries, or those touching one bot's accounts."""
        query = select(JournalEntry).where(JournalEntry.user_id == scope.user_id)
        if scope.bot_id is not None:
            touches = and_(
                PostingRow.entry_id == JournalEntry.id, PostingRow.bot_id == scope.bot_id
            )
            query = query.where(exists().where(touches))
        if scope.max_seq is not None:
            query = query.where(JournalEntry.seq <= scope.max_seq)
        if before_seq is not None:
            query = query.where(JournalEntry.seq < before_seq)
        return await self._entries(query.order_by(JournalEntry.seq.desc()).limit(limit))

    async def stream_chain(self) -> AsyncIterator[tuple[Entry, list[ChainPosting]]]:
        """The whole platform chain in seq order with its stored posting rows, in batches."""
        after = 0
        while True:
            query = select(JournalEntry).where(JournalEntry.seq > after)
            batch = await self._entries(query.order_by(JournalEntry.seq).limit(BATCH))
            if not batch:
                return
            rows = await self._rows(batch[0].seq, batch[-1].seq)
            for entry in batch:
                yield entry, rows.get(entry.seq, [])
            after = batch[-1].seq

    async def stream_postings(self, user_id: str | None) -> AsyncIterator[ChainPosting]:
        """Postings in journal order (keyset on seq, line), optionally for one user."""
        cursor = (0, -1)
        while True:
            rows = (await self.session.execute(_postings_after(cursor, user_id))).all()
            if not rows:
                return
            for row in rows:
                yield _chain_posting(row)
            cursor = (rows[-1].seq, rows[-1].line)

    async def _rows(self, first_seq: int, last_seq: int) -> dict[int, list[ChainPosting]]:
        query = (
            _posting_columns()
            .where(PostingRow.seq >= first_seq, PostingRow.seq <= last_seq)
            .order_by(PostingRow.seq, PostingRow.line)
        )
        grouped: dict[int, list[ChainPosting]] = {}
        for row in await self.session.execute(query):
            grouped.setdefault(row.seq, []).append(_chain_posting(row))
        return grouped

    async def _entries(self, query: Select[JournalEntry]) -> list[Entry]:
        heads = (await self.session.execute(query)).scalars().all()
        lines = await self._lines([head.id for head in heads])
        return [_entry(head, lines.get(head.id, ())) for head in heads]

    async def _lines(self, entry_ids: Sequence[str]) -> dict[str, tuple[PostedLine, ...]]:
        if not entry_ids:
            return {}
        rows = await self.session.execute(
            select(
                PostingRow.entry_id,
                PostingRow.account,
                PostingRow.asset,
                PostingRow.amount,
                PostingRow.balance,
            )
            .where(PostingRow.entry_id.in_(entry_ids))
            .order_by(PostingRow.entry_id, PostingRow.line)
        )
        grouped: dict[str, list[PostedLine]] = {}
        for row in rows:
            line = PostedLine(row.account, row.asset, row.amount, row.balance)
            grouped.setdefault(row.entry_id, []).append(line)
        return {key: tuple(value) for key, value in grouped.items()}


def _latest(user_id: str, account: str, asset: str, max_seq: int | None) -> Select[Decimal]:
    query = select(PostingRow.balance).where(
        PostingRow.user_id == user_id, PostingRow.account == account, PostingRow.asset == asset
    )
    if max_seq is not None:
        query = query.where(PostingRow.seq <= max_seq)
    return query.order_by(PostingRow.seq.desc(), PostingRow.line.desc()).limit(1)


@lru_cache(maxsize=1)
def _tip() -> TextualSelect:
    """The last entry's (seq, hash, ts), read at every batched append: plain SQL built
    once, as building and compiling an ORM select each time costs more than the query."""
    table, columns = JournalEntry.__tablename__, JournalEntry.__table__.c
    return text(f"SELECT seq, hash, ts FROM {table} ORDER BY seq DESC LIMIT 1").columns(
        seq=columns.seq.type, hash=columns.hash.type, ts=columns.ts.type
    )


@lru_cache(maxsize=8)
def _latest_many(count: int) -> TextualSelect:
    """SELECT of `count` latest-balance subqueries (portable SQL, one seek each on
    ix_postings_balance); built once per size, so no per-call statement construction."""
    table = PostingRow.__tablename__
    columns = ", ".join(
        f"(SELECT balance FROM {table} WHERE user_id = :u{i} AND account = :a{i} "
        f"AND asset = :s{i} ORDER BY seq DESC, line DESC LIMIT 1) AS k{i}"
        for i in range(count)
    )
    balance_type = PostingRow.__table__.c.balance.type
    return text(f"SELECT {columns}").columns(**{f"k{i}": balance_type for i in range(count)})


def _posting_columns() -> _PostingSelect:
    return select(
        PostingRow.seq,
        PostingRow.line,
        PostingRow.ts,
        PostingRow.user_id,
        PostingRow.account,
        PostingRow.bot_id,
        PostingRow.asset,
        PostingRow.amount,
        PostingRow.balance,
    )


def _chain_posting(row: Any) -> ChainPosting:
    return ChainPosting(
        seq=row.seq,
        line=row.line,
        ts=row.ts,
        user_id=row.user_id,
        account=row.account,
        bot_id=row.bot_id,
        asset=row.asset,
        amount=row.amount,
        balance=row.balance,
    )


def _postings_after(cursor: tuple[int, int], user_id: str | None) -> _PostingSelect:
    seq, line = cursor
    after = or_(PostingRow.seq > seq, and_(PostingRow.seq == seq, PostingRow.line > line))
    query = _posting_columns().where(after)
    if user_id is not None:
        query = query.where(PostingRow.user_id == user_id)
    return query.order_by(PostingRow.seq, PostingRow.line).limit(BATCH)


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


def _posting_rows(entries: Sequence[Entry]) -> list[tuple[Any, ...]]:
    """(id, entry_id, *row) for each row of `chain.postings_of(entry)`, built straight
    from the entries: one tuple per posting (they are thousands a second)."""
    ids = iter(new_ids(sum(len(e.postings) for e in entries)))
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    for e in entries:  # an entry's columns read once, not once per posting
        entry_id, seq, ts, user_id = e.id, e.seq, e.ts, e.user_id
        for line, p in enumerate(e.postings):
            account = p.account
            append(
                (
                    next(ids),
                    entry_id,
                    seq,
                    line,
                    ts,
                    user_id,
                    account,
                    bot_of_path(account),  # a chained entry's accounts are proven paths
                    p.asset,
                    p.amount,
                    p.balance,
                )
            )
    return rows


def _entry_row(entry: Entry) -> tuple[Any, ...]:
    """A journal row, in `_ENTRY_INSERT`'s column order."""
    return (
        entry.id,
        entry.seq,
        entry.ts,
        entry.user_id,
        entry.bot_id,
        entry.kind._value_,  # `.value`, less the enum property's call
        entry.description,
        entry.reverses_id,
        entry.ref,
        entry.prev_hash,
        entry.hash,
    )


_ENTRY_INSERT = BulkInsert(
    cast(Table, JournalEntry.__table__),
    ("id", "seq", "ts", "user_id", "bot_id", "kind", "description", "reverses_id", "ref",
     "prev_hash", "hash"),
)  # fmt: skip
# A posting row is (its id, its entry's id, *ChainPosting), in ChainPosting's field order.
_POSTING_INSERT = BulkInsert(
    cast(Table, PostingRow.__table__), ("id", "entry_id", *ChainPosting._fields)
)
