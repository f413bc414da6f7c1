"""Grid trading expressed as a target inventory.

Buy lines sit at ``centre·(1 − j·spacing)`` for j = 1..levels. Each line crossed on the
way down adds one unit (1/levels of the allocation); a unit bought at line j is sold
when price gets back to line j−1, one step higher. That gap is the grid's profit per
round trip, so the inventory needs hysteresis:

    d = (1 − price/centre) / spacing                       (lines below the centre)
    u_t = clip(u_{t−1}, clip(floor(d), 0, L), clip(ceil(d), 0, L))

The centre is a fixed ``reference_price`` or, when that is 0, the SMA over
``reference_window`` bars, so the grid follows the market.
"""

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
from amarktai.strategies.builtin._rules import ColumnStream, clip_signal, warming_up_at


@dataclass(frozen=True, slots=True)
class GridParams(StrategyParams):
    levels: int = param(5, min=1, max=100, description="Number of buy lines below the centre")
    spacing_pct: float = param(
        1.0, min=0.05, max=25.0, description="Distance between lines, % of the centre"
    )
    reference_price: float = param(
        0.0, min=0.0, max=1e12, description="Fixed grid centre; 0 uses a moving average"
    )
    reference_window: int = param(
        100, min=2, max=5000, description="SMA length for the moving centre (bars)"
    )


def grid_inventory(depth: FloatArray, levels: int, held: int = 0) -> FloatArray:
    """Units held after each bar (NaN where depth is NaN) by the hysteresis rule above.

    A sequential rule by nature (each step depends on the last), so it is one loop over
    plain Python floats: about 0.3 s per million bars.
    """
    out = np.full(len(depth), np.nan)
    for i, d in enumerate(depth.tolist()):
        if d != d:  # NaN during warm-up
            continue
        low = min(max(math.floor(d), 0), levels)
        high = min(max(math.ceil(d), 0), levels)
        held = min(max(held, low), high)
        out[i] = held
    return out


def inventory_step(d: float, levels: int, held: int) -> int:
    """One bar of ``grid_inventory`` (its loop body) for a finite depth ``d``."""
    low = min(max(math.floor(d), 0), levels)
    high = min(max(math.ceil(d), 0), levels)
    return min(max(held, low), high)


class Grid(Strategy):
    """Long-only grid; the inventory is replayed from the price history, so the decision
    is a pure function of market data. A memo of the last replay makes bar-by-bar calls
    O(1) amortised in Python when each context extends the previous one."""

    name = "grid"
    description = "Buy one unit per grid line crossed downwards; sell it one line higher."
    Params = GridParams
    params: GridParams

    _memo: tuple[FloatArray, int] | None = None

    @property
    def warmup_bars(self) -> int:
        return 1 if self.params.reference_price > 0 else self.params.reference_window

    def _centre(self, close: FloatArray) -> FloatArray:
        if self.params.reference_price > 0:
            return np.full(len(close), self.params.reference_price)
        return ind.sma(close, self.params.reference_window)

    def _depth(self, close: FloatArray) -> FloatArray:
        return (1.0 - close / self._centre(close)) / (self.params.spacing_pct / 100.0)

    def signals(self, bars: Bars) -> FloatArray:
        return grid_inventory(self._depth(bars.close), self.params.levels) / self.params.levels

    def _held_units(self, close: FloatArray, depth: FloatArray) -> float:
        """Replay the inventory, resuming from the memo when ``close`` extends it."""
        memo = self._memo
        start, held = 0, 0
        if memo is not None:
            seen, seen_units = memo
            if len(seen) < len(close) and np.array_equal(seen, close[: len(seen)]):
                start, held = len(seen), seen_units
        units = grid_inventory(depth[start:], self.params.levels, held)[-1]
        self._memo = (close, int(units) if math.isfinite(units) else 0)
        return float(units)

    def on_bar(self, ctx: StrategyContext) -> Decision:
        close, p, previous = ctx.close, self.params, ctx.previous_target
        if previous is not None and math.isfinite(previous):
            # The common case: one step from the previous holding needs the last centre
            # and depth only (``sma_last`` is the SMA column's last element, bit for bit).
            if p.reference_price > 0:
                centre = p.reference_price
            else:
                centre = ind.sma_last(close, p.reference_window)
            if centre != 0.0:  # else NumPy's division by zero, on the batch path below
                price = float(close[-1])
                d = (1.0 - price / centre) / (p.spacing_pct / 100.0)
                if math.isnan(d):
                    return self._decide(centre, d, math.nan, price, len(close))
                held = round(previous * p.levels)
                units = float(inventory_step(d, p.levels, held))
                return self._decide(centre, d, units, price, len(close))
        depth = self._depth(close)
        centre = float(self._centre(close)[-1])
        d = float(depth[-1])
        if math.isnan(d):
            return self._decide(centre, d, math.nan, ctx.price, len(ctx.bars))
        if ctx.previous_target is not None and math.isfinite(ctx.previous_target):
            # One step of the inventory rule from the previous bar's holding: exact,
            # where a replay over the trimmed window would start from zero units.
            held = round(ctx.previous_target * self.params.levels)
            units = float(grid_inventory(depth[-1:], self.params.levels, held)[-1])
        else:
            units = self._held_units(close, depth)
        return self._decide(centre, d, units, ctx.price, len(ctx.bars))

    def _decide(self, centre: float, d: float, units: float, price: float, have: int) -> Decision:
        """The rule on one bar's values: ``on_bar`` and ``stream`` share it."""
        if math.isnan(d):
            return warming_up_at(have, self.warmup_bars, price, {"grid_centre": centre})
        levels = self.params.levels
        step = self.params.spacing_pct / 100.0
        names = {"grid_centre": centre, "grid_depth": d, "grid_units": units}
        names["next_buy_line"] = centre * (1.0 - (units + 1) * step) if units < levels else math.nan
        names["next_sell_line"] = centre * (1.0 - (units - 1) * step) if units > 0 else math.nan
        where = f"price {num(price)} is {num(d, 4)} lines below centre {num(centre)}"
        rule = f"{where}: hold {num(units)}/{levels} units"
        return Decision(
            rule=rule,
            signal=clip_signal(d / levels),
            target=units / levels,
            inputs={"price": price},
            indicators=names,
        )

    def stream(self, bars: Bars) -> ColumnStream:
        close = bars.close
        centre = self._centre(close)
        depth = (1.0 - close / centre) / (self.params.spacing_pct / 100.0)
        units = grid_inventory(depth, self.params.levels)

        def at(i: int) -> Decision:
            values = float(centre[i]), float(depth[i]), float(units[i])
            return self._decide(*values, float(close[i]), i + 1)

        return ColumnStream(bars, units / self.params.levels, at)
