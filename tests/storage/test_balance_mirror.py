"""The engine's balance mirror on SQLite and PostgreSQL: after every transaction,
committed or rolled back, and after other writers post, it says what the ledger says."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncEngine
from tests.storage.test_ledger_storage import make_user, post

from amarktai.db.engine import make_sessionmaker, transaction
from amarktai.ledger import journal
from amarktai.ledger.journal import Fill, bot_account
from amarktai.ledger.mirror import BalanceMirror
from amarktai.ledger.repository import UserKey
from amarktai.ledger.service import FillRequest, LedgerService, fill_keys

D = Decimal


async def test_the_mirror_agrees_with_the_ledger(db_engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(db_engine)
    user = await make_user(sessions)
    await post(sessions, journal.deposit(user, "ZAR", D(10_000)))
    await post(sessions, journal.allocate(user, "b1", "ZAR", D(1000)))
    keys: list[UserKey] = [(user, *key) for key in fill_keys("b1", "BTC", "ZAR")]
    cash: UserKey = (user, bot_account("b1", "cash"), "ZAR")
    mirror = BalanceMirror()

    async def mirrored() -> dict[UserKey, Decimal | None]:
        async with transaction(sessions) as s:
            ledger = LedgerService(s)
            await ledger.lock()
            seen = await mirror.read(ledger.repo, keys)
            truth = await ledger.repo.latest_balances_many(keys)
        mirror.end(committed=True)
        assert seen == truth
        return seen

    async def buy(qty: str, ref: str, *, fail: bool = False) -> None:
        trade = Fill("b1", "buy", "BTC", "ZAR", D(qty), D(100), fee=D(1), ref=ref)
        try:
            async with transaction(sessions) as s:
                ledger = LedgerService(s)
                await ledger.lock()
                await mirror.read(ledger.repo, keys)
                (booked,) = await ledger.post_fills([[FillRequest(user, trade)]], mirror=mirror)
                assert not isinstance(booked, Exception)
                if fail:
                    raise RuntimeError("the transaction dies after the batch")
        except RuntimeError:
            mirror.end(committed=False)
            return
        mirror.end(committed=True)

    assert (await mirrored())[cash] == D(1000)
    await post(sessions, journal.allocate(user, "b1", "ZAR", D(500)))  # another writer
    assert (await mirrored())[cash] == D(1500)
    await buy("2", "f1")
    assert (await mirrored())[cash] == D(1299)
    await buy("3", "f2", fail=True)  # rolled back: the mirror never takes its balances
    assert (await mirrored())[cash] == D(1299)
    await buy("1", "f3")
    await post(sessions, journal.deallocate(user, "b1", "ZAR", D(99)))
    await buy("1", "f4")  # straight after another writer, without a read in between
    assert (await mirrored())[cash] == D(1299) - D(101) - D(99) - D(101)


async def test_a_mirror_from_another_chain_starts_over(db_engine: AsyncEngine) -> None:
    """A mirror whose tip is not in this database (a restore, another database) forgets
    what it holds instead of trusting it."""
    sessions = make_sessionmaker(db_engine)
    user = await make_user(sessions)
    await post(sessions, journal.deposit(user, "ZAR", D(10_000)))
    key: UserKey = (user, journal.user_account(user, "cash"), "ZAR")
    mirror = BalanceMirror()
    async with transaction(sessions) as s:
        ledger = LedgerService(s)
        await ledger.lock()
        assert (await mirror.read(ledger.repo, [key]))[key] == D(10_000)
        mirror._values[key] = D(1)  # what a mirror of some other chain would hold
        tip = mirror.tip
        assert tip is not None
        mirror.stage({}, type(tip)(tip.seq, "f" * 64, tip.ts))
    mirror.end(committed=True)
    async with transaction(sessions) as s:
        ledger = LedgerService(s)
        await ledger.lock()
        assert (await mirror.read(ledger.repo, [key]))[key] == D(10_000)
    mirror.end(committed=True)
