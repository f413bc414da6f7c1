"""OVEX connector, tested from recorded fixtures (no network): exact requests (URL,
query, body bytes, bearer header) and the parsed result or typed error for each recorded
reply. Fixtures for routes OVEX does not publish say so in their `source`."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
import pytest
from tests.unit.exchanges.venue_fixtures import (
    FakeSleep,
    Recorded,
    as_json,
    call_args,
    load,
    names,
)

from amarktai.exchanges.client import Credentials, ExchangeClient, OrderRequest
from amarktai.exchanges.errors import VenueTimeout
from amarktai.exchanges.ovex import BURST, RATE_PER_S, OvexClient, make_ovex_client, parse_market
from amarktai.exchanges.parsing import records
from amarktai.kit.errors import DomainError
from amarktai.markets.types import Instrument

FIXED_NOW = 1796644800.0  # 2026-12-07T12:00:00Z
CREDENTIALS = Credentials(api_key="test-api-key", api_secret="unused-by-ovex")


def preloaded() -> list[Instrument]:
    body = load("ovex", "instruments")["exchanges"][0]["response"]["body"]
    found = [parse_market(rec, {}) for rec in records("ovex", body, "market")]
    return [i for i in found if i is not None]


def client_for(
    transport: httpx.MockTransport,
    *,
    credentials: bool = True,
    preload: bool = True,
    sleep: FakeSleep | None = None,
    known: dict[str, str] | None = None,
) -> OvexClient:
    return OvexClient(
        http_client=httpx.AsyncClient(transport=transport),
        credentials=CREDENTIALS if credentials else None,
        clock=lambda: FIXED_NOW,
        sleep=sleep or FakeSleep(),
        instruments=preloaded() if preload else None,
        known_orders=known,
    )


@pytest.mark.parametrize("name", names("ovex"))
async def test_recorded_fixture(name: str) -> None:
    fixture = load("ovex", name)
    recorded = Recorded(fixture["exchanges"])
    sleep = FakeSleep()
    client = client_for(
        httpx.MockTransport(recorded),
        credentials=fixture["credentials"],
        preload=fixture["preload_instruments"],
        sleep=sleep,
        known=fixture["known_orders"],
    )
    method = getattr(client, fixture["call"]["method"])
    if "raises" in fixture:
        want = fixture["raises"]
        with pytest.raises(DomainError) as info:
            await method(**call_args(fixture["call"]))
        error = info.value
        assert type(error).__name__ == want["type"]
        assert error.status == want["status"]
        assert error.code == want["code"]
        if "venue_message" in want:
            assert getattr(error, "venue_message", None) == want["venue_message"]
        if "message_contains" in want:
            assert want["message_contains"] in str(error)
    else:
        assert as_json(await method(**call_args(fixture["call"]))) == fixture["expected"]
    assert recorded.sent == len(fixture["exchanges"]), "a recorded request was never sent"
    assert sleep.sleeps == fixture.get("sleeps", [])
    await client.close()


def test_every_protocol_method_has_a_fixture() -> None:
    covered = {load("ovex", n)["call"]["method"] for n in names("ovex")}
    wanted = {
        name
        for name in dir(ExchangeClient)
        if not name.startswith("_") and name not in {"venue", "close"}
    }
    assert wanted <= covered


async def test_an_order_placed_here_is_found_and_cancelled_by_our_client_id() -> None:
    created = load("ovex", "create_order_limit")["exchanges"]
    fetched = load("ovex", "fetch_order")["exchanges"]
    cancelled = load("ovex", "cancel_order")["exchanges"]
    client = client_for(httpx.MockTransport(Recorded([*created, *fetched, *cancelled])))
    order = OrderRequest(
        symbol="BTC/ZAR",
        side="buy",
        type="limit",
        qty=Decimal("0.001"),
        price=Decimal("1178000"),
        client_order_id="bot7-0001",
    )
    placed = await client.create_order(order)
    assert (await client.fetch_order("BTC/ZAR", "bot7-0001")).status == "partially_filled"
    assert (await client.cancel_order("BTC/ZAR", "bot7-0001")).status == "cancelled"
    assert placed.client_order_id == "bot7-0001"
    await client.close()


async def test_an_order_that_timed_out_is_not_sent_again() -> None:
    exchanges = load("ovex", "error_create_order_timeout_not_resent")["exchanges"]
    recorded = Recorded(exchanges)
    client = client_for(httpx.MockTransport(recorded))
    order = OrderRequest(
        symbol="BTC/ZAR",
        side="buy",
        type="limit",
        qty=Decimal("0.001"),
        price=Decimal("1178000"),
        client_order_id="bot7-0001",
    )
    with pytest.raises(VenueTimeout):
        await client.create_order(order)
    assert recorded.sent == 1


def test_factory_shares_one_budget_within_ovexs_published_limits() -> None:
    a = make_ovex_client(None, http_client=httpx.AsyncClient())
    b = make_ovex_client(CREDENTIALS, http_client=httpx.AsyncClient())
    assert a._http.budgets[0] is b._http.budgets[0]
    # OVEX: 100 / 10 s, 400 / 60 s, 3000 / 10 min, globally
    for window_s, limit in ((10, 100), (60, 400), (600, 3000)):
        assert BURST + RATE_PER_S * window_s <= limit
    assert isinstance(a, ExchangeClient)
    asyncio.run(a.close())
    asyncio.run(b.close())
