"""Sizing and pre-trade checks shared by the engine and the backtester."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from amarktai.engine.lifecycle import next_status
from amarktai.engine.planner import Exposure, Holdings, Limits, plan
from amarktai.kit.errors import Conflict
from amarktai.markets.instruments import SIM_INSTRUMENTS
from amarktai.strategies.base import Decision, OrderIntent

BTC = next(i for i in SIM_INSTRUMENTS if i.symbol == "BTC/ZAR")
PRICE = Decimal(1_200_000)


def test_explicit_buy_beyond_cash_is_denied_with_reason() -> None:
    d = Decision(rule="buy", signal=1.0, order=OrderIntent(side="buy", notional=Decimal(5000)))
    p = plan(d, instrument=BTC, price=PRICE, holdings=Holdings(Decimal(1000), Decimal(0)))
    assert p.outcome == "denied"
    failed = [c for c in p.checks if not c.passed]
    assert "allocated_capital" in [c.name for c in failed]


def test_sell_more_than_held_is_denied_long_only() -> None:
    d = Decision(rule="sell", signal=-1.0, order=OrderIntent(side="sell", qty=Decimal("0.5")))
    p = plan(d, instrument=BTC, price=PRICE, holdings=Holdings(Decimal(0), Decimal("0.1")))
    assert p.outcome == "denied" and any(c.name == "long_only" and not c.passed for c in p.checks)


def test_tiny_order_fails_instrument_rules() -> None:
    d = Decision(rule="buy", signal=1.0, order=OrderIntent(side="buy", notional=Decimal(1)))
    p = plan(d, instrument=BTC, price=PRICE, holdings=Holdings(Decimal(1000), Decimal(0)))
    assert p.outcome == "denied"
    rules = next(c for c in p.checks if c.name == "instrument_rules")
    assert not rules.passed and "below_min" in rules.detail


def test_target_flat_sells_everything_and_none_holds() -> None:
    h = Holdings(Decimal(0), Decimal("0.01"))
    p = plan(
        Decision(rule="exit", signal=-1.0, target=0.0), instrument=BTC, price=PRICE, holdings=h
    )
    assert (p.outcome, p.side, p.qty) == ("order", "sell", Decimal("0.01"))
    idle = plan(Decision(rule="warm", signal=0.0), instrument=BTC, price=PRICE, holdings=h)
    assert idle.outcome == "hold"


@given(
    cash=st.decimals(min_value=0, max_value=10_000_000, places=2),
    held=st.decimals(min_value=0, max_value=5, places=8),
    target=st.floats(min_value=0, max_value=1),
    cap=st.decimals(min_value=Decimal("0.05"), max_value=1, places=2),
)
def test_target_orders_never_overspend_or_oversell(
    cash: Decimal, held: Decimal, target: float, cap: Decimal
) -> None:
    h = Holdings(cash, held)
    p = plan(
        Decision(rule="t", signal=0.0, target=target),
        instrument=BTC,
        price=PRICE,
        holdings=h,
        limits=Limits(max_position_fraction=cap),
    )
    if p.outcome != "order":
        return
    if p.side == "buy":
        assert p.qty * PRICE * (1 + BTC.taker_fee) <= cash
        assert (held + p.qty) * PRICE <= cap * h.equity(PRICE) * Decimal("1.0001")
    else:
        assert p.qty <= held
    assert p.qty % BTC.qty_step == 0


def test_lifecycle_transitions() -> None:
    assert next_status("created", "start") == "running"
    assert next_status("running", "pause") == "paused"
    assert next_status("paused", "start") == "running"
    assert next_status("halted", "stop") == "stopped"
    try:
        next_status("halted", "start")
    except Conflict as exc:
        assert exc.details["current_status"] == "halted" and exc.code == "invalid_bot_transition"
    else:
        raise AssertionError("halted bots must not restart without a reset")


def test_value_caps_add_checks_and_keep_the_order_fields() -> None:
    """A buy checked against the bot's value cap and the user's exposure: the caps join
    the checks in front, a failed one denies with its name as the note, and the order's
    side, size, type and prices are those of the plan without the caps."""
    h = Holdings(Decimal(1_000_000), Decimal(0))
    intent = OrderIntent(side="buy", type="limit", qty=Decimal("0.1"), limit_price=PRICE)
    d = Decision(rule="buy", signal=1.0, order=intent)
    bare = plan(d, instrument=BTC, price=PRICE, holdings=h)
    capped = plan(
        d,
        instrument=BTC,
        price=PRICE,
        holdings=h,
        limits=Limits(max_position_value=Decimal(100_000)),
        exposure=Exposure(Decimal(0), Decimal(10_000_000)),
    )
    assert bare.outcome == "order"
    assert (capped.outcome, capped.note) == ("denied", "max_position_value")
    assert [c.name for c in capped.checks[:2]] == ["max_position_value", "user_max_exposure"]
    assert capped.checks[2:] == bare.checks
    same = ("side", "qty", "type", "limit_price", "stop_price")
    assert all(getattr(capped, f) == getattr(bare, f) for f in same)
    roomy = plan(
        d, instrument=BTC, price=PRICE, holdings=h, exposure=Exposure(Decimal(0), Decimal(10**9))
    )
    assert (roomy.outcome, roomy.note) == ("order", "")
    assert roomy.trace()["checks"][0]["name"] == "user_max_exposure"
