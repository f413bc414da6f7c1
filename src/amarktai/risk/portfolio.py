"""Today's portfolio of a user or a bot, from the ledger, and the risk figures on it.

Holdings are the ledger's balances (free cash, bot cash and bot positions; never a cached
figure) valued at the engine's last prices, or at the `sim` reference prices when no
engine runs in this process (the CLI). The asset return model is ``risk.history``: the
recorded daily history of each held asset, aligned on common dates. Weights are today's
holding values, so the portfolio's return series is "today's portfolio, held through the
past" (the standard historical-simulation assumption).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Literal

import numpy as np

from amarktai.kit.errors import ValidationFailed
from amarktai.kit.money import ZERO
from amarktai.ledger.journal import parse_account
from amarktai.ledger.service import LedgerService
from amarktai.markets.instruments import SIM_START_PRICES
from amarktai.risk import montecarlo, stress
from amarktai.risk.history import ReturnHistory, cached_returns
from amarktai.risk.var import DEFAULT_VAR_SIMULATIONS, VarResult, compute_var
from amarktai.risk.var_backtest import DEFAULT_WINDOW, VarBacktestResult, backtest_var

QUOTE = "ZAR"
HOLDING_ACCOUNTS = frozenset({"cash", "position"})
McMethod = Literal["gbm", "bootstrap", "block_bootstrap", "stationary_bootstrap"]
MC_METHODS: tuple[str, ...] = ("gbm", "bootstrap", "block_bootstrap", "stationary_bootstrap")
_SCHEMES: dict[str, montecarlo.BootstrapScheme] = {
    "bootstrap": "iid",
    "block_bootstrap": "block",
    "stationary_bootstrap": "stationary",
}
EMPTY_NOTE = "Portfolio is empty: nothing is at risk."


@dataclass(frozen=True, slots=True)
class Holding:
    asset: str
    qty: Decimal
    price: Decimal
    value: Decimal

    def to_dict(self) -> dict[str, str]:
        return {
            "asset": self.asset,
            "qty": str(self.qty),
            "price": str(self.price),
            "value": str(self.value),
        }


@dataclass(frozen=True, slots=True)
class Portfolio:
    holdings: tuple[Holding, ...]

    @property
    def total(self) -> Decimal:
        return sum((h.value for h in self.holdings), ZERO)

    @property
    def assets(self) -> tuple[str, ...]:
        return tuple(h.asset for h in self.holdings)

    def values(self) -> np.ndarray:
        return np.array([float(h.value) for h in self.holdings], dtype=np.float64)

    @property
    def risky(self) -> bool:
        return any(h.asset != QUOTE and h.value != 0 for h in self.holdings)


def price_book(last_prices: Mapping[str, Decimal] | None) -> Callable[[str], Decimal]:
    """asset -> ZAR price: the engine's last trade, else the sim reference price."""
    known = {**SIM_START_PRICES, **(last_prices or {})}

    def price(asset: str) -> Decimal:
        if asset == QUOTE:
            return Decimal(1)
        return known[f"{asset}/{QUOTE}"]  # KeyError: the ledger reports missing_price

    return price


async def load_portfolio(
    ledger: LedgerService,
    user_id: str,
    price: Callable[[str], Decimal],
    bot_id: str | None = None,
) -> Portfolio:
    """Quantities per asset from the ledger's cash and position accounts, valued."""
    qty: dict[str, Decimal] = {}
    for account, assets in (await ledger.balances(user_id, bot_id)).items():
        if parse_account(account).name in HOLDING_ACCOUNTS:
            for asset, amount in assets.items():
                qty[asset] = qty.get(asset, ZERO) + amount
    holdings = []
    for asset in sorted(a for a, q in qty.items() if q != 0):
        try:
            unit = price(asset)
        except KeyError as exc:
            raise ValidationFailed(f"no price for {asset}", code="missing_price") from exc
        holdings.append(Holding(asset, qty[asset], unit, qty[asset] * unit))
    return Portfolio(tuple(holdings))


def history_for(portfolio: Portfolio, lookback_days: int | None = None) -> ReturnHistory:
    """Aligned asset returns, optionally only the latest ``lookback_days``.

    Cached per (assets, lookback) by ``risk.history.cached_returns``: the arrays are shared
    and read-only."""
    return cached_returns(portfolio.assets, lookback_days)


def history_info(history: ReturnHistory) -> dict[str, Any]:
    return {
        "observations": history.observations,
        "start": history.dates[0] if history.dates else None,
        "end": history.dates[-1] if history.dates else None,
        "source": "; ".join(history.sources) or "no risky asset",
    }


def portfolio_var(
    portfolio: Portfolio,
    *,
    method: str,
    confidence: float,
    horizon_days: int,
    simulations: int = DEFAULT_VAR_SIMULATIONS,
    seed: int | None = None,
    lookback_days: int | None = None,
) -> tuple[VarResult, ReturnHistory | None]:
    """VaR/CVaR of today's holdings; an empty or all-cash portfolio is zero, with a note."""
    if not portfolio.risky:
        empty = compute_var(np.zeros((0, 0)), [], method=method, confidence=confidence,
                            horizon_days=horizon_days)  # fmt: skip
        if portfolio.total > 0:
            return _all_cash(empty, float(portfolio.total)), None
        return empty, None
    history = history_for(portfolio, lookback_days)
    result = compute_var(
        history.returns,
        portfolio.values(),
        method=method,
        confidence=confidence,
        horizon_days=horizon_days,
        simulations=simulations,
        seed=seed,
    )
    return result, history


def _all_cash(empty: VarResult, total: float) -> VarResult:
    return replace(empty, portfolio_value=total, note="The portfolio is all cash: nothing at risk.")


def portfolio_return_series(portfolio: Portfolio, lookback_days: int | None = None) -> np.ndarray:
    """Daily returns of today's portfolio (weights = today's values over the total)."""
    history = history_for(portfolio, lookback_days)
    total = float(portfolio.total)
    if total <= 0:
        raise ValidationFailed("the portfolio has no value", code="empty_portfolio")
    return np.asarray(history.returns @ (portfolio.values() / total), dtype=np.float64)


def portfolio_backtest(
    portfolio: Portfolio,
    *,
    method: str,
    confidence: float,
    window: int | None,
    seed: int | None = None,
    lookback_days: int | None = None,
) -> VarBacktestResult:
    returns = portfolio_return_series(portfolio, lookback_days)
    chosen = window if window is not None else min(DEFAULT_WINDOW, max(30, returns.size // 2))
    return backtest_var(returns, window=chosen, confidence=confidence, method=method, seed=seed)


def portfolio_monte_carlo(
    portfolio: Portfolio,
    *,
    days: int,
    simulations: int,
    method: str,
    seed: int | None,
    loss_threshold_pct: float = 20.0,
    lookback_days: int | None = None,
    progress: montecarlo.Progress | None = None,
) -> montecarlo.MonteCarloResult:
    """GBM fitted to, or a bootstrap of, today's portfolio's own daily returns."""
    if method not in MC_METHODS:
        raise ValidationFailed(
            f"Unknown Monte Carlo method {method!r}.",
            code="invalid_method",
            details={"method": method, "allowed": list(MC_METHODS)},
        )
    returns = portfolio_return_series(portfolio, lookback_days)
    capital = float(portfolio.total)
    common: dict[str, Any] = {
        "simulations": simulations,
        "seed": seed,
        "loss_threshold_pct": loss_threshold_pct,
        "progress": progress,
    }
    if method == "gbm":
        return montecarlo.simulate_gbm(capital, days, returns=returns, **common)
    return montecarlo.simulate_bootstrap(capital, returns, days, scheme=_SCHEMES[method], **common)


def portfolio_stress(
    portfolio: Portfolio, scenario: str | Mapping[str, float]
) -> stress.StressResult:
    """PnL per holding under a named historical shock or custom shocks (percent)."""
    values = {h.asset: h.value for h in portfolio.holdings}
    return stress.run_stress_test(values, scenario)
