"""Ledger use cases on one AsyncSession: post, reverse, balances, capital, verify, replay.

The service never commits: the caller's unit of work (``db.engine.transaction``) does, so
an entry and whatever caused it (an order, a bot change) land together or not at all.
Appends take the ``ledger`` chain lock first and hold it until that transaction ends;
everything an append decides (idempotency, ownership, available capital, the previous
hash) is read under it, so concurrent writers cannot both spend the same cash.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, localcontext
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from amarktai.db.locks import chain_lock
from amarktai.kit.clock import Clock, SystemClock
from amarktai.kit.errors import Conflict, DomainError, NotFound, ValidationFailed
from amarktai.kit.hashchain import GENESIS, ChainBreak, verify_chain
from amarktai.kit.ids import new_ids
from amarktai.kit.money import format_money
from amarktai.kit.pagination import Page, clamp_limit, decode_cursor, encode_cursor
from amarktai.ledger import journal
from amarktai.ledger.chain import LOCK, ChainPosting, payload, seal
from amarktai.ledger.journal import (
    CONTEXT,
    MAX_ABS,
    PRECISION,
    ZERO,
    AccountPath,
    Entry,
    EntryDraft,
    Fill,
    Kind,
    Position,
    PostedLine,
    add,
    bot_account,
    bot_of_path,
    decimal_text,
    exact,
    new_posted_line,
    pair_of,
    parse_account,
    trading_account,
)
from amarktai.ledger.mirror import BalanceMirror
from amarktai.ledger.repository import BalanceScope, ChainTip, LedgerRepository, UserKey

Balances = dict[str, dict[str, Decimal]]
Price = Callable[[str], Decimal]
PriceAt = Callable[[str, datetime], Decimal]

# (scope, account name) that may never go negative, and the error code when they would.
_FLOORS = {
    ("user", "cash"): "insufficient_free_capital",
    ("bot", "cash"): "insufficient_allocated_capital",
    ("bot", "position"): "insufficient_position",
}

# Which EquityPoint field each account name feeds, and with which sign: trading accounts
# hold minus the position at cost, so their marked value is minus the unrealised PnL.
_EQUITY_BUCKETS = {
    "cash": ("equity", 1),
    "position": ("equity", 1),
    "trading": ("unrealised_pnl", -1),
    "pnl": ("realised_pnl", -1),
    "fees": ("fees", 1),
}


@dataclass(frozen=True)
class FillRequest:
    """A fill to book for a user in a batch (`post_many`, `post_fills`), as `post_fill`
    would book it: its draft is built from the bot's position at its turn in the batch."""

    user_id: str
    trade: Fill


@dataclass(frozen=True)
class Capital:
    """One asset of a user's capital: free, and allocated to bots (cash + open cost)."""

    free: Decimal = ZERO
    allocated_cash: Decimal = ZERO
    invested_cost: Decimal = ZERO

    @property
    def allocated(self) -> Decimal:
        return add(self.allocated_cash, self.invested_cost)

    @property
    def total(self) -> Decimal:
        return add(self.free, self.allocated)


@dataclass(frozen=True)
class PnL:
    """Realised PnL (positive = profit) and fees paid, in one asset."""

    realised: Decimal = ZERO
    fees: Decimal = ZERO


@dataclass(frozen=True)
class EquityPoint:
    """Holdings marked to market in the quote currency at one instant."""

    ts: datetime
    equity: Decimal
    unrealised_pnl: Decimal
    realised_pnl: Decimal
    fees: Decimal


@dataclass(frozen=True)
class ReplayMismatch:
    seq: int | None
    user_id: str
    account: str
    asset: str
    stored: Decimal | None
    replayed: Decimal
    reason: str


@dataclass(frozen=True)
class ReplayReport:
    entries: int
    postings: int
    mismatches: tuple[ReplayMismatch, ...]

    @property
    def ok(self) -> bool:
        return not self.mismatches


class LedgerService:
    def __init__(self, session: AsyncSession, clock: Clock | None = None) -> None:
        self.session = session
        self.repo = LedgerRepository(session)
        self.clock: Clock = clock or SystemClock()

    # -- writing -------------------------------------------------------------------------

    async def post(self, draft: EntryDraft) -> Entry:
        """Append an entry; a repeated (kind, ref) returns the entry already posted."""
        await chain_lock(self.session, LOCK)
        if draft.ref is not None:
            existing = await self.repo.find_by_ref(draft.kind, draft.ref)
            if existing is not None:
                return _same_entry(existing, draft)
        return await self._append(draft)

    async def post_fill(self, user_id: str, trade: Fill) -> Entry:
        """Post a fill, reading the bot's position and cost basis under the chain lock."""
        journal.check_fill(trade)
        await chain_lock(self.session, LOCK)
        if trade.ref is not None:
            existing = await self.repo.find_by_ref(Kind.FILL, trade.ref)
            if existing is not None:
                return _owned(existing, user_id)
        known = await self.repo.latest_balances(user_id, _fill_keys(trade))
        trading = trading_account(trade.bot_id, trade.base, trade.quote)
        position = _position(known[(trading, trade.base)], known[(trading, trade.quote)])
        return await self._append(journal.fill(user_id, trade, position), known)

    async def post_many(
        self, drafts: Sequence[EntryDraft | FillRequest]
    ) -> list[Entry | DomainError]:
        """Post many drafts (or fills) in order, as `post` (or `post_fill`) would one by
        one, with a handful of
        statements in all: the chain lock once, the refs, the running balances and the
        chain tip each read once, and every entry and posting inserted by two executemany
        inserts. A draft the ledger refuses (overspending, a foreign bot, an idempotency
        conflict) gets its DomainError in its slot and writes nothing; the others proceed.
        """
        results = await self._post_groups([[draft] for draft in drafts])
        return [r if isinstance(r, DomainError) else r[0] for r in results]

    async def post_fills(
        self,
        orders: Sequence[Sequence[FillRequest | tuple[str, Fill]]],
        *,
        mirror: BalanceMirror | None = None,
        fresh_refs: bool = False,
    ) -> list[list[Entry] | DomainError]:
        """Post the fills of many orders, each as `post_fill` would, batched like
        `post_many`; a fill is a FillRequest or a (user_id, fill) pair. An order's fills
        are booked all or none: if the ledger refuses one, that order gets the DomainError
        and none of its fills is booked; the other orders proceed.

        With a `mirror` the balances and the chain tip come from it (see
        `ledger.mirror`) and the batch's outcome is staged on it. `fresh_refs` says every
        ref was minted just now (a venue's new fill ids), so no earlier entry can hold one
        and the lookup is skipped; the (kind, ref) unique constraint still guards the
        insert."""
        return await self._post_groups(
            [[f if isinstance(f, FillRequest) else FillRequest(*f) for f in o] for o in orders],
            mirror=mirror,
            fresh_refs=fresh_refs,
        )

    async def lock(self) -> None:
        """Take the ledger chain lock for the rest of this transaction: what is read after
        it (balances, the tip) stays true until the commit."""
        await chain_lock(self.session, LOCK)

    async def _post_groups(
        self,
        groups: Sequence[Sequence[EntryDraft | FillRequest]],
        *,
        mirror: BalanceMirror | None = None,
        fresh_refs: bool = False,
    ) -> list[list[Entry] | DomainError]:
        items = [item for group in groups for item in group]
        if not items:
            return [[] for _ in groups]
        await self.lock()
        existing: dict[tuple[Kind, str], Entry] = {}
        if not fresh_refs:
            refs = {ref for item in items if (ref := _ref_of(item)) is not None}
            existing = await self.repo.find_by_refs(refs)
        keys: set[UserKey] = set()
        for item in items:
            if isinstance(item, FillRequest):
                trade = item.trade
                keys.update(
                    _user_fill_keys(
                        item.user_id, trade.bot_id, trade.base, trade.quote, trade.fee_asset
                    )
                )
            else:
                keys.update((item.user_id, account, asset) for account, asset in _keys(item))
        if mirror is not None:
            balances = await mirror.read(self.repo, keys)
            tip = mirror.tip
        else:
            balances = await self.repo.latest_balances_many(keys)
            tip = await self.repo.tip()
        batch = _Batch(balances, existing, tip, self._now(), new_ids(len(items)))
        results: list[list[Entry] | DomainError] = []
        for group in groups:
            mark = batch.mark()
            try:
                results.append([await self._post_one(batch, item) for item in group])
            except DomainError as exc:
                batch.undo(mark)
                results.append(exc)
        await self.repo.insert_many(batch.entries)
        if mirror is not None:
            mirror.stage(batch.running, batch.tip() or tip)
        return results

    def _post_one(
        self, batch: _Batch, item: EntryDraft | FillRequest
    ) -> Coroutine[Any, Any, Entry]:
        """One draft or fill of a batch, against the batch's running state (the
        coroutine that posts it: a fill's, without a coroutine around it)."""
        if isinstance(item, FillRequest):
            return self._post_fill(batch, item.user_id, item.trade)
        return self._post_draft(batch, item)

    async def _post_draft(self, batch: _Batch, draft: EntryDraft) -> Entry:
        """`_post_one` of a draft."""
        if draft.ref is not None and (found := batch.posted(draft.kind, draft.ref)):
            return _same_entry(found, draft)
        await self._check_reverses(draft, batch.by_id)
        start = batch.start(draft)
        await self._check_bots(draft, start, batch.owners)
        return batch.chain(draft, start, _apply(draft, start))

    async def _post_fill(self, batch: _Batch, user_id: str, trade: Fill) -> Entry:
        """`_post_one` of a fill: what `post_fill` checks, against the batch's state."""
        journal.check_fill(trade)
        if trade.ref is not None and (found := batch.posted(Kind.FILL, trade.ref)):
            return _owned(found, user_id)
        trading = trading_account(trade.bot_id, trade.base, trade.quote)
        position = _position(
            batch.balance(user_id, trading, trade.base),
            batch.balance(user_id, trading, trade.quote),
        )
        draft = journal.checked_fill(user_id, trade, position)
        # A fill reverses nothing, and every account it posts to is its bot's: once any
        # of them holds a balance for this user, the bot is this user's (`_check_bots`).
        start = batch.start(draft)
        for value in start.values():
            if value is not None:
                break
        else:  # no balance yet: ask who owns the bot
            await self._check_owners([trade.bot_id], user_id, batch.owners)
        return batch.chain(draft, start, _apply(draft, start))

    async def reverse(self, entry_id: str, reason: str, *, user_id: str) -> Entry:
        """Mirror an entry; reversing the same entry twice returns the first reversal."""
        await chain_lock(self.session, LOCK)
        original = await self.get(entry_id, user_id=user_id)
        existing = await self.repo.find_by_ref(Kind.REVERSAL, entry_id)
        if existing is not None:
            return existing
        return await self._append(journal.reversal(original, reason))

    async def _append(
        self, draft: EntryDraft, known: dict[tuple[str, str], Decimal | None] | None = None
    ) -> Entry:
        """Checks and insert, with the chain lock held and idempotency already settled.

        `known` holds balances already read under this lock, saving a round trip.
        """
        await self._check_reverses(draft)
        known = known or {}
        missing = [key for key in _keys(draft) if key not in known]
        fetched = await self.repo.latest_balances(draft.user_id, missing)
        start = {key: known[key] if key in known else fetched[key] for key in _keys(draft)}
        await self._check_bots(draft, start)
        entry = await self._chained(draft, _apply(draft, start))
        await self.repo.insert_many([entry])
        return entry

    async def _check_bots(
        self,
        draft: EntryDraft,
        start: dict[tuple[str, str], Decimal | None],
        pending: dict[str, str] | None = None,
    ) -> None:
        """A bot's accounts belong to the user who first posted to them, for good.

        A bot this user has already posted to is theirs (this check ran then), so only a
        bot new to this user costs a query. `pending` maps bots first posted to by a batch
        not yet inserted to their owner.
        """
        known = {
            journal.bot_of(account) for (account, _), value in start.items() if value is not None
        }
        bots = {p.bot_id for p in draft.postings} | {draft.bot_id}
        await self._check_owners(sorted(b for b in bots - known if b), draft.user_id, pending)

    async def _check_owners(
        self, bots: Sequence[str], user_id: str, pending: dict[str, str] | None
    ) -> None:
        for bot_id in bots:
            if pending is not None and bot_id in pending:
                owner: str | None = pending[bot_id]
            else:
                owner = await self.repo.bot_owner(bot_id)
            if owner is not None and owner != user_id:
                raise Conflict(f"bot {bot_id} belongs to another user", code="foreign_bot")

    async def _check_reverses(
        self, draft: EntryDraft, pending: dict[str, Entry] | None = None
    ) -> None:
        if draft.reverses_id is None:
            return
        original = (pending or {}).get(draft.reverses_id)
        if original is None or original.user_id != draft.user_id:
            original = await self.get(draft.reverses_id, user_id=draft.user_id)
        expected = journal.reversal(original, "check").postings
        if _lines(expected) != _lines(draft.postings):
            raise ValidationFailed(
                "a reversal must mirror the original postings", code="reversal_mismatch"
            )

    async def _chained(self, draft: EntryDraft, lines: tuple[PostedLine, ...]) -> Entry:
        tip = await self.repo.tip()
        now = self._now()
        if tip is None:
            return seal(draft, lines, seq=1, prev_hash=GENESIS, ts=now)
        return seal(draft, lines, seq=tip.seq + 1, prev_hash=tip.hash, ts=max(now, tip.ts))

    def _now(self) -> datetime:
        now = self.clock.now()
        if now.tzinfo is None:
            raise ValueError("the ledger clock must be timezone-aware")
        return now.astimezone(UTC)

    # -- reading -------------------------------------------------------------------------

    async def get(self, entry_id: str, *, user_id: str) -> Entry:
        entry = await self.repo.get(entry_id, user_id)
        if entry is None:
            raise NotFound("journal entry not found", code="entry_not_found")
        return entry

    async def balances(
        self,
        user_id: str,
        bot_id: str | None = None,
        account: str | None = None,
        as_of: datetime | None = None,
    ) -> Balances:
        """{account: {asset: balance}} from the postings, non-zero balances only."""
        scope = BalanceScope(user_id, bot_id, account, await self._seq_at(as_of))
        result: Balances = {}
        for name, asset, balance in await self.repo.balances(scope):
            if balance != 0:
                result.setdefault(name, {})[asset] = balance
        return result

    async def check_can_spend(
        self, user_id: str, bot_id: str, asset: str, amount: Decimal
    ) -> Decimal:
        """Raise unless the bot has `amount` of allocated cash; return what it has."""
        account = bot_account(bot_id, "cash")
        available = await self.repo.latest_balance(user_id, account, asset)
        if amount > available:
            raise _shortfall("insufficient_allocated_capital", account, asset, available, amount)
        return available

    async def position(self, user_id: str, bot_id: str, base: str, quote: str) -> Position:
        """What the bot holds through base/quote and its cost basis (average cost)."""
        account = trading_account(bot_id, base, quote)
        keys = [(account, base), (account, quote)]
        held = await self.repo.latest_balances(user_id, keys)
        return _position(held[keys[0]], held[keys[1]])

    async def capital(self, user_id: str, as_of: datetime | None = None) -> dict[str, Capital]:
        """Free vs allocated capital per asset; allocated counts open positions at cost."""
        parts: dict[str, dict[str, Decimal]] = {}
        for account, assets in (await self.balances(user_id, as_of=as_of)).items():
            path = parse_account(account)
            for asset, balance in assets.items():
                field = _capital_field(path, asset)
                if field is not None:
                    bucket = parts.setdefault(asset, {})
                    bucket[field] = add(bucket.get(field, ZERO), balance)
        return {asset: Capital(**fields) for asset, fields in parts.items()}

    async def pnl(
        self, user_id: str, bot_id: str | None = None, as_of: datetime | None = None
    ) -> dict[str, PnL]:
        """Realised PnL and fees paid per asset, for a user or one of their bots."""
        sums: dict[str, dict[str, Decimal]] = {"pnl": {}, "fees": {}}
        for account, assets in (await self.balances(user_id, bot_id, as_of=as_of)).items():
            name = parse_account(account).name
            if name in sums:
                _accumulate(sums[name], assets)
        realised, fees = sums["pnl"], sums["fees"]
        return {
            # copy_negate: exact; unary minus would round to the thread's 28 digits
            asset: PnL(realised.get(asset, ZERO).copy_negate(), fees.get(asset, ZERO))
            for asset in sorted(realised.keys() | fees.keys())
        }

    async def mark_to_market(
        self,
        user_id: str,
        price: Price,
        *,
        bot_id: str | None = None,
        quote: str = "ZAR",
        as_of: datetime | None = None,
    ) -> EquityPoint:
        """Equity (cash + positions at `price`), unrealised and realised PnL, fees.

        `price(asset)` gives one unit of `asset` in `quote`; the quote itself is 1. For a
        user the free cash counts too; for a bot only its own accounts.
        """
        sums = {"equity": ZERO, "unrealised_pnl": ZERO, "realised_pnl": ZERO, "fees": ZERO}
        for account, assets in (await self.balances(user_id, bot_id, as_of=as_of)).items():
            bucket = _EQUITY_BUCKETS.get(parse_account(account).name)
            if bucket is None:
                continue
            target, sign = bucket
            for asset, balance in assets.items():
                sums[target] = add(sums[target], sign * _value(balance, asset, quote, price))
        return EquityPoint(ts=as_of or self._now(), **sums)

    async def equity_curve(
        self,
        user_id: str,
        at: Sequence[datetime],
        price: PriceAt,
        *,
        bot_id: str | None = None,
        quote: str = "ZAR",
    ) -> list[EquityPoint]:
        """One marked point per instant in `at`, each priced with `price(asset, instant)`."""
        points = []
        for instant in sorted(at):

            def price_then(asset: str, when: datetime = instant) -> Decimal:
                return price(asset, when)

            point = await self.mark_to_market(
                user_id, price_then, bot_id=bot_id, quote=quote, as_of=instant
            )
            points.append(point)
        return points

    async def entries(
        self,
        user_id: str,
        *,
        bot_id: str | None = None,
        as_of: datetime | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[Entry]:
        """Newest first; the cursor is the last seq seen, so new posts never shift pages."""
        limit = clamp_limit(limit)
        before = decode_cursor(cursor)
        if before is not None and (not isinstance(before, int) or isinstance(before, bool)):
            raise ValidationFailed("cursor is not valid", code="invalid_cursor")
        scope = BalanceScope(user_id, bot_id, None, await self._seq_at(as_of))
        rows = await self.repo.page(scope, before, limit + 1)
        more = len(rows) > limit
        items = rows[:limit]
        return Page(items, encode_cursor(items[-1].seq) if more else None)

    async def _seq_at(self, as_of: datetime | None) -> int | None:
        return None if as_of is None else await self.repo.seq_at(as_of)

    # -- proving -------------------------------------------------------------------------

    async def verify(self) -> tuple[int, ChainBreak | None]:
        """Recompute every hash from the stored rows; return (entries, first break)."""
        items = [
            (entry.id, payload(entry, rows), entry.prev_hash, entry.hash)
            async for entry, rows in self.repo.stream_chain()
        ]
        return len(items), verify_chain(items)

    async def replay(self, user_id: str | None = None) -> ReplayReport:
        """Recompute balances from amounts alone and compare with every stored balance."""
        replay = _Replay()
        async for row in self.repo.stream_postings(user_id):
            replay.feed(row)
        replay.close_entry()
        for owner in sorted({key[0] for key in replay.running}):
            replay.compare(owner, await self.balances(owner))
        return replay.report()


def _ref_of(item: EntryDraft | FillRequest) -> tuple[Kind, str] | None:
    if isinstance(item, FillRequest):
        return None if item.trade.ref is None else (Kind.FILL, item.trade.ref)
    return None if item.ref is None else (item.kind, item.ref)


class _Undo(NamedTuple):
    """What chaining one entry changed in a `_Batch`, as it was before."""

    seq: int
    hash: str
    user_id: str
    start: dict[tuple[str, str], Decimal | None]  # every balance the entry moved
    bots: list[str]  # bots the entry gave their first owner
    ref: tuple[Kind, str] | None


class _Batch:
    """The running state of one batched append: balances, chain tip, refs and bot owners
    as the entries chained so far leave them, with an undo record per entry so a refused
    group can be taken back."""

    def __init__(
        self,
        balances: dict[UserKey, Decimal | None],
        existing: dict[tuple[Kind, str], Entry],
        tip: ChainTip | None,
        now: datetime,
        ids: list[str],
    ) -> None:
        self.running = balances
        self.refs = existing
        self.owners: dict[str, str] = {}
        self.entries: list[Entry] = []
        self.by_id: dict[str, Entry] = {}
        self.seq = tip.seq if tip else 0
        self.hash = tip.hash if tip else GENESIS
        self.ts = max(now, tip.ts) if tip else now
        self._undo: list[_Undo] = []  # one per entry in `entries`
        self._ids = iter(ids)  # one per item of the batch, minted at once

    def balance(self, user_id: str, account: str, asset: str) -> Decimal | None:
        return self.running[(user_id, account, asset)]

    def start(self, draft: EntryDraft) -> dict[tuple[str, str], Decimal | None]:
        """The balances a draft's postings start from (None = never posted), keyed in the
        order of `_keys` (a key seen again keeps its first place and its value)."""
        running, user_id = self.running, draft.user_id
        return {
            (p.account, p.asset): running[(user_id, p.account, p.asset)] for p in draft.postings
        }

    def tip(self) -> ChainTip | None:
        """The chain tip after this batch, or None when it chained nothing."""
        return ChainTip(self.seq, self.hash, self.ts) if self.entries else None

    def posted(self, kind: Kind, ref: str) -> Entry | None:
        return self.refs.get((kind, ref))

    def chain(
        self,
        draft: EntryDraft,
        start: dict[tuple[str, str], Decimal | None],
        lines: tuple[PostedLine, ...],
    ) -> Entry:
        """Seal the next entry and take its balances; `start` (see `start`) holds every
        balance its lines move, as it was."""
        seq, prev, entry_id = self.seq + 1, self.hash, next(self._ids)
        entry = seal(draft, lines, seq=seq, prev_hash=prev, ts=self.ts, entry_id=entry_id)
        running, owners, user_id = self.running, self.owners, draft.user_id
        for line in lines:
            running[(user_id, line.account, line.asset)] = line.balance
        bots = []
        for account, _ in start:
            # `bot_of` less its type check: the draft's validation (or, for a fill, its
            # builder) already proved every account a path.
            bot_id = bot_of_path(account)
            if bot_id is not None and bot_id not in owners:
                owners[bot_id] = user_id
                bots.append(bot_id)
        ref = None if draft.ref is None else (draft.kind, draft.ref)
        if ref is not None:
            self.refs[ref] = entry
        # `_Undo(...)` less its Python-level `__new__` (one per entry)
        self._undo.append(tuple.__new__(_Undo, (self.seq, self.hash, user_id, start, bots, ref)))
        self.seq, self.hash = seq, entry.hash
        self.entries.append(entry)
        self.by_id[entry.id] = entry
        return entry

    def mark(self) -> int:
        return len(self.entries)

    def undo(self, mark: int) -> None:
        """Forget every entry chained since `mark` (a refused group), newest first."""
        while len(self.entries) > mark:
            entry, undo = self.entries.pop(), self._undo.pop()
            del self.by_id[entry.id]
            self.seq, self.hash = undo.seq, undo.hash
            for (account, asset), balance in undo.start.items():
                self.running[(undo.user_id, account, asset)] = balance
            for bot_id in undo.bots:
                del self.owners[bot_id]
            if undo.ref is not None:
                del self.refs[undo.ref]


class _Replay:
    """Accumulates a journal walk: running sums, per-entry balance, and what disagrees."""

    def __init__(self) -> None:
        self.running: dict[tuple[str, str, str], Decimal] = {}
        self.mismatches: list[ReplayMismatch] = []
        self.entries = self.postings = 0
        self._seq: int | None = None
        self._owner = ""
        self._sums: dict[str, Decimal] = {}

    def feed(self, row: ChainPosting) -> None:
        if row.seq != self._seq:
            self.close_entry()
            self._seq, self._owner, self._sums = row.seq, row.user_id, {}
            self.entries += 1
        self.postings += 1
        key = (row.user_id, row.account, row.asset)
        value = self.running[key] = add(self.running.get(key, ZERO), row.amount)
        self._sums[row.asset] = add(self._sums.get(row.asset, ZERO), row.amount)
        if row.balance != value:
            self._miss(row.seq, key, row.balance, value, "stored running balance differs")

    def close_entry(self) -> None:
        for asset, value in self._sums.items():
            if value != 0:
                key = (self._owner, "*", asset)
                self._miss(self._seq, key, ZERO, value, "entry does not balance")
        self._sums = {}

    def compare(self, user_id: str, stored: Balances) -> None:
        replayed = {
            (account, asset): value
            for (owner, account, asset), value in self.running.items()
            if owner == user_id and value != 0
        }
        flat = {(a, asset): v for a, assets in stored.items() for asset, v in assets.items()}
        for key in sorted(replayed.keys() | flat.keys()):
            if replayed.get(key, ZERO) != flat.get(key, ZERO):
                full = (user_id, *key)
                self._miss(None, full, flat.get(key), replayed.get(key, ZERO), "balance differs")

    def _miss(
        self,
        seq: int | None,
        key: tuple[str, str, str],
        stored: Decimal | None,
        replayed: Decimal,
        reason: str,
    ) -> None:
        self.mismatches.append(ReplayMismatch(seq, *key, stored, replayed, reason))

    def report(self) -> ReplayReport:
        return ReplayReport(self.entries, self.postings, tuple(self.mismatches))


def _position(trading_base: Decimal | None, trading_quote: Decimal | None) -> Position:
    """The trading account holds minus the quantity and plus its cost basis."""
    return Position(qty=-(trading_base or ZERO), cost=trading_quote or ZERO)


def _fill_keys(trade: Fill) -> list[tuple[str, str]]:
    """Every balance a fill of `trade` may touch, read in one round trip."""
    return fill_keys(trade.bot_id, trade.base, trade.quote, trade.fee_asset)


@lru_cache(maxsize=1 << 14)  # a batch asks for the same few bots' keys at every close
def _user_fill_keys(
    user_id: str, bot_id: str, base: str, quote: str, fee_asset: str | None
) -> tuple[UserKey, ...]:
    return tuple((user_id, *key) for key in fill_keys(bot_id, base, quote, fee_asset))


def fill_keys(
    bot_id: str, base: str, quote: str, fee_asset: str | None = None
) -> list[tuple[str, str]]:
    """The (account, asset) balances a fill of this bot through base/quote may touch."""
    trading = trading_account(bot_id, base, quote)
    cash, fee_asset = bot_account(bot_id, "cash"), fee_asset or quote
    keys = [
        (trading, base),
        (trading, quote),
        (cash, quote),
        (bot_account(bot_id, "position"), base),
        (bot_account(bot_id, "pnl"), quote),
        (bot_account(bot_id, "fees"), fee_asset),
        (cash, fee_asset),
    ]
    return list(dict.fromkeys(keys))


def _keys(draft: EntryDraft) -> list[tuple[str, str]]:
    return list(dict.fromkeys((p.account, p.asset) for p in draft.postings))


def _apply(
    draft: EntryDraft, start: dict[tuple[str, str], Decimal | None]
) -> tuple[PostedLine, ...]:
    """Running balance after each posting; refuse any floor account going negative."""
    running = {key: value or ZERO for key, value in start.items()}
    lines = []
    plus = CONTEXT.add  # `add`, without a call per posting
    for posting in draft.postings:
        account, asset, amount = posting.account, posting.asset, posting.amount
        key = (account, asset)
        balance = running[key] = plus(running[key], amount)
        if balance.copy_abs() >= MAX_ABS:  # NUMERIC(38,18) and the API's reads end here
            raise ValidationFailed(
                f"this would take the {asset} balance past the largest amount the ledger "
                "holds (10^20)",
                code="balance_out_of_range",
                details={"account": account, "asset": asset},
            )
        lines.append(new_posted_line(account, asset, amount, balance))
    for key, final in running.items():
        if final < 0:  # `_check_floor` passes any balance that is not negative
            _check_floor(*key, start[key] or ZERO, final)
    return tuple(lines)


def _accumulate(into: dict[str, Decimal], amounts: dict[str, Decimal]) -> None:
    for asset, amount in amounts.items():
        into[asset] = add(into.get(asset, ZERO), amount)


def _lines(postings: Sequence[journal.Posting]) -> list[tuple[str, str, Decimal]]:
    return [(p.account, p.asset, p.amount) for p in postings]


def _same_entry(existing: Entry, draft: EntryDraft) -> Entry:
    """Idempotent retry: same ref and same content returns the stored entry."""
    _owned(existing, draft.user_id)
    if _lines(existing.postings) != _lines(draft.postings):
        raise Conflict(
            f"{draft.kind.value} {draft.ref!r} was already posted with different postings",
            code="idempotency_conflict",
        )
    return existing


def _owned(existing: Entry, user_id: str) -> Entry:
    if existing.user_id != user_id:
        raise Conflict("this ref is already used", code="idempotency_conflict")
    return existing


def _check_floor(account: str, asset: str, before: Decimal, after: Decimal) -> None:
    if after >= 0 or after >= before:
        return
    path = parse_account(account)
    code = _FLOORS.get((path.scope, path.name))
    if code is not None:
        raise _shortfall(code, account, asset, before, CONTEXT.subtract(before, after))


# What a person reads; `details` keep the account and the exact amounts for programs.
_SHORTFALL_WORDS = {
    "insufficient_free_capital": (
        "Your free balance is {available} and this needs {required}: deposit, or free "
        "capital from a bot, first."
    ),
    "insufficient_allocated_capital": (
        "The bot's cash is {available} and this needs {required}: allocate more capital to the bot."
    ),
    "insufficient_position": "The bot holds {available} and this needs {required}.",
}


def _shortfall(
    code: str, account: str, asset: str, available: Decimal, required: Decimal
) -> Conflict:
    return Conflict(
        _SHORTFALL_WORDS[code].format(
            available=format_money(available, asset), required=format_money(required, asset)
        ),
        code=code,
        details={
            "account": account,
            "asset": asset,
            "available": decimal_text(available),
            "required": decimal_text(required),
        },
    )


def _capital_field(path: AccountPath, asset: str) -> str | None:
    if path.scope == "user":
        return "free" if path.name == "cash" else None
    if path.name == "cash":
        return "allocated_cash"
    pair = pair_of(path)
    if pair is not None and asset != pair[0]:
        return "invested_cost"
    return None


def _value(balance: Decimal, asset: str, quote: str, price: Price) -> Decimal:
    if asset == quote:
        return balance
    try:
        unit = price(asset)
    except KeyError as exc:
        raise ValidationFailed(f"no price for {asset}", code="missing_price") from exc
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return exact(balance * unit)
