from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from amarktai.execution import (
    PaperVenue,
    PublicPaperFillModel,
    VerifiedPaperFillModel,
    new_order,
)
from amarktai.execution.orders import Order
from amarktai.kit.clock import ManualClock
from amarktai.kit.errors import Conflict, NotFound, ValidationFailed
from amarktai.markets import BookLevel, Candle, OrderBook, Trade, default_registry
from amarktai.markets.sim import SimMarket

T0 = datetime(2026, 1, 1, tzinfo=UTC)
BTC = default_registry().get("sim", "BTC/ZAR")
S = "BTC/ZAR"
_n = 0


def mk(side: str = "buy", type: str = "market", qty: str = "0.01", **kw: object) -> Order:
    global _n
    _n += 1
    return new_order(
        client_order_id=str(kw.pop("cid", f"c{_n}")),
        bot_id="b",
        symbol=S,
        side=side,
        type=type,
        qty=qty,
        created_at=T0,
        **kw,
    )  # type: ignore[arg-type]


def book(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> OrderBook:
    return OrderBook(
        T0,
        S,
        tuple(BookLevel(D(p), D(q)) for p, q in bids),
        tuple(BookLevel(D(p), D(q)) for p, q in asks),
    )


def trade(price: str, qty: str = "1", side: str = "sell") -> Trade:
    return Trade(T0 + timedelta(seconds=1), S, D(price), D(qty), side)  # type: ignore[arg-type]


BOOK = book([("999", "0.02"), ("998", "0.05")], [("1001", "0.02"), ("1002", "0.03")])


def verified(b: OrderBook | None = BOOK) -> PaperVenue:
    venue = PaperVenue(VerifiedPaperFillModel(), [BTC], ManualClock(T0))
    if b is not None:
        venue.on_event(b)
    return venue


def test_verified_market_walks_book_with_partial_fill_and_slippage() -> None:
    venue = verified()
    ex = venue.submit(mk(qty="0.04"))
    assert [(f.price, f.qty) for f in ex.fills] == [(D(1001), D("0.02")), (D(1002), D("0.02"))]
    assert ex.order.status == "filled" and ex.order.avg_price == D("1001.5")
    assert ex.reference_price == D(1001) and ex.slippage_bps == D("0.5") / D(1001) * 10000
    assert all(
        f.fee == f.price * f.qty * BTC.taker_fee and f.liquidity == "taker" for f in ex.fills
    )
    thin = venue.submit(mk(qty="0.05"))  # only 0.01 left after the first order
    assert thin.order.status == "cancelled" and thin.order.filled_qty == D("0.01")
    assert thin.order.reason == "insufficient_liquidity"


def test_verified_enforces_instrument_rules() -> None:
    venue = verified(book([("1199999", "1")], [("1200000", "1")]))
    with pytest.raises(ValidationFailed) as err:
        venue.submit(mk(qty="0.00005"))
    assert err.value.code == "below_min_qty"
    with pytest.raises(ValidationFailed) as err:
        venue.submit(mk(type="limit", qty="0.001", limit_price="1200000.5"))
    assert err.value.code == "off_precision_price"
    with pytest.raises(ValidationFailed) as err:
        venue.submit(mk(type="limit", qty="0.0001", limit_price="50000"))
    assert err.value.code == "below_min_notional"


def test_verified_no_book_rejects_market_order() -> None:
    ex = verified(None).submit(mk())
    assert ex.order.status == "rejected" and ex.order.reason == "no_order_book"


def test_limit_fills_only_when_traded_through() -> None:
    venue = verified()
    ex = venue.submit(mk(type="limit", qty="0.5", limit_price="995"))
    assert ex.order.status == "open" and not ex.fills
    assert venue.on_event(trade("995", "5")) == []  # at our price: queue ahead first
    fills = venue.on_event(trade("994", "0.2"))  # through, but only 0.2 proven
    assert [(f.price, f.qty, f.liquidity) for f in fills] == [(D(995), D("0.2"), "maker")]
    assert fills[0].fee == D(995) * D("0.2") * BTC.maker_fee
    fills = venue.on_event(trade("990", "9"))
    assert sum(f.qty for f in fills) == D("0.3")
    assert venue.order(ex.order.id).status == "filled" and venue.open_orders() == []


def test_print_size_is_shared_between_resting_orders() -> None:
    venue = verified()
    a = venue.submit(mk(type="limit", qty="0.3", limit_price="995")).order
    b = venue.submit(mk(type="limit", qty="0.3", limit_price="995")).order
    venue.on_event(trade("990", "0.4"))
    assert venue.order(a.id).filled_qty == D("0.3")
    assert venue.order(b.id).filled_qty == D("0.1")


def test_marketable_limit_takes_up_to_limit_then_rests_or_cancels() -> None:
    venue = verified()
    ex = venue.submit(mk(type="limit", qty="0.04", limit_price="1001"))
    assert ex.order.status == "partially_filled" and ex.order.filled_qty == D("0.02")
    assert venue.open_orders(S)[0].id == ex.order.id
    ioc = verified().submit(mk(type="limit", qty="0.04", limit_price="1001", time_in_force="IOC"))
    assert ioc.order.status == "cancelled" and ioc.order.filled_qty == D("0.02")
    fok = verified().submit(mk(type="limit", qty="0.04", limit_price="1001", time_in_force="FOK"))
    assert fok.order.status == "cancelled" and fok.fills == () and fok.order.reason
    fok_ok = verified().submit(mk(qty="0.05", time_in_force="FOK"))
    assert fok_ok.order.status == "filled"


def test_stop_and_stop_limit_trigger_on_prints() -> None:
    venue = verified()
    stop = venue.submit(mk(side="sell", type="stop", qty="0.03", stop_price="995")).order
    assert stop.status == "open" and not stop.triggered
    assert venue.on_event(trade("996")) == []
    fills = venue.on_event(trade("995"))
    assert [(f.price, f.qty) for f in fills] == [(D(999), D("0.02")), (D(998), D("0.01"))]
    assert venue.order(stop.id).status == "filled" and venue.order(stop.id).triggered

    venue = verified()
    sl = venue.submit(mk(type="stop_limit", qty="0.03", stop_price="1005", limit_price="1003"))
    venue.on_event(trade("1006", side="buy"))
    after = venue.order(sl.order.id)
    assert after.triggered and after.filled_qty == D("0.03") and after.avg_price is not None
    assert after.avg_price <= D(1003)


def test_idempotent_client_order_id() -> None:
    venue = verified()
    first = venue.submit(mk(type="limit", qty="0.02", limit_price="990", cid="same"))
    again = venue.submit(mk(type="limit", qty="0.02", limit_price="990", cid="same"))
    assert again.order.id == first.order.id and len(venue.open_orders()) == 1
    with pytest.raises(Conflict) as err:
        venue.submit(mk(type="limit", qty="0.03", limit_price="990", cid="same"))
    assert err.value.code == "client_order_id_conflict"


def test_cancel_replace_and_errors() -> None:
    venue = verified()
    o = venue.submit(mk(type="limit", qty="0.02", limit_price="990")).order
    new = venue.replace(o.id, client_order_id="r1", limit_price=D(991))
    assert venue.order(o.id).status == "cancelled" and new.order.limit_price == D(991)
    assert [x.id for x in venue.open_orders()] == [new.order.id]
    venue.cancel(new.order.id)
    with pytest.raises(Conflict):
        venue.cancel(new.order.id)
    with pytest.raises(NotFound):
        venue.cancel("nope")
    with pytest.raises(NotFound):
        venue.submit(
            new_order(
                client_order_id="x",
                bot_id="b",
                symbol="DOGE/ZAR",
                side="buy",
                type="market",
                qty="1",
                created_at=T0,
            )
        )


def test_public_model_top_of_book_plus_slippage_and_optimistic_limits() -> None:
    model = PublicPaperFillModel(slippage_bps=D(10), taker_fee=D("0.002"), maker_fee=D("0.001"))
    venue = PaperVenue(model, [BTC], ManualClock(T0))
    venue.on_event(trade("1000"))
    ex = venue.submit(mk(qty="5"))  # no book: last trade; full size regardless of depth
    assert ex.fills[0].price == D("1001.0") and ex.order.status == "filled"
    assert ex.fills[0].fee == D("1001.0") * 5 * D("0.002")
    venue.on_event(BOOK)
    sell = venue.submit(mk(side="sell", qty="1"))
    assert sell.fills[0].price == D(999) * (1 - D("0.001"))
    lim = venue.submit(mk(type="limit", qty="2", limit_price="990"))
    fills = venue.on_event(trade("990", "0.001"))  # touching is enough for public paper
    assert fills[0].qty == D(2) and fills[0].liquidity == "maker"
    none = PaperVenue(model, [BTC], ManualClock(T0)).submit(mk())
    assert none.order.status == "rejected" and none.order.reason == "no_market_data"
    assert venue.order(lim.order.id).status == "filled"


def test_candles_drive_limits_and_stops() -> None:
    venue = verified()
    o = venue.submit(mk(type="limit", qty="0.1", limit_price="990")).order
    bar = Candle(T0, S, D(1000), D(1005), D(985), D(1000), D(50), 60)
    fills = venue.on_event(bar)
    assert fills[0].ts == T0 + timedelta(seconds=60) and venue.order(o.id).status == "filled"


def test_sim_feed_drives_a_verified_venue() -> None:
    venue = PaperVenue(VerifiedPaperFillModel(), SimMarket().instruments(), ManualClock(T0))
    events = SimMarket(steps=300).events()
    first = next(events)
    venue.on_event(first)
    bid = first.best_bid  # type: ignore[union-attr]
    o = new_order(
        client_order_id="s",
        bot_id="b",
        symbol="BTC/ZAR",
        side="buy",
        type="limit",
        qty="0.001",
        limit_price=bid - 2000,
        created_at=T0,
    )
    venue.submit(o)
    fills = [f for e in events for f in venue.on_event(e)]
    assert all(f.price == bid - 2000 for f in fills)
    assert venue.order(o.id).filled_qty == sum((f.qty for f in fills), D(0))


def test_events_without_resting_orders_still_update_the_market() -> None:
    """The no-resting-order fast exit of ``on_event`` must still record every event:
    a later market order prices off the latest trade, book and candle."""
    venue = PaperVenue(PublicPaperFillModel(), [BTC], ManualClock(T0))
    assert venue.on_event(trade("1000")) == []
    assert venue.market(S).last_price == D("1000")
    assert venue.on_event(BOOK) == []
    assert venue.market(S).book is BOOK
    candle = Candle(T0, S, D("1"), D("2"), D("0.5"), D("1.5"), D("10"), 60)
    assert venue.on_event(candle) == []
    assert venue.market(S).last_candle is candle
    assert venue.market(S).touch("buy") == D("1001")  # the book's best ask


def test_a_restored_resting_order_fills_as_it_would_have_before_the_restart() -> None:
    """After a restart the venue is empty; the engine puts the database's open orders
    back, and they keep their fills so far and their idempotency key."""
    first = verified()
    rested = first.submit(mk(type="limit", qty="0.5", limit_price="995", cid="keep")).order
    first.on_event(trade("994", "0.2"))
    before = first.order(rested.id)
    assert before.status == "partially_filled" and before.filled_qty == D("0.2")

    venue = verified()  # the new process
    assert venue.restore(before) == before and venue.restore(before) is venue.order(before.id)
    assert venue.open_orders() == [before]
    assert venue.submit(mk(type="limit", qty="0.5", limit_price="995", cid="keep")).order == before
    fills = venue.on_event(trade("990", "9"))
    assert [(f.price, f.qty) for f in fills] == [(D(995), D("0.3"))]
    assert venue.order(before.id).status == "filled" and venue.open_orders() == []


def test_restore_refuses_what_cannot_rest() -> None:
    venue = verified()
    done = venue.submit(mk(qty="0.01")).order  # a filled market order
    with pytest.raises(Conflict) as err:
        verified().restore(done)
    assert err.value.code == "order_not_restorable"
    with pytest.raises(Conflict):
        verified().restore(mk())  # a market order never rests
    stray = replace(mk(type="limit", limit_price="995"), symbol="DOGE/ZAR", status="open")
    with pytest.raises(NotFound):
        verified().restore(stray)


def test_a_venue_keeps_only_its_latest_finished_orders_in_memory() -> None:
    venue = PaperVenue(VerifiedPaperFillModel(), [BTC], ManualClock(T0), keep_finished=3)
    venue.on_event(book([("999", "10")], [("1001", "10")]))
    resting = venue.submit(mk(type="limit", qty="0.02", limit_price="990", cid="rest")).order
    done = [venue.submit(mk(qty="0.01", cid=f"m{i}")).order for i in range(5)]
    assert all(o.status == "filled" for o in done)
    for old in done[:2]:  # the two oldest finished orders are forgotten ...
        with pytest.raises(NotFound):
            venue.order(old.id)
    assert [venue.order(o.id) for o in done[2:]] == done[2:]  # ... the last three kept
    assert venue.submit(mk(qty="0.01", cid="m4")).order == done[4]  # still idempotent
    assert venue.open_orders() == [resting]  # a resting order is never forgotten
    cancelled = venue.cancel(resting.id)
    assert venue.order(resting.id) == cancelled  # finished now, and the newest
    with pytest.raises(NotFound):
        venue.order(done[2].id)


def test_a_stop_that_triggers_without_filling_is_reported_for_the_database() -> None:
    venue = verified(book([("999", "1")], [("1008", "1")]))
    stop = venue.submit(
        mk(type="stop_limit", qty="0.02", stop_price="1005", limit_price="1006")
    ).order
    assert venue.take_triggered() == [] and venue.on_event(trade("1004")) == []
    assert venue.take_triggered() == []  # not at the stop yet
    assert venue.on_event(trade("1010")) == []  # triggered; nothing at or under 1006
    [fired] = venue.take_triggered()
    assert fired.id == stop.id and fired.triggered and fired.status == "open"
    assert venue.take_triggered() == []  # taken once
