"""Dollar-cost averaging: buy a fixed quote amount every N bars, whatever the price."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from amarktai.kit.money import ZERO, to_decimal
from amarktai.strategies.base import (
    Bars,
    Decision,
    DecisionStream,
    OrderIntent,
    Strategy,
    StrategyContext,
    StrategyParams,
    param,
)


@dataclass(frozen=True, slots=True)
class DcaParams(StrategyParams):
    quote_amount: float = param(
        100.0, min=0.01, max=1e9, description="Quote currency spent per purchase"
    )
    every_bars: int = param(24, min=1, max=100_000, description="Bars between purchases")


class Dca(Strategy):
    """Emits explicit market-buy intents rather than targets: a fixed spend per period
    cannot be expressed as a fraction of capital without drifting with the price.
    Purchases fall on ``ctx.bar_index`` multiples, so the schedule does not depend on
    how much history the engine passes."""

    name = "dca"
    description = "Buy a fixed quote amount at market every N bars."
    Params = DcaParams
    params: DcaParams

    @property
    def warmup_bars(self) -> int:
        return 1

    _amount: tuple[DcaParams, Decimal] | None = None

    @property
    def amount(self) -> Decimal:
        """The spend as Decimal, converted once per params (a decision reads it up to
        three times, on every bar)."""
        cached = self._amount
        if cached is None or cached[0] is not self.params:
            cached = self._amount = (self.params, to_decimal(self.params.quote_amount))
        return cached[1]

    def on_bar(self, ctx: StrategyContext) -> Decision:
        return self._decide(ctx.bar_index, ctx.price, ctx.cash)

    def _decide(self, bar_index: int, price: float, cash: Decimal) -> Decision:
        """The rule on one bar: ``on_bar`` and ``stream`` share it."""
        every = self.params.every_bars
        names = {"bars_until_next": float((-bar_index) % every)}
        inputs = {"price": price, "cash": float(cash)}
        if bar_index % every != 0:
            rule = f"bar {bar_index} is not a multiple of {every}: wait"
            return Decision(rule=rule, signal=0.0, inputs=inputs, indicators=names)
        if cash < self.amount:
            rule = f"scheduled buy of {self.amount} skipped: cash {cash} is short"
            return Decision(rule=rule, signal=0.0, inputs=inputs, indicators=names)
        order = OrderIntent(side="buy", type="market", notional=self.amount)
        rule = f"bar {bar_index} is a multiple of {every}: buy {self.amount} at market"
        return Decision(rule=rule, signal=1.0, order=order, inputs=inputs, indicators=names)

    def stream(self, bars: Bars) -> DcaStream:
        return DcaStream(self, bars)


class DcaStream(DecisionStream):
    """Orders only on schedule bars (``order_bars``); the rest are "wait" decisions."""

    def __init__(self, strategy: Dca, bars: Bars) -> None:
        super().__init__(bars)
        self.strategy = strategy
        self.order_bars = np.arange(0, len(bars), strategy.params.every_bars, dtype=np.int64)

    def decide(
        self, i: int, *, position_qty: Decimal = ZERO, cash: Decimal = ZERO, equity: Decimal = ZERO
    ) -> Decision:
        return self.strategy._decide(i, float(self.bars.close[i]), cash)
