"""MACD trend following: long while the MACD line is above its signal line."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from amarktai.kit.numbers import plain_number as num
from amarktai.strategies import indicators as ind
from amarktai.strategies.base import (
    Bars,
    Decision,
    FloatArray,
    Strategy,
    StrategyContext,
    StrategyParams,
    param,
)
from amarktai.strategies.builtin._rules import (
    ColumnStream,
    clip_signal,
    smoothing_lookback,
    warming_up_at,
)


@dataclass(frozen=True, slots=True)
class MacdParams(StrategyParams):
    fast: int = param(12, min=2, max=200, description="Fast EMA length (bars)")
    slow: int = param(26, min=3, max=400, description="Slow EMA length (bars)")
    signal: int = param(9, min=2, max=100, description="Signal-line EMA length (bars)")

    def violations(self) -> list[tuple[str, str]]:
        if self.fast >= self.slow:
            return [("fast", f"fast ({self.fast}) must be shorter than slow ({self.slow})")]
        return []


class Macd(Strategy):
    """The histogram's sign is the whole rule; its size, relative to price, grades the
    signal so the fusion layer can tell a marginal cross from a strong one."""

    name = "macd"
    description = "Long while the MACD histogram is positive (line above signal), flat otherwise."
    Params = MacdParams
    params: MacdParams

    @property
    def warmup_bars(self) -> int:
        return self.params.slow + self.params.signal - 1

    @property
    def lookback_bars(self) -> int:
        return smoothing_lookback(self.warmup_bars, 2.0 / (self.params.slow + 1))

    def _macd(self, close: FloatArray) -> ind.MACDResult:
        return ind.macd(close, self.params.fast, self.params.slow, self.params.signal)

    def on_bar(self, ctx: StrategyContext) -> Decision:
        close, p = ctx.close, self.params
        line, sig, hist = ind.macd_last(close, p.fast, p.slow, p.signal)
        return self._decide(line, sig, hist, float(close[-1]), len(close))

    def _decide(self, line: float, sig: float, hist: float, price: float, have: int) -> Decision:
        """The rule on one bar's values: ``on_bar`` and ``stream`` share it."""
        names = {"macd": line, "macd_signal": sig, "macd_histogram": hist}
        if math.isnan(hist):
            return warming_up_at(have, self.warmup_bars, price, names)
        strength = clip_signal(hist / price * 100.0) if price > 0 else 0.0
        if hist > 0:
            rule = f"MACD {num(line)} above signal {num(sig)} (histogram {num(hist, 3)} > 0): long"
            return Decision(
                rule=rule, signal=strength, target=1.0, inputs={"price": price}, indicators=names
            )
        rule = f"MACD {num(line)} not above signal {num(sig)} (histogram {num(hist, 3)} <= 0): flat"
        return Decision(
            rule=rule, signal=strength, target=0.0, inputs={"price": price}, indicators=names
        )

    @staticmethod
    def _targets(hist: FloatArray) -> FloatArray:
        return np.where(np.isnan(hist), np.nan, (hist > 0).astype(np.float64))

    def signals(self, bars: Bars) -> FloatArray:
        return self._targets(self._macd(bars.close).histogram)

    def stream(self, bars: Bars) -> ColumnStream:
        line, sig, hist = self._macd(bars.close)
        close = bars.close

        def at(i: int) -> Decision:
            values = float(line[i]), float(sig[i]), float(hist[i])
            return self._decide(*values, float(close[i]), i + 1)

        return ColumnStream(bars, self._targets(hist), at)
