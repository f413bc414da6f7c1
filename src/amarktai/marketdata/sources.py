"""Where candles come from, in order: the user's store, a folder the user points at, the
shipped sample.

* The store: ``$AMARKTAI_MARKET_DIR``, else ``<data dir>/market`` (``var/market`` by
  default), filled by ``amarktai data download`` and ``amarktai data import``.
* A files folder: ``$AMARKTAI_SHARED_DATA`` when set (CSV/feather/JSON files, in the
  layout of the shared data folder); read as it is, never required.
* The sample shipped inside the package (``marketdata/sample``, see its SOURCES.md):
  a few real daily and hourly series, so that a fresh clone with no network and no files
  has working VaR, Monte Carlo, stress tests, backtests and demo.

A series in the store hides the sample's series of the same name. Nothing here looks for
a ``shared`` folder next to the repository: the product must work without one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final

import numpy as np

from amarktai.kit.errors import NotFound
from amarktai.marketdata.store import (
    CandleArrays,
    CandleStore,
    SeriesInfo,
    SeriesKey,
    timeframe_name,
)

STORE_ENV: Final[str] = "AMARKTAI_MARKET_DIR"
FILES_ENV: Final[str] = "AMARKTAI_SHARED_DATA"
SAMPLE_DIR: Final[Path] = Path(__file__).resolve().parent / "sample"
DAY_S: Final[int] = 86_400
_DAY_MS: Final[int] = DAY_S * 1000
QUOTE_PREFERENCE: Final[tuple[str, ...]] = ("USDT", "USD", "USDC", "BUSD", "FDUSD")
"""Quotes whose candles can stand for an asset's dollar price, best first."""
VENUE_PREFERENCE: Final[tuple[str, ...]] = ("binance",)


def store_dir() -> Path:
    """The user's candle store: ``$AMARKTAI_MARKET_DIR``, else ``<data dir>/market``."""
    explicit = os.environ.get(STORE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    return _settings_store_dir(os.environ.get("AMARKTAI_DATA_DIR"), os.getcwd())


@lru_cache(maxsize=8)
def _settings_store_dir(_data_dir_env: str | None, _cwd: str) -> Path:
    """Settings parse the environment and .env (about a millisecond): once per value."""
    from amarktai.config import Settings

    return Settings().data_dir / "market"


def user_store() -> CandleStore:
    return CandleStore(store_dir(), label="store")


def sample_store() -> CandleStore:
    return CandleStore(SAMPLE_DIR, read_only=True, label="sample")


def stores() -> tuple[CandleStore, ...]:
    """Every candle store, most authoritative first."""
    return (user_store(), sample_store())


def files_dir() -> Path | None:
    """The folder of candle files the user pointed at (``$AMARKTAI_SHARED_DATA``), or None.

    A setting that names no folder is an error rather than silently ignored.
    """
    env = os.environ.get(FILES_ENV)
    if not env:
        return None
    path = Path(env).expanduser()
    if not path.is_dir():
        raise NotFound(
            f"{FILES_ENV}={env} is not a directory", code="shared_data_missing",
            details={"env": FILES_ENV},
        )  # fmt: skip
    return path


# ------------------------------------------------------------------------- lookups


@dataclass(frozen=True, slots=True)
class Located:
    """A series and the store that holds it (``version`` changes when the file does)."""

    store: CandleStore
    key: SeriesKey

    @property
    def version(self) -> tuple[str, int]:
        path = self.store.path(self.key)
        return (str(path), path.stat().st_mtime_ns)

    def read(self) -> CandleArrays:
        return self.store.read(self.key)


def locate(key: SeriesKey, among: Iterable[CandleStore] | None = None) -> Located | None:
    for store in among if among is not None else stores():
        if store.has(key):
            return Located(store, key)
    return None


def all_series(among: Iterable[CandleStore] | None = None) -> list[tuple[CandleStore, SeriesInfo]]:
    """Every visible series (a store's series hides a later store's of the same key)."""
    seen: set[SeriesKey] = set()
    out: list[tuple[CandleStore, SeriesInfo]] = []
    for store in among if among is not None else stores():
        for key in store.series_keys():
            if key not in seen:
                seen.add(key)
                out.append((store, store.info(key)))
    return out


def _rank(key: SeriesKey) -> tuple[int, int, int, int, str]:
    quote = key.symbol.split("/")[1]
    venue = VENUE_PREFERENCE.index(key.venue) if key.venue in VENUE_PREFERENCE else 99
    return (
        0 if key.timeframe_s == DAY_S else 1,
        QUOTE_PREFERENCE.index(quote),
        venue,
        -key.timeframe_s,  # the longest intraday bars: fewest rows to aggregate, same days
        key.venue,
    )


def daily_source(asset: str, among: Iterable[CandleStore] | None = None) -> Located | None:
    """The best series for an asset's daily dollar prices: daily candles, else the
    longest intraday timeframe that divides a day (aggregated by ``daily_candles``);
    USDT before USD quotes, Binance first. The first store that has any candidate wins,
    so a download or import of an asset overrides the sample."""
    for store in among if among is not None else stores():
        candidates = [
            k
            for k in store.series_keys()
            if k.symbol.split("/")[0] == asset
            and k.symbol.split("/")[1] in QUOTE_PREFERENCE
            and DAY_S % k.timeframe_s == 0
        ]
        if candidates:
            return Located(store, min(candidates, key=_rank))
    return None


def daily_candles(arrays: CandleArrays, timeframe_s: int) -> CandleArrays:
    """Intraday candles aggregated per UTC day: open of the day's first bar, high/low over
    the day, close of its last bar, summed volume. A day whose last bar (23:00 on 1h) is
    missing is dropped: its "close" would be some hour's price, not the day's (the
    partial last day of a download, an exchange outage at midnight)."""
    if timeframe_s == DAY_S or not len(arrays):
        return arrays
    day = arrays.ts // _DAY_MS
    starts = np.flatnonzero(np.r_[True, day[1:] != day[:-1]])
    ends = np.r_[starts[1:], len(arrays)] - 1
    complete = arrays.ts[ends] % _DAY_MS == _DAY_MS - timeframe_s * 1000
    return CandleArrays(
        (day[starts] * _DAY_MS)[complete],
        arrays.open[starts][complete],
        np.maximum.reduceat(arrays.high, starts)[complete],
        np.minimum.reduceat(arrays.low, starts)[complete],
        arrays.close[ends][complete],
        np.add.reduceat(arrays.volume, starts)[complete],
    )


def describe(located: Located) -> str:
    """``"bitstamp/BTC-USD/1d (sample)"``: where a figure's history came from."""
    return f"{located.key.name} ({located.store.label})"


__all__ = [
    "DAY_S",
    "FILES_ENV",
    "SAMPLE_DIR",
    "STORE_ENV",
    "Located",
    "all_series",
    "daily_candles",
    "daily_source",
    "describe",
    "files_dir",
    "locate",
    "sample_store",
    "store_dir",
    "stores",
    "timeframe_name",
    "user_store",
]
