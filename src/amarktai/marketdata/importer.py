"""``amarktai data import``: candle files into the store.

Reads CSV (a ``Date``/``date``/``timestamp``/``time`` column and ``open,high,low,close,
volume``), feather/Arrow and Parquet files (the same columns), and JSON lists of
``[ms, open, high, low, close, volume]`` (optionally gzipped; freqtrade's format). The
shared data folder's files are one input among others. Times may be epoch seconds,
milliseconds, microseconds or nanoseconds (told apart by size) or date strings, UTC.

Symbol and timeframe come from the options, else from the file name (``BTC_USDT-1h``,
the shared folder's known daily files) or, for the timeframe, the median spacing; the
venue from the option, else a venue name in the path, else ``imported``. A file is
cleaned like every write (``store.clean``): nothing bad is stored and nothing is dropped
without a count in the report.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from amarktai.exchanges.client import VENUES
from amarktai.kit.errors import NotFound, ValidationFailed
from amarktai.marketdata.store import (
    COLUMNS,
    CandleArrays,
    CandleStore,
    SeriesKey,
    WriteReport,
    parse_timeframe,
)

SUFFIXES: Final[tuple[str, ...]] = (
    ".csv",
    ".feather",
    ".arrow",
    ".parquet",
    ".json",
    ".json.gz",
)
TIME_COLUMNS: Final[tuple[str, ...]] = ("Date", "date", "timestamp", "time", "open_time", "ts")
DEFAULT_VENUE: Final[str] = "imported"
KNOWN_SYMBOLS: Final[dict[str, str]] = {
    "binance_daily_Bitcoin.csv": "BTC/USDT",
    "binance_daily_Ethereum.csv": "ETH/USDT",
    "binance_daily_Litecoin.csv": "LTC/USDT",
    "binance_daily_Gold.csv": "PAXG/USDT",
}
_PAIR = re.compile(r"^([A-Za-z0-9]+)[_-]([A-Za-z0-9]+)(?:[_-][A-Za-z0-9]+)?-(\d+[smhdw])\b")
_TIMEFRAME = re.compile(r"[-_](\d+[smhdw])(?=[._-])")


@dataclass(slots=True)
class ImportResult:
    """One file: the series it went to and the write's report, or why it was skipped."""

    path: Path
    key: SeriesKey | None = None
    report: WriteReport | None = None
    error: str | None = None


def candle_files(path: Path) -> Iterator[Path]:
    """``path`` itself, or every candle file under a folder (trade files are not candles)."""
    if path.is_file():
        yield path
        return
    if not path.is_dir():
        raise NotFound(f"no file or folder {path}", code="market_data_missing")
    for found in sorted(path.rglob("*")):
        name = found.name.lower()
        if found.is_file() and name.endswith(SUFFIXES) and "trades" not in name:
            yield found


def _epoch_ms(raw: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(ms since epoch, parsed mask): numbers by magnitude, else date strings."""
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = pd.to_datetime(raw, utc=True)
    elif pd.api.types.is_numeric_dtype(raw):
        values = pd.to_numeric(raw, errors="coerce").astype("float64")
        magnitude = float(np.nanmedian(np.abs(values))) if values.notna().any() else 0.0
        unit = "s" if magnitude < 1e11 else "ms" if magnitude < 1e14 else "us"
        if magnitude >= 1e17:
            unit = "ns"
        parsed = pd.to_datetime(values, unit=unit, utc=True, errors="coerce")
    else:
        parsed = pd.to_datetime(raw, utc=True, errors="coerce", format="mixed")
    ok = parsed.notna().to_numpy()
    ms = parsed.fillna(pd.Timestamp(0, tz="UTC")).dt.as_unit("ms").astype("int64").to_numpy()
    return ms.astype(np.int64), ok


def _frame(path: Path) -> pd.DataFrame:
    name = path.name.lower()
    if name.endswith((".feather", ".arrow")):
        return pd.read_feather(path)
    if name.endswith(".parquet"):
        return pd.read_parquet(path)
    if name.endswith(".csv"):
        return pd.read_csv(path)
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        try:
            rows: Any = json.load(handle)
        except json.JSONDecodeError as exc:
            raise ValidationFailed(f"{path.name}: not valid JSON ({exc})",
                                   code="bad_market_data") from None  # fmt: skip
    if not isinstance(rows, list) or not all(isinstance(r, list) and len(r) >= 6 for r in rows):
        raise ValidationFailed(
            f"{path.name}: expected a JSON list of [time, open, high, low, close, volume]",
            code="bad_market_data",
        )
    return pd.DataFrame([r[:6] for r in rows], columns=["ts", *COLUMNS])


def read_candle_file(path: Path) -> tuple[CandleArrays, int]:
    """The file's candles as columns and the number of rows whose time did not parse."""
    frame = _frame(path)
    time_col = next((c for c in TIME_COLUMNS if c in frame.columns), None)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if time_col is None or missing:
        raise ValidationFailed(
            f"{path.name}: needs a time column ({'/'.join(TIME_COLUMNS)}) and "
            f"{', '.join(COLUMNS)}; missing {missing or 'the time column'}",
            code="bad_market_data",
        )
    ms, ok = _epoch_ms(frame[time_col])
    values = [pd.to_numeric(frame[c], errors="coerce").to_numpy(np.float64) for c in COLUMNS]
    arrays = CandleArrays(ms, *values)
    return (arrays.take(ok), int((~ok).sum())) if not ok.all() else (arrays, 0)


def guess_symbol(path: Path) -> str | None:
    if path.name in KNOWN_SYMBOLS:
        return KNOWN_SYMBOLS[path.name]
    match = _PAIR.match(path.name)
    return f"{match.group(1).upper()}/{match.group(2).upper()}" if match else None


def guess_timeframe(path: Path, arrays: CandleArrays) -> int | None:
    match = _TIMEFRAME.search(path.name)
    if match:
        return parse_timeframe(match.group(1))
    if "daily" in path.name.lower():
        return 86_400
    if len(arrays) > 1:
        spacing = np.diff(np.sort(arrays.ts))
        spacing = spacing[spacing > 0]
        if spacing.size:
            return max(1, int(np.median(spacing)) // 1000)
    return None


def guess_venue(path: Path) -> str:
    text = str(path).lower()
    return next((v for v in VENUES if v in text), DEFAULT_VENUE)


def import_file(
    store: CandleStore,
    path: Path,
    *,
    venue: str | None = None,
    symbol: str | None = None,
    timeframe: str | None = None,
) -> ImportResult:
    """One file into ``store``; a file that is not a candle file comes back with ``error``."""
    try:
        arrays, unparsed = read_candle_file(path)
        sym = symbol or guess_symbol(path)
        if sym is None:
            raise ValidationFailed(f"{path.name}: cannot tell the symbol; pass --symbol",
                                   code="unknown_symbol")  # fmt: skip
        tf = parse_timeframe(timeframe) if timeframe else guess_timeframe(path, arrays)
        if tf is None:
            raise ValidationFailed(f"{path.name}: cannot tell the timeframe; pass --timeframe",
                                   code="invalid_timeframe")  # fmt: skip
        key = SeriesKey.of(venue or guess_venue(path), sym, tf)
        report = store.write(key, arrays)
    except (ValidationFailed, NotFound, ValueError, OSError) as exc:
        message = exc.message if isinstance(exc, ValidationFailed | NotFound) else str(exc)
        return ImportResult(path, error=message)
    if unparsed:
        report.received += unparsed
        report.unreadable += unparsed
        report.rejected_count += unparsed
    return ImportResult(path, key, report)


def import_path(
    store: CandleStore,
    path: Path,
    *,
    venue: str | None = None,
    symbol: str | None = None,
    timeframe: str | None = None,
) -> list[ImportResult]:
    """A file, or every candle file under a folder (each file its own result)."""
    return [
        import_file(store, file, venue=venue, symbol=symbol, timeframe=timeframe)
        for file in candle_files(path)
    ]
