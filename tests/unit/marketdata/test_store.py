"""The candle store: exact round trips, bad batches stored cleanly and reported, merges."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from amarktai.kit.errors import NotFound, ValidationFailed
from amarktai.marketdata.importer import read_candle_file
from amarktai.marketdata.store import (
    CandleArrays,
    CandleStore,
    SeriesKey,
    find_gaps,
    parse_timeframe,
)

SHARED = Path(__file__).parents[4] / "shared" / "data"
HOUR = 3_600_000
KEY = SeriesKey.of("binance", "btc-usdt", "1h")


def rows(*spec: tuple[int, float]) -> CandleArrays:
    """(hour index, close) -> a valid candle at that hour (open = high = low = close)."""
    return CandleArrays.from_rows([(h * HOUR, c, c, c, c, 1.0) for h, c in spec])


def test_names() -> None:
    assert SeriesKey.parse("binance/BTC-USDT/1h") == KEY
    assert KEY.name == "binance/BTC-USDT/1h" and KEY.timeframe_s == 3600
    assert parse_timeframe("5m") == 300 and parse_timeframe("1d") == 86_400
    for bad in ("1x", "h", "0m"):
        with pytest.raises(ValidationFailed):
            parse_timeframe(bad)
    with pytest.raises(ValidationFailed):
        SeriesKey.of("binance", "BTCUSDT", "1h")


def test_real_file_round_trips_exactly(tmp_path: Path) -> None:
    """Every price of the shared Binance daily file comes back bit-equal."""
    arrays, unparsed = read_candle_file(SHARED / "daily" / "binance_daily_Bitcoin.csv")
    store = CandleStore(tmp_path)
    key = SeriesKey.of("binance", "BTC/USDT", "1d")
    report = store.write(key, arrays)
    assert unparsed == 0 and report.stored == report.rows == 1792 and report.lines() == []
    back = store.read(key)
    for a, b in zip(back.columns(), arrays.columns(), strict=True):
        assert np.array_equal(a, b)
    assert np.array_equal(back.ts, arrays.ts)
    assert store.series_keys() == [key]
    assert store.read(key, start_ms=int(arrays.ts[10]), end_ms=int(arrays.ts[20])).ts.size == 10


def test_bad_batch_is_stored_cleanly_and_every_problem_reported(tmp_path: Path) -> None:
    store = CandleStore(tmp_path)
    batch = CandleArrays.from_rows(
        [
            (3 * HOUR, 3.0, 3.0, 3.0, 3.0, 1.0),
            (1 * HOUR, 1.0, 1.0, 1.0, 1.0, 1.0),  # out of order
            (1 * HOUR, 1.0, 1.0, 1.0, 1.0, 1.0),  # exact duplicate
            (2 * HOUR, 2.0, 2.0, 2.0, 2.0, 1.0),
            (2 * HOUR, 2.0, 2.5, 2.0, 2.5, 1.0),  # same time, other values: conflict
            (4 * HOUR, 4.0, 3.0, 5.0, 4.0, 1.0),  # high below low
            (5 * HOUR, float("nan"), 5.0, 5.0, 5.0, 1.0),
            (6 * HOUR + 1, 6.0, 6.0, 6.0, 6.0, 1.0),  # off the hourly grid
            (9 * HOUR, 9.0, 9.0, 9.0, 9.0, 1.0),  # after a gap
        ]
    )
    report = store.write(KEY, batch)
    stored = store.read(KEY)
    assert stored.ts.tolist() == [h * HOUR for h in (1, 2, 3, 9)]
    assert stored.close.tolist() == [1.0, 2.5, 3.0, 9.0]  # the later conflicting row kept
    assert report.received == 9 and report.stored == 4
    assert report.reordered == 1 and report.duplicates == 1
    assert report.conflicts == [2 * HOUR]
    assert report.rejected_count == 3
    assert set(report.rejected) == {"high below low", "NaN or infinite value",
                                    "open time off the timeframe grid"}  # fmt: skip
    assert [(g.start_ms, g.end_ms, g.missing) for g in report.gaps] == [(4 * HOUR, 8 * HOUR, 5)]
    text = "\n".join(report.lines())
    assert "1 gaps, 5 bars missing" in text and "later row kept" in text


def test_merge_adds_new_reports_revisions_and_keeps_gaps_open(tmp_path: Path) -> None:
    store = CandleStore(tmp_path)
    store.write(KEY, rows((0, 1.0), (1, 1.0), (2, 1.0)))
    report = store.write(KEY, rows((2, 1.5), (3, 1.0), (6, 1.0)))
    assert report.stored == 2 and report.revised == 1 and report.unchanged == 0
    assert store.read(KEY).close.tolist() == [1.0, 1.0, 1.5, 1.0, 1.0]
    assert report.rows == 5 and report.missing_bars == 2
    mtime = store.path(KEY).stat().st_mtime_ns
    again = store.write(KEY, rows((3, 1.0)))  # nothing new: the file is not rewritten
    assert again.unchanged == 1 and again.stored == 0
    assert store.path(KEY).stat().st_mtime_ns == mtime
    assert not list(store.path(KEY).parent.glob(".*.tmp"))


def test_find_gaps() -> None:
    ts = np.array([0, HOUR, 4 * HOUR, 5 * HOUR], dtype=np.int64)
    assert [(g.missing, g.start_ms) for g in find_gaps(ts, 3600)] == [(2, 2 * HOUR)]
    assert find_gaps(ts[:1], 3600) == []


def test_read_only_store_refuses_writes(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as info:
        CandleStore(tmp_path, read_only=True).write(KEY, rows((0, 1.0)))
    assert info.value.code == "store_read_only"


def test_to_candles_are_exact_decimals() -> None:
    candles = rows((0, 30_000.01)).to_candles("BTC/USDT", 3600)
    assert str(candles[0].close) == "30000.01" and candles[0].ts.tzinfo is not None


def test_replay_market_plays_a_stored_series() -> None:
    """From the shipped sample (the store is empty in tests): closed candles, in order."""
    from datetime import UTC, datetime

    from amarktai.markets.replay import ReplayMarket

    market = ReplayMarket.from_series(
        ["binance/BTC-USDT/1h", "binance/ETH-BTC/1h"],
        start=datetime(2024, 4, 2, tzinfo=UTC),
        end=datetime(2024, 4, 3, tzinfo=UTC),
    )
    events = list(market.events())
    assert len(events) == 48
    assert {i.symbol for i in market.instruments()} == {"BTC/USDT", "ETH/BTC"}
    assert [e.ts for e in events] == sorted(e.ts for e in events)
    with pytest.raises(NotFound):
        ReplayMarket.from_series(["binance/DOGE-USDT/1h"])
