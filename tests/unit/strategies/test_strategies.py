"""Built-in strategies on real data: decisions, traces, vectorised parity, no look-ahead."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from tests.support import scrambled_after

from amarktai.kit.errors import NotFound, ValidationFailed
from amarktai.strategies.base import Bars, Decision, OrderIntent, Strategy, StrategyContext
from amarktai.strategies.builtin.grid import grid_inventory
from amarktai.strategies.registry import create_strategy, get_strategy, list_strategies

TARGET_STRATEGIES: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
    ("sma_cross", {}, ("sma_fast", "sma_slow")),
    ("sma_cross", {"fast": 12, "slow": 26, "ma": "ema"}, ("ema_fast", "ema_slow")),
    ("rsi_reversion", {}, ("rsi",)),
    ("bollinger_breakout", {}, ("bb_middle", "bb_upper", "bb_lower")),
    ("macd", {}, ("macd", "macd_signal", "macd_histogram")),
    ("grid", {"levels": 4, "spacing_pct": 3.0}, ("grid_centre", "grid_units")),
    ("grid", {"reference_price": 40_000.0, "spacing_pct": 10.0}, ("grid_centre", "grid_depth")),
]
IDS = [f"{name}-{'-'.join(map(str, p.values())) or 'default'}" for name, p, _ in TARGET_STRATEGIES]
CASES = list(zip(IDS, TARGET_STRATEGIES, strict=True))


def context(bars: Bars, t: int, cash: str = "10000") -> StrategyContext:
    return StrategyContext(bars.upto(t), cash=Decimal(cash), equity=Decimal(cash), bar_index=t)


def replay(strategy: Strategy, bars: Bars) -> list[Decision]:
    return [strategy.on_bar(context(bars, t)) for t in range(len(bars))]


def targets(decisions: list[Decision]) -> np.ndarray:
    return np.array([np.nan if d.target is None else d.target for d in decisions])


@pytest.fixture(scope="module")
def replays(btc_daily: Bars) -> dict[str, list[Decision]]:
    return {
        key: replay(create_strategy(name, params), btc_daily)
        for key, (name, params, _) in zip(IDS, TARGET_STRATEGIES, strict=True)
    }


@pytest.mark.parametrize(("key", "spec"), CASES, ids=IDS)
def test_on_bar_equals_vectorised_signals(
    key: str,
    spec: tuple[str, dict[str, Any], tuple[str, ...]],
    btc_daily: Bars,
    replays: dict[str, list[Decision]],
) -> None:
    name, params, _ = spec
    fast = create_strategy(name, params).signals(btc_daily)
    assert fast is not None
    np.testing.assert_array_equal(targets(replays[key]), fast)


@pytest.mark.parametrize(("key", "spec"), CASES, ids=IDS)
def test_decisions_are_sensible_and_traced(
    key: str, spec: tuple[str, dict[str, Any], tuple[str, ...]], replays: dict[str, list[Decision]]
) -> None:
    name, params, indicator_names = spec
    decisions = replays[key]
    warm = create_strategy(name, params).warmup_bars
    assert all(d.target is None and "warm-up" in d.rule for d in decisions[: warm - 1])
    live = decisions[warm:]
    assert all(d.target is not None and 0.0 <= d.target <= 1.0 for d in live)
    changes = np.count_nonzero(np.diff(targets(live)))
    assert 3 <= changes < len(live) / 2, "trades now and then, but does not churn every bar"
    for d in live[::97]:
        trace = json.loads(json.dumps(d.trace))
        assert trace["rule"] and -1.0 <= trace["signal"] <= 1.0
        assert trace["inputs"]["price"] > 0
        assert set(indicator_names) <= set(trace["indicators"])


@pytest.mark.parametrize(("name", "params"), [(n, p) for n, p, _ in TARGET_STRATEGIES], ids=IDS)
def test_no_look_ahead(name: str, params: dict[str, Any], btc_daily: Bars) -> None:
    """Scrambling every bar after t changes neither the fast path nor on_bar up to t."""
    t = 900
    altered = scrambled_after(btc_daily, t, seed=7)
    strategy = create_strategy(name, params)
    before, after = strategy.signals(btc_daily), strategy.signals(altered)
    assert before is not None and after is not None
    np.testing.assert_array_equal(before[: t + 1], after[: t + 1])
    assert not np.array_equal(before[t + 1 :], after[t + 1 :])
    fresh = create_strategy(name, params)
    assert strategy.on_bar(context(btc_daily, t)).trace == fresh.on_bar(context(altered, t)).trace


def test_intraday_parity_for_a_crossover(eth_btc_5m: Bars) -> None:
    strategy = create_strategy("sma_cross", {"fast": 10, "slow": 50, "ma": "ema"})
    fast = strategy.signals(eth_btc_5m)
    assert fast is not None
    np.testing.assert_array_equal(targets(replay(strategy, eth_btc_5m)), fast)


def test_crossover_rule_reads_like_the_numbers(btc_daily: Bars) -> None:
    decision = create_strategy("sma_cross", {"fast": 5, "slow": 20}).on_bar(context(btc_daily, 500))
    fast, slow = decision.indicators["sma_fast"], decision.indicators["sma_slow"]
    assert decision.target == (1.0 if fast > slow else 0.0)
    assert ("long" if fast > slow else "flat") in decision.rule
    assert fast == pytest.approx(float(np.mean(btc_daily.close[496:501])))


def test_dca_buys_a_fixed_amount_on_schedule(btc_daily: Bars) -> None:
    dca = create_strategy("dca", {"quote_amount": 250, "every_bars": 7})
    decisions = [dca.on_bar(context(btc_daily, t)) for t in range(30)]
    buys = [t for t, d in enumerate(decisions) if d.order is not None]
    assert buys == [0, 7, 14, 21, 28]
    order = decisions[7].order
    assert order == OrderIntent(side="buy", type="market", notional=Decimal("250.0"))
    assert decisions[7].target is None and decisions[7].signal == 1.0
    assert decisions[8].order is None and "wait" in decisions[8].rule
    short = dca.on_bar(context(btc_daily, 14, cash="100"))
    assert short.order is None and "short" in short.rule
    assert dca.signals(btc_daily) is None


def test_grid_inventory_has_one_step_of_hysteresis() -> None:
    prices = np.array([100.0, 98.5, 97.5, 98.2, 99.1, 100.5, 90.0])
    depth = (1.0 - prices / 100.0) / 0.01
    np.testing.assert_array_equal(grid_inventory(depth, 3), [0, 1, 2, 2, 1, 0, 3])


def test_grid_memo_gives_the_same_answer_as_a_cold_replay(btc_daily: Bars) -> None:
    warm = create_strategy("grid", {"spacing_pct": 2.0})
    for t in range(100, 400):
        warm.on_bar(context(btc_daily, t))
    cold = create_strategy("grid", {"spacing_pct": 2.0})
    assert warm.on_bar(context(btc_daily, 400)).trace == cold.on_bar(context(btc_daily, 400)).trace


def test_context_arrays_are_read_only(btc_daily: Bars) -> None:
    ctx = context(btc_daily, 10)
    with pytest.raises(ValueError):
        ctx.close[-1] = 0.0
    assert len(ctx.close) == 11 and ctx.time.tzinfo is not None


# ------------------------------------------------------------------ params and registry


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"speed": 3}, "speed"),
        ({"fast": 1}, "fast"),
        ({"slow": 5000}, "slow"),
        ({"fast": 2.5}, "fast"),
        ({"fast": True}, "fast"),
        ({"fast": "10"}, "fast"),
        ({"ma": "wma"}, "ma"),
        ({"fast": 60, "slow": 50}, "fast"),
    ],
)
def test_invalid_params_name_the_culprit(params: dict[str, Any], bad: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        create_strategy("sma_cross", params)
    assert err.value.code == "invalid_parameter" and err.value.status == 422
    assert err.value.details == {"param": bad} and bad in err.value.message


def test_valid_params_are_coerced_and_defaulted() -> None:
    strategy = create_strategy("sma_cross", {"fast": 10.0})
    assert strategy.params.to_dict() == {"fast": 10, "slow": 50, "ma": "sma"}
    assert isinstance(strategy.params.to_dict()["fast"], int)
    grid = create_strategy("grid", {"spacing_pct": 2})
    assert grid.params.to_dict()["spacing_pct"] == 2.0


def test_registry_lists_json_schemas_and_rejects_unknown_names() -> None:
    catalogue = json.loads(json.dumps(list_strategies()))
    names = {entry["name"] for entry in catalogue}
    assert names == {"sma_cross", "rsi_reversion", "bollinger_breakout", "macd", "dca", "grid"}
    sma = next(e for e in catalogue if e["name"] == "sma_cross")
    fast = next(p for p in sma["params"] if p["name"] == "fast")
    assert fast == {
        "name": "fast",
        "type": "int",
        "default": 20,
        "min": 2,
        "max": 500,
        "description": fast["description"],
        "choices": None,
    }
    assert {e["name"]: e["vectorised"] for e in catalogue}["dca"] is False
    with pytest.raises(NotFound) as err:
        get_strategy("moon_shot")
    assert err.value.code == "unknown_strategy" and err.value.status == 404


def test_decision_and_order_intent_guard_their_invariants() -> None:
    with pytest.raises(ValidationFailed, match="outside"):
        Decision(rule="r", signal=0.0, target=1.5)
    with pytest.raises(ValidationFailed, match="outside"):
        Decision(rule="r", signal=2.0)
    with pytest.raises(ValidationFailed):
        OrderIntent(side="buy", qty=Decimal(1), notional=Decimal(5))
    with pytest.raises(ValidationFailed, match="limit price"):
        OrderIntent(side="sell", type="limit", qty=Decimal(1))
    order = OrderIntent(
        side="sell",
        type="stop_limit",
        qty=Decimal("0.5"),
        limit_price=Decimal(9),
        stop_price=Decimal(10),
    )
    with pytest.raises(ValidationFailed, match="not both"):
        Decision(rule="r", signal=0.0, target=0.5, order=order)
    assert order.to_dict()["qty"] == "0.5"
