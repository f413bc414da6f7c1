"""Fixtures for the local venue: a VALR venue on 127.0.0.1 with an exact BTC/ZAR book,
and our real `ValrClient` pointed at it (only the base URL differs from production)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from amarktai.exchanges.client import Credentials
from amarktai.exchanges.valr import ValrClient
from amarktai.markets.types import BookLevel, OrderBook
from amarktai.venues.core import FeeTier
from amarktai.venues.serve import ServedApp
from amarktai.venues.valr_server import ValrLimits, ValrServer, make_valr_venue

D = Decimal
KEY, SECRET = "venue-key-1", "venue-secret-1"
CREDENTIALS = Credentials(api_key=KEY, api_secret=SECRET)
#: Round fees so expected balances are easy to read: 0.1 % maker, 0.2 % taker.
TIERS = {"default": FeeTier(D("0.001"), D("0.002"))}
START = {"ZAR": D("1000000"), "BTC": D("1")}

BIDS = ((D("999000"), D("0.004")), (D("998000"), D("0.01")))
ASKS = ((D("1000000"), D("0.002")), (D("1000100"), D("0.01")), (D("1001000"), D("0.5")))


def book(
    bids: tuple[tuple[Decimal, Decimal], ...] = BIDS,
    asks: tuple[tuple[Decimal, Decimal], ...] = ASKS,
) -> OrderBook:
    return OrderBook(
        ts=datetime.now(UTC),
        symbol="BTC/ZAR",
        bids=tuple(BookLevel(p, q) for p, q in bids),
        asks=tuple(BookLevel(p, q) for p, q in asks),
    )


@dataclass
class Venue:
    server: ValrServer
    url: str

    def client(self, credentials: Credentials | None = CREDENTIALS, **kw: Any) -> ValrClient:
        kw.setdefault("timeout_s", 2.0)
        return ValrClient(
            http_client=httpx.AsyncClient(), credentials=credentials, base_url=self.url, **kw
        )


def start_venue(limits: ValrLimits | None = None) -> tuple[ServedApp, Venue]:
    server = make_valr_venue(tiers=TIERS, limits=limits or ValrLimits(10**6, 10**6, 10**6))
    server.core.add_account(KEY, SECRET, START)
    server.core.set_book("BTC/ZAR", book())
    served = ServedApp(server)
    return served, Venue(server, served.start())
