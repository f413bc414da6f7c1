"""``download`` against a stand-in venue that serves a real Binance file page by page.

The stand-in replaces only the remote exchange (its ``ohlcv`` answers what Binance's
klines endpoint would: the first ``limit`` candles at or after ``since``); the store,
the cleaning and the download logic run for real. The file is Binance BTC/USDT 1h with
a real one-hour exchange outage on 2023-03-24.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from amarktai.exchanges.client import ExchangeClient
from amarktai.exchanges.errors import VenueUnavailable
from amarktai.kit.clock import ManualClock
from amarktai.kit.errors import NotFound
from amarktai.marketdata.download import download, make_client, register_connector
from amarktai.marketdata.importer import read_candle_file
from amarktai.marketdata.store import CandleArrays, CandleStore, SeriesKey
from amarktai.markets.types import Candle

SHARED = Path(__file__).parents[4] / "shared" / "data"
FILE = SHARED / "more/ohlcv/NIC-project-team__TradingStrategyGA/binance/BTC_USDT-1h.feather"
KEY = SeriesKey.of("standin", "BTC/USDT", "1h")
SINCE = datetime(2023, 3, 1, tzinfo=UTC)
UNTIL = datetime(2023, 4, 15, tzinfo=UTC)
OUTAGE_MS = int(datetime(2023, 3, 24, 13, tzinfo=UTC).timestamp() * 1000)  # missing bar
NOW = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture(scope="module")
def recorded() -> CandleArrays:
    arrays, _ = read_candle_file(FILE)
    return arrays


class StandInVenue:
    """The remote venue: candles of a recorded file, first ``limit`` at or after ``since``.

    ``fail_after`` pages it answers with an outage (as a real venue would, mid-download);
    ``dirty`` pages come back shuffled with every third candle repeated."""

    venue = "standin"

    def __init__(
        self, arrays: CandleArrays, *, fail_after: int | None = None, dirty: bool = False
    ) -> None:
        self.arrays = arrays
        self.fail_after = fail_after
        self.dirty = dirty
        self.calls: list[datetime | None] = []

    async def ohlcv(
        self, symbol: str, timeframe_s: int, since: datetime | None = None, limit: int = 500
    ) -> Sequence[Candle]:
        assert symbol == "BTC/USDT" and timeframe_s == 3600
        if self.fail_after is not None and len(self.calls) >= self.fail_after:
            raise VenueUnavailable("maintenance", venue=self.venue)
        self.calls.append(since)
        start = 0 if since is None else int(since.timestamp() * 1000)
        lo = int(np.searchsorted(self.arrays.ts, start, "left"))
        page = self.arrays.take(slice(lo, lo + limit)).to_candles(symbol, timeframe_s)
        if self.dirty:
            page = page + page[::3]
            random.Random(len(self.calls)).shuffle(page)
        return page

    async def close(self) -> None:
        return None

    def __getattr__(self, name: str) -> Any:  # the trading half is not needed here
        raise AttributeError(name)


def expected(recorded: CandleArrays, since: datetime, until: datetime) -> CandleArrays:
    lo, hi = (int(t.timestamp() * 1000) for t in (since, until))
    return recorded.take((recorded.ts >= lo) & (recorded.ts < hi))


async def test_download_stores_the_range_and_reports_the_real_gap(
    tmp_path: Path, recorded: CandleArrays
) -> None:
    store, venue = CandleStore(tmp_path), StandInVenue(recorded)
    ticks: list[tuple[int, int]] = []
    result = await download(venue, store, KEY, since=SINCE, until=UNTIL, clock=NOW,
                            page_limit=200, progress=lambda d, t: ticks.append((d, t)))  # fmt: skip
    want = expected(recorded, SINCE, UNTIL)
    got = store.read(KEY)
    assert np.array_equal(got.ts, want.ts) and np.array_equal(got.close, want.close)
    assert result.fetched == len(want) == result.report.stored and result.requests == 6
    assert [(g.start_ms, g.missing) for g in result.report.gaps] == [(OUTAGE_MS, 1)]
    assert ticks[-1][0] == ticks[-1][1] and ticks == sorted(ticks)


async def test_second_run_is_incremental(tmp_path: Path, recorded: CandleArrays) -> None:
    store = CandleStore(tmp_path)
    await download(StandInVenue(recorded), store, KEY, since=SINCE, until=UNTIL, clock=NOW)
    later = datetime(2023, 4, 20, tzinfo=UTC)
    venue = StandInVenue(recorded)
    result = await download(venue, store, KEY, since=SINCE, until=later, clock=NOW)
    assert venue.calls == [UNTIL]  # only what was missing: one page from the stored end
    assert result.resumed_from_ms == int(UNTIL.timestamp() * 1000) - 3_600_000
    assert result.report.stored == 5 * 24 and result.report.revised == 0
    assert np.array_equal(store.read(KEY).ts, expected(recorded, SINCE, later).ts)
    nothing = await download(StandInVenue(recorded), store, KEY, since=SINCE, until=later,
                             clock=NOW)  # fmt: skip
    assert nothing.requests == 0 and nothing.report.rows == len(expected(recorded, SINCE, later))
    assert len(nothing.report.gaps) == 1  # still reported, never filled


async def test_an_earlier_since_fetches_only_the_missing_head(
    tmp_path: Path, recorded: CandleArrays
) -> None:
    store = CandleStore(tmp_path)
    await download(StandInVenue(recorded), store, KEY, since=SINCE, until=UNTIL, clock=NOW)
    venue = StandInVenue(recorded)
    earlier = datetime(2023, 2, 20, tzinfo=UTC)
    result = await download(venue, store, KEY, since=earlier, until=UNTIL, clock=NOW)
    assert venue.calls == [earlier] and result.report.stored == 9 * 24
    assert np.array_equal(store.read(KEY).ts, expected(recorded, earlier, UNTIL).ts)


async def test_an_interrupted_download_resumes_where_it_stopped(
    tmp_path: Path, recorded: CandleArrays
) -> None:
    store = CandleStore(tmp_path)
    broken = StandInVenue(recorded, fail_after=3)
    with pytest.raises(VenueUnavailable):
        await download(broken, store, KEY, since=SINCE, until=UNTIL, clock=NOW, page_limit=100,
                       flush_rows=250)  # fmt: skip
    kept = store.read(KEY)
    assert len(kept) == 300  # every fetched page was stored before the error surfaced
    venue = StandInVenue(recorded)
    result = await download(venue, store, KEY, since=SINCE, until=UNTIL, clock=NOW,
                            page_limit=100)  # fmt: skip
    assert venue.calls[0] == datetime.fromtimestamp(int(kept.ts[-1]) / 1000 + 3600, tz=UTC)
    assert result.report.revised == 0
    assert np.array_equal(store.read(KEY).ts, expected(recorded, SINCE, UNTIL).ts)


async def test_dirty_pages_are_stored_clean_and_counted(
    tmp_path: Path, recorded: CandleArrays
) -> None:
    store = CandleStore(tmp_path)
    result = await download(StandInVenue(recorded, dirty=True), store, KEY, since=SINCE,
                            until=UNTIL, clock=NOW, page_limit=200)  # fmt: skip
    want = expected(recorded, SINCE, UNTIL)
    assert np.array_equal(store.read(KEY).ts, want.ts)
    assert result.report.duplicates > 0 and result.report.reordered > 0
    assert result.report.conflicts == [] and result.report.rejected_count == 0


async def test_a_candle_still_open_is_not_stored(tmp_path: Path, recorded: CandleArrays) -> None:
    now = ManualClock(datetime(2023, 3, 2, 10, 30, tzinfo=UTC))  # the 10:00 bar is open
    store = CandleStore(tmp_path)
    await download(StandInVenue(recorded), store, KEY, since=SINCE, clock=now)
    last = datetime.fromtimestamp(int(store.read(KEY).ts[-1]) / 1000, tz=UTC)
    assert last == datetime(2023, 3, 2, 9, tzinfo=UTC)


def test_an_unknown_venue_is_named_and_real_venues_have_connectors() -> None:
    with pytest.raises(NotFound) as info:
        make_client("nowhere")
    assert info.value.code == "unknown_venue"
    assert "unknown venue 'nowhere'; the venues are luno, valr" in info.value.message
    from amarktai.exchanges.valr import ValrClient

    assert isinstance(make_client("VALR"), ValrClient)  # nothing is sent on construction
    venue = StandInVenue(CandleArrays.empty())
    register_connector("standin", lambda: venue)  # type: ignore[arg-type, return-value]
    client: ExchangeClient = make_client("STANDIN")  # type: ignore[assignment]
    assert client is venue
