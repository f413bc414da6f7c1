"""One way to get a client for any supported venue: our own connectors for VALR and
OVEX, ccxt (imported only when asked for: it takes seconds to load) for the rest."""

from __future__ import annotations

from amarktai.exchanges.client import VENUES, Credentials, ExchangeClient
from amarktai.kit.errors import NotFound

OWN_CONNECTORS = ("valr", "ovex")
CCXT_VENUES = ("luno", "binance", "kucoin", "bybit")


def make_client(venue: str, credentials: Credentials | None = None) -> ExchangeClient:
    """A client for ``venue`` (public data without credentials); NotFound naming the
    supported venues for any other name."""
    name = venue.strip().lower()
    if name == "valr":
        from amarktai.exchanges.valr import make_valr_client

        return make_valr_client(credentials)
    if name == "ovex":
        from amarktai.exchanges.ovex import make_ovex_client

        return make_ovex_client(credentials)
    if name in CCXT_VENUES:
        from amarktai.exchanges.ccxt_client import make_ccxt_client

        return make_ccxt_client(name, credentials)
    raise NotFound(
        f"unknown venue {venue!r}; the venues are {', '.join(VENUES)}",
        code="unknown_venue",
        details={"venue": venue},
    )
