"""The end-to-end leg that exists today (the live order manager is a later issue):
a strategy decision → the real planner → our real `ValrClient` over HTTP to the local
VALR venue → fills read back with `my_trades` → booked into the real ledger on SQLite,
keyed by VALR's trade id, with the chain verified and a second booking refused as a
duplicate (the same entry comes back, nothing new is written)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from tests.integration.venue_support import START, Venue, book

from amarktai.accounts.models import User
from amarktai.db.engine import make_engine, make_sessionmaker, transaction
from amarktai.engine.models import Bot
from amarktai.engine.planner import Holdings, plan
from amarktai.exchanges.client import OrderRequest, VenueFill
from amarktai.exchanges.valr import ValrClient
from amarktai.kit.ids import new_id
from amarktai.ledger import journal
from amarktai.ledger.journal import bot_account, trading_account
from amarktai.ledger.models import JournalEntry
from amarktai.ledger.service import LedgerService
from amarktai.markets.types import Instrument
from amarktai.strategies.base import Decision

D = Decimal
T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
Factory = async_sessionmaker[AsyncSession]
ALLOCATED = D(100000)


@pytest.fixture
async def factory(sqlite_url: str) -> AsyncIterator[Factory]:
    engine: AsyncEngine = make_engine(sqlite_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def funded_bot(factory: Factory) -> tuple[str, str]:
    user_id, bot_id = new_id(), new_id()
    async with transaction(factory) as s:
        s.add(User(id=user_id, email=f"{user_id}@example.test", password_hash="x",
                   role="trader", is_active=True, totp_enabled=False, created_at=T0))  # fmt: skip
        s.add(Bot(id=bot_id, user_id=user_id, name="venue-e2e", strategy="target", params={},
                  exchange="valr", symbol="BTC/ZAR", timeframe_s=60, mode="live",
                  status="running", risk={}, created_at=T0, updated_at=T0))  # fmt: skip
        await s.flush()
        ledger = LedgerService(s)
        await ledger.post(journal.deposit(user_id, "ZAR", ALLOCATED))
        await ledger.post(journal.allocate(user_id, bot_id, "ZAR", ALLOCATED))
    return user_id, bot_id


def as_ledger_fill(fill: VenueFill, bot_id: str, instrument: Instrument) -> journal.Fill:
    """VALR charges a buyer's fee in the base asset, which the ledger does not book as a
    fee (it wants fees in cash): the bot received qty − fee for qty × price, so that is
    what is booked. A seller's fee is in ZAR and books as a fee. The ref is VALR's trade
    id, the idempotency key: the same trade can never be booked twice."""
    ref = f"valr:{fill.venue_trade_id}"
    if fill.side == "buy" and fill.fee_asset == instrument.base:
        return journal.Fill(bot_id=bot_id, side="buy", base=instrument.base, quote=instrument.quote,
                            qty=fill.qty - fill.fee, price=fill.price,
                            notional=fill.qty * fill.price, ref=ref)  # fmt: skip
    return journal.Fill(bot_id=bot_id, side=fill.side, base=instrument.base, quote=instrument.quote,
                        qty=fill.qty, price=fill.price, fee=fill.fee, fee_asset=fill.fee_asset,
                        ref=ref)  # fmt: skip


async def trade_once(
    valr: ValrClient, factory: Factory, user_id: str, bot_id: str, target: float, n: int
) -> tuple[Sequence[VenueFill], Instrument]:
    """One bar of the live leg: decide, plan against the ledger's holdings, place, book."""
    instrument = next(i for i in await valr.instruments() if i.symbol == "BTC/ZAR")
    ticker = await valr.ticker("BTC/ZAR")
    assert ticker.ask is not None
    async with factory() as s:
        ledger = LedgerService(s)
        cash = (await ledger.balances(user_id, bot_id)).get(bot_account(bot_id, "cash"), {})
        position = await ledger.position(user_id, bot_id, "BTC", "ZAR")
    holdings = Holdings(cash=cash.get("ZAR", D(0)), position_qty=position.qty)
    decision = Decision(rule="e2e", signal=target, target=target)
    proposal = plan(decision, instrument=instrument, price=ticker.ask, holdings=holdings)
    assert proposal.outcome == "order" and proposal.side is not None, proposal.trace()
    order = await valr.create_order(
        OrderRequest("BTC/ZAR", proposal.side, "market", proposal.qty, f"{bot_id}-{n}")
    )
    assert (await valr.fetch_order("BTC/ZAR", f"{bot_id}-{n}")).status == "filled"
    fills = [f for f in await valr.my_trades("BTC/ZAR") if f.venue_order_id == order.venue_order_id]
    assert sum(f.qty for f in fills) == proposal.qty
    async with transaction(factory) as s:
        ledger = LedgerService(s)
        for fill in fills:
            await ledger.post_fill(user_id, as_ledger_fill(fill, bot_id, instrument))
    return fills, instrument


async def entry_count(factory: Factory) -> int:
    async with factory() as s:
        return int(await s.scalar(select(func.count()).select_from(JournalEntry)) or 0)


async def test_a_planned_order_fills_on_the_venue_and_books_into_the_ledger_exactly_once(
    venue: Venue, valr: ValrClient, factory: Factory
) -> None:
    user_id, bot_id = await funded_bot(factory)

    buys, instrument = await trade_once(valr, factory, user_id, bot_id, target=0.5, n=1)
    assert len(buys) >= 2  # the planned size walked more than one level of the book
    held = {b.asset: b.free for b in await valr.balances()}
    venue_zar, venue_btc = held["ZAR"], held["BTC"]
    async with factory() as s:
        ledger = LedgerService(s)
        balances = await ledger.balances(user_id, bot_id)
        position = await ledger.position(user_id, bot_id, "BTC", "ZAR")
    # the ledger and the venue agree to the last unit on what the trade moved
    assert ALLOCATED - balances[bot_account(bot_id, "cash")]["ZAR"] == START["ZAR"] - venue_zar
    assert position.qty == venue_btc - START["BTC"]
    assert position.cost == sum(f.qty * f.price for f in buys)

    # booking the same venue trade again is a no-op that returns the entry already posted
    before = await entry_count(factory)
    async with transaction(factory) as s:
        ledger = LedgerService(s)
        again = [
            await ledger.post_fill(user_id, as_ledger_fill(f, bot_id, instrument)) for f in buys
        ]
        refs = {e.ref for e in again}
    assert refs == {f"valr:{f.venue_trade_id}" for f in buys}
    assert await entry_count(factory) == before

    # the feed publishes a deeper book before the bot sells out (two levels taken again)
    deeper = ((D(999500), D("0.02")), (D(999000), D(1)))
    venue.server.core.set_book("BTC/ZAR", book(bids=deeper))
    sells, _ = await trade_once(valr, factory, user_id, bot_id, target=0.0, n=2)
    assert len(sells) == 2 and all(f.fee_asset == "ZAR" for f in sells)
    venue_zar = {b.asset: b.free for b in await valr.balances()}["ZAR"]
    async with factory() as s:
        ledger = LedgerService(s)
        balances = await ledger.balances(user_id, bot_id)
        position = await ledger.position(user_id, bot_id, "BTC", "ZAR")
        checked, broken = await ledger.verify()
        replay = await ledger.replay(user_id)
    assert position.qty == 0
    cash = balances[bot_account(bot_id, "cash")]["ZAR"]
    assert cash - ALLOCATED == venue_zar - START["ZAR"]
    assert trading_account(bot_id, "BTC", "ZAR") not in balances or all(
        v == 0 for v in balances[trading_account(bot_id, "BTC", "ZAR")].values()
    )
    assert broken is None and checked == await entry_count(factory)
    assert replay.ok
