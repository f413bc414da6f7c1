"""Bollinger breakout: ride a close above the upper band until price loses the middle band."""

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
    warming_up_at,
)


@dataclass(frozen=True, slots=True)
class BollingerBreakoutParams(StrategyParams):
    period: int = param(20, min=5, max=200, description="Band length (bars)")
    k: float = param(
        2.0, min=0.5, max=5.0, description="Band width in standard deviations (population)"
    )


class BollingerBreakout(Strategy):
    """Exiting at the middle band rather than back inside the upper band gives a breakout
    room to breathe; the latch keeps the position between the two events."""

    name = "bollinger_breakout"
    description = "Long on a close above the upper band; flat on a close below the middle band."
    Params = BollingerBreakoutParams
    params: BollingerBreakoutParams

    @property
    def warmup_bars(self) -> int:
        return self.params.period

    def _positions(self, close: FloatArray) -> tuple[ind.BollingerBands, FloatArray]:
        bands = ind.bollinger(close, self.params.period, self.params.k)
        valid = np.isfinite(bands.middle)
        state = latch(close > bands.upper, close < bands.middle, valid)
        return bands, state

    def on_bar(self, ctx: StrategyContext) -> Decision:
        close, p = ctx.close, self.params
        mid, up, low = ind.bollinger_last(close, p.period, p.k)
        price = float(close[-1])
        if not math.isfinite(mid):  # warm-up: the latch is NaN there too
            target = math.nan
        elif price < mid or price > up:  # an event on this bar sets the latch (exit wins)
            target = 0.0 if price < mid else 1.0
        elif ctx.previous_target is not None:  # no event: the latch holds (``carried``)
            target = ctx.previous_target
        else:  # a first bar inside the bands: the window's own latch decides
            target = float(self._positions(close)[1][-1])
        return self._decide(mid, up, low, target, price, len(close))

    def _decide(
        self, mid: float, up: float, low: float, target: float, price: float, have: int
    ) -> Decision:
        """The rule on one bar's values: ``on_bar`` and ``stream`` share it."""
        names = {"bb_middle": mid, "bb_upper": up, "bb_lower": low}
        if math.isnan(mid):
            return warming_up_at(have, self.warmup_bars, price, names)
        if price < mid:
            rule = f"close {num(price)} < middle band {num(mid)}: flat"
        elif price > up:
            rule = f"close {num(price)} > upper band {num(up)}: breakout, long"
        else:
            held = "long" if target else "flat"
            rule = f"close {num(price)} between middle {num(mid)} and upper {num(up)}: stay {held}"
        half_width = up - mid
        signal = clip_signal((price - mid) / half_width) if half_width > 0 else 0.0
        return Decision(
            rule=rule, signal=signal, target=target, inputs={"price": price}, indicators=names
        )

    def signals(self, bars: Bars) -> FloatArray:
        return self._positions(bars.close)[1]

    def stream(self, bars: Bars) -> ColumnStream:
        (mid, up, low), state = self._positions(bars.close)
        close = bars.close

        def at(i: int) -> Decision:
            values = float(mid[i]), float(up[i]), float(low[i]), float(state[i])
            return self._decide(*values, float(close[i]), i + 1)

        return ColumnStream(bars, state, at)
