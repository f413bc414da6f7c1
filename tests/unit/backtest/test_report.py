from __future__ import annotations

from amarktai.backtest.data import random_walk_bars
from amarktai.backtest.event import run_event
from amarktai.backtest.montecarlo import trade_sequence_monte_carlo
from amarktai.backtest.report import render_html


def test_report_is_self_contained() -> None:
    result = run_event("sma_cross", random_walk_bars(3_000), params={"fast": 5, "slow": 20},
                       decisions="signals")  # fmt: skip
    page = render_html(result)
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 2
    assert "http" not in page and "<script" not in page
    assert "sharpe" in page


def test_trade_sequence_monte_carlo_runs() -> None:
    result = run_event("sma_cross", random_walk_bars(3_000), params={"fast": 5, "slow": 20},
                       decisions="signals")  # fmt: skip
    mc = trade_sequence_monte_carlo(result, simulations=500, seed=1)
    assert mc.capital == 10_000
