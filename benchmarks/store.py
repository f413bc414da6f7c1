"""Candle store benchmark: load 5 years of 1-minute candles (2.6M rows) for a backtest.

Targets (issue: market-data store): the store's load <= 0.3 s, and <= 1/10 of reading the
same rows from CSV with pandas.

Data: a seeded 1-minute random walk (``backtest.data.random_walk_bars``; real price
digits are not needed to time a columnar read, and 2.6M real one-minute rows are not in
the shared folder), written once as the store's Parquet file and once as a CSV
(``ts,open,high,low,close,volume``, epoch ms, full float precision).

Timed, best of ``--repeat`` in this process (files warm in the page cache, as on a
machine that just downloaded them):

* store: ``load_stored_bars`` = Parquet read + ``Bars`` + the backtest's validation
  (values and spacing), i.e. everything a backtest does before its first bar;
* csv: ``pandas.read_csv`` of the same rows to NumPy columns (no validation: the
  figure the issue compares with, and a lower bound of a CSV-fed backtest);
* sqlite (``--sqlite``): the other storage the issue asked to measure, one table
  ``(ts INTEGER PRIMARY KEY, open REAL, ...)``, ``SELECT`` ordered by ts into NumPy.

Run: .venv/bin/python benchmarks/store.py [--rows 2628000] [--repeat 3] [--sqlite]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from amarktai.backtest.data import load_stored_bars, random_walk_bars
from amarktai.marketdata.sources import Located
from amarktai.marketdata.store import COLUMNS, CandleArrays, CandleStore, SeriesKey

FIVE_YEARS_OF_MINUTES = 5 * 365 * 24 * 60 + 24 * 60  # 2,629,440 (one leap day)


def best(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=FIVE_YEARS_OF_MINUTES)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sqlite", action="store_true", help="also time a SQLite table")
    args = parser.parse_args()

    bars = random_walk_bars(args.rows, seed=7, sigma=0.0008, start_price=30_000.0,
                            start="2020-01-01T00:00:00")  # fmt: skip
    ms = bars.time.astype("datetime64[ms]").astype(np.int64)
    arrays = CandleArrays(ms, bars.open, bars.high, bars.low, bars.close, bars.volume)
    with tempfile.TemporaryDirectory(prefix="amarktai-store-bench-") as tmp:
        root = Path(tmp)
        store = CandleStore(root / "market")
        key = SeriesKey.of("bench", "BTC/USDT", "1m")
        start = time.perf_counter()
        report = store.write(key, arrays)
        write_s = time.perf_counter() - start
        assert report.rows == args.rows and not report.gaps, report.lines()
        csv_path = root / "candles.csv"
        frame = pd.DataFrame({"ts": ms} | {c: getattr(bars, c) for c in COLUMNS})
        frame.to_csv(csv_path, index=False)
        located = Located(store, key)

        def from_store() -> object:
            loaded = load_stored_bars(located)
            assert len(loaded) == args.rows
            return loaded

        def from_csv() -> object:
            table = pd.read_csv(csv_path)
            return [table[c].to_numpy() for c in table.columns]

        store_s = best(args.repeat, from_store)
        csv_s = best(max(1, min(args.repeat, 2)), from_csv)
        print(f"rows: {args.rows:,} one-minute candles")
        parquet_mib = store.path(key).stat().st_size / 2**20
        csv_mib = csv_path.stat().st_size / 2**20
        print(
            f"parquet: {parquet_mib:.1f} MiB (written in {write_s:.2f} s); csv: {csv_mib:.1f} MiB"
        )
        print(f"store load for a backtest (read + Bars + validation): {store_s:.3f} s "
              f"(target <= 0.300 s: {'met' if store_s <= 0.3 else 'NOT met'})")  # fmt: skip
        print(f"pandas read_csv of the same rows:                     {csv_s:.3f} s")
        ratio = store_s / csv_s
        print(f"ratio store/csv: {ratio:.3f} = 1/{csv_s / store_s:.1f} "
              f"(target <= 0.100: {'met' if ratio <= 0.1 else 'NOT met'})")  # fmt: skip
        if args.sqlite:
            db = root / "candles.db"
            with sqlite3.connect(db) as conn:
                conn.execute("CREATE TABLE c (ts INTEGER PRIMARY KEY, open REAL, high REAL, "
                             "low REAL, close REAL, volume REAL)")  # fmt: skip
                conn.executemany("INSERT INTO c VALUES (?,?,?,?,?,?)",
                                 frame.itertuples(index=False, name=None))  # fmt: skip

            def from_sqlite() -> object:
                with sqlite3.connect(db) as conn:
                    rows = conn.execute("SELECT * FROM c ORDER BY ts").fetchall()
                return np.asarray(rows, dtype=np.float64)

            sqlite_s = best(1, from_sqlite)
            print(f"sqlite SELECT of the same rows into NumPy:            {sqlite_s:.3f} s "
                  f"({sqlite_s / store_s:.0f}x the store)")  # fmt: skip


if __name__ == "__main__":
    main()
