"""Plumbing both backtest paths share: inputs normalised the same way, equity combined
on one clock the same way, so any difference between the paths is in the simulation."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from amarktai.backtest.data import validate_bars
from amarktai.backtest.models import BacktestConfig, FloatArray, bars_close_times
from amarktai.kit.errors import ValidationFailed
from amarktai.markets.instruments import generic_instrument
from amarktai.markets.types import Instrument
from amarktai.strategies.base import Bars, Strategy
from amarktai.strategies.registry import create_strategy

DEFAULT_SYMBOL = "ASSET/USD"
Data = Bars | Mapping[str, Bars]


def resolve_strategy(strategy: Strategy | str, params: Mapping[str, Any] | None) -> Strategy:
    """A registered name (params validated by the registry) or a ready instance."""
    if isinstance(strategy, Strategy):
        if params:
            raise ValidationFailed(
                "pass params with a strategy name, not with an instance", code="invalid_parameter"
            )
        return strategy
    return create_strategy(strategy, dict(params or {}))


def normalise_data(data: Data, strategy: Strategy) -> dict[str, Bars]:
    """Symbol → validated bars; the strategy needs its warm-up plus one bar to act on and
    one more to fill at."""
    series = {DEFAULT_SYMBOL: data} if isinstance(data, Bars) else dict(data)
    if not series:
        raise ValidationFailed("no instruments to backtest", code="empty_range")
    needed = strategy.warmup_bars + 2
    return {s: validate_bars(b, min_bars=needed, name=s) for s, b in series.items()}


def instrument_for(
    symbol: str, config: BacktestConfig, instruments: Mapping[str, Instrument] | None
) -> Instrument:
    """The instrument's size rules, with the backtest's fee so the planner sizes with it."""
    base = (instruments or {}).get(symbol) or generic_instrument(symbol, exchange="backtest")
    return dataclasses.replace(base, taker_fee=config.fee_rate, maker_fee=config.fee_rate)


def common_clock(series: Mapping[str, Bars]) -> npt.NDArray[np.datetime64]:
    """Union of every instrument's bar close times: the backtest's one clock."""
    stamps = [bars_close_times(b) for b in series.values()]
    if len(stamps) == 1:
        return stamps[0]
    merged = np.sort(np.concatenate(stamps))
    return merged[np.concatenate(([True], merged[1:] != merged[:-1]))]


def on_clock(
    ticks: npt.NDArray[np.datetime64],
    own_ticks: npt.NDArray[np.datetime64],
    values: FloatArray,
    before: float,
) -> FloatArray:
    """Carry one instrument's per-bar values onto the common clock (last value, or
    ``before`` until its first bar)."""
    idx = np.searchsorted(own_ticks, ticks, side="right") - 1
    out = np.where(idx >= 0, values[np.maximum(idx, 0)], before)
    return np.asarray(out, dtype=np.float64)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ns_to_datetime(ns: int) -> datetime:
    """Nanoseconds since the epoch as an aware UTC datetime (microsecond precision)."""
    return _EPOCH + timedelta(microseconds=ns // 1000)


class BarClock:
    """The injected clock of a backtest: it reads the close time of the bar being
    processed, so anything stamped with ``now()`` (orders) carries simulated time.
    Set from an int so the hot loop never builds datetimes it does not need."""

    def __init__(self) -> None:
        self.ns = 0

    def now(self) -> datetime:
        return ns_to_datetime(self.ns)
