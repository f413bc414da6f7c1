"""Monte Carlo of the trade sequence: how lucky was the order of the trades?

Each closed trade becomes a return on the equity it started with; the risk package's
bootstrap (``risk.montecarlo.simulate_bootstrap``, i.i.d. scheme: trades are treated as
exchangeable) resamples that sequence into many alternative histories of the same
length, giving the spread of final equity and drawdown a strategy could have had.
"""

from __future__ import annotations

import numpy as np

from amarktai.backtest.models import BacktestResult, FloatArray
from amarktai.kit.errors import ValidationFailed
from amarktai.risk.montecarlo import MonteCarloResult, simulate_bootstrap

__all__ = ["trade_returns", "trade_sequence_monte_carlo"]


def trade_returns(result: BacktestResult) -> FloatArray:
    """Net pnl of each closed trade over the equity before it (sequential, compounding)."""
    pnl = result.closed_pnl
    start = float(result.config.initial_cash)
    before = start + np.concatenate(([0.0], np.cumsum(pnl)[:-1]))
    return pnl / before


def trade_sequence_monte_carlo(
    result: BacktestResult, *, simulations: int = 10_000, seed: int | None = None
) -> MonteCarloResult:
    """Resample closed trades with replacement (horizon = number of trades)."""
    returns = trade_returns(result)
    if returns.size < 2:
        raise ValidationFailed("need at least two closed trades", code="too_few_trades")
    return simulate_bootstrap(
        float(result.config.initial_cash),
        returns,
        int(returns.size),
        simulations=simulations,
        scheme="iid",
        seed=seed,
    )
