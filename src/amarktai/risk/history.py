"""Daily return history per asset, the return model behind portfolio VaR, Monte Carlo and
VaR backtests.

Offline and paper portfolios hold `sim` assets (BTC, ETH, XRP priced in ZAR) that have no
long price history of their own, so this module uses recorded dollar-quoted candles as
each asset's return model, from the first of (``amarktai.marketdata.sources``):

* the user's candle store (``amarktai data download`` / ``import``): the asset's daily
  candles, else its shortest intraday series that divides a day, aggregated per UTC day;
* the folder of files the user pointed at (``$AMARKTAI_SHARED_DATA``), in the shared
  folder's layout: the Binance daily CSVs in ``daily/`` (BTC, ETH, LTC, PAXG) and, for
  XRP, SOL and ADA, the 1-hour candles in ``more/ohlcv``;
* the sample shipped with the package (the same daily series, see
  ``marketdata/sample/SOURCES.md``), so a fresh install has VaR and Monte Carlo.

A day built from hourly candles closes at its 23:00 bar; a day without one (the partial
last day of a file or download) is dropped, since its "close" would be some hour's
price, not the day's. Candles are USDT-quoted, so the rand/dollar move is not modelled
(as in ``stress.py``); cash and stablecoins get a zero return. Several assets are aligned
on the dates they all have, and a return is taken between consecutive common dates.

Caching: each source's closes are read once per version (a store file is keyed by its
modification time, so a download is seen at the next request), and each aligned return
matrix is built once per (assets, lookback, sources) (``cached_returns``, an LRU of
``HISTORY_CACHE_SIZE`` entries whose arrays are read-only). A VaR request then costs a
few ``stat`` calls and no file reads or re-alignment. ``register_closes`` is the public
hook that feeds a close series from elsewhere (a live candle feed, a benchmark's seeded
synthetic assets): it takes precedence over every source and invalidates every cache,
as does ``clear_history_cache``.
"""

from __future__ import annotations

import csv
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final, NoReturn

import numpy as np

from amarktai.kit.errors import ValidationFailed
from amarktai.marketdata import sources
from amarktai.marketdata.store import CandleStore, SeriesKey
from amarktai.risk.stress import ASSET_FILES, CASH_LIKE, canonical_asset
from amarktai.risk.var import FloatArray

HOURLY_FILES: Final[dict[str, str]] = {
    "XRP": "more/ohlcv/iterativv__NostalgiaForInfinity/binance/XRP_USDT-1h.json",
    "SOL": "more/ohlcv/iterativv__NostalgiaForInfinity/binance/SOL_USDT-1h.json",
    "ADA": "more/ohlcv/iterativv__NostalgiaForInfinity/binance/ADA_USDT-1h.json",
}
LAST_HOUR_MS: Final[int] = 23 * 3_600_000
_DAY_MS: Final[int] = 86_400_000
HISTORY_CACHE_SIZE: Final[int] = 64
"""Aligned histories kept (one per distinct (assets, lookback) asked for recently)."""

_REGISTERED: dict[str, dict[str, float]] = {}
_CACHE: OrderedDict[tuple[object, ...], ReturnHistory] = OrderedDict()
_LOCK = threading.Lock()

Source = tuple[str, str, int, int]
"""("store", file, mtime_ns, timeframe_s), ("folder", file, 0, 0) or ("registered", ...)."""


@dataclass(frozen=True, slots=True)
class ReturnHistory:
    """Aligned simple daily returns: ``returns[t, j]`` is asset ``assets[j]`` on ``dates[t]``."""

    assets: tuple[str, ...]
    dates: tuple[str, ...]
    returns: FloatArray
    sources: tuple[str, ...] = ()
    """Where each risky asset's history came from (``BTC: bitstamp/BTC-USD/1d (sample)``)."""

    @property
    def observations(self) -> int:
        return int(self.returns.shape[0])


def known_assets() -> tuple[str, ...]:
    """Assets with a recorded history (cash-like assets need none)."""
    stored = {
        key.symbol.split("/")[0]
        for store in sources.stores()
        for key in store.series_keys()
        if key.symbol.split("/")[1] in sources.QUOTE_PREFERENCE
    }
    return tuple(sorted({*ASSET_FILES, *HOURLY_FILES, *_REGISTERED, *stored}))


def register_closes(asset: str, closes: Mapping[str, float]) -> None:
    """Use ``closes`` (ISO date -> close) as ``asset``'s history from now on.

    Takes precedence over every recorded source and invalidates every cached history.
    """
    with _LOCK:
        _REGISTERED[canonical_asset(asset)] = {str(d): float(c) for d, c in closes.items()}
    clear_history_cache()


def unregister_closes(asset: str) -> None:
    """Forget a registered series (the recorded sources apply again)."""
    with _LOCK:
        _REGISTERED.pop(canonical_asset(asset), None)
    clear_history_cache()


def clear_history_cache() -> None:
    """Drop every cached close series and aligned history (they are rebuilt on demand)."""
    with _LOCK:
        _CACHE.clear()
        _folder_closes.cache_clear()
        _store_closes.cache_clear()


PROXY_ASSET = "BTC"


def daily_closes(asset: str, data_dir: Path | None = None) -> dict[str, float]:
    """ISO date -> close for one asset, read once per source version."""
    name = canonical_asset(asset)
    registered = _REGISTERED.get(name)
    if registered is not None:
        return registered
    kind, file, version, timeframe_s = resolve_source(name, data_dir)
    if kind == "store":
        return _store_closes(file, version, timeframe_s)
    return _folder_closes(Path(file))


def resolve_source(name: str, data_dir: Path | None = None) -> Source:
    """Where ``name``'s history is read from: ``data_dir`` when given (a folder in the
    shared layout), else the store, the user's files folder, the shipped sample."""
    if name in _REGISTERED:
        return ("registered", name, 0, 0)
    if data_dir is not None:
        return _folder_source(name, data_dir, required=True) or _no_history(name)
    found = _own_source(name)
    if found is None and name != PROXY_ASSET:
        # No history anywhere (the shipped sample has BTC, ETH and LTC only): BTC's
        # returns stand in, as the stress tests' beta-1 proxy does, and the figure says
        # so (`describe_source`); `amarktai data download` adds the asset's own.
        found = _own_source(PROXY_ASSET)
    return found or _no_history(name)


def _own_source(name: str) -> Source | None:
    found = _store_source(name, sources.user_store())
    if found is None and (folder := sources.files_dir()) is not None:
        found = _folder_source(name, folder, required=False)
    return found or _store_source(name, sources.sample_store())


def is_proxied(asset: str, data_dir: Path | None = None) -> bool:
    """True when ``asset`` has no history of its own and BTC's stands in for it."""
    name = canonical_asset(asset)
    return (
        data_dir is None
        and name not in _REGISTERED
        and name != PROXY_ASSET
        and _own_source(name) is None
    )


def describe_source(asset: str, data_dir: Path | None = None) -> str:
    """``"BTC: bitstamp/BTC-USD/1d (sample)"``: the history a figure was computed on."""
    kind, file, _, _ = resolve_source(canonical_asset(asset), data_dir)
    if kind == "registered":
        return f"{asset}: registered series"
    if is_proxied(asset, data_dir):
        btc = describe_source(PROXY_ASSET).removeprefix(f"{PROXY_ASSET}: ")
        return f"{asset}: no price history of its own; BTC's ({btc}) used as a proxy"
    if kind == "folder":
        return f"{asset}: {file}"
    path = Path(file)
    where = "sample" if path.is_relative_to(sources.SAMPLE_DIR) else "store"
    return f"{asset}: {path.parent.parent.name}/{path.parent.name}/{path.stem} ({where})"


def _no_history(name: str) -> NoReturn:
    raise ValidationFailed(
        f"No price history for {name}: VaR and Monte Carlo need one "
        "(`amarktai data download` or `amarktai data import` adds it).",
        code="no_return_history",
        details={"asset": name, "known": list(known_assets())},
    )


def _store_source(name: str, store: CandleStore) -> Source | None:
    located = sources.daily_source(name, [store])
    if located is None:
        return None
    path = store.path(located.key)
    return ("store", str(path), path.stat().st_mtime_ns, located.key.timeframe_s)


def _folder_source(name: str, folder: Path, *, required: bool) -> Source | None:
    if name in ASSET_FILES:
        path = folder / "daily" / ASSET_FILES[name]
    elif name in HOURLY_FILES:
        path = folder / HOURLY_FILES[name]
    else:
        return None
    if not required and not path.is_file():
        return None
    return ("folder", str(path), 0, 0)


@lru_cache(maxsize=64)
def _store_closes(file: str, _version: int, timeframe_s: int) -> dict[str, float]:
    path = Path(file)
    key = SeriesKey.of(path.parent.parent.name, path.parent.name, path.stem)
    daily = sources.daily_candles(CandleStore(path.parents[2]).read(key), timeframe_s)
    days = (daily.ts // _DAY_MS).astype("datetime64[D]").astype(str)
    return dict(zip(days.tolist(), daily.close.tolist(), strict=True))


@lru_cache(maxsize=16)
def _folder_closes(path: Path) -> dict[str, float]:
    if path.suffix == ".csv":
        return _csv_closes(path)
    return _hourly_to_daily(path)


def _csv_closes(path: Path) -> dict[str, float]:
    with path.open(newline="") as handle:
        return {row["Date"]: float(row["close"]) for row in csv.DictReader(handle)}


def _hourly_to_daily(path: Path) -> dict[str, float]:
    """The close of each UTC day's 23:00 bar."""
    rows = json.loads(path.read_text())
    return {
        str(np.datetime64(int(row[0]) // _DAY_MS, "D")): float(row[4])
        for row in rows
        if int(row[0]) % _DAY_MS == LAST_HOUR_MS
    }


def asset_returns(assets: tuple[str, ...], data_dir: Path | None = None) -> ReturnHistory:
    """Aligned daily returns of ``assets`` (cash-like ones are a zero column)."""
    risky = [a for a in assets if canonical_asset(a) not in CASH_LIKE]
    series = {a: daily_closes(canonical_asset(a), data_dir) for a in risky}
    dates = sorted(set.intersection(*(set(s) for s in series.values()))) if series else []
    matrix = np.zeros((max(len(dates) - 1, 0), len(assets)))
    for j, asset in enumerate(assets):
        if asset in series:
            closes = np.array([series[asset][d] for d in dates])
            matrix[:, j] = closes[1:] / closes[:-1] - 1.0
    described = tuple(describe_source(a, data_dir) for a in risky)
    return ReturnHistory(tuple(assets), tuple(dates[1:]), matrix, described)


def cached_returns(
    assets: tuple[str, ...], lookback_days: int | None = None, data_dir: Path | None = None
) -> ReturnHistory:
    """``asset_returns`` (optionally only the latest ``lookback_days``), built once per key
    (the assets, the lookback and the version of every source read).

    The returned arrays are read-only views shared between callers.
    """
    if lookback_days is not None and lookback_days < 1:
        raise ValidationFailed("lookback_days must be at least 1", code="invalid_lookback")
    versions = tuple(
        resolve_source(canonical_asset(a), data_dir)
        for a in assets
        if canonical_asset(a) not in CASH_LIKE
    )
    key = (tuple(assets), lookback_days, data_dir, versions)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    full = asset_returns(tuple(assets), data_dir)
    start = 0 if lookback_days is None else max(full.observations - lookback_days, 0)
    returns = full.returns[start:]
    returns.flags.writeable = False
    history = ReturnHistory(full.assets, full.dates[start:], returns, full.sources)
    with _LOCK:
        _CACHE[key] = history
        _CACHE.move_to_end(key)
        while len(_CACHE) > HISTORY_CACHE_SIZE:
            _CACHE.popitem(last=False)
    return history
