import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from amarktai.kit.clock import ManualClock
from amarktai.kit.errors import ValidationFailed
from amarktai.markets import MarketFeed, OrderBook, Trade
from amarktai.markets.sim import Regime, SimConfig, SimMarket


def test_same_seed_same_events_different_seed_differs() -> None:
    a = list(SimMarket(SimConfig(seed=3), steps=300).events())
    b = list(SimMarket(SimConfig(seed=3), steps=300).events())
    c = list(SimMarket(SimConfig(seed=4), steps=300).events())
    assert a == b
    assert a != c


def test_trades_print_within_touch_of_latest_book_and_time_is_monotone() -> None:
    books: dict[str, OrderBook] = {}
    previous = None
    trades = 0
    for event in SimMarket(SimConfig(seed=11), steps=2000).events():
        assert previous is None or event.ts >= previous
        previous = event.ts
        if isinstance(event, OrderBook):
            books[event.symbol] = event
            assert event.bids and event.asks
            assert event.best_bid is not None and event.best_ask is not None
            assert event.best_bid < event.best_ask
        elif isinstance(event, Trade):
            trades += 1
            book = books[event.symbol]
            assert book.best_bid is not None and book.best_ask is not None
            assert book.best_bid <= event.price <= book.best_ask
            assert event.qty > 0
    assert trades > 1000


def test_prices_are_on_grid_and_realistic() -> None:
    market = SimMarket(steps=50)
    inst = {i.symbol: i for i in market.instruments()}
    for event in market.events():
        if isinstance(event, OrderBook):
            for level in (*event.bids, *event.asks):
                assert level.price % inst[event.symbol].price_step == 0
                assert level.qty % inst[event.symbol].qty_step == 0
            if event.symbol == "BTC/ZAR":
                assert event.mid is not None and D(1_000_000) < event.mid < D(1_400_000)


def test_regimes_switch_and_jumps_move_price() -> None:
    fast = SimConfig(
        seed=5,
        regimes=(Regime("a", 0.0, 0.2, 0.01), Regime("b", 0.0, 3.0, 0.01)),
        jumps_per_day=86400.0,
        jump_mean=0.0,
        jump_std=0.05,
        instruments=SimConfig().instruments[:1],
    )
    mids = [e.mid for e in SimMarket(fast, steps=400).events() if isinstance(e, OrderBook)]
    moves = [abs(b - a) / a for a, b in itertools.pairwise(mids) if a and b]
    assert max(moves) > D("0.02")  # a jump, not just diffusion


def test_bad_config_rejected() -> None:
    with pytest.raises(ValidationFailed) as err:
        SimConfig(step_seconds=0)
    assert err.value.code == "bad_sim_config"
    with pytest.raises(ValidationFailed):
        SimMarket(pace="realtime")


async def test_async_iteration_is_a_market_feed() -> None:
    market = SimMarket(steps=20)
    assert isinstance(market, MarketFeed)
    events = [e async for e in market]
    assert events == list(SimMarket(steps=20).events())


async def test_realtime_pace_waits_on_the_clock() -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    clock = ManualClock(start)
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)

    market = SimMarket(
        SimConfig(step_seconds=2.0), clock=clock, steps=5, pace="realtime", sleep=fake_sleep
    )
    events = [e async for e in market]
    assert events[0].ts == start
    assert slept == [2.0, 2.0, 2.0, 2.0]
    assert clock.now() == start + timedelta(seconds=8)
