"""Property tests: book walking and fills obey conservation and price bounds."""

from datetime import UTC, datetime
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from amarktai.execution import PaperVenue, VerifiedPaperFillModel, new_order, walk_book
from amarktai.execution.paper import deplete
from amarktai.kit.clock import ManualClock
from amarktai.markets import BookLevel, Instrument, OrderBook

T0 = datetime(2026, 1, 1, tzinfo=UTC)
INST = Instrument("A/Z", "A", "Z", D("0.01"), D("0.001"), D("0.001"), D(0), D("0.0005"), D("0.001"))

qtys = st.integers(min_value=1, max_value=10_000).map(lambda n: D(n) / 1000)


@st.composite
def asks(draw: st.DrawFn) -> tuple[BookLevel, ...]:
    start = draw(st.integers(min_value=100, max_value=10_000))
    gaps = draw(st.lists(st.integers(min_value=1, max_value=500), min_size=1, max_size=15))
    prices, p = [], start
    for g in gaps:
        prices.append(D(p) / 100)
        p += g
    return tuple(BookLevel(price, draw(qtys)) for price in prices)


@settings(max_examples=200, deadline=None)
@given(levels=asks(), qty=qtys, side=st.sampled_from(["buy", "sell"]))
def test_walk_never_overfills_and_vwap_within_touched_levels(
    levels: tuple[BookLevel, ...], qty: D, side: str
) -> None:
    ordered = levels if side == "buy" else tuple(reversed(levels))
    slices = walk_book(ordered, qty, None, side)  # type: ignore[arg-type]
    filled = sum((s.qty for s in slices), D(0))
    assert filled <= qty
    assert filled == min(qty, sum((lv.qty for lv in levels), D(0)))
    for s, lv in zip(slices, ordered, strict=False):
        assert s.price == lv.price and 0 < s.qty <= lv.qty
    if slices:
        vwap = sum((s.price * s.qty for s in slices), D(0)) / filled
        prices = [s.price for s in slices]
        assert min(prices) <= vwap <= max(prices)
        assert prices[0] == ordered[0].price


@settings(max_examples=150, deadline=None)
@given(levels=asks(), qty=qtys, limit_idx=st.integers(min_value=0, max_value=14))
def test_limit_bounds_every_slice(levels: tuple[BookLevel, ...], qty: D, limit_idx: int) -> None:
    limit = levels[min(limit_idx, len(levels) - 1)].price
    slices = walk_book(levels, qty, limit, "buy")
    assert all(s.price <= limit for s in slices)


@settings(max_examples=100, deadline=None)
@given(levels=asks(), orders=st.lists(qtys, min_size=1, max_size=5))
def test_venue_conserves_liquidity_and_charges_exact_fees(
    levels: tuple[BookLevel, ...], orders: list[D]
) -> None:
    venue = PaperVenue(VerifiedPaperFillModel(), [INST], ManualClock(T0))
    bid = BookLevel(levels[0].price - D("0.01"), D(1)) if levels[0].price > 1 else None
    venue.on_event(OrderBook(T0, "A/Z", (bid,) if bid else (), levels))
    total_book = sum((lv.qty for lv in levels), D(0))
    taken = D(0)
    for i, q in enumerate(orders):
        order = new_order(
            client_order_id=f"c{i}",
            bot_id="b",
            symbol="A/Z",
            side="buy",
            type="market",
            qty=q,
            created_at=T0,
        )
        ex = venue.submit(order)
        got = sum((f.qty for f in ex.fills), D(0))
        assert got <= q and ex.order.filled_qty == got
        for f in ex.fills:
            assert f.fee == f.qty * f.price * INST.taker_fee
        if ex.fills:
            assert ex.order.avg_price is not None
            assert ex.fills[0].price <= ex.order.avg_price <= ex.fills[-1].price
            assert ex.slippage_bps is not None and ex.slippage_bps >= 0
        taken += got
    assert taken <= total_book
    remaining = venue.market("A/Z").book
    assert remaining is not None
    assert sum((lv.qty for lv in remaining.asks), D(0)) == total_book - taken


@given(levels=asks(), qty=qtys)
def test_deplete_removes_exactly_what_was_taken(levels: tuple[BookLevel, ...], qty: D) -> None:
    book = OrderBook(T0, "A/Z", (), levels)
    slices = walk_book(levels, qty, None, "buy")
    after = deplete(book, "buy", slices)
    before_total = sum((lv.qty for lv in levels), D(0))
    assert sum((lv.qty for lv in after.asks), D(0)) == before_total - sum(
        (s.qty for s in slices), D(0)
    )
