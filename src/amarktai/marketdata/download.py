"""``amarktai data download``: candles from a venue into the store, incremental and resumable.

Written against the ``ExchangeClient`` protocol only (``ohlcv(symbol, timeframe_s, since,
limit)``), so every connector gets it for free. Connectors register themselves with
``register_connector(venue, factory)``; ``make_client(venue)`` says plainly when a
venue has none yet.

* Incremental: what is stored is not fetched again. A series that ends at T continues
  from T + one bar; a ``--since`` earlier than its first candle fetches only the missing
  head.
* Resumable: candles are written every ``flush_rows`` (and whatever was fetched is
  written when the download fails or is interrupted); each write replaces the file
  atomically, so the next run continues from the last stored candle.
* Only closed candles are stored: a bar whose close time is still in the future would
  be stored with a price that is not its close.
* Gaps are reported, never filled: the report lists the series' missing stretches (an
  exchange outage, a delisted period) after the download. Duplicates, conflicting or
  out-of-order rows in a page are cleaned and counted by the store (``store.clean``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from amarktai.exchanges import registry
from amarktai.exchanges.client import ExchangeClient
from amarktai.kit.clock import Clock, SystemClock
from amarktai.kit.errors import ValidationFailed
from amarktai.marketdata.store import (
    CandleArrays,
    CandleStore,
    SeriesKey,
    WriteReport,
    find_gaps,
)
from amarktai.markets.types import Candle

ClientFactory = Callable[[], ExchangeClient]
Progress = Callable[[int, int], None]
"""``(done, total)`` in milliseconds of market time covered."""

PAGE_LIMIT: Final[int] = 1000
FLUSH_ROWS: Final[int] = 50_000
_CONNECTORS: dict[str, ClientFactory] = {}


def register_connector(venue: str, factory: ClientFactory) -> None:
    """Make ``venue``'s public-data client available to ``download`` (connectors call this)."""
    _CONNECTORS[venue.strip().lower()] = factory


def make_client(venue: str) -> ExchangeClient:
    """A client for ``venue``'s public market data: a registered factory (a stand-in
    venue in tests), else the venue's connector (`exchanges.registry`); NotFound naming
    the venues for an unknown one."""
    factory = _CONNECTORS.get(venue.strip().lower())
    if factory is not None:
        return factory()
    return registry.make_client(venue)


@dataclass(slots=True)
class DownloadResult:
    key: SeriesKey
    report: WriteReport
    requests: int = 0
    fetched: int = 0
    resumed_from_ms: int | None = None
    """The stored series' last open time when the download continued one."""


def _ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValidationFailed("times must be timezone-aware (UTC)", code="naive_datetime")
    return int(moment.timestamp() * 1000)


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


class _Writer:
    """Buffers fetched candles and writes them in chunks (each write is a resume point)."""

    def __init__(self, store: CandleStore, key: SeriesKey, flush_rows: int) -> None:
        self.store, self.key, self.flush_rows = store, key, flush_rows
        self.buffer: list[Candle] = []
        self.report = WriteReport(key.name)

    def add(self, candles: list[Candle]) -> None:
        self.buffer.extend(candles)
        if len(self.buffer) >= self.flush_rows:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        batch, self.buffer = CandleArrays.from_candles(self.buffer), []
        self.report.merge(self.store.write(self.key, batch))


async def download(
    client: ExchangeClient,
    store: CandleStore,
    key: SeriesKey,
    *,
    since: datetime,
    until: datetime | None = None,
    clock: Clock | None = None,
    page_limit: int = PAGE_LIMIT,
    flush_rows: int = FLUSH_ROWS,
    progress: Progress | None = None,
) -> DownloadResult:
    """Fetch ``key`` from ``since`` to ``until`` (default: now) into ``store``; see the module
    doc for what is fetched, stored and reported."""
    step = key.timeframe_s * 1000
    now_ms = _ms((clock or SystemClock()).now())
    start = -(-_ms(since) // step) * step  # the first open time on the grid at or after since
    end = min(_ms(until) if until is not None else now_ms, now_ms - step + 1)
    if start >= end:
        raise ValidationFailed("nothing to download: since is not before until/now",
                               code="empty_range")  # fmt: skip
    first, last = store.first_ms(key), store.last_ms(key)
    ranges: list[tuple[int, int]] = []
    if first is None or last is None:
        ranges.append((start, end))
    else:
        if start < first:
            ranges.append((start, min(first, end)))
        if last + step < end:
            ranges.append((max(last + step, start), end))
    result = DownloadResult(key, WriteReport(key.name), resumed_from_ms=last)
    writer = _Writer(store, key, flush_rows)
    total = sum(hi - lo for lo, hi in ranges)
    done = 0
    try:
        for lo, hi in ranges:

            def covered(ms: int, base: int = done) -> None:
                _tick(progress, base + ms, total)

            await _fetch_range(client, key, lo, hi, page_limit, writer, result, covered)
            done += hi - lo
            _tick(progress, done, total)
    finally:
        writer.flush()
    result.report = writer.report
    if writer.report.received == 0 and store.has(key):  # nothing new: describe the series
        stored = store.read(key)
        result.report.rows = len(stored)
        result.report.gaps = find_gaps(stored.ts, key.timeframe_s)
    return result


def _tick(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(min(done, total), total)


async def _fetch_range(
    client: ExchangeClient,
    key: SeriesKey,
    lo: int,
    hi: int,
    page_limit: int,
    writer: _Writer,
    result: DownloadResult,
    progress: Callable[[int], None],
) -> None:
    """Pages from ``lo`` until ``hi`` (exclusive) or the venue has nothing newer."""
    step = key.timeframe_s * 1000
    cursor = lo
    while cursor < hi:
        page = await client.ohlcv(key.symbol, key.timeframe_s, since=_at(cursor), limit=page_limit)
        result.requests += 1
        fresh = [c for c in page if cursor <= _ms(c.ts) < hi]
        if not fresh:
            break  # nothing at or after the cursor: the venue has no newer candles
        result.fetched += len(fresh)
        writer.add(fresh)
        newest = max(_ms(c.ts) for c in fresh)
        cursor = newest + step
        progress(cursor - lo)
