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
"""

from __future__ import annotations

import csv
import json
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
    return tuple(sorted({*ASSET_FILES, *HOURLY_FILES}))


@lru_cache(maxsize=16)
def daily_closes(asset: str, data_dir: Path | None = None) -> dict[str, float]:
    """ISO date -> close for one asset, read once per process (the files never change)."""
    name = canonical_asset(asset)
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
