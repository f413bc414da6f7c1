"""The ccxt connectors (Luno, Binance, KuCoin, Bybit) against recorded fixtures, the way
ccxt tests itself: no network; each request's exact URL, method, query, body and signing
headers, and what we parse from each recorded reply, plus every error mapping."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from ccxt.base import errors as cx
from ccxt.base.decimal_to_precision import DECIMAL_PLACES, SIGNIFICANT_DIGITS, TICK_SIZE
from tests.unit.exchanges.ccxt_harness import (
    CREDENTIALS,
    FIXTURES,
    FixtureMismatch,
    _Response,
    attach,
    fixed_client,
    load,
    run_fixture,
    to_json,
    with_markets,
)

from amarktai.exchanges import errors as ours
from amarktai.exchanges.budget import RequestBudget
from amarktai.exchanges.ccxt_client import (
    CCXT_VENUES,
    SPECS,
    make_ccxt_client,
    map_ccxt_error,
    precision_step,
)
from amarktai.exchanges.client import ExchangeClient, OrderRequest
from amarktai.kit.errors import ValidationFailed

METHODS = (
    "instruments", "ticker", "order_book", "trades", "ohlcv", "balances", "create_order",
    "cancel_order", "fetch_order", "open_orders", "my_trades", "fees", "key_permissions",
)  # fmt: skip
ERRORS = (
    "error_insufficient_funds", "error_invalid_order", "error_order_not_found", "error_auth",
    "error_rate_limited", "error_unavailable", "error_timeout", "create_order_after_timeout",
)  # fmt: skip
# only the ccxt venues' folders: VALR and OVEX keep their own fixtures beside these
ALL = sorted((v, p.stem) for v in CCXT_VENUES for p in (FIXTURES / v).glob("*.json"))


def test_every_venue_has_a_fixture_for_every_method_and_error() -> None:
    for venue in CCXT_VENUES:
        names = {p.stem for p in (FIXTURES / venue).glob("*.json")}
        missing = (set(METHODS) | set(ERRORS)) - names
        assert not missing, f"{venue} lacks fixtures {sorted(missing)}"


@pytest.mark.parametrize(("venue", "name"), ALL, ids=[f"{v}/{n}" for v, n in ALL])
async def test_fixture(venue: str, name: str) -> None:
    """Replay: every request must equal the recorded one (signature included, so any
    change in what we send fails here) and the result must equal the recorded parse."""
    client = fixed_client(venue)
    if name != "instruments":
        await with_markets(client)
    fixture = load(venue, name)
    expected = fixture["expected"]
    try:
        if isinstance(expected, dict) and "error" in expected:
            with pytest.raises(ours.ExchangeError) as caught:
                await run_fixture(client, fixture)
            assert type(caught.value).__name__ == expected["error"]
            assert caught.value.code == expected["code"]
            assert getattr(caught.value, "retry_after_s", None) == expected["retry_after_s"]
            assert caught.value.venue == venue and caught.value.venue_message
            session = client.exchange.session
        else:
            result, session = await run_fixture(client, fixture)
            assert to_json(result) == expected
        assert len(session.seen) == len(fixture["calls"]), "every recorded request was sent"
    finally:
        await client.close()


async def test_a_changed_request_is_caught() -> None:
    """The replay is strict: the same call with another client order id fails."""
    client = fixed_client("binance")
    await with_markets(client)
    fixture = load("binance", "fetch_order")
    fixture["call"]["args"]["client_order_id"] = "amk-9999"
    with pytest.raises(FixtureMismatch):
        await run_fixture(client, fixture)
    await client.close()


# -- signatures, recomputed from each venue's documented scheme --------------------------------


def _requests(venue: str) -> list[dict[str, Any]]:
    return [
        c["request"]
        for name in METHODS
        if (FIXTURES / venue / f"{name}.json").exists()
        for c in load(venue, name)["calls"]
    ]


def _hmac(secret: str, text: str) -> bytes:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()


def test_binance_signature_is_hmac_sha256_of_the_query_or_body() -> None:
    secret = CREDENTIALS["binance"].api_secret
    signed = [r for r in _requests("binance") if "signature=" in (r["body"] or r["url"])]
    assert len(signed) >= 8
    for r in signed:
        payload = r["body"] or urlsplit(r["url"]).query
        unsigned, signature = payload.rsplit("&signature=", 1)
        assert signature == _hmac(secret, unsigned).hex()
        assert "timestamp=1765000000000" in unsigned
        assert r["headers"]["X-MBX-APIKEY"] == CREDENTIALS["binance"].api_key


def test_kucoin_signature_and_passphrase() -> None:
    creds = CREDENTIALS["kucoin"]
    signed = [r for r in _requests("kucoin") if "KC-API-SIGN" in r["headers"]]
    assert len(signed) >= 8
    for r in signed:
        h = r["headers"]
        parts = urlsplit(r["url"])
        path = parts.path + ("?" + parts.query if parts.query else "")
        text = h["KC-API-TIMESTAMP"] + r["method"] + path + (r["body"] or "")
        assert h["KC-API-SIGN"] == base64.b64encode(_hmac(creds.api_secret, text)).decode()
        assert h["KC-API-KEY-VERSION"] == "2"
        assert creds.passphrase is not None
        assert (
            h["KC-API-PASSPHRASE"]
            == base64.b64encode(_hmac(creds.api_secret, creds.passphrase)).decode()
        )


def test_bybit_v5_signature() -> None:
    creds = CREDENTIALS["bybit"]
    signed = [r for r in _requests("bybit") if "X-BAPI-SIGN" in r["headers"]]
    assert len(signed) >= 8
    for r in signed:
        h = r["headers"]
        payload = r["body"] or urlsplit(r["url"]).query
        text = h["X-BAPI-TIMESTAMP"] + creds.api_key + h["X-BAPI-RECV-WINDOW"] + payload
        assert h["X-BAPI-SIGN"] == _hmac(creds.api_secret, text).hex()
        assert h["X-BAPI-API-KEY"] == creds.api_key


def test_luno_uses_http_basic_auth_on_private_calls_only() -> None:
    creds = CREDENTIALS["luno"]
    basic = "Basic " + base64.b64encode(f"{creds.api_key}:{creds.api_secret}".encode()).decode()
    for r in _requests("luno"):
        public = any(p in r["url"] for p in ("/1/ticker", "/1/orderbook", "/1/trades", "/markets"))
        assert r["headers"].get("Authorization") == (None if public else basic), r["url"]


# -- symbols, instruments, behaviour -----------------------------------------------------------


def test_luno_xbt_is_btc_both_ways() -> None:
    instruments = load("luno", "instruments")["expected"]
    assert [i["symbol"] for i in instruments] == ["BTC/ZAR", "ETH/BTC"]  # sent as XBTZAR, ETHXBT
    assert "pair=XBTZAR" in load("luno", "ticker")["calls"][0]["request"]["url"]
    assert {b["asset"] for b in load("luno", "balances")["expected"]} == {"BTC", "ZAR"}


def test_zar_pairs_come_first() -> None:
    # the venue lists BTCUSDT before BTCZAR
    assert [i["symbol"] for i in load("binance", "instruments")["expected"]] == [
        "BTC/ZAR",
        "BTC/USDT",
    ]


@pytest.mark.parametrize(
    ("value", "mode", "step"),
    [
        (0.01, TICK_SIZE, "0.01"),
        (1e-08, TICK_SIZE, "1E-8"),
        (1.0, TICK_SIZE, "1"),
        (2, DECIMAL_PLACES, "0.01"),
        (0, DECIMAL_PLACES, "1"),
        (8, DECIMAL_PLACES, "1E-8"),
        (4, SIGNIFICANT_DIGITS, "0"),  # no fixed grid: left unchecked, never guessed
        (None, TICK_SIZE, "0"),
    ],
)
def test_precision_modes_become_exact_steps(value: Any, mode: int, step: str) -> None:
    assert precision_step(value, mode) == Decimal(step)


def test_client_order_id_travels_in_each_venues_field() -> None:
    fields = {"binance": "newClientOrderId=amk-0001", "kucoin": '"clientOid":"amk-0001"',
              "bybit": '"orderLinkId":"amk-0001"', "luno": "client_order_id=amk-0001"}  # fmt: skip
    for venue, needle in fields.items():
        request = load(venue, "create_order")["calls"][0]["request"]
        assert needle in (request["body"] or request["url"]), venue


def test_an_order_is_not_resent_when_the_lookup_finds_it() -> None:
    for venue in CCXT_VENUES:
        calls = load(venue, "create_order_after_timeout")["calls"]
        assert calls[0]["request"]["method"] == "POST"
        assert sum(c["request"]["method"] == "POST" for c in calls) == 1, venue


def test_an_order_is_resent_with_the_same_id_only_when_the_venue_lacks_it() -> None:
    calls = load("binance", "create_order_resent")["calls"]
    posts = [c["request"]["body"] for c in calls if c["request"]["method"] == "POST"]
    assert len(posts) == 2 and posts[0] == posts[1]


async def test_unknown_symbol() -> None:
    client = fixed_client("binance")
    await with_markets(client)
    attach(client, [])
    with pytest.raises(ours.UnknownSymbol):
        await client.ticker("DOGE/ZAR")
    await client.close()


async def test_luno_market_buys_are_refused_not_guessed() -> None:
    client = fixed_client("luno")
    await with_markets(client)
    attach(client, [])  # nothing may be sent
    order = OrderRequest("BTC/ZAR", "buy", "market", Decimal("0.001"), "amk-2")
    with pytest.raises(ours.InvalidOrder, match="quote currency"):
        await client.create_order(order)
    await client.close()


async def test_unsupported_timeframe() -> None:
    client = fixed_client("luno")
    await with_markets(client)
    attach(client, [])
    with pytest.raises(ValidationFailed):
        await client.ohlcv("BTC/ZAR", 7)
    await client.close()


def test_construction_sends_nothing_and_satisfies_the_protocol() -> None:
    for venue in CCXT_VENUES:
        client = make_ccxt_client(venue, CREDENTIALS[venue])
        assert isinstance(client, ExchangeClient)
        assert client.exchange.session is None and not client.exchange.markets
    with pytest.raises(ValueError, match="no ccxt connector"):
        make_ccxt_client("valr")


# -- request budget ----------------------------------------------------------------------------


def test_one_budget_per_venue_and_key_at_the_published_rate() -> None:
    a = make_ccxt_client("luno", CREDENTIALS["luno"])
    b = make_ccxt_client("luno", CREDENTIALS["luno"])
    public = make_ccxt_client("luno")
    assert a.budget is b.budget and a.budget is not public.budget
    # Luno publishes 300 calls a minute: a burst of 5, then 295 more over the minute
    assert (a.budget.capacity, a.budget.rate) == (5.0, pytest.approx(295 / 60))
    for venue, limit, window in (("luno", 300, 60), ("kucoin", 4000, 30),
                                 ("binance", 1200, 60), ("bybit", 250, 5)):  # fmt: skip
        budget = make_ccxt_client(venue).budget
        assert budget.capacity + budget.rate * window == pytest.approx(limit)
    for client in (a, b, public):
        assert client.exchange.throttle == client._throttle  # ccxt's limiter never runs


async def test_every_http_request_draws_from_the_budget() -> None:
    client = fixed_client("kucoin")
    await with_markets(client)
    used = client.budget.used
    fixture = load("kucoin", "cancel_order")  # two requests
    await run_fixture(client, fixture)
    assert client.budget.used - used == 2
    await client.close()


class SpyBudget(RequestBudget):
    def __init__(self) -> None:
        super().__init__(1000.0, 1000.0)
        self.costs: list[float] = []

    async def acquire(self, cost: float = 1.0) -> float:
        self.costs.append(cost)
        return await super().acquire(cost)


@pytest.mark.parametrize(("name", "weight"), [("balances", 4.0), ("order_book", 1.0)])
async def test_each_request_takes_its_endpoints_weight(name: str, weight: float) -> None:
    """ccxt's per-endpoint weights (Binance /api/v3/account 4, depth <= 100 levels 1, in
    units of its 50 ms rateLimit) are what the shared bucket is charged."""
    spy = SpyBudget()
    client = fixed_client("binance", budget=spy)
    await with_markets(client)
    spy.costs.clear()
    await run_fixture(client, load("binance", name))
    assert spy.costs == [weight]
    await client.close()


class RoutedSession:
    """Answers by URL, yielding to the loop inside every reply so concurrent calls
    interleave between a reply arriving and its error being raised."""

    headers: dict[str, str] = {}

    def __init__(self, routes: dict[str, dict[str, Any]]) -> None:
        self.routes = routes

    def __getattr__(self, method: str) -> Any:
        def request(url: Any, **_: Any) -> Any:
            reply = next(r for part, r in self.routes.items() if part in str(url))
            return _Slow(reply["status"], reply.get("headers", {}), reply["body"])

        return request

    async def close(self) -> None:
        return None


class _Slow(_Response):
    async def __aexit__(self, *exc: object) -> None:
        await asyncio.sleep(0)  # the other call runs here


async def test_concurrent_calls_never_map_each_others_errors() -> None:
    """A 429 whose body ccxt does not know is classified by its status; a concurrent
    successful call on the same client must not erase that status in between."""
    client = fixed_client("luno", budget=RequestBudget(1000.0, 1000.0))
    await with_markets(client)
    ok_ticker = load("luno", "ticker")["calls"][0]["response"]
    unknown_429 = {"status": 429, "headers": {}, "body": {"error": "slow", "error_code": "ErrNew"}}
    client.exchange.session = RoutedSession({"/1/ticker": ok_ticker, "/1/balance": unknown_429})
    client._attempts = 1
    results = await asyncio.gather(
        client.balances(), client.ticker("BTC/ZAR"), return_exceptions=True
    )
    assert isinstance(results[0], ours.VenueRateLimited)
    assert not isinstance(results[1], BaseException)
    await client.close()


# -- one error mapping, per ccxt class ---------------------------------------------------------


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (cx.AuthenticationError, ours.ExchangeAuthError),
        (cx.PermissionDenied, ours.ExchangeAuthError),
        (cx.AccountSuspended, ours.ExchangeAuthError),
        (cx.InsufficientFunds, ours.InsufficientFunds),
        (cx.InvalidOrder, ours.InvalidOrder),
        (cx.DuplicateOrderId, ours.InvalidOrder),
        (cx.OrderNotFound, ours.OrderNotFound),
        (cx.RateLimitExceeded, ours.VenueRateLimited),
        (cx.DDoSProtection, ours.VenueRateLimited),
        (cx.InvalidNonce, ours.NonceError),
        (cx.ExchangeNotAvailable, ours.VenueUnavailable),
        (cx.OnMaintenance, ours.VenueUnavailable),
        (cx.RequestTimeout, ours.VenueTimeout),
        (cx.NetworkError, ours.VenueUnavailable),
        (cx.BadResponse, ours.BadVenueReply),
        (cx.NullResponse, ours.BadVenueReply),
        (cx.BadSymbol, ours.UnknownSymbol),
        (cx.BadRequest, ours.ExchangeError),
        (cx.ExchangeError, ours.ExchangeError),
    ],
)
def test_map_ccxt_error(raised: type[Exception], expected: type[ours.ExchangeError]) -> None:
    mapped = map_ccxt_error("bybit", raised('bybit {"retCode":1}'))
    assert type(mapped) is expected
    assert mapped.venue == "bybit" and mapped.venue_message == 'bybit {"retCode":1}'


def test_retry_after_and_http_status_fallback() -> None:
    limited = map_ccxt_error("binance", cx.RateLimitExceeded("x"), {"retry-after": "7"})
    assert isinstance(limited, ours.VenueRateLimited) and limited.retry_after_s == 7.0
    assert limited.headers == {"Retry-After": "7"}
    kucoin = map_ccxt_error("kucoin", cx.RateLimitExceeded("x"), {"gw-ratelimit-reset": "1500"})
    assert isinstance(kucoin, ours.VenueRateLimited) and kucoin.retry_after_s == 1.5
    reset = {"X-Bapi-Limit-Reset-Timestamp": "1765000002000"}
    bybit = map_ccxt_error("bybit", cx.RateLimitExceeded("x"), reset, 200, 1765000000000)
    assert isinstance(bybit, ours.VenueRateLimited) and bybit.retry_after_s == 2.0
    # an error body ccxt does not know is classified by its HTTP status
    for status, cls in ((401, ours.ExchangeAuthError), (429, ours.VenueRateLimited),
                        (503, ours.VenueUnavailable), (504, ours.VenueTimeout),
                        (400, ours.ExchangeError)):  # fmt: skip
        assert type(map_ccxt_error("luno", cx.ExchangeError("?"), None, status)) is cls
    # a specific ccxt class is never overridden by the status
    assert isinstance(
        map_ccxt_error("luno", cx.InsufficientFunds("?"), None, 500), ours.InsufficientFunds
    )


def test_specs_cover_the_ccxt_venues() -> None:
    assert set(SPECS) == set(CCXT_VENUES)
    # fixture files are valid JSON with the documented keys
    for path in (p for v in CCXT_VENUES for p in (FIXTURES / v).glob("*.json")):
        data = json.loads(path.read_text())
        assert {"call", "calls", "expected"} <= set(data), path
