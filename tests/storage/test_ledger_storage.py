"""The ledger on both backends: balances, point-in-time, immutability, tamper evidence,
idempotency, concurrency, and property tests of the capital invariants."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from amarktai.accounts.models import User
from amarktai.db.engine import make_sessionmaker, transaction
from amarktai.kit.clock import ManualClock
from amarktai.kit.errors import Conflict, DomainError, NotFound, ValidationFailed
from amarktai.kit.ids import new_id
from amarktai.ledger import journal
from amarktai.ledger.journal import Fill, bot_account, trading_account, user_account
from amarktai.ledger.mirror import BalanceMirror
from amarktai.ledger.models import JournalEntry
from amarktai.ledger.repository import UserKey
from amarktai.ledger.service import FillRequest, LedgerService, fill_keys

D = Decimal
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
Factory = async_sessionmaker[AsyncSession]


async def make_user(factory: Factory) -> str:
    user_id = new_id()
    async with transaction(factory) as s:
        s.add(
            User(
                id=user_id,
                email=f"{user_id}@example.test",
                password_hash="x",
                role="trader",
                is_active=True,
                totp_enabled=False,
                created_at=T0,
            )
        )
    return user_id


async def post(
    factory: Factory, draft: journal.EntryDraft, clock: ManualClock | None = None
) -> journal.Entry:
    async with transaction(factory) as s:
        return await LedgerService(s, clock).post(draft)


async def buy(
    factory: Factory, user: str, bot: str, qty: str, price: str, **kw: object
) -> journal.Entry:
    async with transaction(factory) as s:
        trade = Fill(bot, "buy", "BTC", "ZAR", D(qty), D(price), **kw)  # type: ignore[arg-type]
        return await LedgerService(s).post_fill(user, trade)


async def sell(
    factory: Factory, user: str, bot: str, qty: str, price: str, **kw: object
) -> journal.Entry:
    async with transaction(factory) as s:
        trade = Fill(bot, "sell", "BTC", "ZAR", D(qty), D(price), **kw)  # type: ignore[arg-type]
        return await LedgerService(s).post_fill(user, trade)


async def entry_count(factory: Factory, user_id: str | None = None) -> int:
    async with factory() as s:
        query = select(func.count()).select_from(JournalEntry)
        if user_id is not None:
            query = query.where(JournalEntry.user_id == user_id)
        return int(await s.scalar(query) or 0)


@pytest.fixture
def factory(db_engine: AsyncEngine) -> Factory:
    return make_sessionmaker(db_engine)


async def test_fills_fees_and_average_cost_pnl(factory: Factory) -> None:
    user, bot = await make_user(factory), new_id()
    await post(factory, journal.deposit(user, "ZAR", D(1000)))
    await post(factory, journal.allocate(user, bot, "ZAR", D(600)))
    await buy(factory, user, bot, "0.01", "20000", fee=D(1), ref="f1")
    await buy(factory, user, bot, "0.01", "25000", fee=D(1), ref="f2")
    await sell(factory, user, bot, "0.01", "30000", fee=D("1.5"), ref="f3")
    async with factory() as s:
        ledger = LedgerService(s)
        assert await ledger.balances(user, bot_id=bot) == {
            bot_account(bot, "cash"): {"ZAR": D("446.5")},
            bot_account(bot, "position"): {"BTC": D("0.01")},
            trading_account(bot, "BTC", "ZAR"): {"ZAR": D(225), "BTC": D("-0.01")},
            bot_account(bot, "fees"): {"ZAR": D("3.5")},
            bot_account(bot, "pnl"): {"ZAR": D(-75)},
        }
        capital = (await ledger.capital(user))["ZAR"]
        assert (capital.free, capital.allocated_cash, capital.invested_cost) == (
            D(400),
            D("446.5"),
            D(225),
        )
        assert capital.total == D("1071.5")
        pnl = (await ledger.pnl(user, bot))["ZAR"]
        assert (pnl.realised, pnl.fees) == (D(75), D("3.5"))
        point = await ledger.mark_to_market(user, {"BTC": D(25000)}.__getitem__, bot_id=bot)
        assert point.equity == D("696.5")
        assert point.unrealised_pnl == D(25) and point.realised_pnl == D(75)
        user_point = await ledger.mark_to_market(user, {"BTC": D(25000)}.__getitem__)
        assert user_point.equity == D("1096.5")
        with pytest.raises(ValidationFailed):
            await ledger.mark_to_market(user, {}.__getitem__)
        assert (await ledger.replay()).ok


async def test_point_in_time_balances_and_entries(factory: Factory) -> None:
    user, bot = await make_user(factory), new_id()
    clock = ManualClock(T0)
    await post(factory, journal.deposit(user, "ZAR", D(100)), clock)
    clock.advance(timedelta(hours=1))
    await post(factory, journal.allocate(user, bot, "ZAR", D(40)), clock)
    clock.advance(timedelta(hours=1))
    await post(factory, journal.deposit(user, "ZAR", D(5)), clock)
    async with factory() as s:
        ledger = LedgerService(s, clock)
        before = await ledger.balances(user, as_of=T0 - timedelta(seconds=1))
        first = await ledger.balances(user, as_of=T0 + timedelta(minutes=30))
        second = await ledger.balances(user, as_of=T0 + timedelta(hours=1))
        now = await ledger.balances(user)
        page = await ledger.entries(user, as_of=T0 + timedelta(hours=1))
        curve = await ledger.equity_curve(
            user, [T0 + timedelta(hours=h) for h in range(3)], lambda a, t: D(1)
        )
    cash = user_account(user, "cash")
    assert before == {}
    assert first[cash] == {"ZAR": D(100)} and bot_account(bot, "cash") not in first
    assert second[cash] == {"ZAR": D(60)} and second[bot_account(bot, "cash")] == {"ZAR": D(40)}
    assert now[cash] == {"ZAR": D(65)}
    assert [e.kind for e in page.items] == ["allocation", "deposit"]
    assert [p.equity for p in curve] == [D(100), D(100), D(105)]


async def test_journal_time_never_runs_backwards(factory: Factory) -> None:
    user = await make_user(factory)
    first = await post(factory, journal.deposit(user, "ZAR", D(1)), ManualClock(T0))
    late = await post(
        factory, journal.deposit(user, "ZAR", D(1)), ManualClock(T0 - timedelta(days=1))
    )
    assert late.seq == first.seq + 1 and late.ts == first.ts


async def test_reversal_restores_balances_and_leaves_the_original(factory: Factory) -> None:
    user, bot = await make_user(factory), new_id()
    await post(factory, journal.deposit(user, "ZAR", D(100)))
    allocation = await post(factory, journal.allocate(user, bot, "ZAR", D(70)))
    async with factory() as s:
        before = await LedgerService(s).balances(user)
    async with transaction(factory) as s:
        undo = await LedgerService(s).reverse(allocation.id, "fat finger", user_id=user)
    async with transaction(factory) as s:
        again = await LedgerService(s).reverse(allocation.id, "retry", user_id=user)
    async with factory() as s:
        ledger = LedgerService(s)
        after = await ledger.balances(user)
        stored = await ledger.get(allocation.id, user_id=user)
        assert (await ledger.replay(user)).ok
    assert again.id == undo.id and undo.reverses_id == allocation.id
    assert before[bot_account(bot, "cash")] == {"ZAR": D(70)}
    assert after == {
        user_account(user, "cash"): {"ZAR": D(100)},
        user_account(user, "external"): {"ZAR": D(-100)},
    }
    assert stored.hash == allocation.hash and stored.postings == allocation.postings
    with pytest.raises(Conflict, match="reversal"):
        async with transaction(factory) as s:
            await LedgerService(s).reverse(undo.id, "undo the undo", user_id=user)


async def test_reversing_spent_capital_is_refused(factory: Factory) -> None:
    user, bot = await make_user(factory), new_id()
    await post(factory, journal.deposit(user, "ZAR", D(100)))
    allocation = await post(factory, journal.allocate(user, bot, "ZAR", D(100)))
    await buy(factory, user, bot, "1", "60")
    with pytest.raises(Conflict) as exc:
        async with transaction(factory) as s:
            await LedgerService(s).reverse(allocation.id, "too late", user_id=user)
    assert exc.value.code == "insufficient_allocated_capital"


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE postings SET amount = amount * 2 WHERE seq = 2 AND line = 0",
        "UPDATE postings SET balance = balance + 1 WHERE seq = 2 AND line = 1",
        "UPDATE journal_entries SET description = 'nothing to see' WHERE seq = 2",
        "DELETE FROM postings WHERE seq = 2 AND line = 1",
    ],
)
async def test_tampering_is_pinned_to_the_entry(factory: Factory, tamper: str) -> None:
    user, bot = await make_user(factory), new_id()
    await post(factory, journal.deposit(user, "ZAR", D(100)))
    target = await post(factory, journal.allocate(user, bot, "ZAR", D(30)))
    await post(factory, journal.deallocate(user, bot, "ZAR", D(10)))
    async with factory() as s:
        assert await LedgerService(s).verify() == (3, None)
    async with transaction(factory) as s:
        await s.execute(text(tamper))
    async with factory() as s:
        count, broken = await LedgerService(s).verify()
    assert count == 3 and broken is not None
    assert (broken.entry_id, broken.position) == (target.id, 1)


async def test_replay_catches_a_doctored_amount(factory: Factory) -> None:
    user, bot = await make_user(factory), new_id()
    await post(factory, journal.deposit(user, "ZAR", D(100)))
    await post(factory, journal.allocate(user, bot, "ZAR", D(30)))
    async with transaction(factory) as s:
        await s.execute(text("UPDATE postings SET amount = amount * 2 WHERE seq = 2"))
    async with factory() as s:
        report = await LedgerService(s).replay()
    assert not report.ok and report.entries == 2 and report.postings == 4
    assert {m.reason for m in report.mismatches} >= {"stored running balance differs"}


async def test_refs_make_posting_idempotent(factory: Factory) -> None:
    user, bot = await make_user(factory), new_id()
    first = await post(factory, journal.deposit(user, "ZAR", D(100), ref="bank-1"))
    again = await post(factory, journal.deposit(user, "ZAR", D(100), ref="bank-1"))
    await post(factory, journal.allocate(user, bot, "ZAR", D(100)))
    fill = await buy(factory, user, bot, "1", "10", ref="ex-77")
    fill_again = await buy(factory, user, bot, "1", "10", ref="ex-77")
    assert again.id == first.id and fill_again.id == fill.id
    assert await entry_count(factory, user) == 3
    with pytest.raises(Conflict) as exc:
        await post(factory, journal.deposit(user, "ZAR", D(999), ref="bank-1"))
    assert exc.value.code == "idempotency_conflict"
    other = await make_user(factory)
    with pytest.raises(Conflict):
        await post(factory, journal.deposit(other, "ZAR", D(100), ref="bank-1"))


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda u, b: journal.allocate(u, b, "ZAR", D(101)), "insufficient_free_capital"),
        (lambda u, b: journal.withdrawal(u, "ZAR", D(100), fee=D(1)), "insufficient_free_capital"),
        (lambda u, b: journal.deallocate(u, b, "ZAR", D(51)), "insufficient_allocated_capital"),
        (
            lambda u, b: journal.transfer(u, b, "bot-b", "ZAR", D(51)),
            "insufficient_allocated_capital",
        ),
        (lambda u, b: journal.fee(u, "BTC", D(1), bot_id=b), "insufficient_allocated_capital"),
    ],
)
async def test_overspending_is_refused_and_writes_nothing(
    factory: Factory, make: object, code: str
) -> None:
    user, bot = await make_user(factory), new_id()
    await post(factory, journal.deposit(user, "ZAR", D(100)))
    await post(factory, journal.allocate(user, bot, "ZAR", D(50)))
    count = await entry_count(factory)
    async with factory() as s:
        before = await LedgerService(s).balances(user)
    with pytest.raises(Conflict) as exc:
        await post(factory, make(user, bot))  # type: ignore[operator]
    assert exc.value.code == code
    assert await entry_count(factory) == count
    async with factory() as s:
        assert await LedgerService(s).balances(user) == before


async def test_a_bot_cannot_spend_unallocated_capital(factory: Factory) -> None:
    user, bot = await make_user(factory), new_id()
    await post(factory, journal.deposit(user, "ZAR", D(1000)))
    await post(factory, journal.allocate(user, bot, "ZAR", D(100)))
    with pytest.raises(Conflict) as exc:
        await buy(factory, user, bot, "1", "100", fee=D("0.01"))
    assert exc.value.code == "insufficient_allocated_capital"
    assert exc.value.details["available"] == "100"
    with pytest.raises(Conflict) as exc:
        await sell(factory, user, bot, "0.1", "100")
    assert exc.value.code == "insufficient_position"
    async with factory() as s:
        ledger = LedgerService(s)
        assert await ledger.check_can_spend(user, bot, "ZAR", D(100)) == D(100)
        with pytest.raises(Conflict):
            await ledger.check_can_spend(user, bot, "ZAR", D("100.01"))
    assert await entry_count(factory, user) == 2


async def test_users_are_isolated(factory: Factory) -> None:
    alice, bob, bot = await make_user(factory), await make_user(factory), new_id()
    await post(factory, journal.deposit(alice, "ZAR", D(100)))
    entry = await post(factory, journal.allocate(alice, bot, "ZAR", D(10)))
    await post(factory, journal.deposit(bob, "ZAR", D(100)))
    with pytest.raises(Conflict) as exc:
        await post(factory, journal.allocate(bob, bot, "ZAR", D(10)))
    assert exc.value.code == "foreign_bot"
    with pytest.raises(NotFound):
        async with transaction(factory) as s:
            await LedgerService(s).reverse(entry.id, "not mine", user_id=bob)
    async with factory() as s:
        ledger = LedgerService(s)
        assert await ledger.balances(bob, bot_id=bot) == {}
        assert (await ledger.entries(bob, bot_id=bot)).items == []


async def test_entries_paginate_newest_first_by_seq(factory: Factory) -> None:
    user, bot = await make_user(factory), new_id()
    for amount in range(1, 6):
        await post(factory, journal.deposit(user, "ZAR", D(amount)))
    await post(factory, journal.allocate(user, bot, "ZAR", D(3)))
    seen: list[int] = []
    cursor = None
    async with factory() as s:
        ledger = LedgerService(s)
        while True:
            page = await ledger.entries(user, cursor=cursor, limit=2)
            seen += [e.seq for e in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        bot_page = await ledger.entries(user, bot_id=bot)
        with pytest.raises(ValidationFailed):
            await ledger.entries(user, cursor="nope!")
    assert seen == sorted(seen, reverse=True) and len(seen) == 6
    assert [e.kind for e in bot_page.items] == ["allocation"]
    assert len(bot_page.items[0].postings) == 2


async def test_concurrent_posts_keep_one_chain_and_never_overspend(factory: Factory) -> None:
    user, bot = await make_user(factory), new_id()

    async def deposit(i: int) -> None:
        async with transaction(factory) as s:
            await LedgerService(s).post(journal.deposit(user, "ZAR", D(10), ref=f"dep-{i}"))
            await asyncio.sleep(0)

    await asyncio.gather(*(deposit(i) for i in range(10)))
    await post(factory, journal.allocate(user, bot, "ZAR", D(100)))

    async def spend(i: int) -> str:
        try:
            await buy(factory, user, bot, "1", "30", ref=f"buy-{i}")
        except Conflict as exc:
            return exc.code
        return "ok"

    outcomes = await asyncio.gather(*(spend(i) for i in range(6)))
    assert sorted(outcomes) == ["insufficient_allocated_capital"] * 3 + ["ok"] * 3
    async with factory() as s:
        ledger = LedgerService(s)
        count, broken = await ledger.verify()
        page = await ledger.entries(user, limit=500)
        balances = await ledger.balances(user, bot_id=bot)
        assert (await ledger.replay()).ok
    assert (count, broken) == (14, None)
    assert sorted(e.seq for e in page.items) == list(range(1, 15))
    assert balances[bot_account(bot, "cash")] == {"ZAR": D(10)}


# -- property tests ------------------------------------------------------------------------

BOTS = ("bot-a", "bot-b", "bot-c")
money = st.decimals(min_value=D("0.01"), max_value=D(500), places=2)
qtys = st.decimals(min_value=D("0.001"), max_value=D(3), places=3)
prices = st.decimals(min_value=D(1), max_value=D(200), places=2)
fees = st.decimals(min_value=D(0), max_value=D(2), places=2)
bot_ix = st.integers(0, len(BOTS) - 1)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("deposit"), money),
        st.tuples(st.just("withdraw"), money),
        st.tuples(st.just("allocate"), bot_ix, money),
        st.tuples(st.just("deallocate"), bot_ix, money),
        st.tuples(st.just("buy"), bot_ix, qtys, prices, fees),
        st.tuples(st.just("sell"), bot_ix, qtys, prices, fees),
        st.tuples(st.just("fee"), bot_ix, money),
        st.tuples(st.just("transfer"), bot_ix, bot_ix, money),
    ),
    min_size=1,
    max_size=14,
)


@dataclass
class Model:
    """What a correct ledger must say, tracked independently of it."""

    free: Decimal = Decimal(0)
    cash: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(BOTS, D(0)))
    held: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(BOTS, D(0)))


def _expect(model: Model, op: tuple[object, ...]) -> str | None:
    """Apply `op` to the model if it is allowed; otherwise return the expected error code."""
    kind, *args = op
    if kind == "deposit":
        model.free += args[0]  # type: ignore[operator]
    elif kind in ("withdraw", "allocate"):
        amount = args[-1]
        if amount > model.free:  # type: ignore[operator]
            return "insufficient_free_capital"
        model.free -= amount  # type: ignore[operator]
        if kind == "allocate":
            model.cash[BOTS[args[0]]] += amount  # type: ignore[index, operator]
    else:
        return _expect_bot(model, str(kind), args)
    return None


def _expect_bot(model: Model, kind: str, args: list[object]) -> str | None:
    bot = BOTS[args[0]]  # type: ignore[index]
    if kind == "transfer":
        other, amount = BOTS[args[1]], args[2]  # type: ignore[index]
        if other == bot:
            return "same_bot"
        return _move(model, bot, -amount) or _move(model, other, amount)  # type: ignore[operator]
    if kind in ("deallocate", "fee"):
        amount = args[1]
        result = _move(model, bot, -amount)  # type: ignore[operator]
        if result is None and kind == "deallocate":
            model.free += amount  # type: ignore[operator]
        return result
    qty, price, fee = args[1], args[2], args[3]
    notional = qty * price  # type: ignore[operator]
    if kind == "sell" and qty > model.held[bot]:  # type: ignore[operator]
        return "insufficient_position"
    change = -notional - fee if kind == "buy" else notional - fee
    result = _move(model, bot, change)
    if result is None:
        model.held[bot] += qty if kind == "buy" else -qty  # type: ignore[operator]
    return result


def _move(model: Model, bot: str, amount: Decimal) -> str | None:
    if model.cash[bot] + amount < 0:
        return "insufficient_allocated_capital"
    model.cash[bot] += amount
    return None


def _draft(user: str, bots: dict[str, str], op: tuple[object, ...]) -> journal.EntryDraft | Fill:
    kind, *args = op
    if kind == "deposit":
        return journal.deposit(user, "ZAR", args[0])  # type: ignore[arg-type]
    if kind == "withdraw":
        return journal.withdrawal(user, "ZAR", args[0])  # type: ignore[arg-type]
    bot = bots[BOTS[args[0]]]  # type: ignore[index]
    if kind == "allocate":
        return journal.allocate(user, bot, "ZAR", args[1])  # type: ignore[arg-type]
    if kind == "deallocate":
        return journal.deallocate(user, bot, "ZAR", args[1])  # type: ignore[arg-type]
    if kind == "fee":
        return journal.fee(user, "ZAR", args[1], bot_id=bot)  # type: ignore[arg-type]
    if kind == "transfer":
        return journal.transfer(user, bot, bots[BOTS[args[1]]], "ZAR", args[2])  # type: ignore[arg-type, index]
    return Fill(bot, kind, "BTC", "ZAR", args[1], args[2], fee=args[3])  # type: ignore[arg-type]


async def _attempt(
    factory: Factory, user: str, bots: dict[str, str], op: tuple[object, ...]
) -> str | None:
    try:
        request = _draft(user, bots, op)
        async with transaction(factory) as s:
            ledger = LedgerService(s)
            if isinstance(request, Fill):
                await ledger.post_fill(user, request)
            else:
                await ledger.post(request)
    except DomainError as exc:
        return exc.code
    return None


PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY
@given(ops=operations)
async def test_random_capital_flows_keep_every_invariant(
    factory: Factory, ops: list[tuple[object, ...]]
) -> None:
    user = await make_user(factory)
    bots = {name: new_id() for name in BOTS}
    model = Model()
    for op in ops:
        before = await entry_count(factory, user)
        expected = _expect(model, op)
        assert await _attempt(factory, user, bots, op) == expected, op
        assert await entry_count(factory, user) == before + (expected is None)
    async with factory() as s:
        ledger = LedgerService(s)
        balances = await ledger.balances(user)
        report = await ledger.replay(user)
        assert (await ledger.verify())[1] is None
    assert report.ok, report.mismatches
    assert balances.get(user_account(user, "cash"), {}).get("ZAR", D(0)) == model.free
    for name, bot in bots.items():
        assert balances.get(bot_account(bot, "cash"), {}).get("ZAR", D(0)) == model.cash[name]
        assert balances.get(bot_account(bot, "position"), {}).get("BTC", D(0)) == model.held[name]
    totals: dict[str, Decimal] = {}
    for assets in balances.values():
        for asset, amount in assets.items():
            totals[asset] = totals.get(asset, D(0)) + amount
    assert set(totals.values()) <= {D(0)}


async def test_a_pair_only_sells_what_it_bought(factory: Factory) -> None:
    user, bot = await make_user(factory), new_id()
    await post(factory, journal.deposit(user, "ZAR", D(100)))
    await post(factory, journal.allocate(user, bot, "ZAR", D(100)))
    await buy(factory, user, bot, "1", "50")
    with pytest.raises(Conflict) as exc:
        async with transaction(factory) as s:
            await LedgerService(s).post_fill(user, Fill(bot, "sell", "BTC", "USDT", D(1), D(3)))
    assert exc.value.code == "insufficient_position"
    async with factory() as s:
        held = await LedgerService(s).position(user, bot, "BTC", "ZAR")
    assert (held.qty, held.cost) == (D(1), D(50))


# -- batched appends -----------------------------------------------------------------------

ref_choices = st.lists(st.sampled_from([None, None, "r1", "r2"]), min_size=14, max_size=14)


def _with_ref(request: journal.EntryDraft | Fill, ref: str | None) -> journal.EntryDraft | Fill:
    return request if ref is None else replace(request, ref=ref)


def _named(balances: dict[str, dict[str, Decimal]], names: dict[str, str]) -> dict[str, object]:
    """Balances with user and bot ids replaced by stable names, to compare two users."""
    out: dict[str, object] = {}
    for account, assets in balances.items():
        for real, name in names.items():
            account = account.replace(real, name)
        out[account] = assets
    return out


@PROPERTY
@given(ops=operations, refs=ref_choices)
async def test_post_many_books_exactly_what_posting_one_by_one_does(
    factory: Factory, ops: list[tuple[object, ...]], refs: list[str | None]
) -> None:
    """One batch (post_many) against the same requests posted one by one, for two users
    on the same chain: same rejections, same balances, same number of entries, and the
    chain still verifies and replays."""
    one, many = await make_user(factory), await make_user(factory)
    one_bots = {name: new_id() for name in BOTS}
    many_bots = {name: new_id() for name in BOTS}
    singly: list[str | None] = []
    for op, ref in zip(ops, refs, strict=False):
        try:
            request = _with_ref(_draft(one, one_bots, op), ref and f"{one}-{ref}")
            async with transaction(factory) as s:
                ledger = LedgerService(s)
                if isinstance(request, Fill):
                    await ledger.post_fill(one, request)
                else:
                    await ledger.post(request)
        except DomainError as exc:
            singly.append(exc.code)
        else:
            singly.append(None)
    batched: list[str | None] = []
    requests: list[journal.EntryDraft | FillRequest] = []
    slots: list[int] = []
    for op, ref in zip(ops, refs, strict=False):
        try:
            request = _with_ref(_draft(many, many_bots, op), ref and f"{many}-{ref}")
        except DomainError as exc:  # refused while building the draft, as above
            batched.append(exc.code)
            continue
        slots.append(len(batched))
        batched.append(None)
        requests.append(FillRequest(many, request) if isinstance(request, Fill) else request)
    async with transaction(factory) as s:
        results = await LedgerService(s).post_many(requests)
    for slot, result in zip(slots, results, strict=True):
        batched[slot] = result.code if isinstance(result, DomainError) else None
    assert batched == singly
    assert await entry_count(factory, many) == await entry_count(factory, one)
    async with factory() as s:
        ledger = LedgerService(s)
        assert (await ledger.verify())[1] is None
        assert (await ledger.replay()).ok
        names_one = {one: "user", **{bot: name for name, bot in one_bots.items()}}
        names_many = {many: "user", **{bot: name for name, bot in many_bots.items()}}
        assert _named(await ledger.balances(many), names_many) == _named(
            await ledger.balances(one), names_one
        )


async def test_post_fills_books_an_order_whole_or_not_at_all(factory: Factory) -> None:
    user, rich, poor = await make_user(factory), new_id(), new_id()
    await post(factory, journal.deposit(user, "ZAR", D(1000)))
    await post(factory, journal.allocate(user, rich, "ZAR", D(500)))
    await post(factory, journal.allocate(user, poor, "ZAR", D(100)))
    already = await buy(factory, user, rich, "1", "10", ref="old")

    def fill(bot: str, qty: str, ref: str) -> FillRequest:
        return FillRequest(user, Fill(bot, "buy", "BTC", "ZAR", D(qty), D(10), ref=ref))

    async with transaction(factory) as s:
        results = await LedgerService(s).post_fills(
            [
                [fill(rich, "2", "a1"), fill(rich, "3", "a2")],
                [fill(poor, "5", "b1"), fill(poor, "6", "b2")],  # 110 ZAR > 100: none booked
                [fill(rich, "1", "old")],  # idempotent: the entry already posted
                [(user, Fill(poor, "buy", "BTC", "ZAR", D(9), D(10), ref="c1"))],
            ]
        )
    booked, refused, again, alone = results
    assert isinstance(booked, list) and [e.ref for e in booked] == ["a1", "a2"]
    assert isinstance(refused, Conflict) and refused.code == "insufficient_allocated_capital"
    assert isinstance(again, list) and again[0].id == already.id
    assert isinstance(alone, list) and alone[0].postings[0].balance == D(10)
    async with factory() as s:
        ledger = LedgerService(s)
        assert (await ledger.position(user, poor, "BTC", "ZAR")).qty == D(9)
        assert (await ledger.position(user, rich, "BTC", "ZAR")).qty == D(6)
        assert (await ledger.verify())[1] is None and (await ledger.replay()).ok
        entries = (await ledger.entries(user, limit=50)).items
    assert sorted(e.seq for e in entries) == list(range(1, len(entries) + 1))
    assert {e.ref for e in entries if e.kind == journal.Kind.FILL} == {"old", "a1", "a2", "c1"}


async def test_a_refused_order_in_a_mirrored_batch_leaves_no_trace(factory: Factory) -> None:
    """The engine's batch (mirror, fresh refs): a refused order's fills are taken back
    whole (balances, chain tip, refs), the orders after it see the ledger as if it had
    never been tried, a foreign bot is refused, and the mirror agrees with the ledger."""
    alice, bob, bot = await make_user(factory), await make_user(factory), new_id()
    await post(factory, journal.deposit(alice, "ZAR", D(1000)))
    await post(factory, journal.allocate(alice, bot, "ZAR", D(100)))
    mirror = BalanceMirror()

    def fill(user: str, side: Literal["buy", "sell"], qty: str, ref: str) -> FillRequest:
        return FillRequest(user, Fill(bot, side, "BTC", "ZAR", D(qty), D(10), D("0.5"), ref=ref))

    async with transaction(factory) as s:
        results = await LedgerService(s).post_fills(
            [
                [fill(alice, "buy", "4", "a"), fill(alice, "sell", "2", "b")],
                # 101 ZAR, and 79 left: refused after its first fill was chained
                [fill(alice, "buy", "5", "c"), fill(alice, "buy", "5", "d")],
                [fill(alice, "buy", "5", "c")],  # the refused order's ref is free again
                [fill(bob, "buy", "1", "e")],  # alice's bot
                [fill(alice, "sell", "7", "f")],  # holds 7 only if nothing was undone wrongly
            ],
            mirror=mirror,
            fresh_refs=True,
        )
    mirror.end(committed=True)
    first, refused, again, foreign, last = results
    assert isinstance(first, list) and isinstance(again, list) and isinstance(last, list)
    assert isinstance(refused, Conflict) and refused.code == "insufficient_allocated_capital"
    assert isinstance(foreign, Conflict) and foreign.code == "foreign_bot"
    assert [e.seq for e in [*first, *again, *last]] == [3, 4, 5, 6]
    keys: list[UserKey] = [(alice, *key) for key in fill_keys(bot, "BTC", "ZAR")]
    cash = D(100 - 40 + 20 - 50 + 70) - 4 * D("0.5")
    async with transaction(factory) as s:
        ledger = LedgerService(s)
        await ledger.lock()
        assert await mirror.read(ledger.repo, keys) == await ledger.repo.latest_balances_many(keys)
        assert (await ledger.position(alice, bot, "BTC", "ZAR")).qty == D(0)
        assert await ledger.check_can_spend(alice, bot, "ZAR", D(1)) == cash
        assert (await ledger.verify())[1] is None and (await ledger.replay()).ok
