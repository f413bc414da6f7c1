"""A bounded, in-memory price history per symbol: 1-second bars kept in a ring.

The engine records every trade print here, so the API can chart recent candles of any
timeframe (re-aggregated from the 1-second bars) and the analytics can mark positions to
market at past instants without storing every print. It is memory only and bounded
(`keep` bars per symbol, six hours by default): older instants, and everything after a
restart, are priced from the fills the platform recorded instead (see
``amarktai.analytics.equity``).
"""

from __future__ import annotations

import bisect
from collections import deque
from datetime import datetime
from decimal import Decimal

from amarktai.kit.errors import ValidationFailed
from amarktai.markets.candles import CandleAggregator, bucket_start
from amarktai.markets.types import Candle, Trade

BASE_S = 1
DEFAULT_KEEP = 6 * 3600


class _Series:
    """One symbol: the closed 1-second bars (oldest first) and the open one."""

    def __init__(self, symbol: str, keep: int) -> None:
        self.aggregator = CandleAggregator(symbol, BASE_S)
        self.bars: deque[Candle] = deque(maxlen=keep)

    def add(self, trade: Trade) -> None:
        self.bars.extend(self.aggregator.add(trade))

    def all_bars(self) -> list[Candle]:
        current = self.aggregator.current
        return [*self.bars, current] if current is not None else list(self.bars)


class PriceHistory:
    def __init__(self, keep: int = DEFAULT_KEEP) -> None:
        self.keep = keep
        self._series: dict[str, _Series] = {}

    def record(self, trade: Trade) -> None:
        series = self._series.get(trade.symbol)
        if series is None:
            series = self._series[trade.symbol] = _Series(trade.symbol, self.keep)
        series.add(trade)

    def symbols(self) -> list[str]:
        return sorted(self._series)

    def price_at(self, symbol: str, instant: datetime) -> Decimal | None:
        """Close of the last 1-second bar that opened at or before `instant`; None when the
        ring does not reach back that far (or never saw the symbol)."""
        series = self._series.get(symbol)
        if series is None:
            return None
        current = series.aggregator.current
        if current is not None and current.ts <= instant:
            return current.close
        bars = series.bars
        index = bisect.bisect_right(bars, instant, key=_open_time) - 1
        return bars[index].close if index >= 0 else None

    def candles(self, symbol: str, timeframe_s: int, limit: int) -> list[Candle]:
        """The last `limit` bars of `timeframe_s` seconds (the newest may still be open)."""
        if timeframe_s < BASE_S or timeframe_s % BASE_S:
            raise ValidationFailed(
                f"timeframe_s must be a positive multiple of {BASE_S}", code="invalid_timeframe"
            )
        series = self._series.get(symbol)
        if series is None:
            return []
        merged: list[Candle] = []
        for bar in series.all_bars():
            start = bucket_start(bar.ts, timeframe_s)
            if merged and merged[-1].ts == start:
                merged[-1] = _merge(merged[-1], bar)
            else:
                merged.append(_retimed(bar, start, timeframe_s))
        return merged[-limit:]


def _open_time(bar: Candle) -> datetime:
    return bar.ts


def _retimed(bar: Candle, start: datetime, timeframe_s: int) -> Candle:
    return Candle(
        start, bar.symbol, bar.open, bar.high, bar.low, bar.close, bar.volume, timeframe_s
    )


def _merge(into: Candle, bar: Candle) -> Candle:
    return Candle(
        into.ts,
        into.symbol,
        into.open,
        max(into.high, bar.high),
        min(into.low, bar.low),
        bar.close,
        into.volume + bar.volume,
        into.timeframe,
    )
