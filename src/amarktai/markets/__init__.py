"""Market data: instruments, trades, candles, books, and the offline `sim`/`replay` feeds."""

from amarktai.markets.candles import CandleAggregator, aggregate_trades, bucket_start
from amarktai.markets.feed import MarketFeed
from amarktai.markets.instruments import (
    REPLAY_INSTRUMENTS,
    SIM_INSTRUMENTS,
    InstrumentRegistry,
    check_order,
    default_registry,
)
from amarktai.markets.types import (
    BookLevel,
    Candle,
    Instrument,
    MarketEvent,
    OrderBook,
    Side,
    Trade,
    event_time,
)

__all__ = [
    "REPLAY_INSTRUMENTS",
    "SIM_INSTRUMENTS",
    "BookLevel",
    "Candle",
    "CandleAggregator",
    "Instrument",
    "InstrumentRegistry",
    "MarketEvent",
    "MarketFeed",
    "OrderBook",
    "Side",
    "Trade",
    "aggregate_trades",
    "bucket_start",
    "check_order",
    "default_registry",
    "event_time",
]
