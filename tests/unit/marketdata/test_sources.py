"""Which series answers: store before sample, daily before intraday; hourly -> daily; the
risk history reads the store and sees a new download at once."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from amarktai.kit.errors import NotFound
from amarktai.marketdata import sources
from amarktai.marketdata.importer import guess_symbol, guess_timeframe, read_candle_file
from amarktai.marketdata.store import CandleArrays, CandleStore, SeriesKey
from amarktai.risk.history import _hourly_to_daily, cached_returns, clear_history_cache

SHARED = Path(__file__).parents[4] / "shared" / "data"
XRP_1H = SHARED / "more/ohlcv/iterativv__NostalgiaForInfinity/binance/XRP_USDT-1h.json"


def test_hourly_to_daily_keeps_the_risk_historys_rule() -> None:
    """Same days and closes as the 23:00-bar rule the risk history always used."""
    arrays, _ = read_candle_file(XRP_1H)
    daily = sources.daily_candles(arrays, 3600)
    days = (daily.ts // 86_400_000).astype("datetime64[D]").astype(str).tolist()
    assert dict(zip(days, daily.close.tolist(), strict=True)) == _hourly_to_daily(XRP_1H)
    first_day = arrays.take(arrays.ts < arrays.ts[0] + 86_400_000)
    assert daily.high[0] == first_day.high.max() and daily.low[0] == first_day.low.min()
    assert daily.volume[0] == pytest.approx(first_day.volume.sum())


def test_store_before_sample_and_daily_before_intraday(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMARKTAI_MARKET_DIR", str(tmp_path))
    found = sources.daily_source("BTC")
    assert found is not None and found.store.label == "sample"
    assert found.key.name == "bitstamp/BTC-USD/1d"
    arrays, _ = read_candle_file(XRP_1H)
    store = CandleStore(tmp_path)
    store.write(SeriesKey.of("kraken", "BTC/USD", "1h"), arrays)
    found = sources.daily_source("BTC")
    assert found is not None and found.store.label == "store"
    assert found.key.name == "kraken/BTC-USD/1h"
    store.write(SeriesKey.of("kraken", "BTC/USD", "1d"), sources.daily_candles(arrays, 3600))
    found = sources.daily_source("BTC")
    assert found is not None and found.key.timeframe_s == 86_400


def test_risk_history_sees_a_new_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMARKTAI_MARKET_DIR", str(tmp_path))
    clear_history_cache()
    sample = cached_returns(("BTC",))
    assert sample.sources == ("BTC: bitstamp/BTC-USD/1d (sample)",)
    store = CandleStore(tmp_path)
    key = SeriesKey.parse("bitstamp/BTC-USD/1d")
    store.write(key, CandleStore(sources.SAMPLE_DIR).read(key).take(slice(0, 100)))
    mine = cached_returns(("BTC",))
    assert mine.sources == ("BTC: bitstamp/BTC-USD/1d (store)",) and mine.observations == 99
    assert np.array_equal(mine.returns, sample.returns[:99])


def test_files_folder_setting_must_name_a_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AMARKTAI_SHARED_DATA", raising=False)
    assert sources.files_dir() is None
    monkeypatch.setenv("AMARKTAI_SHARED_DATA", "/nonexistent/amarktai")
    with pytest.raises(NotFound):
        sources.files_dir()


def test_importer_formats_and_names(tmp_path: Path) -> None:
    rows = [[1_700_000_000, 1.0, 2.0, 0.5, 1.5, 10.0], [1_700_003_600, 1.5, 2.0, 1.0, 1.2, 3.0]]
    path = tmp_path / "SOL_USDT-1h.json"
    path.write_text(json.dumps(rows))  # epoch seconds, told apart from ms by size
    arrays, unparsed = read_candle_file(path)
    assert arrays.ts.tolist() == [1_700_000_000_000, 1_700_003_600_000] and unparsed == 0
    assert guess_symbol(path) == "SOL/USDT" and guess_timeframe(path, arrays) == 3600
    csv = tmp_path / "prices.csv"
    csv.write_text(
        "timestamp,open,high,low,close,volume\n2024-01-01,1,1,1,1,1\nnot a date,1,1,1,1,1\n"
    )
    arrays, unparsed = read_candle_file(csv)
    assert len(arrays) == 1 and unparsed == 1
    assert guess_timeframe(csv, CandleArrays.empty()) is None


def test_the_demo_portfolio_has_a_history_without_any_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The demo's paper bots hold BTC, ETH and XRP: VaR needs all three. The sample ships
    licensed BTC and ETH history; XRP has none to ship, so BTC's stands in, stated."""
    monkeypatch.delenv("AMARKTAI_SHARED_DATA", raising=False)
    clear_history_cache()
    history = cached_returns(("BTC", "ETH", "XRP", "ZAR"))
    assert history.observations > 700 and all("(sample)" in s for s in history.sources)
    assert "XRP: no price history of its own" in history.sources[2]
    assert (history.returns[:, 3] == 0).all()
