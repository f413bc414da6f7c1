"""Venue-server benchmark: what our `ValrClient` adds on top of a bare HTTP round trip.

Run: ``.venv/bin/python benchmarks/venue_server.py [n]`` (default 2,000 of each call).
The local VALR venue (`python -m amarktai.venues.valr_server --unlimited`) runs in its
own process, so its work does not share this process's GIL with the client being timed.
Per call kind, the raw and the client requests alternate (same connection pool, same
server, same moment), and the figures are per-request wall-clock latencies:

* ticker: ``ValrClient.ticker`` vs raw ``httpx`` GET of ``/v1/public/BTCZAR/marketsummary``;
* create_order: ``ValrClient.create_order`` (a post-only limit far under the market, so
  it rests) vs a raw ``httpx`` POST of the same signed body (signing inline: the
  cheapest request VALR would accept).

The client runs without request budgets (they exist to wait, and would time the wait).
Overhead = client − raw at p50 and at p99; the target is ≤ 1 ms at p99.

Loopback latencies on a shared, busy machine are noisy at p99 (a scheduler hiccup in
either series moves the difference), so the same pairs are also timed in-process over
`httpx.MockTransport` answering VALR's recorded replies: there the difference is only
our code (building, signing, checking, parsing), which is the overhead we own.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal

import httpx

from amarktai.exchanges.client import Credentials, OrderRequest
from amarktai.exchanges.valr import ValrClient

KEY, SECRET = "bench-key", "bench-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def timed(call: Callable[[], Awaitable[object]], into: list[float]) -> None:
    start = time.perf_counter()
    await call()
    into.append((time.perf_counter() - start) * 1000)


async def run(base: str, n: int) -> None:
    raw_http = httpx.AsyncClient(base_url=base)
    client = ValrClient(
        http_client=httpx.AsyncClient(),
        credentials=Credentials(KEY, SECRET),
        base_url=base,
    )
    await client.instruments()
    seq = iter(range(10**9))

    async def raw_ticker() -> object:
        reply = await raw_http.get("/v1/public/BTCZAR/marketsummary")
        return reply.json()

    async def our_ticker() -> object:
        return await client.ticker("BTC/ZAR")

    async def raw_order() -> object:
        body = json.dumps(
            {"side": "BUY", "quantity": "0.0001", "price": "100000", "pair": "BTCZAR",
             "postOnly": True, "customerOrderId": f"raw-{next(seq)}", "timeInForce": "GTC"},
            separators=(",", ":"),
        )  # fmt: skip
        stamp = str(round(time.time() * 1000))
        payload = f"{stamp}POST/v1/orders/limit{body}".encode()
        signature = hmac.new(SECRET.encode(), payload, hashlib.sha512).hexdigest()
        headers = {"X-VALR-API-KEY": KEY, "X-VALR-TIMESTAMP": stamp,
                   "X-VALR-SIGNATURE": signature, "Content-Type": "application/json"}  # fmt: skip
        reply = await raw_http.post("/v1/orders/limit", content=body, headers=headers)
        assert reply.status_code == 202, reply.text
        return reply.json()

    async def our_order() -> object:
        request = OrderRequest(
            "BTC/ZAR", "buy", "limit", Decimal("0.0001"), f"our-{next(seq)}",
            price=Decimal(100000), post_only=True,
        )  # fmt: skip
        return await client.create_order(request)

    rows = await measure(
        n, (("ticker", raw_ticker, our_ticker), ("create_order", raw_order, our_order))
    )
    await raw_http.aclose()
    await client.close()
    report("over loopback HTTP to the local venue", n, rows)


Pair = tuple[str, Callable[[], Awaitable[object]], Callable[[], Awaitable[object]]]
Row = tuple[str, list[float], list[float]]


async def measure(n: int, pairs: tuple[Pair, ...]) -> list[Row]:
    rows = []
    for name, raw, ours in pairs:
        for _ in range(min(200, n)):  # warm-up: connections, caches
            await raw()
            await ours()
        raw_ms: list[float] = []
        our_ms: list[float] = []
        for _ in range(n):
            await timed(raw, raw_ms)
            await timed(ours, our_ms)
        rows.append((name, raw_ms, our_ms))
    return rows


def report(title: str, n: int, rows: list[Row]) -> None:
    print(f"-- {title}")
    print(f"{'call':<14}{'raw p50':>10}{'raw p99':>10}{'ours p50':>10}{'ours p99':>10}"
          f"{'+p50':>9}{'+p99':>9}   (ms, n={n} each)")  # fmt: skip
    for name, raw_ms, our_ms in rows:
        r50, r99, o50, o99 = (
            pct(raw_ms, 0.5),
            pct(raw_ms, 0.99),
            pct(our_ms, 0.5),
            pct(our_ms, 0.99),
        )
        print(f"{name:<14}{r50:>10.3f}{r99:>10.3f}{o50:>10.3f}{o99:>10.3f}"
              f"{o50 - r50:>9.3f}{o99 - r99:>9.3f}")  # fmt: skip
        mean_gap = statistics.fmean(o - r for o, r in zip(our_ms, raw_ms, strict=True))
        print(f"{'':<14}mean overhead {mean_gap:.3f} ms; target: +p99 ≤ 1 ms")


SUMMARY = {"currencyPair": "BTCZAR", "askPrice": "1200389", "bidPrice": "1199429",
           "lastTradedPrice": "1200000", "previousClosePrice": "1190000", "baseVolume": "24.3",
           "highPrice": "1210000", "lowPrice": "1180000", "created": "2026-12-07T12:00:00.000Z",
           "changeFromPrevious": "0.84"}  # fmt: skip
PAIRS = [{"symbol": "BTCZAR", "baseCurrency": "BTC", "quoteCurrency": "ZAR", "active": True,
          "minBaseAmount": "0.0001", "minQuoteAmount": "10", "tickSize": "1",
          "baseDecimalPlaces": "8", "currencyPairType": "SPOT"}]  # fmt: skip


def canned(request: httpx.Request) -> httpx.Response:
    """VALR's recorded reply shapes, answered without a network."""
    path = request.url.path
    if path == "/v1/public/pairs":
        return httpx.Response(200, json=PAIRS)
    if path == "/v1/account/fees/trade":
        return httpx.Response(200, json=[])
    if path.endswith("/marketsummary"):
        return httpx.Response(200, json=SUMMARY)
    return httpx.Response(202, json={"id": "558f5e0a-ffd1-46dd-8fae-763d93fa2f25"})


async def in_process(n: int) -> None:
    transport = httpx.MockTransport(canned)
    raw_http = httpx.AsyncClient(transport=transport, base_url="https://api.valr.com")
    client = ValrClient(
        http_client=httpx.AsyncClient(transport=transport), credentials=Credentials(KEY, SECRET)
    )
    await client.instruments()
    seq = iter(range(10**9))

    async def raw_ticker() -> object:
        return (await raw_http.get("/v1/public/BTCZAR/marketsummary")).json()

    async def our_ticker() -> object:
        return await client.ticker("BTC/ZAR")

    async def raw_order() -> object:
        body = json.dumps({"side": "BUY", "quantity": "0.0001", "price": "100000",
                           "pair": "BTCZAR", "postOnly": True,
                           "customerOrderId": f"raw-{next(seq)}", "timeInForce": "GTC"},
                          separators=(",", ":"))  # fmt: skip
        stamp = str(round(time.time() * 1000))
        payload = f"{stamp}POST/v1/orders/limit{body}".encode()
        signature = hmac.new(SECRET.encode(), payload, hashlib.sha512).hexdigest()
        headers = {"X-VALR-API-KEY": KEY, "X-VALR-TIMESTAMP": stamp,
                   "X-VALR-SIGNATURE": signature, "Content-Type": "application/json"}  # fmt: skip
        return (await raw_http.post("/v1/orders/limit", content=body, headers=headers)).json()

    async def our_order() -> object:
        request = OrderRequest("BTC/ZAR", "buy", "limit", Decimal("0.0001"), f"our-{next(seq)}",
                               price=Decimal(100000), post_only=True)  # fmt: skip
        return await client.create_order(request)

    rows = await measure(
        n, (("ticker", raw_ticker, our_ticker), ("create_order", raw_order, our_order))
    )
    await raw_http.aclose()
    await client.close()
    report("in-process (httpx.MockTransport): our code only", n, rows)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "amarktai.venues.valr_server", "--port", str(port),
         "--key", KEY, "--secret", SECRET, "--zar", "1000000000000", "--unlimited",
         "--step-s", "3600"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{base}/v1/public/pairs", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the local venue did not start") from None
                time.sleep(0.1)
        asyncio.run(run(base, n))
        asyncio.run(in_process(n))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
