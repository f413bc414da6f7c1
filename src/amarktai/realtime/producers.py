"""Bridges from the real producers to the bus.

* The engine's listener hook (order, fill, bot_status) → the user's durable stream.
* Prices and candles → the public channel, throttled per symbol: market data is shared by
  every user and replaceable by the next tick, so it is neither copied into each user's
  stream nor numbered (it would push the user's own events out of the retention window).
* Ended sessions (logout, revocation, deactivation) → the system channel, which every
  process's hub hears and no client does: their sockets close.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import structlog

from amarktai.accounts.service import EndedSession
from amarktai.bus.interface import Bus
from amarktai.bus.messages import Revocation
from amarktai.markets.history import PriceHistory
from amarktai.markets.types import Candle

log = structlog.get_logger("amarktai.realtime")

Listener = Callable[[str, str, dict[str, Any]], Awaitable[None]]
CANDLE_TIMEFRAME_S = 60


def bus_listener(bus: Bus) -> Listener:
    """An engine listener. A bus failure is logged, not raised: the order and fill are
    already committed (REST is the source of truth) and the engine must keep trading."""

    async def listen(user_id: str, kind: str, payload: dict[str, Any]) -> None:
        try:
            await bus.publish_user(user_id, kind, payload)
        except Exception:
            log.exception("bus_publish_failed", user_id=user_id, type=kind)

    return listen


async def publish_events(bus: Bus, events: list[tuple[str, str, dict[str, Any]]]) -> None:
    """(user id, type, data) events raised outside the engine (an emergency stop from a
    process without one: the CLI, an API process without the engine), after the commit."""
    listen = bus_listener(bus)
    for user_id, kind, payload in events:
        await listen(user_id, kind, payload)


async def publish_ended_sessions(bus: Bus, ended: list[EndedSession]) -> None:
    """After the commit that ended them. A failure is logged per session, not raised: the
    sessions are revoked in the database, and each socket's periodic session check closes
    it even when this message is lost."""
    for item in ended:
        try:
            await bus.publish_revocation(Revocation(item.user_id, item.session_id, item.reason))
        except Exception:
            log.exception("bus_revocation_publish_failed", user_id=item.user_id)


def candle_data(candle: Candle, exchange: str) -> dict[str, Any]:
    return {
        "symbol": candle.symbol,
        "timeframe_s": candle.timeframe,
        "open_ts": candle.ts.isoformat(),
        "open": str(candle.open),
        "high": str(candle.high),
        "low": str(candle.low),
        "close": str(candle.close),
        "volume": str(candle.volume),
        "exchange": exchange,
    }


class MarketPublisher:
    """Every `interval_s`, one `price` and one `candle` (the forming 1-minute bar) per
    symbol whose price or bar changed since the last round."""

    def __init__(
        self,
        bus: Bus,
        prices: dict[str, Decimal],
        history: PriceHistory,
        *,
        exchange: str,
        interval_s: float,
    ) -> None:
        self.bus = bus
        self.prices = prices
        self.history = history
        self.exchange = exchange
        self.interval_s = interval_s
        self._sent_prices: dict[str, Decimal] = {}
        self._sent_candles: dict[str, Candle] = {}

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.publish_once()
            except Exception:  # market data is best effort; the next round retries
                log.exception("market_publish_failed")

    async def publish_once(self) -> int:
        sent = 0
        for symbol, price in list(self.prices.items()):
            if self._sent_prices.get(symbol) != price:
                data = {"symbol": symbol, "price": str(price), "exchange": self.exchange}
                await self.bus.publish_public("price", data)
                self._sent_prices[symbol] = price
                sent += 1
            bars = self.history.candles(symbol, CANDLE_TIMEFRAME_S, 1)
            if bars and self._sent_candles.get(symbol) != bars[-1]:
                await self.bus.publish_public("candle", candle_data(bars[-1], self.exchange))
                self._sent_candles[symbol] = bars[-1]
                sent += 1
        return sent
