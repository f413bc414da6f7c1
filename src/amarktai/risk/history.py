"""Daily return history per asset, the return model behind portfolio VaR, Monte Carlo and
VaR backtests.

Offline and paper portfolios hold `sim` assets (BTC, ETH, XRP priced in ZAR) that have no
long price history of their own, so this module uses the recorded market history in the
shared data folder as each asset's return model:

* BTC, ETH, LTC and PAXG: the Binance daily candles in ``daily/`` (2020-08 onwards).
* XRP, SOL and ADA have no daily file: their daily closes are aggregated from the 1-hour
  Binance candles in ``more/ohlcv`` (listed in ``more/MANIFEST.csv``): the close of a UTC
  day is the close of its 23:00 bar; a day without one (the partial last day of a file) is
  dropped, since its "close" would be some hour's price, not the day's.

Candles are USDT-quoted, so the rand/dollar move is not modelled (as in ``stress.py``);
cash and stablecoins get a zero return. Several assets are aligned on the dates they all
have, and a return is taken between consecutive common dates. A live deployment would feed
the same interface from exchange candles instead.

Caching: the files are static, so each asset's closes are read once per process
(``daily_closes``) and each aligned return matrix is built once per (assets, lookback)
(``cached_returns``, an LRU of ``HISTORY_CACHE_SIZE`` entries whose arrays are read-only).
A VaR request then costs no file I/O and no re-alignment. ``register_closes`` is the public
hook that feeds a close series from elsewhere (a live candle feed, a benchmark's seeded
synthetic assets): it takes precedence over the files and invalidates every cache, as does
``clear_history_cache``.
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
from typing import Final

import numpy as np

from amarktai.kit.errors import ValidationFailed
from amarktai.markets.replay import shared_data_dir
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


@dataclass(frozen=True, slots=True)
class ReturnHistory:
    """Aligned simple daily returns: ``returns[t, j]`` is asset ``assets[j]`` on ``dates[t]``."""

    assets: tuple[str, ...]
    dates: tuple[str, ...]
    returns: FloatArray

    @property
    def observations(self) -> int:
        return int(self.returns.shape[0])


def known_assets() -> tuple[str, ...]:
    """Assets with a recorded history (cash-like assets need none)."""
    return tuple(sorted({*ASSET_FILES, *HOURLY_FILES, *_REGISTERED}))


def register_closes(asset: str, closes: Mapping[str, float]) -> None:
    """Use ``closes`` (ISO date -> close) as ``asset``'s history from now on.

    Takes precedence over the recorded files and invalidates every cached history.
    """
    with _LOCK:
        _REGISTERED[canonical_asset(asset)] = {str(d): float(c) for d, c in closes.items()}
    clear_history_cache()


def unregister_closes(asset: str) -> None:
    """Forget a registered series (the recorded file, if any, applies again)."""
    with _LOCK:
        _REGISTERED.pop(canonical_asset(asset), None)
    clear_history_cache()


def clear_history_cache() -> None:
    """Drop every cached close series and aligned history (they are rebuilt on demand)."""
    with _LOCK:
        _CACHE.clear()
        _file_closes.cache_clear()


def daily_closes(asset: str, data_dir: Path | None = None) -> dict[str, float]:
    """ISO date -> close for one asset, read once per process (the files never change)."""
    name = canonical_asset(asset)
    registered = _REGISTERED.get(name)
    if registered is not None:
        return registered
    return _file_closes(name, data_dir)


@lru_cache(maxsize=16)
def _file_closes(name: str, data_dir: Path | None) -> dict[str, float]:
    folder = data_dir or shared_data_dir()
    if name in ASSET_FILES:
        return _csv_closes(folder / "daily" / ASSET_FILES[name])
    if name in HOURLY_FILES:
        return _hourly_to_daily(folder / HOURLY_FILES[name])
    raise ValidationFailed(
        f"No price history for {name}: VaR and Monte Carlo need one.",
        code="no_return_history",
        details={"asset": name, "known": list(known_assets())},
    )


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
    return ReturnHistory(tuple(assets), tuple(dates[1:]), matrix)


def cached_returns(
    assets: tuple[str, ...], lookback_days: int | None = None, data_dir: Path | None = None
) -> ReturnHistory:
    """``asset_returns`` (optionally only the latest ``lookback_days``), built once per key.

    The returned arrays are read-only views shared between callers.
    """
    if lookback_days is not None and lookback_days < 1:
        raise ValidationFailed("lookback_days must be at least 1", code="invalid_lookback")
    key = (tuple(assets), lookback_days, data_dir)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    full = asset_returns(tuple(assets), data_dir)
    start = 0 if lookback_days is None else max(full.observations - lookback_days, 0)
    returns = full.returns[start:]
    returns.flags.writeable = False
    history = ReturnHistory(full.assets, full.dates[start:], returns)
    with _LOCK:
        _CACHE[key] = history
        _CACHE.move_to_end(key)
        while len(_CACHE) > HISTORY_CACHE_SIZE:
            _CACHE.popitem(last=False)
    return history
