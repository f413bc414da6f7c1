"""The engine's per-bot context on real data: the bars it keeps (only `lookback_bars`)
plus the previous bar's target give the same decision as the strategy on the full
history, latched strategies included (RSI long across more bars than its window)."""

from __future__ import annotations

from typing import Any

import pytest
from benchmarks.shared_data import find_shared_data_dir

from amarktai.engine.planner import Limits
from amarktai.engine.runner import BotRunner, _bars
from amarktai.markets.instruments import default_registry
from amarktai.markets.replay import load_candles
from amarktai.strategies.base import StrategyContext
from amarktai.strategies.registry import create_strategy

CASES: list[tuple[str, dict[str, Any]]] = [
    ("rsi_reversion", {}),
    ("bollinger_breakout", {}),
    ("grid", {"levels": 3, "spacing_pct": 0.2, "reference_window": 50}),
    ("sma_cross", {"fast": 12, "slow": 26, "ma": "ema"}),
]


@pytest.mark.parametrize(("name", "params"), CASES, ids=[c[0] for c in CASES])
def test_windowed_engine_context_decides_like_the_full_history(
    name: str, params: dict[str, Any]
) -> None:
    candles = load_candles(find_shared_data_dir() / "intraday" / "ETH_BTC-5m.feather")
    runner = _runner(name, params)
    reference = create_strategy(name, params)
    full = reference.stream(_bars(candles))
    kept = 0
    for i, candle in enumerate(candles):
        bars = runner.push(candle)
        kept = max(kept, len(bars))
        ctx = StrategyContext(
            bars, bar_index=runner.bar_index - 1, previous_target=runner.previous_target()
        )
        decision = runner.strategy.on_bar(ctx)
        runner.decided = (runner.bar_index, decision.target)
        assert decision.target == full.decide(i).target, f"{name} bar {i}"
    assert kept < len(candles) // 10  # the engine really decided on a trimmed window


def test_a_gap_in_decisions_forgets_the_previous_target() -> None:
    runner = _runner("rsi_reversion", {})
    candles = load_candles(find_shared_data_dir() / "intraday" / "ETH_BTC-5m.feather")[:3]
    runner.push(candles[0])
    runner.decided = (runner.bar_index, 1.0)
    runner.push(candles[1])
    assert runner.previous_target() == 1.0
    runner.push(candles[2])  # no decision on bar 1 (e.g. a circuit breaker denied it)
    assert runner.previous_target() is None


def _runner(name: str, params: dict[str, Any]) -> BotRunner:
    return BotRunner(
        bot_id="b1",
        user_id="u1",
        mode="paper_public",
        timeframe=300,
        instrument=default_registry().get("replay", "ETH/BTC"),
        strategy=create_strategy(name, params),
        limits=Limits.from_dict({}),
    )
