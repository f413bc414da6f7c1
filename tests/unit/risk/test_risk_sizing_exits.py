from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from amarktai.kit.errors import ValidationFailed
from amarktai.risk.exits import (
    Bar,
    ExitRules,
    advance,
    average_true_range,
    chandelier_levels,
    check_exit,
    open_position,
)
from amarktai.risk.sizing import (
    TradeStats,
    fixed_fraction_notional,
    fixed_fraction_quantity,
    fractional_kelly,
    kelly_binary,
    kelly_continuous,
    kelly_growth_rate,
    kelly_multi_asset,
    kelly_notional,
    trade_stats,
)

# --------------------------------------------------------------------------- sizing


def test_kelly_reference_anchors(misc_ref: dict[str, Any]) -> None:
    ref = misc_ref["kelly"]
    assert kelly_binary(0.55, 1.0) == pytest.approx(ref["binary p=0.55 b=1: f*=p-(1-p)/b"])
    assert kelly_binary(0.40, 2.0) == pytest.approx(ref["binary p=0.40 b=2: f*"])
    f_star = kelly_continuous(0.5, 0.8)
    assert f_star == pytest.approx(ref["GBM mu=0.5 sigma=0.8 r=0: f*=(mu-r)/sigma^2"])
    assert kelly_growth_rate(f_star, 0.5, 0.8) == pytest.approx(
        ref["growth at f*: (mu-r)^2/(2 sigma^2)"]
    )
    assert kelly_growth_rate(f_star / 2, 0.5, 0.8) == pytest.approx(
        ref["growth at f*/2 (half Kelly) = 0.75 g*"]
    )
    assert kelly_growth_rate(2 * f_star, 0.5, 0.8) == pytest.approx(0.0, abs=1e-12)
    assert kelly_continuous(0.5 / 365, 0.8 / 365**0.5) == pytest.approx(f_star)
    wrong = ref["WRONG: using mean LOG return m=mu-sigma^2/2 in place of mu -> f"]
    assert kelly_continuous(0.5 - 0.32, 0.8) == pytest.approx(wrong)  # the bug we avoid
    multi = kelly_multi_asset([0.5, 0.3], [[0.64, 0.3], [0.3, 0.36]])
    np.testing.assert_allclose(
        multi, ref["2-asset f*=Sigma^-1 mu (mu=[.5,.3], Sigma=[[.64,.3],[.3,.36]])"], atol=1e-6
    )


def test_fractional_kelly_shrinks_with_few_trades_and_caps() -> None:
    few = fractional_kelly(TradeStats(10, 0.6, 1.0, 1.0))
    many = fractional_kelly(TradeStats(1_000, 0.6, 1.0, 1.0))
    assert few.full_kelly == pytest.approx(0.2)
    assert few.shrunk_kelly == pytest.approx(0.05)  # p' = (6 + 15)/40 = 0.525
    assert few.fraction == pytest.approx(0.025)
    assert few.fraction < many.fraction <= 0.1
    capped = fractional_kelly(TradeStats(5_000, 0.9, 2.0, 1.0), kelly_fraction=1.0)
    assert capped.capped and capped.fraction == 0.25


def test_fractional_kelly_without_edge_or_losses() -> None:
    assert fractional_kelly(TradeStats(100, 0.4, 1.0, 1.0)).fraction == 0.0
    assert fractional_kelly(TradeStats(5, 0.0, 0.0, 1.0)).fraction == 0.0
    lucky = fractional_kelly(TradeStats(3, 1.0, 0.02, 0.0))
    assert 0 < lucky.fraction < 0.05  # three wins are not proof of a sure thing


def test_trade_stats_and_notional() -> None:
    stats = trade_stats([0.02, -0.01, 0.04, -0.01, 0.0])
    assert stats == TradeStats(5, 0.4, pytest.approx(0.03), pytest.approx(0.01))  # type: ignore[arg-type]
    sizing = fractional_kelly(stats)
    assert kelly_notional(Decimal("10000"), sizing) == Decimal("10000") * Decimal(
        repr(sizing.fraction)
    )


def test_fixed_fraction() -> None:
    assert fixed_fraction_notional(Decimal("10000"), 0.02) == Decimal("200.00")
    assert fixed_fraction_quantity(Decimal("10000"), 0.01, Decimal("100"), Decimal("95")) == 20
    with pytest.raises(ValidationFailed):
        fixed_fraction_quantity(1000, 0.01, 100, 100)
    with pytest.raises(ValidationFailed):
        fixed_fraction_notional(1000, 1.5)


# --------------------------------------------------------------------------- ATR / chandelier


def _reference_bars() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """misc_ref.json's recipe (draw order c, o, h, l)."""
    rng = np.random.default_rng(5)
    c = 100 * np.exp(np.cumsum(rng.normal(0, 0.03, 300)))
    o = np.concatenate([[100], c[:-1]]) * np.exp(rng.normal(0, 0.005, 300))
    h = np.maximum(o, c) * (1 + np.abs(rng.normal(0, 0.01, 300)))
    lo = np.minimum(o, c) * (1 - np.abs(rng.normal(0, 0.01, 300)))
    return h, lo, c


@pytest.mark.parametrize(
    ("kind", "key"), [("wilder", "Wilder(TA-Lib-like seed)"), ("sma", "SMA"), ("ema", "EMA span=N")]
)
def test_chandelier_reference(misc_ref: dict[str, Any], kind: str, key: str) -> None:
    ref = misc_ref["chandelier_N22_M3"]
    h, lo, c = _reference_bars()
    assert c[-1] == pytest.approx(ref["close_last"], rel=1e-12)
    atr = average_true_range(h, lo, c, 22, kind)  # type: ignore[arg-type]
    long_stop, short_stop = chandelier_levels(h, lo, c, 22, 3.0, kind)  # type: ignore[arg-type]
    assert atr[-1] == pytest.approx(ref[key]["ATR_last"], rel=1e-10)
    assert long_stop[-1] == pytest.approx(ref[key]["chandelier_long_last"], rel=1e-10)
    assert short_stop[-1] == pytest.approx(ref[key]["chandelier_short_last"], rel=1e-10)
    moves_down = int(np.sum(np.diff(long_stop) < 0))
    assert moves_down > 0  # the rolling version loosens; the position exit ratchets


# --------------------------------------------------------------------------- position exits


def test_stop_loss_fills_at_gap_open() -> None:
    state = open_position("long", 100.0)
    rules = ExitRules(stop_loss=0.05)
    assert not check_exit(state, Bar(99, 101, 96, 97), rules).should_exit
    gap = check_exit(state, Bar(90, 92, 88, 91), rules)
    assert gap.should_exit and gap.reason == "stop_loss"
    assert gap.level == pytest.approx(95.0) and gap.fill_price == 90.0
    touch = check_exit(state, Bar(97, 98, 94, 96), rules)
    assert touch.fill_price == pytest.approx(95.0)


def test_take_profit_and_stop_priority() -> None:
    rules = ExitRules(stop_loss=0.05, take_profit=0.10)
    state = open_position("long", 100.0)
    tp = check_exit(state, Bar(105, 111, 104, 110), rules)
    assert tp.reason == "take_profit" and tp.fill_price == pytest.approx(110.0)
    both = check_exit(state, Bar(100, 112, 94, 100), rules)
    assert both.reason == "stop_loss"  # unknown order inside the bar: assume the worst


def test_short_side_levels() -> None:
    state = open_position("short", 100.0)
    rules = ExitRules(stop_loss=0.05, take_profit=0.10)
    stop = check_exit(state, Bar(104, 107, 103, 106), rules)
    assert stop.reason == "stop_loss" and stop.fill_price == pytest.approx(105.0)
    target = check_exit(state, Bar(91, 92, 85, 88), rules)
    assert target.reason == "take_profit" and target.fill_price == pytest.approx(90.0)


def test_trailing_stop_follows_highest_high() -> None:
    rules = ExitRules(trailing_stop=0.10)
    state = open_position("long", 100.0)
    state = advance(state, Bar(100, 120, 99, 118), rules)
    assert not check_exit(state, Bar(118, 119, 109, 110), rules).should_exit
    exit_ = check_exit(state, Bar(110, 111, 107, 108), rules)
    assert exit_.reason == "trailing_stop" and exit_.level == pytest.approx(108.0)


def test_chandelier_since_entry_ratchets() -> None:
    rules = ExitRules(chandelier_multiplier=3.0, atr_period=3)
    state = open_position("long", 100.0, atr=2.0)
    stops = []
    bars = [
        Bar(100, 104, 99, 103),
        Bar(103, 106, 102, 105),
        Bar(105, 105, 95, 96),
        Bar(96, 97, 94, 95),
    ]
    for bar in bars:
        state = advance(state, bar, rules)
        stops.append(state.chandelier_stop)
    assert all(b >= a for a, b in itertools.pairwise(stops))  # never loosens
    assert state.highest_high == 106
    hit = check_exit(state, Bar(95, 96, 90, 91), rules)
    assert hit.should_exit and hit.reason == "chandelier"
    assert hit.fill_price == pytest.approx(min(95.0, state.chandelier_stop or 0.0))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"stop_loss": 0.0},
        {"stop_loss": 1.5},
        {"trailing_stop": -0.1},
        {"take_profit": 0.0},
        {"chandelier_multiplier": 0.0},
        {"atr_period": 0},
    ],
)
def test_bad_exit_rules(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed):
        ExitRules(**kwargs)


def test_bad_position() -> None:
    with pytest.raises(ValidationFailed):
        open_position("long", 0.0)
    with pytest.raises(ValidationFailed):
        open_position("sideways", 1.0)  # type: ignore[arg-type]
