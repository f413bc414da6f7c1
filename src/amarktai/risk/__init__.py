"""Risk maths: VaR/CVaR and its backtests, Monte Carlo, stress tests, sizing and exits.

Pure functions over NumPy arrays and plain values (no database, no web), so the API,
CLI and bots share one implementation. Each module documents its conventions.
"""

from amarktai.risk.montecarlo import MonteCarloResult, simulate_bootstrap, simulate_gbm
from amarktai.risk.stress import StressResult, list_scenarios, run_stress_test
from amarktai.risk.var import VarResult, compute_var
from amarktai.risk.var_backtest import VarBacktestResult, backtest_var

__all__ = [
    "MonteCarloResult",
    "StressResult",
    "VarBacktestResult",
    "VarResult",
    "backtest_var",
    "compute_var",
    "list_scenarios",
    "run_stress_test",
    "simulate_bootstrap",
    "simulate_gbm",
]
