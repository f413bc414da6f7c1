"""Candle store benchmark: load 5 years of 1-minute candles (2.6M rows) for a backtest.

Targets (issue: market-data store): the store's load <= 0.3 s, and <= 1/10 of reading the
same rows from CSV with pandas.

Data: a seeded 1-minute random walk (``backtest.data.random_walk_bars``; real price
digits are not needed to time a columnar read, and 2.6M real one-minute rows are not in
the shared folder), written once as the store's file (Arrow IPC, memory-mapped) and once
as a CSV (``ts,open,high,low,close,volume``, epoch ms, full float precision).

Timed in ``--repeat`` alternated rounds (store, csv, ...) in this process, files warm in
the page cache (as on a machine that just downloaded them); best and median reported:

* store: ``load_stored_bars`` = open + ``Bars`` + the gap check (values, order and grid
  were validated when the store wrote them), i.e. everything a backtest does before its
  first bar; "+ page-in" also sums every column once, so every page of the mapped file
  has been touched (what the backtest's first pass pays on top);
* csv: ``pandas.read_csv`` of the same rows to NumPy columns (no validation: a lower
  bound of a CSV-fed backtest);
* the storage alternatives that were measured to choose (``--alternatives``): Parquet
  (lz4, byte-stream-split, one row group) read into NumPy, and a SQLite table
  ``(ts INTEGER PRIMARY KEY, open REAL, ...)`` selected in ts order into NumPy.

Run: .venv/bin/python benchmarks/store.py [--rows 2629440] [--repeat 5] [--alternatives]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from amarktai.backtest.data import load_stored_bars, random_walk_bars
from amarktai.marketdata.sources import Located
from amarktai.marketdata.store import COLUMNS, CandleArrays, CandleStore, SeriesKey

FIVE_YEARS_OF_MINUTES = 5 * 365 * 24 * 60 + 24 * 60  # 2,629,440 (one leap day)


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=FIVE_YEARS_OF_MINUTES)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--alternatives", action="store_true", help="also Parquet and SQLite")
    args = parser.parse_args()

    bars = random_walk_bars(args.rows, seed=7, sigma=0.0008, start_price=30_000.0,
                            start="2020-01-01T00:00:00")  # fmt: skip
    ms = bars.time.astype("datetime64[ms]").astype(np.int64)
    arrays = CandleArrays(ms, bars.open, bars.high, bars.low, bars.close, bars.volume)
    with tempfile.TemporaryDirectory(prefix="amarktai-store-bench-") as tmp:
        root = Path(tmp)
        store = CandleStore(root / "market")
        key = SeriesKey.of("bench", "BTC/USDT", "1m")
        write_s = timed(lambda: store.write(key, arrays))
        csv_path = root / "candles.csv"
        frame = pd.DataFrame({"ts": ms} | {c: getattr(bars, c) for c in COLUMNS})
        frame.to_csv(csv_path, index=False)
        located = Located(store, key)

        def from_store() -> object:
            loaded = load_stored_bars(located)
            assert len(loaded) == args.rows
            return loaded

        def from_store_paged_in() -> object:
            loaded = load_stored_bars(located)
            return [float(getattr(loaded, c).sum()) for c in ("time", *COLUMNS)
                    if c != "time"] + [int(loaded.time.view(np.int64).sum())]  # fmt: skip

        def from_csv() -> object:
            table = pd.read_csv(csv_path)
            return [table[c].to_numpy() for c in table.columns]

        runs: dict[str, list[float]] = {"store": [], "paged": [], "csv": []}
        for _ in range(args.repeat):  # alternated: each side sees the same machine phase
            runs["store"].append(timed(from_store))
            runs["paged"].append(timed(from_store_paged_in))
            runs["csv"].append(timed(from_csv))
        best = {k: min(v) for k, v in runs.items()}
        median = {k: statistics.median(v) for k, v in runs.items()}
        mib = store.path(key).stat().st_size / 2**20
        csv_mib = csv_path.stat().st_size / 2**20
        print(f"rows: {args.rows:,} one-minute candles; store file {mib:.1f} MiB (Arrow IPC, "
              f"written in {write_s:.2f} s); csv {csv_mib:.1f} MiB")  # fmt: skip
        for name, label in (("store", "store load for a backtest"),
                            ("paged", "store load + page-in of every column"),
                            ("csv", "pandas read_csv of the same rows")):  # fmt: skip
            print(f"{label:38} best {best[name]:.4f} s, median {median[name]:.4f} s")
        print(f"target <= 0.300 s: {'met' if best['paged'] <= 0.3 else 'NOT met'}")
        for name in ("store", "paged"):
            ratio = best[name] / best["csv"]
            print(f"ratio {name}/csv: {ratio:.4f} = 1/{1 / ratio:.0f} "
                  f"(target <= 0.100: {'met' if ratio <= 0.1 else 'NOT met'})")  # fmt: skip
        if args.alternatives:
            alternatives(root, arrays, frame, best["paged"])


def alternatives(root: Path, arrays: CandleArrays, frame: pd.DataFrame, store_s: float) -> None:
    """The storage options the store was chosen against."""
    parquet = root / "candles.parquet"
    encoding = {"ts": "DELTA_BINARY_PACKED"} | {c: "BYTE_STREAM_SPLIT" for c in COLUMNS}
    pq.write_table(arrays.to_table(), parquet, compression="lz4", use_dictionary=False,
                   row_group_size=len(arrays), column_encoding=encoding)  # fmt: skip

    def from_parquet() -> object:
        table = pq.read_table(parquet, memory_map=True)
        return [table.column(c).chunk(0).to_numpy() for c in table.column_names]

    parquet_s = min(timed(from_parquet) for _ in range(3))
    pq_mib = parquet.stat().st_size / 2**20
    print(f"parquet (lz4) read into NumPy: best {parquet_s:.4f} s ({pq_mib:.1f} MiB), "
          f"{parquet_s / store_s:.0f}x the store")  # fmt: skip
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

    sqlite_s = timed(from_sqlite)
    print(f"sqlite SELECT into NumPy: {sqlite_s:.3f} s, {sqlite_s / store_s:.0f}x the store")


if __name__ == "__main__":
    main()
