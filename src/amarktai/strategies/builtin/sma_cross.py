"""Moving-average crossover: long while the fast average is above the slow one."""

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
from amarktai.strategies.builtin._rules import ColumnStream, smoothing_lookback, warming_up_at


@dataclass(frozen=True, slots=True)
class SmaCrossParams(StrategyParams):
    fast: int = param(20, min=2, max=500, description="Fast moving-average length (bars)")
    slow: int = param(50, min=3, max=1000, description="Slow moving-average length (bars)")
    ma: str = param(
        "sma", choices=("sma", "ema"), description="Average type: simple or exponential"
    )

    def violations(self) -> list[tuple[str, str]]:
        if self.fast >= self.slow:
            return [("fast", f"fast ({self.fast}) must be shorter than slow ({self.slow})")]
        return []


class SmaCross(Strategy):
    """State-based, not event-based: being long whenever fast > slow (rather than only on
    the crossing bar) lets a bot started mid-trend, or one whose order was denied,
    converge to the intended position on the next bar."""

    name = "sma_cross"
    description = "Long while the fast SMA/EMA is above the slow one, flat otherwise."
    Params = SmaCrossParams
    params: SmaCrossParams

    @property
    def warmup_bars(self) -> int:
        return self.params.slow

    @property
    def lookback_bars(self) -> int:
        if self.params.ma == "sma":
            return self.params.slow
        return smoothing_lookback(self.params.slow, 2.0 / (self.params.slow + 1))

    def _averages(self, close: FloatArray) -> tuple[FloatArray, FloatArray]:
        if self.params.ma == "ema":
            return ind.ema(close, self.params.fast), ind.ema(close, self.params.slow)
        return ind.sma(close, self.params.fast), ind.sma(close, self.params.slow)

    def on_bar(self, ctx: StrategyContext) -> Decision:
        # Only the last values: ``*_last`` equal the batch columns' last element bit for bit.
        close, p = ctx.close, self.params
        if p.ma == "ema":
            fast, slow = ind.ema_last(close, p.fast), ind.ema_last(close, p.slow)
        else:
            fast, slow = ind.sma_last(close, p.fast), ind.sma_last(close, p.slow)
        return self._decide(fast, slow, float(close[-1]), len(close))

    def _decide(self, fast: float, slow: float, price: float, have: int) -> Decision:
        """The rule on one bar's values: ``on_bar`` and ``stream`` share it."""
        names = {f"{self.params.ma}_fast": fast, f"{self.params.ma}_slow": slow}
        if math.isnan(fast) or math.isnan(slow):
            return warming_up_at(have, self.warmup_bars, price, names)
        label = self.params.ma.upper()
        p = self.params
        if fast > slow:
            rule, target, signal = (
                f"{label}({p.fast}) {num(fast)} > {label}({p.slow}) {num(slow)}: long",
                1.0,
                1.0,
            )
        else:
            rule, target, signal = (
                f"{label}({p.fast}) {num(fast)} <= {label}({p.slow}) {num(slow)}: flat",
                0.0,
                -1.0,
            )
        return Decision(
            rule=rule, signal=signal, target=target, inputs={"price": price}, indicators=names
        )

    def _targets(self, fast: FloatArray, slow: FloatArray) -> FloatArray:
        return np.where(np.isnan(fast) | np.isnan(slow), np.nan, (fast > slow).astype(np.float64))

    def signals(self, bars: Bars) -> FloatArray:
        return self._targets(*self._averages(bars.close))

    def stream(self, bars: Bars) -> ColumnStream:
        fast, slow = self._averages(bars.close)
        close = bars.close

        def at(i: int) -> Decision:
            return self._decide(float(fast[i]), float(slow[i]), float(close[i]), i + 1)

        return ColumnStream(bars, self._targets(fast, slow), at)
