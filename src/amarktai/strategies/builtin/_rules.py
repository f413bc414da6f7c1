"""Shared rule helpers so every built-in states warm-up, latching and look-back alike."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal

import numpy as np

from amarktai.kit.money import ZERO
from amarktai.strategies.base import Bars, Decision, DecisionStream, FloatArray, StrategyContext


def latch(enter: np.ndarray, leave: np.ndarray, valid: np.ndarray) -> FloatArray:
    """Position 1 from an entry bar until the next exit bar, 0 otherwise; NaN where not valid.

    Exit wins when both fire on one bar (the cautious reading). The state is derived from
    the indicator history, not from fills, so the decision is a pure function of market
    data and identical in live, paper and backtest.
    """
    events = np.where(leave, 0.0, np.where(enter, 1.0, np.nan))
    events[~valid] = np.nan
    idx = np.where(np.isfinite(events), np.arange(len(events)), -1)
    np.maximum.accumulate(idx, out=idx)
    state = np.where(idx >= 0, events[np.maximum(idx, 0)], 0.0)
    return np.where(valid, state, np.nan)


def carried(state: float, event: bool, previous: float | None) -> float:
    """A latch's state at the current bar from a trimmed history: an event on this bar
    decides; otherwise the state is the previous bar's (``previous_target``), which the
    window may no longer be able to derive. Without a previous target, the window's own
    latch is the best there is (a bot's first bar)."""
    if event or previous is None or math.isnan(state):
        return state
    return previous


def smoothing_lookback(n: int, alpha: float, tolerance: float = 1e-9) -> int:
    """Bars after the seed until its weight (1-alpha)^k has decayed below ``tolerance``."""
    return n + math.ceil(math.log(tolerance) / math.log(1.0 - alpha))


def warming_up(ctx: StrategyContext, needed: int, **indicators: float) -> Decision:
    return warming_up_at(len(ctx.bars), needed, ctx.price, indicators)


def warming_up_at(have: int, needed: int, price: float, indicators: dict[str, float]) -> Decision:
    return Decision(
        rule=f"warm-up: {have} of {needed} bars, no decision",
        signal=0.0,
        target=None,
        inputs={"price": price},
        indicators=indicators,
    )


class ColumnStream(DecisionStream):
    """A built-in's stream: its indicator columns computed once over the history, and
    ``at(i)`` building the decision from row ``i`` with the same code ``on_bar`` runs
    on the last row of its context. Element i of a batch indicator over the whole
    history is bit-for-bit the last element over ``bars.upto(i)`` (the indicators are
    sequential and causal), so the decisions are identical, traces included."""

    def __init__(self, bars: Bars, targets: FloatArray, at: Callable[[int], Decision]) -> None:
        super().__init__(bars)
        self.targets = targets
        self._at = at

    def decide(
        self, i: int, *, position_qty: Decimal = ZERO, cash: Decimal = ZERO, equity: Decimal = ZERO
    ) -> Decision:
        return self._at(i)


def clip_signal(value: float) -> float:
    return 0.0 if not math.isfinite(value) else float(min(1.0, max(-1.0, value)))
