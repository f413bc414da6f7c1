"""Stress tests: replay named historical shocks, or custom ones, on today's holdings.

Historical shocks come from recorded daily candles (never hard-coded), one move per
asset for the scenario day. Candles are read from the user's candle store, else the
folder of files the user pointed at (``$AMARKTAI_SHARED_DATA``, its ``daily/`` Binance
CSVs), else the sample shipped with the package (``amarktai.marketdata.sources``); an
explicit ``data_dir`` reads that folder only. The measures:

* ``close_to_low`` (default): previous day's close -> the day's low. The worst price a
  holder could have been marked at that day; a stress test should be severe.
* ``close_to_close``: previous close -> the day's close, the move that survived the day.

Asset mapping: BTC (alias XBT, as Luno spells it), ETH, LTC and PAXG have files. Cash and
stablecoins (ZAR, USD, USDT, USDC, BUSD, DAI) get a 0 % shock: the candles are USDT-quoted
so the scenario says nothing about them, and the rand/dollar move is not modelled. Any other
asset gets the scenario's BTC shock times ``PROXY_BETA = 1.0`` (crypto beta to BTC is close to
or above 1 in sell-offs, so 1 is a mild, stated assumption) and is flagged as a proxy, or, with
``unknown="no_data"``, a 0 % shock and a place in ``missing``.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Final, Literal

from amarktai.kit.errors import ValidationFailed
from amarktai.marketdata import sources
from amarktai.marketdata.store import CandleStore, SeriesKey

ShockMeasure = Literal["close_to_low", "close_to_close"]
UnknownPolicy = Literal["beta_btc", "no_data"]

DATA_ENV: Final[str] = "AMARKTAI_SHARED_DATA"
PROXY_BETA: Final[float] = 1.0
ASSET_FILES: Final[dict[str, str]] = {
    "BTC": "binance_daily_Bitcoin.csv",
    "ETH": "binance_daily_Ethereum.csv",
    "LTC": "binance_daily_Litecoin.csv",
    "PAXG": "binance_daily_Gold.csv",
}
ALIASES: Final[dict[str, str]] = {"XBT": "BTC"}
CASH_LIKE: Final[frozenset[str]] = frozenset({"ZAR", "USD", "USDT", "USDC", "BUSD", "DAI"})


@dataclass(frozen=True, slots=True)
class ScenarioInfo:
    name: str
    date: str
    description: str


SCENARIOS: Final[dict[str, ScenarioInfo]] = {
    "may_2021_crash": ScenarioInfo(
        "may_2021_crash",
        "2021-05-19",
        "19 May 2021 crypto crash: China mining/payments crackdown, BTC touched 30 000 USDT.",
    ),
    "nov_2022_exchange_collapse": ScenarioInfo(
        "nov_2022_exchange_collapse",
        "2022-11-09",
        "9 Nov 2022 sell-off as the FTX exchange collapsed; BTC touched 15 588 USDT.",
    ),
}


@dataclass(frozen=True, slots=True)
class StressScenario:
    """Shocks are fractions (-0.3 = -30 %) per canonical asset symbol."""

    name: str
    description: str
    shocks: dict[str, float]
    date: str | None = None
    measure: str | None = None


@dataclass(frozen=True, slots=True)
class HoldingStress:
    """``source``: "data", "custom", "cash", "proxy_btc_beta_1" or "no_data"."""

    asset: str
    value: float
    shock_pct: float
    pnl: float
    stressed_value: float
    source: str


@dataclass(frozen=True, slots=True)
class StressResult:
    scenario: str
    description: str
    total_value: float
    total_pnl: float
    total_pnl_percent: float
    stressed_value: float
    holdings: tuple[HoldingStress, ...]
    missing: tuple[str, ...]


# --------------------------------------------------------------------------- data location


@lru_cache(maxsize=32)
def _daily_rows(path: Path) -> dict[str, tuple[float, float, float]]:
    """date -> (previous close, low, close); cached because files never change at runtime."""
    rows: dict[str, tuple[float, float, float]] = {}
    previous_close: float | None = None
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            close = float(row["close"])
            if previous_close is not None:
                rows[row["Date"]] = (previous_close, float(row["low"]), close)
            previous_close = close
    return rows


DailyRows = dict[str, tuple[float, float, float]]


@lru_cache(maxsize=32)
def _store_rows(file: str, _version: int, timeframe_s: int) -> DailyRows:
    """Like ``_daily_rows`` for a stored series (aggregated to days when intraday)."""
    path = Path(file)
    key = SeriesKey.of(path.parent.parent.name, path.parent.name, path.stem)
    daily = sources.daily_candles(CandleStore(path.parents[2]).read(key), timeframe_s)
    days = (daily.ts // 86_400_000).astype("datetime64[D]").astype(str).tolist()
    closes, lows = daily.close.tolist(), daily.low.tolist()
    return {days[i]: (closes[i - 1], lows[i], closes[i]) for i in range(1, len(days))}


def _stored(asset: str, store: CandleStore) -> DailyRows | None:
    located = sources.daily_source(asset, [store])
    if located is None:
        return None
    path = store.path(located.key)
    return _store_rows(str(path), path.stat().st_mtime_ns, located.key.timeframe_s)


def _folder_rows(folder: Path, asset: str) -> DailyRows | None:
    path = folder / "daily" / ASSET_FILES[asset]
    return _daily_rows(path) if path.is_file() else None


def _asset_rows(asset: str, data_dir: Path | None) -> DailyRows | None:
    if data_dir is not None:
        return _folder_rows(data_dir, asset)
    rows = _stored(asset, sources.user_store())
    if rows is None and (folder := sources.files_dir()) is not None:
        rows = _folder_rows(folder, asset)
    return rows if rows is not None else _stored(asset, sources.sample_store())


@lru_cache(maxsize=1)
def _shipped_shocks() -> dict[str, dict[str, tuple[float, float, float]]]:
    """asset -> day -> (previous close, low, close) of each scenario day, shipped with the
    package (`sample/scenario_shocks.json`, Binance's daily candles of those days): the
    scenarios work on a fresh install whose sample has no candles of those days."""
    raw = json.loads((sources.SAMPLE_DIR / "scenario_shocks.json").read_text())
    return {a: {d: (r[0], r[1], r[2]) for d, r in days.items()} for a, days in raw.items()}


def _asset_shock(
    asset: str, date: str, measure: ShockMeasure, data_dir: Path | None
) -> float | None:
    row = (_asset_rows(asset, data_dir) or {}).get(date)
    if row is None and data_dir is None:
        row = _shipped_shocks().get(asset, {}).get(date)
    if row is None:
        return None
    previous_close, low, close = row
    end = low if measure == "close_to_low" else close
    return end / previous_close - 1.0


# --------------------------------------------------------------------------- scenarios


def canonical_asset(asset: str) -> str:
    """``'xbt' -> 'BTC'``, ``'ETH/ZAR' -> 'ETH'``: holdings use many spellings."""
    base = asset.strip().upper().replace("-", "/").split("/")[0]
    return ALIASES.get(base, base)


def list_scenarios() -> tuple[ScenarioInfo, ...]:
    return tuple(SCENARIOS.values())


def historical_scenario(
    name: str, *, measure: ShockMeasure = "close_to_low", data_dir: Path | None = None
) -> StressScenario:
    """Shocks for a named scenario, computed from the daily candles for every mapped asset."""
    info = SCENARIOS.get(name)
    if info is None:
        raise ValidationFailed(
            f"Unknown stress scenario {name!r}.",
            code="unknown_scenario",
            details={"scenario": name, "allowed": sorted(SCENARIOS)},
        )
    if measure not in ("close_to_low", "close_to_close"):
        raise ValidationFailed("Unknown shock measure.", code="invalid_measure")
    shocks = {
        asset: shock
        for asset in ASSET_FILES
        if (shock := _asset_shock(asset, info.date, measure, data_dir)) is not None
    }
    return StressScenario(info.name, info.description, shocks, info.date, measure)


def custom_scenario(shocks_pct: Mapping[str, float], name: str = "custom") -> StressScenario:
    """User shocks in percent (-20 means -20 %); a price cannot fall more than 100 %."""
    shocks: dict[str, float] = {}
    for asset, pct in shocks_pct.items():
        value = float(pct)
        if not (math.isfinite(value) and value >= -100.0):
            raise ValidationFailed(
                "Shocks must be finite percentages of at least -100.",
                code="invalid_shock",
                details={"asset": asset, "shock_pct": pct},
            )
        shocks[canonical_asset(asset)] = value / 100.0
    return StressScenario(name, "Custom shocks", shocks)


def _shock_for(
    asset: str, scenario: StressScenario, unknown: UnknownPolicy, custom: bool
) -> tuple[float, str]:
    if asset in scenario.shocks:
        return scenario.shocks[asset], "custom" if custom else "data"
    if asset in CASH_LIKE:
        return 0.0, "cash"
    if unknown == "beta_btc" and "BTC" in scenario.shocks:
        return PROXY_BETA * scenario.shocks["BTC"], "proxy_btc_beta_1"
    return 0.0, "no_data"


def apply_stress(
    holdings: Mapping[str, float | Decimal],
    scenario: StressScenario,
    *,
    unknown: UnknownPolicy = "beta_btc",
) -> StressResult:
    """P&L per holding (asset -> current value) and in total under ``scenario``."""
    if unknown not in ("beta_btc", "no_data"):
        raise ValidationFailed("Unknown asset policy.", code="invalid_policy")
    custom = scenario.date is None
    rows: list[HoldingStress] = []
    for asset, raw_value in holdings.items():
        value = float(raw_value)
        if not math.isfinite(value):
            raise ValidationFailed(
                "Holding values must be finite.", code="invalid_holdings", details={"asset": asset}
            )
        shock, source = _shock_for(canonical_asset(asset), scenario, unknown, custom)
        pnl = value * shock
        rows.append(HoldingStress(asset, value, 100.0 * shock, pnl, value + pnl, source))
    total = sum(r.value for r in rows)
    total_pnl = sum(r.pnl for r in rows)
    gross = sum(abs(r.value) for r in rows)
    return StressResult(
        scenario=scenario.name,
        description=scenario.description,
        total_value=total,
        total_pnl=total_pnl,
        total_pnl_percent=100.0 * total_pnl / gross if gross else 0.0,
        stressed_value=total + total_pnl,
        holdings=tuple(rows),
        missing=tuple(r.asset for r in rows if r.source == "no_data"),
    )


def run_stress_test(
    holdings: Mapping[str, float | Decimal],
    scenario: str | Mapping[str, float],
    *,
    measure: ShockMeasure = "close_to_low",
    unknown: UnknownPolicy = "beta_btc",
    data_dir: Path | None = None,
) -> StressResult:
    """One call for the API: a scenario name, or a dict of custom shocks in percent."""
    built = (
        historical_scenario(scenario, measure=measure, data_dir=data_dir)
        if isinstance(scenario, str)
        else custom_scenario(scenario)
    )
    return apply_stress(holdings, built, unknown=unknown)
