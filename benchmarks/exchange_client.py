"""Exchange client benchmark: what our ccxt connector adds per call over calling ccxt itself.

Run: ``.venv/bin/python benchmarks/exchange_client.py [calls] [venue ...]`` (default 2,000
calls per case, every ccxt venue). No network: both sides run on the same recorded
transport (the fixtures' replies, answered from memory), so the difference is our own
work: symbol lookup, the shared budget, retry/place_once wrappers, error mapping hooks
and the conversion to Decimal value types. Timed per call: ``ticker`` and
``create_order`` (signing, the venue's parse, ours). Target: <= 1 ms added at p99.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the recorded transport

import ccxt.async_support as ccxt_async
from tests.unit.exchanges.ccxt_harness import (
    CREDENTIALS,
    _Response,
    fixed_client,
    load,
    with_markets,
)

from amarktai.exchanges.budget import RequestBudget
from amarktai.exchanges.ccxt_client import CCXT_VENUES, SPECS, CcxtClient
from amarktai.exchanges.client import OrderRequest


class LoopSession:
    """Answers every request with one recorded reply, forever."""

    headers: dict[str, str] = {}

    def __init__(self, response: dict[str, Any]) -> None:
        self.response = response

    def __getattr__(self, method: str) -> Callable[..., _Response]:
        r = self.response
        return lambda url, **kw: _Response(r.get("status", 200), r.get("headers", {}), r["body"])

    async def close(self) -> None:
        return None


def reply(venue: str, name: str) -> dict[str, Any]:
    return dict(load(venue, name)["calls"][-1]["response"])


async def timed_pair(
    direct: Callable[[], Awaitable[Any]], ours: Callable[[], Awaitable[Any]], n: int
) -> tuple[list[float], list[float]]:
    """Alternate the two calls so a noisy neighbour (shared cores, a GC pass) lands on
    both sides alike; a warm-up fills caches first."""
    for _ in range(min(200, n)):
        await direct()
        await ours()
    gc.collect()
    a, b = [], []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        await direct()
        t1 = time.perf_counter_ns()
        await ours()
        t2 = time.perf_counter_ns()
        a.append((t1 - t0) / 1e6)
        b.append((t2 - t1) / 1e6)
    return a, b


def pct(xs: list[float], q: float) -> float:
    return statistics.quantiles(xs, n=100)[int(q) - 1] if len(xs) > 1 else xs[0]


async def bench_venue(venue: str, n: int) -> list[tuple[str, float, float, float, float]]:
    # a budget that never waits: this measures our work, not the venue's rate limit
    ours: CcxtClient = fixed_client(venue, budget=RequestBudget(1e9, 1e9))
    await with_markets(ours)
    spec = SPECS[venue]
    creds = CREDENTIALS[venue]
    raw = getattr(ccxt_async, spec.ccxt_id)(
        {
            "apiKey": creds.api_key,
            "secret": creds.api_secret,
            "password": creds.passphrase,
            "enableRateLimit": False,
            "options": dict(spec.options),
        }
    )
    raw.has = {**raw.has, "fetchCurrencies": False}
    raw.number = str  # the same ccxt configuration as ours
    for attr in ("milliseconds", "seconds", "nonce", "uuid"):
        setattr(raw, attr, getattr(ours.exchange, attr))
    raw.markets = None
    raw.set_markets(ours.exchange.markets)  # markets known on both sides, as in production
    symbol = "BTC/ZAR" if venue in ("luno", "binance") else "BTC/USDT"
    price = Decimal("1500000") if symbol == "BTC/ZAR" else Decimal("86000")
    order = OrderRequest(symbol, "buy", "limit", Decimal("0.001"), "amk-0001", price)
    params = {spec.client_id_field: order.client_order_id}
    rows = []
    cases: list[tuple[str, Callable[[], Awaitable[Any]], Callable[[], Awaitable[Any]]]] = [
        ("ticker", lambda: ours.ticker(symbol), lambda: raw.fetch_ticker(symbol)),
        (
            "create_order",
            lambda: ours.create_order(order),
            lambda: raw.create_order(symbol, "limit", "buy", 0.001, float(price), params),
        ),
    ]
    for name, ours_call, raw_call in cases:
        session = LoopSession(reply(venue, name))
        ours.exchange.session = session
        raw.session = session
        direct, mine = await timed_pair(raw_call, ours_call, n)
        rows.append(
            (name, pct(direct, 50), pct(direct, 99), pct(mine, 50), pct(mine, 99)),
        )
    ours.exchange.session = raw.session = None
    return rows


async def main(n: int, venues: list[str]) -> None:
    print(f"per call, ms, {n} calls each (ccxt direct vs our client, same recorded replies)")
    print(f"{'venue/method':<22}{'ccxt p50':>10}{'ccxt p99':>10}{'ours p50':>10}{'ours p99':>10}"
          f"{'added p50':>11}{'added p99':>11}{'ratio p50':>11}")  # fmt: skip
    worst = 0.0
    for venue in venues:
        for name, d50, d99, m50, m99 in await bench_venue(venue, n):
            worst = max(worst, m99 - d99)
            print(
                f"{venue + '/' + name:<22}{d50:>10.3f}{d99:>10.3f}{m50:>10.3f}{m99:>10.3f}"
                f"{m50 - d50:>11.3f}{m99 - d99:>11.3f}{m50 / d50:>10.2f}x"
            )
    verdict = "OK" if worst <= 1.0 else "OVER TARGET"
    print(f"largest added at p99: {worst:.3f} ms (target <= 1 ms): {verdict}")


if __name__ == "__main__":
    args = sys.argv[1:]
    count = int(args[0]) if args and args[0].isdigit() else 2000
    chosen = [a for a in args if not a.isdigit()] or list(CCXT_VENUES)
    asyncio.run(main(count, chosen))
