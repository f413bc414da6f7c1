"""Our real `ValrClient` against the local VALR venue over real HTTP on 127.0.0.1: every
`ExchangeClient` method, fills that move balances by exactly qty x price ± fee, the
202-accepted settlement, and the failure paths (a reply lost after placing, a 503, a
429, a bad signature) that a recording can only replay, exercised for real."""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from tests.integration.venue_support import (
    CREDENTIALS,
    KEY,
    SECRET,
    START,
    Venue,
    book,
    start_venue,
)

from amarktai.exchanges.budget import RequestBudget
from amarktai.exchanges.client import Credentials, ExchangeClient, OrderRequest
from amarktai.exchanges.errors import (
    ExchangeAuthError,
    NonceError,
    OrderNotFound,
    VenueRateLimited,
    VenueUnavailable,
)
from amarktai.exchanges.valr import ValrClient, sign
from amarktai.venues.core import Fault, FeeTier
from amarktai.venues.valr_server import ValrLimits, expected_signature

D = Decimal
DOC_SECRET = "4961b74efac86b25cce8fbe4c9811c4c7a787b7a5996660afcc2e287ad864363"


async def no_sleep(_: float) -> None:
    return None


def test_the_server_verifies_signatures_as_valrs_documented_vectors_say() -> None:
    assert expected_signature(DOC_SECRET, "1558014486185", "GET", "/v1/account/balances", b"") == (
        "9d52c181ed69460b49307b7891f04658e938b21181173844b5018b2fe783a6d4"
        "c62b8e67a03de4d099e7437ebfabe12c56233b73c6a0cc0f7ae87e05f6289928"
    )
    body = b'{"customerOrderId":"ORDER-000001","pair":"BTCUSDC","side":"BUY","quoteAmount":"80000"}'
    assert expected_signature(DOC_SECRET, "1558017528946", "POST", "/v1/orders/market", body) == (
        "09f536e3dfdad58443f16010a97a0a21ad27486b7b8d6d4103170d885410ed77"
        "f037f1fa628474190d4f5c08ca12c1acc850901f1c2e75c6d906ec3b32b008d0"
    )


def balance_map(balances: object) -> dict[str, tuple[Decimal, Decimal]]:
    return {b.asset: (b.free, b.locked) for b in balances}  # type: ignore[attr-defined]


async def test_every_exchange_client_method_over_http(venue: Venue, valr: ValrClient) -> None:
    assert isinstance(valr, ExchangeClient)
    symbols = [i.symbol for i in await valr.instruments()]
    assert symbols == ["BTC/ZAR", "ETH/ZAR", "XRP/ZAR"]
    ticker = await valr.ticker("BTC/ZAR")
    assert (ticker.bid, ticker.ask) == (D(999000), D(1000000))
    ob = await valr.order_book("BTC/ZAR", depth=2)
    assert [(lv.price, lv.qty) for lv in ob.asks] == [
        (D(1000000), D("0.002")),
        (D(1000100), D("0.01")),
    ]
    assert [(lv.price, lv.qty) for lv in ob.bids] == [
        (D(999000), D("0.004")),
        (D(998000), D("0.01")),
    ]
    assert balance_map(await valr.balances()) == {a: (v, D(0)) for a, v in START.items()}
    fees = await valr.fees("BTC/ZAR")
    assert (fees.maker, fees.taker) == (D("0.001"), D("0.002"))
    perms = await valr.key_permissions()
    assert (perms.read, perms.trade, perms.withdraw) == (True, True, False)

    placed = await valr.create_order(
        OrderRequest("BTC/ZAR", "buy", "limit", D("0.01"), "rest-1", price=D(995000))
    )
    assert placed.status == "open"  # 202: accepted
    fetched = await valr.fetch_order("BTC/ZAR", "rest-1")
    assert (fetched.status, fetched.venue_order_id, fetched.price) == (
        "open",
        placed.venue_order_id,
        D(995000),
    )
    (open_one,) = await valr.open_orders("BTC/ZAR")
    assert open_one.client_order_id == "rest-1"
    assert await valr.open_orders("ETH/ZAR") == []
    # the resting order shows in the venue's book, and its funds are reserved
    bids = (await valr.order_book("BTC/ZAR")).bids
    assert (bids[2].price, bids[2].qty) == (D(995000), D("0.01"))
    assert balance_map(await valr.balances())["ZAR"] == (D(1000000) - D(9950), D(9950))
    cancelled = await valr.cancel_order("BTC/ZAR", "rest-1")
    assert cancelled.status == "cancelled"
    assert balance_map(await valr.balances())["ZAR"] == (D(1000000), D(0))
    assert await valr.open_orders() == []

    await valr.create_order(OrderRequest("BTC/ZAR", "buy", "market", D("0.003"), "take-1"))
    fills = await valr.my_trades("BTC/ZAR")
    assert sorted((f.price, f.qty) for f in fills) == [
        (D(1000000), D("0.002")),
        (D(1000100), D("0.001")),
    ]
    prints = await valr.trades("BTC/ZAR", limit=2)
    assert {t.trade_id for t in prints} == {f.venue_trade_id for f in fills}
    assert all(t.side == "buy" for t in prints)
    since = datetime.now(UTC) - timedelta(minutes=5)
    candles = await valr.ohlcv("BTC/ZAR", 60, since=since)
    assert sum(c.volume for c in candles) == D("0.003")
    assert min(c.low for c in candles) == D(1000000)
    assert max(c.high for c in candles) == D(1000100)


async def test_a_market_buy_walks_the_book_and_moves_balances_by_exactly_qty_price_fee(
    venue: Venue, valr: ValrClient
) -> None:
    order = await valr.create_order(OrderRequest("BTC/ZAR", "buy", "market", D("0.003"), "mb-1"))
    done = await valr.fetch_order("BTC/ZAR", "mb-1")
    assert (done.status, done.filled_qty) == ("filled", D("0.003"))
    fills = [f for f in await valr.my_trades("BTC/ZAR") if f.venue_order_id == order.venue_order_id]
    assert len(fills) == 2
    assert all(f.fee_asset == "BTC" and f.fee == f.qty * D("0.002") for f in fills)
    spent = sum(f.qty * f.price for f in fills)
    assert spent == D("3000.1")
    got = sum(f.qty - f.fee for f in fills)
    balances = balance_map(await valr.balances())
    assert balances["ZAR"] == (START["ZAR"] - spent, D(0))
    assert balances["BTC"] == (START["BTC"] + got, D(0))
    assert balances["BTC"][0] == D("1.002994")
    # the venue consumed that liquidity: the next buyer meets the level behind it
    ob = await valr.order_book("BTC/ZAR")
    assert (ob.asks[0].price, ob.asks[0].qty) == (D(1000100), D("0.009"))

    await valr.create_order(OrderRequest("BTC/ZAR", "sell", "market", D("0.005"), "ms-1"))
    sells = [f for f in await valr.my_trades("BTC/ZAR") if f.side == "sell"]
    assert sorted((f.price, f.qty) for f in sells) == [
        (D(998000), D("0.001")),
        (D(999000), D("0.004")),
    ]
    # the seller's fee is in ZAR, rounded to the cent: 7.992 → 7.99 and 1.996 → 2.00
    assert sorted((f.fee, f.fee_asset) for f in sells) == [(D("2.00"), "ZAR"), (D("7.99"), "ZAR")]
    received = sum(f.qty * f.price - f.fee for f in sells)
    assert received == D("4994") - D("9.99")
    after = balance_map(await valr.balances())
    assert after["ZAR"] == (balances["ZAR"][0] + received, D(0))
    assert after["BTC"] == (balances["BTC"][0] - D("0.005"), D(0))


async def test_a_resting_limit_fills_as_maker_when_the_market_trades_through_it(
    venue: Venue, valr: ValrClient
) -> None:
    await valr.create_order(
        OrderRequest("BTC/ZAR", "buy", "limit", D("0.01"), "lim-1", price=D(995000))
    )
    assert (await valr.fetch_order("BTC/ZAR", "lim-1")).status == "open"
    # the next book from the feed has sellers at and below our price
    venue.server.core.set_book(
        "BTC/ZAR",
        book(bids=((D(990000), D(1)),), asks=((D(994000), D("0.004")), (D(995000), D(1)))),
    )
    done = await valr.fetch_order("BTC/ZAR", "lim-1")
    assert (done.status, done.filled_qty) == ("filled", D("0.01"))
    (fill,) = await valr.my_trades("BTC/ZAR")
    assert (fill.price, fill.qty, fill.fee, fill.fee_asset) == (
        D(995000),
        D("0.01"),
        D("0.00001"),
        "BTC",
    )
    balances = balance_map(await valr.balances())
    assert balances["ZAR"] == (START["ZAR"] - D(9950), D(0))
    assert balances["BTC"] == (START["BTC"] + D("0.01") - D("0.00001"), D(0))


async def test_refusals_found_while_settling_arrive_as_a_failed_order_after_202(
    valr: ValrClient,
) -> None:
    # post-only that would take, and a buy the account cannot pay for: both accepted...
    post = OrderRequest("BTC/ZAR", "buy", "limit", D("0.001"), "po-1", D(1000000), post_only=True)
    assert (await valr.create_order(post)).status == "open"
    big = OrderRequest("BTC/ZAR", "buy", "limit", D("2"), "big-1", price=D(1001000))
    assert (await valr.create_order(big)).status == "open"
    # ...and then found failed, with nothing moved
    assert (await valr.fetch_order("BTC/ZAR", "po-1")).status == "rejected"
    assert (await valr.fetch_order("BTC/ZAR", "big-1")).status == "rejected"
    assert balance_map(await valr.balances()) == {a: (v, D(0)) for a, v in START.items()}
    with pytest.raises(OrderNotFound):
        await valr.fetch_order("BTC/ZAR", "never-placed")


async def test_an_accepted_order_is_placed_until_the_venue_settles_it(
    venue: Venue, valr: ValrClient
) -> None:
    """202 means accepted, not done: the order reads `open` until the venue settles it."""
    venue.server.core.hold_settlement = True
    order = await valr.create_order(OrderRequest("BTC/ZAR", "buy", "market", D("0.001"), "slow-1"))
    assert (await valr.fetch_order("BTC/ZAR", "slow-1")).status == "open"
    (listed,) = await valr.open_orders()
    assert listed.venue_order_id == order.venue_order_id
    assert balance_map(await valr.balances())["ZAR"] == (START["ZAR"], D(0))
    assert venue.server.core.settle_pending() == 1
    done = await valr.fetch_order("BTC/ZAR", "slow-1")
    assert (done.status, done.filled_qty) == ("filled", D("0.001"))
    assert balance_map(await valr.balances())["ZAR"] == (START["ZAR"] - D(1000), D(0))
    assert await valr.open_orders() == []


async def test_a_malformed_order_is_refused_by_the_venue_in_valrs_shape(venue: Venue) -> None:
    """Sent raw (our client would refuse it before sending): below VALR's minimum."""
    body = '{"side":"BUY","quantity":"0.00000001","price":"1000000","pair":"BTCZAR"}'
    stamp = str(round(time.time() * 1000))
    headers = {
        "X-VALR-API-KEY": KEY,
        "X-VALR-TIMESTAMP": stamp,
        "X-VALR-SIGNATURE": sign(SECRET, int(stamp), "POST", "/v1/orders/limit", body),
        "Content-Type": "application/json",
    }
    async with httpx.AsyncClient() as http:
        reply = await http.post(f"{venue.url}/v1/orders/limit", content=body, headers=headers)
    assert reply.status_code == 400
    assert reply.json()["code"] == -12007
    assert venue.server.core.account_orders(KEY) == []


@pytest.mark.parametrize("kind", ["timeout", "drop"])
async def test_a_reply_lost_after_placing_is_found_by_customer_order_id_not_placed_twice(
    venue: Venue, kind: str
) -> None:
    venue.server.core.faults.arm(
        Fault(kind, method="POST", path_prefix="/v1/orders", delay_s=1.5)  # type: ignore[arg-type]
    )
    client = venue.client(timeout_s=0.5)
    order = await client.create_order(
        OrderRequest("BTC/ZAR", "buy", "market", D("0.001"), f"lost-{kind}")
    )
    await client.close()
    assert venue.server.core.faults.fired == [(kind, "POST", "/v1/orders/market")]
    (held,) = venue.server.core.account_orders(KEY)  # exactly one order on the venue
    assert (order.venue_order_id, order.status) == (held.order_id, "filled")
    assert order.client_order_id == f"lost-{kind}"


async def test_a_503_before_placing_is_resent_with_the_same_id_once_the_venue_denies_it(
    venue: Venue,
) -> None:
    venue.server.core.faults.arm(Fault("5xx", method="POST", after_action=False))
    client = venue.client()
    order = await client.create_order(
        OrderRequest("BTC/ZAR", "buy", "market", D("0.001"), "again-1")
    )
    await client.close()
    (held,) = venue.server.core.account_orders(KEY)
    assert held.order_id == order.venue_order_id
    assert held.customer_order_id == "again-1"


async def test_429_is_answered_like_valr_and_our_client_backs_off_then_succeeds() -> None:
    served, venue = start_venue(ValrLimits(per_key=2, per_ip=1000, public=1000, window_s=0.5))
    try:
        client = venue.client()
        # five calls in a few ms: some 0.5 s window sees a third, which meets a 429, waits
        # out VALR's Retry-After and is sent again
        for _ in range(5):
            assert balance_map(await client.balances())["ZAR"] == (START["ZAR"], D(0))
        assert venue.server.rate_limited >= 1
        impatient = venue.client(read_attempts=1)
        with pytest.raises(VenueRateLimited) as info:
            for _ in range(5):
                await impatient.balances()
        assert info.value.retry_after_s == 1.0
        await client.close()
        await impatient.close()
    finally:
        served.stop()


async def test_a_budget_within_the_venues_limit_never_meets_a_429() -> None:
    served, venue = start_venue(ValrLimits(per_key=2, per_ip=1000, public=1000, window_s=0.5))
    try:
        client = venue.client(budgets=(RequestBudget(rate=2.0, capacity=1),))
        for _ in range(4):
            await client.balances()
        assert venue.server.rate_limited == 0
        await client.close()
    finally:
        served.stop()


async def test_a_bad_signature_or_unknown_key_is_refused_with_valrs_401(venue: Venue) -> None:
    for creds in (Credentials(KEY, "not-the-secret"), Credentials("nobody", SECRET)):
        client = venue.client(creds)
        with pytest.raises(ExchangeAuthError):
            await client.balances()
        await client.close()
    assert venue.server.auth_refused == 2
    async with httpx.AsyncClient() as http:
        reply = await http.get(
            f"{venue.url}/v1/account/balances",
            headers={"X-VALR-API-KEY": KEY, "X-VALR-TIMESTAMP": "1", "X-VALR-SIGNATURE": "00"},
        )
    assert (reply.status_code, reply.json()) == (401, {"code": -11, "message": "Unauthorized"})


async def test_a_stale_timestamp_is_refused_as_expired(venue: Venue) -> None:
    client = venue.client(clock=lambda: time.time() - 300, sleep=no_sleep)
    with pytest.raises(NonceError):
        await client.balances()
    await client.close()


async def test_a_view_only_key_cannot_trade(venue: Venue) -> None:
    venue.server.core.add_account("viewer", "s", {"ZAR": D(1000)}, permissions=("View access",))
    client = venue.client(Credentials("viewer", "s"))
    assert (await client.key_permissions()).trade is False
    with pytest.raises(ExchangeAuthError):
        await client.create_order(OrderRequest("BTC/ZAR", "buy", "market", D("0.001"), "v-1"))
    await client.close()
    assert venue.server.core.account_orders("viewer") == []


async def test_public_data_needs_no_key(venue: Venue) -> None:
    client = venue.client(None)
    assert (await client.ticker("BTC/ZAR")).ask == D(1000000)
    with pytest.raises(ExchangeAuthError):
        await client.balances()
    await client.close()
    assert CREDENTIALS.api_key == KEY


async def test_the_module_entry_serves_a_local_valr() -> None:
    """`python -m amarktai.venues.valr_server --port N`: what demos and benchmarks start."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "amarktai.venues.valr_server", "--port", str(port),
        "--key", "demo", "--secret", "demo-secret", "--zar", "5000",
        stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        client = ValrClient(
            http_client=httpx.AsyncClient(),
            credentials=Credentials("demo", "demo-secret"),
            base_url=f"http://127.0.0.1:{port}",
            sleep=no_sleep,
            read_attempts=1,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                balances = await client.balances()
                break
            except VenueUnavailable:
                assert time.monotonic() < deadline and proc.returncode is None
                await asyncio.sleep(0.1)
        assert balance_map(balances) == {"ZAR": (D(5000), D(0))}
        assert (await client.ticker("BTC/ZAR")).ask is not None  # the seeded sim's book
        await client.close()
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)


async def test_a_subaccount_request_is_signed_and_verified_with_its_id(venue: Venue) -> None:
    """VALR signs the sub-account id after the body; the venue checks it the same way
    (sub-account balances are not modelled apart: the key's account answers)."""
    client = venue.client(subaccount_id="1385226517613019136")
    assert balance_map(await client.balances())["ZAR"] == (START["ZAR"], D(0))
    await client.close()
    assert venue.server.auth_refused == 0


async def test_a_maker_rebate_reads_back_as_a_negative_fee(venue: Venue) -> None:
    core = venue.server.core
    core.tiers["rebate"] = FeeTier(D("-0.0001"), D("0.002"))
    core.add_account("maker", "maker-secret", {"BTC": D(1)}, tier="rebate")
    client = venue.client(Credentials("maker", "maker-secret"))
    sell = OrderRequest("BTC/ZAR", "sell", "limit", D("0.01"), "mk-1", price=D(1000500))
    await client.create_order(sell)
    # the next book bids through our offer: it fills as maker and earns the rebate
    core.set_book("BTC/ZAR", book(bids=((D(1000600), D(1)),), asks=((D(1000700), D(1)),)))
    (fill,) = await client.my_trades("BTC/ZAR")
    assert (fill.fee, fill.fee_asset, fill.liquidity) == (D("-1.00"), "ZAR", "maker")
    assert balance_map(await client.balances())["ZAR"] == (D("10005.00") + D("1.00"), D(0))
    await client.close()
