"""VALR connector, tested from recorded fixtures built on VALR's documented examples
(no network): every request's exact URL, query, body bytes and signing headers under a
fixed clock, the parsed result of each recorded reply, and each error mapping."""

from __future__ import annotations

import asyncio
from datetime import datetime

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

from amarktai.exchanges.budget import RequestBudget
from amarktai.exchanges.client import Credentials, ExchangeClient
from amarktai.exchanges.parsing import records
from amarktai.exchanges.valr import (
    IP_BURST,
    IP_RATE_PER_S,
    PUBLIC_BURST,
    PUBLIC_RATE_PER_S,
    ValrClient,
    make_valr_client,
    parse_pair,
    sign,
)
from amarktai.kit.errors import DomainError
from amarktai.markets.types import Instrument

FIXED_NOW = 1796644800.0  # 2026-12-07T12:00:00Z, the clock every fixture was signed with
DOC_SECRET = "4961b74efac86b25cce8fbe4c9811c4c7a787b7a5996660afcc2e287ad864363"
CREDENTIALS = Credentials(api_key="test-api-key", api_secret=DOC_SECRET)


def test_signature_matches_valrs_documented_get_vector() -> None:
    # docs.valr.com "Authentication": the sample secret, timestamp, verb and path
    assert sign(DOC_SECRET, 1558014486185, "GET", "/v1/account/balances") == (
        "9d52c181ed69460b49307b7891f04658e938b21181173844b5018b2fe783a6d4"
        "c62b8e67a03de4d099e7437ebfabe12c56233b73c6a0cc0f7ae87e05f6289928"
    )


def test_signature_matches_valrs_documented_post_vector() -> None:
    body = '{"customerOrderId":"ORDER-000001","pair":"BTCUSDC","side":"BUY","quoteAmount":"80000"}'
    assert sign(DOC_SECRET, 1558017528946, "POST", "/v1/orders/market", body) == (
        "09f536e3dfdad58443f16010a97a0a21ad27486b7b8d6d4103170d885410ed77"
        "f037f1fa628474190d4f5c08ca12c1acc850901f1c2e75c6d906ec3b32b008d0"
    )


def test_signature_covers_the_subaccount() -> None:
    plain = sign(DOC_SECRET, 1, "GET", "/v1/account/balances")
    assert sign(DOC_SECRET, 1, "GET", "/v1/account/balances", "", "123") != plain


def preloaded() -> list[Instrument]:
    body = load("valr", "instruments")["exchanges"][0]["response"]["body"]
    found = [parse_pair(rec, {}) for rec in records("valr", body, "pair")]
    return [i for i in found if i is not None]


def client_for(
    transport: httpx.MockTransport,
    *,
    credentials: bool,
    preload: bool,
    sleep: FakeSleep | None = None,
    **kw: object,
) -> ValrClient:
    return ValrClient(
        http_client=httpx.AsyncClient(transport=transport),
        credentials=CREDENTIALS if credentials else None,
        clock=lambda: FIXED_NOW,
        sleep=sleep or FakeSleep(),
        instruments=preloaded() if preload else None,
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("name", names("valr"))
async def test_recorded_fixture(name: str) -> None:
    fixture = load("valr", name)
    recorded = Recorded(fixture["exchanges"])
    sleep = FakeSleep()
    client = client_for(
        httpx.MockTransport(recorded),
        credentials=fixture["credentials"],
        preload=fixture["preload_instruments"],
        sleep=sleep,
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
    covered = {load("valr", n)["call"]["method"] for n in names("valr")}
    wanted = {
        name
        for name in dir(ExchangeClient)
        if not name.startswith("_") and name not in {"venue", "close"}
    }
    assert wanted <= covered


async def test_client_is_an_exchange_client_and_close_closes_the_http_client() -> None:
    http = httpx.AsyncClient(transport=httpx.MockTransport(Recorded([])))
    client = ValrClient(http_client=http, instruments=preloaded())
    assert isinstance(client, ExchangeClient)
    await client.close()
    assert http.is_closed


class FakeTime:
    def __init__(self) -> None:
        self.t = 0.0

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, s: float) -> None:
        self.t += s


async def test_every_request_waits_for_the_budget_and_public_routes_for_theirs_too() -> None:
    clock = FakeTime()
    ip = RequestBudget(rate=1.0, capacity=1, monotonic=clock.monotonic, sleep=clock.sleep)
    public = RequestBudget(rate=0.5, capacity=1, monotonic=clock.monotonic, sleep=clock.sleep)
    summary = load("valr", "ticker")["exchanges"][0]
    recorded = Recorded([summary, summary])
    client = client_for(
        httpx.MockTransport(recorded),
        credentials=False,
        preload=True,
        budgets=(ip,),
        public_budgets=(public,),
    )
    await client.ticker("BTC/ZAR")
    await client.ticker("BTC/ZAR")
    # the second call waited 2 s: the public bucket (0.5/s) binds before the IP one
    assert clock.t == pytest.approx(2.0)
    assert (ip.used, public.used) == (2, 2)


async def test_candles_do_not_draw_on_the_public_route_budget() -> None:
    clock = FakeTime()
    public = RequestBudget(rate=0.5, capacity=1, monotonic=clock.monotonic, sleep=clock.sleep)
    exchange = load("valr", "ohlcv")["exchanges"][0]
    client = client_for(
        httpx.MockTransport(Recorded([exchange])),
        credentials=False,
        preload=True,
        public_budgets=(public,),
    )
    since = datetime.fromisoformat("2026-12-07T11:00:00+00:00")
    await client.ohlcv("BTC/ZAR", 300, since=since, limit=2)
    assert public.used == 0


def test_factory_shares_one_budget_per_process_within_valrs_published_limits() -> None:
    a = make_valr_client(None, http_client=httpx.AsyncClient())
    b = make_valr_client(CREDENTIALS, http_client=httpx.AsyncClient())
    assert a._http.budgets == b._http.budgets  # the very same bucket objects
    assert a._http.budgets[0] is b._http.budgets[0]
    # VALR: 1200 calls/min per IP, 30/min on /v1/public/*: burst + rate x 60 s under both
    assert IP_BURST + IP_RATE_PER_S * 60 <= 1200
    assert PUBLIC_BURST + PUBLIC_RATE_PER_S * 60 <= 30
    asyncio.run(a.close())
    asyncio.run(b.close())


async def test_a_subaccount_is_sent_and_signed() -> None:
    # VALR signs the sub-account id after the body and expects it in its own header
    stamp = round(FIXED_NOW * 1000)
    exchange = {
        "request": {
            "method": "GET",
            "url": "https://api.valr.com/v1/account/balances",
            "headers": {
                "X-VALR-SUB-ACCOUNT-ID": "1385226517613019136",
                "X-VALR-SIGNATURE": sign(
                    DOC_SECRET, stamp, "GET", "/v1/account/balances", "", "1385226517613019136"
                ),
                "X-VALR-TIMESTAMP": str(stamp),
            },
        },
        "response": {"status": 200, "body": []},
    }
    recorded = Recorded([exchange])
    client = client_for(
        httpx.MockTransport(recorded),
        credentials=True,
        preload=True,
        subaccount_id="1385226517613019136",
    )
    assert await client.balances() == []
    assert recorded.sent == 1
