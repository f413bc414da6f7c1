"""Rebuild the candle sample shipped in ``src/amarktai/marketdata/sample`` from the shared
data folder (maintainers only; the product never reads that folder).

Usage: python scripts/build_market_sample.py PATH/TO/shared/data

What goes in, and why each item may ship, is in ``sample/SOURCES.md``. The values are
the source files' own numbers (a float64 column is exact for them); hourly series are
aggregated to daily candles with ``marketdata.sources.daily_candles`` (the same rule
the risk history used on those files).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from amarktai.marketdata.importer import read_candle_file
from amarktai.marketdata.sources import SAMPLE_DIR, daily_candles
from amarktai.marketdata.store import CandleStore, SeriesKey, find_gaps

DAILY = {
    "BTC": "daily/binance_daily_Bitcoin.csv",
    "ETH": "daily/binance_daily_Ethereum.csv",
    "LTC": "daily/binance_daily_Litecoin.csv",
    "PAXG": "daily/binance_daily_Gold.csv",
}
HOURLY_TO_DAILY = {
    asset: f"more/ohlcv/iterativv__NostalgiaForInfinity/binance/{asset}_USDT-1h.json"
    for asset in ("XRP", "SOL", "ADA")
}
NIC = "more/ohlcv/NIC-project-team__TradingStrategyGA/binance"
HOURLY_START = "2023-03-25"  # after the last gap of the MIT BTC/USDT 1h file (2023-03-24)


def main(shared: Path) -> None:
    shutil.rmtree(SAMPLE_DIR / "binance", ignore_errors=True)
    sample = CandleStore(SAMPLE_DIR, label="sample")
    for asset, name in DAILY.items():
        arrays, _ = read_candle_file(shared / name)
        sample.write(SeriesKey.of("binance", f"{asset}/USDT", "1d"), arrays)
    for asset, name in HOURLY_TO_DAILY.items():
        arrays, _ = read_candle_file(shared / name)
        sample.write(SeriesKey.of("binance", f"{asset}/USDT", "1d"), daily_candles(arrays, 3600))
    btc, _ = read_candle_file(shared / NIC / "BTC_USDT-1h.feather")
    start = int(pd.Timestamp(HOURLY_START, tz="UTC").timestamp() * 1000)
    btc = btc.take(btc.ts >= start)
    sample.write(SeriesKey.of("binance", "BTC/USDT", "1h"), btc)
    eth_btc, _ = read_candle_file(shared / NIC / "ETH_BTC-1h.feather")
    sample.write(SeriesKey.of("binance", "ETH/BTC", "1h"), eth_btc)
    total = 0
    for info in sample.infos():
        total += info.bytes
        assert info.gaps == 0 or info.key.timeframe_s == 86_400, info
        print(f"{info.key.name:28} {info.rows:7} rows {info.bytes:9,} bytes gaps={info.gaps}")
    print(f"total {total:,} bytes")
    assert not find_gaps(np.asarray(btc.ts), 3600)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
