"""RSI mean reversion: buy when oversold, sell once RSI has recovered."""

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
    latch,
    smoothing_lookback,
    warming_up_at,
)


@dataclass(frozen=True, slots=True)
class RsiReversionParams(StrategyParams):
    period: int = param(14, min=2, max=100, description="RSI length (bars, Wilder smoothing)")
    oversold: float = param(
        30.0, min=1.0, max=50.0, description="Enter long when RSI falls below this"
    )
    exit: float = param(70.0, min=10.0, max=99.0, description="Exit when RSI rises above this")

    def violations(self) -> list[tuple[str, str]]:
        if self.oversold >= self.exit:
            return [("oversold", f"oversold ({self.oversold}) must be below exit ({self.exit})")]
        return []


class RsiReversion(Strategy):
    """Entry and exit thresholds differ, so between them the strategy holds what it last
    decided (a latch over the RSI history) instead of flip-flopping around one level."""

    name = "rsi_reversion"
    description = "Long from RSI < oversold until RSI > exit (Wilder RSI)."
    Params = RsiReversionParams
    params: RsiReversionParams

    @property
    def warmup_bars(self) -> int:
        return self.params.period + 1

    @property
    def lookback_bars(self) -> int:
        return smoothing_lookback(self.warmup_bars, 1.0 / self.params.period)

    def _positions(self, close: FloatArray) -> tuple[FloatArray, FloatArray]:
        values = ind.rsi(close, self.params.period)
        valid = np.isfinite(values)
        state = latch(values < self.params.oversold, values > self.params.exit, valid)
        return values, state

    def on_bar(self, ctx: StrategyContext) -> Decision:
        close, p = ctx.close, self.params
        value = ind.rsi_last(close, p.period)
        leave, enter = value > p.exit, value < p.oversold
        if math.isnan(value):  # warm-up: the latch is NaN there too
            target = math.nan
        elif leave or enter:  # an event on this bar sets the latch (exit wins)
            target = 0.0 if leave else 1.0
        elif ctx.previous_target is not None:  # no event: the latch holds (``carried``)
            target = ctx.previous_target
        else:  # a first bar between the thresholds: the window's own latch decides
            target = float(self._positions(close)[1][-1])
        return self._decide(value, target, float(close[-1]), len(close))

    def _decide(self, value: float, target: float, price: float, have: int) -> Decision:
        """The rule on one bar's values: ``on_bar`` and ``stream`` share it."""
        names = {"rsi": value}
        if math.isnan(value):
            return warming_up_at(have, self.warmup_bars, price, names)
        p = self.params
        if value < p.oversold:
            rule = f"RSI({p.period}) {num(value, 4)} < oversold {num(p.oversold)}: long"
        elif value > p.exit:
            rule = f"RSI({p.period}) {num(value, 4)} > exit {num(p.exit)}: flat"
        else:
            held = "long" if target > 0 else "flat"
            band = f"between {num(p.oversold)} and {num(p.exit)}"
            rule = f"RSI({p.period}) {num(value, 4)} {band}: stay {held}"
        signal = clip_signal((50.0 - value) / 50.0)
        return Decision(
            rule=rule, signal=signal, target=target, inputs={"price": price}, indicators=names
        )

    def signals(self, bars: Bars) -> FloatArray:
        return self._positions(bars.close)[1]

    def stream(self, bars: Bars) -> ColumnStream:
        values, state = self._positions(bars.close)
        close = bars.close

        def at(i: int) -> Decision:
            return self._decide(float(values[i]), float(state[i]), float(close[i]), i + 1)

        return ColumnStream(bars, state, at)
