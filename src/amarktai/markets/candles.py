"""Trades → OHLCV candles keyed by open time, aligned to the UTC epoch.

Alignment to the epoch (not to the first trade) means a 5-minute bar built live, from a
replay, or in a backtest always starts at :00, :05, ... and the same bar has the same key
everywhere, which is what joins candles to decision traces and indicator caches.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from amarktai.kit.errors import ValidationFailed
from amarktai.markets.types import Candle, Trade

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def bucket_start(ts: datetime, timeframe: int) -> datetime:
    """Open time of the `timeframe`-second bar containing `ts`."""
    if ts.tzinfo is None:
        raise ValidationFailed(f"naive timestamp {ts.isoformat()}", code="naive_timestamp")
    micros = (ts - _EPOCH) // timedelta(microseconds=1)
    size = timeframe * 1_000_000
    return _EPOCH + timedelta(microseconds=micros - micros % size)


@dataclass(slots=True)
class _Building:
    ts: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    def add(self, trade: Trade) -> None:
        price = trade.price
        if price > self.high:
            self.high = price
        elif price < self.low:
            self.low = price
        self.close = price
        self.volume += trade.qty


class CandleAggregator:
    """Incremental builder for one symbol; `add` returns bars that the trade closed.

    Bars with no trades are skipped unless `fill_gaps`, which emits flat zero-volume bars
    at the previous close (what charting and fixed-step indicators expect).
    """

    def __init__(self, symbol: str, timeframe: int, *, fill_gaps: bool = False) -> None:
        if timeframe <= 0:
            raise ValidationFailed(
                f"timeframe must be > 0 s, got {timeframe}", code="bad_timeframe"
            )
        self.symbol = symbol
        self.timeframe = timeframe
        self.fill_gaps = fill_gaps
        self._bar: _Building | None = None
        self._end: datetime | None = None  # close time of the open bar

    @property
    def current(self) -> Candle | None:
        """The still-open bar, for live charts; it may change with the next trade."""
        return self._freeze(self._bar) if self._bar else None

    def add(self, trade: Trade) -> list[Candle]:
        if trade.symbol != self.symbol:
            raise ValidationFailed(
                f"trade for {trade.symbol} fed to the {self.symbol} aggregator",
                code="wrong_symbol",
            )
        bar = self._bar
        # Hot path (every print): a trade inside the open bar needs no bucket arithmetic.
        if bar is not None and self._end is not None and bar.ts <= trade.ts < self._end:
            bar.add(trade)
            return []
        start = bucket_start(trade.ts, self.timeframe)
        if bar is not None and start < bar.ts:
            raise ValidationFailed(
                f"{self.symbol}: trade at {trade.ts.isoformat()} is before the open bar "
                f"{bar.ts.isoformat()}",
                code="out_of_order_trade",
            )
        if bar is not None and start == bar.ts:
            bar.add(trade)
            return []
        closed = self._close_until(start)
        self._bar = _Building(start, trade.price, trade.price, trade.price, trade.price, trade.qty)
        self._end = start + timedelta(seconds=self.timeframe)
        return closed

    def flush(self) -> Candle | None:
        """Close the open bar (end of a replay or backtest) and return it."""
        bar, self._bar, self._end = self._bar, None, None
        return self._freeze(bar) if bar else None

    def _close_until(self, start: datetime) -> list[Candle]:
        if self._bar is None:
            return []
        closed = [self._freeze(self._bar)]
        if self.fill_gaps:
            step = timedelta(seconds=self.timeframe)
            price, ts = self._bar.close, self._bar.ts + step
            while ts < start:
                closed.append(
                    Candle(ts, self.symbol, price, price, price, price, Decimal(0), self.timeframe)
                )
                ts += step
        return closed

    def _freeze(self, bar: _Building) -> Candle:
        return Candle(
            bar.ts, self.symbol, bar.open, bar.high, bar.low, bar.close, bar.volume, self.timeframe
        )


def aggregate_trades(
    trades: Iterable[Trade], timeframe: int, *, fill_gaps: bool = False
) -> list[Candle]:
    """Batch form: all bars for time-ordered trades of one or more symbols, by time."""
    aggregators: dict[str, CandleAggregator] = {}
    out: list[Candle] = []
    for trade in trades:
        agg = aggregators.get(trade.symbol)
        if agg is None:
            agg = aggregators[trade.symbol] = CandleAggregator(
                trade.symbol, timeframe, fill_gaps=fill_gaps
            )
        out.extend(agg.add(trade))
    out.extend(c for c in (a.flush() for a in aggregators.values()) if c is not None)
    out.sort(key=lambda c: (c.ts, c.symbol))
    return out
