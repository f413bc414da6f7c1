"""Backtesting: event-driven (the live strategy code, planner and paper fills, bar by
bar), a vectorised fast path with the same rules, HTML reports, Monte Carlo of the trade
sequence, and the NSGA-II optimiser with walk-forward validation."""

from amarktai.backtest.data import load_bars, random_walk_bars, validate_bars
from amarktai.backtest.event import run_event
from amarktai.backtest.models import BacktestConfig, BacktestResult, TradeRecord
from amarktai.backtest.report import render_html
from amarktai.backtest.vectorised import run_vectorised

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
