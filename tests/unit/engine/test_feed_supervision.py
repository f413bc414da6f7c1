"""The engine outlives its market feed: a feed that fails or ends is replaced, with
back-off, and the bots go on trading on the new one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from amarktai.bootstrap import sim_feed
from amarktai.engine.runner import Engine
from amarktai.kit.clock import ManualClock
from amarktai.markets.instruments import default_registry
from amarktai.markets.types import MarketEvent, Trade

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def trade(i: int) -> Trade:
    return Trade(T0 + timedelta(seconds=i), "BTC/ZAR", Decimal(1_000_000 + i), Decimal(1), "buy")


def engine() -> Engine:
    # No bot runs, so no candle close and no session is ever opened.
    return Engine(async_sessionmaker(), ManualClock(T0), default_registry())


async def test_a_failed_feed_is_replaced_and_the_engine_goes_on() -> None:
    eng = engine()
    made = 0

    def make_feed() -> AsyncIterator[MarketEvent]:
        nonlocal made
        made += 1
        attempt = made

        async def feed() -> AsyncIterator[MarketEvent]:
            for i in range(3):
                yield trade(10 * attempt + i)
            if attempt == 1:
                raise ConnectionError("exchange socket closed")
            await asyncio.Event().wait()  # the second feed stays up

        return feed()

    task = asyncio.create_task(eng.run_forever(make_feed, first_delay_s=0.01))
    for _ in range(200):
        if eng.events_seen == 6:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (made, eng.feed_restarts, eng.events_seen) == (2, 1, 6)
    assert eng.last_prices["BTC/ZAR"] == Decimal(1_000_022)  # a print of the second feed


async def test_restarts_of_a_feed_that_never_delivers_back_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    eng = engine()
    delays: list[float] = []
    sleep = asyncio.sleep

    async def recorded_sleep(delay: float) -> None:
        delays.append(delay)
        if len(delays) == 5:
            raise asyncio.CancelledError
        await sleep(0)

    def dead_feed() -> AsyncIterator[MarketEvent]:
        async def feed() -> AsyncIterator[MarketEvent]:
            raise ConnectionError("no route to exchange")
            yield  # an async generator that fails at once

        return feed()

    monkeypatch.setattr(asyncio, "sleep", recorded_sleep)
    with pytest.raises(asyncio.CancelledError):
        await eng.run_forever(dead_feed, first_delay_s=1.0, max_delay_s=5.0)
    assert delays == [1.0, 2.0, 4.0, 5.0, 5.0] and eng.events_seen == 0


def first_trades(steps: Iterator[list[MarketEvent]], n: int = 5) -> list[Trade]:
    return [e for _, batch in zip(range(n), steps, strict=False) for e in batch
            if isinstance(e, Trade)]  # fmt: skip


def test_a_restarted_sim_feed_goes_on_from_the_last_prices() -> None:
    eng = engine()
    start = {t.symbol: t.price for t in first_trades(sim_feed(eng, ManualClock(T0)).steps())}
    assert start
    eng.last_prices = {symbol: price * 2 for symbol, price in start.items()}
    eng.feed_restarts = 1
    again = first_trades(sim_feed(eng, ManualClock(T0)).steps())
    assert again and all(
        abs(t.price / eng.last_prices[t.symbol] - 1) < Decimal("0.01") for t in again
    )
