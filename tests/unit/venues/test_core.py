"""The venue core without a server: feeds, matching, fees, reservations, limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from amarktai.markets.instruments import SIM_INSTRUMENTS
from amarktai.markets.types import BookLevel, OrderBook
from amarktai.venues.core import (
    FeeTier,
    OrderRequest,
    RateLimiter,
    ReplayFeed,
    SimFeed,
    VenueCore,
    VenueReject,
)
from amarktai.venues.valr_server import valr_pair

D = Decimal
T = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def core(feed: object | None = None, maker: str = "0.001", taker: str = "0.002") -> VenueCore:
    return VenueCore(
        feed or SimFeed(),  # type: ignore[arg-type]
        tiers={"default": FeeTier(D(maker), D(taker))},
        pair_id=valr_pair,
        clock=lambda: T.timestamp(),
    )


def exact_book(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> OrderBook:
    return OrderBook(
        ts=T,
        symbol="BTC/ZAR",
        bids=tuple(BookLevel(D(p), D(q)) for p, q in bids),
        asks=tuple(BookLevel(D(p), D(q)) for p, q in asks),
    )


def test_the_same_seed_gives_the_same_books() -> None:
    a, b = core(), core()
    a.advance(5)
    b.advance(5)
    assert a.market("BTCZAR").book == b.market("BTCZAR").book
    assert [p.price for p in a.market("BTCZAR").prints] == [
        p.price for p in b.market("BTCZAR").prints
    ]


def test_a_replay_file_feeds_books_and_prints_then_holds_the_last(tmp_path: Path) -> None:
    lines = [
        {"books": [{"symbol": "BTC/ZAR", "ts": "2026-12-07T12:00:00+00:00",
                    "bids": [["999", "1"]], "asks": [["1001", "1"]]}]},
        {"books": [{"symbol": "BTC/ZAR", "ts": "2026-12-07T12:00:01+00:00",
                    "bids": [["998", "2"]], "asks": [["1000", "2"]]}],
         "trades": [{"symbol": "BTC/ZAR", "ts": "2026-12-07T12:00:01+00:00",
                     "price": "1000", "qty": "0.5", "side": "buy"}]},
    ]  # fmt: skip
    path = tmp_path / "books.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines))
    venue = core(ReplayFeed(path, SIM_INSTRUMENTS))
    assert venue.market("BTCZAR").book.asks[0].price == D(1001)
    venue.advance(3)  # past the end: the last book stays
    assert venue.market("BTCZAR").book.asks[0].price == D(1000)
    assert [(p.price, p.qty) for p in venue.prints("BTCZAR", 10)] == [(D(1000), D("0.5"))]


def test_a_market_buy_sized_in_quote_spends_at_most_that_amount() -> None:
    venue = core()
    account = venue.add_account("k", "s", {"ZAR": D(10000)})
    venue.set_book("BTC/ZAR", exact_book([("999", "1")], [("1000", "1"), ("1001", "5")]))
    order = venue.place(
        account, OrderRequest("BTCZAR", "buy", "market", None, quote_amount=D(1500))
    )
    assert order.status == "filled"
    assert [(f.price, f.qty) for f in venue.fills(account, "BTCZAR", 10)] == [
        (D(1001), D("0.49950049")),  # newest first: the whole qty steps 500 ZAR buys at 1001
        (D(1000), D(1)),
    ]
    assert account.balances["ZAR"].available == D(10000) - D(1000) - D("0.49950049") * 1001


def test_a_resting_sell_is_reserved_and_a_negative_maker_fee_is_a_rebate() -> None:
    venue = core(maker="-0.0001")
    account = venue.add_account("k", "s", {"BTC": D(1)})
    venue.set_book("BTC/ZAR", exact_book([("999", "1")], [("1001", "1")]))
    order = venue.place(
        account,
        OrderRequest("BTCZAR", "sell", "limit", D("0.5"), price=D(1000), customer_order_id="s-1"),
    )
    assert order.status == "placed"
    assert (account.balances["BTC"].available, account.balances["BTC"].reserved) == (
        D("0.5"),
        D("0.5"),
    )
    venue.set_book("BTC/ZAR", exact_book([("1002", "0.2"), ("1000", "1")], [("1003", "1")]))
    assert (order.status, order.remaining) == ("filled", D(0))
    (fill,) = venue.fills(account, "BTCZAR", 10)
    assert (fill.price, fill.qty, fill.fee, fill.fee_asset, fill.maker) == (
        D(1000), D("0.5"), D("-0.05"), "ZAR", True,
    )  # fmt: skip
    assert account.balances["ZAR"].available == D(500) + D("0.05")
    assert (account.balances["BTC"].available, account.balances["BTC"].reserved) == (D("0.5"), D(0))


def test_a_customer_order_id_is_unique_among_open_orders_and_shapes_are_checked() -> None:
    venue = core()
    account = venue.add_account("k", "s", {"ZAR": D(10**7)})
    rest = OrderRequest("BTCZAR", "buy", "limit", D("0.02"), price=D(1000), customer_order_id="a-1")
    venue.place(account, rest)
    with pytest.raises(VenueReject) as dup:
        venue.place(account, rest)
    assert dup.value.kind == "duplicate_id"
    venue.cancel(account, "BTCZAR", customer_order_id="a-1")
    assert venue.place(account, rest).status == "placed"  # free again once finished
    with pytest.raises(VenueReject) as small:
        venue.place(account, OrderRequest("BTCZAR", "buy", "limit", D("0.00000001"), price=D(1000)))
    assert small.value.kind == "invalid_order"
    with pytest.raises(VenueReject) as pair:
        venue.place(account, OrderRequest("DOGEZAR", "buy", "market", D(1)))
    assert pair.value.kind == "unknown_pair"
    with pytest.raises(VenueReject) as missing:
        venue.find(account, "BTCZAR", customer_order_id="nope")
    assert missing.value.kind == "not_found"


def test_fixed_windows_count_per_key_and_say_when_the_window_resets() -> None:
    now = [100.0]
    limiter = RateLimiter(limit=2, window_s=60, clock=lambda: now[0])
    assert limiter.check("a") is None and limiter.check("a") is None
    assert limiter.check("a") == pytest.approx(20.0)  # the minute [60, 120) ends at 120
    assert limiter.check("b") is None  # another key has its own count
    now[0] = 120.0
    assert limiter.check("a") is None
