"""Backtesting: event-driven (the live strategy code, planner and paper fills, bar by
bar), a vectorised fast path with the same rules, HTML reports, Monte Carlo of the trade
sequence, and the NSGA-II optimiser with walk-forward validation.

The names below load their module on first use, so importing one path (e.g. the
vectorised one) does not pay for the others' imports (the planner's risk stack, pandas).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from amarktai.backtest.data import load_bars, random_walk_bars, validate_bars
    from amarktai.backtest.event import run_event
    from amarktai.backtest.models import BacktestConfig, BacktestResult, TradeRecord
    from amarktai.backtest.report import render_html
    from amarktai.backtest.vectorised import run_vectorised

_HOME = {
    "BacktestConfig": "models",
    "BacktestResult": "models",
    "TradeRecord": "models",
    "load_bars": "data",
    "random_walk_bars": "data",
    "render_html": "report",
    "run_event": "event",
    "run_vectorised": "vectorised",
    "validate_bars": "data",
}

__all__ = [
    "BacktestConfig",
    "BacktestResult",
    "TradeRecord",
    "load_bars",
    "random_walk_bars",
    "render_html",
    "run_event",
    "run_vectorised",
    "validate_bars",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"amarktai.backtest.{_HOME[name]}"), name)
