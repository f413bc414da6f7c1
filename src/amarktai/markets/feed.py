"""The one market-feed interface that live, paper and backtest runs all consume.

Bots and the engine only ever see this Protocol, so swapping the `sim` market for a
replay file or an exchange websocket needs no change in strategy or engine code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol, runtime_checkable

from amarktai.markets.types import Instrument, MarketEvent


@runtime_checkable
class MarketFeed(Protocol):
    """An async stream of market events in time order plus the instruments it covers."""

    def instruments(self) -> Sequence[Instrument]: ...

    def __aiter__(self) -> AsyncIterator[MarketEvent]: ...
