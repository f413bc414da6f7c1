from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from amarktai.execution import Fill, apply_fill, new_order, transition
from amarktai.kit.errors import Conflict, ValidationFailed

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def order(**kw: object):  # type: ignore[no-untyped-def]
    base: dict[str, object] = dict(
        client_order_id="c1",
        bot_id="b1",
        symbol="BTC/ZAR",
        side="buy",
        type="limit",
        qty="0.01",
        limit_price="1000",
        created_at=T0,
    )
    base.update(kw)
    return new_order(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"limit_price": None}, "missing_limit_price"),
        ({"type": "market"}, "unexpected_limit_price"),
        ({"type": "stop", "limit_price": None}, "missing_stop_price"),
        ({"type": "stop_limit"}, "missing_stop_price"),
        ({"qty": "0"}, "non_positive_qty"),
        ({"limit_price": "-1"}, "non_positive_price"),
        ({"side": "long"}, "bad_side"),
        ({"type": "iceberg"}, "bad_order_type"),
        ({"time_in_force": "DAY"}, "bad_time_in_force"),
        ({"qty": "abc"}, "bad_number"),
        ({"client_order_id": ""}, "missing_client_order_id"),
    ],
)
def test_field_validation(kw: dict[str, object], code: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        order(**kw)
    assert err.value.code == code


def test_valid_kinds() -> None:
    assert order(type="market", limit_price=None).acts_as == "market"
    stop = order(type="stop", limit_price=None, stop_price="900")
    assert stop.acts_as == "pending_stop"
    assert order(type="stop_limit", stop_price="900").limit_price == D(1000)


def test_transitions() -> None:
    o = transition(order(), "open")
    assert transition(o, "cancelled", reason="x").reason == "x"
    done = transition(o, "filled")
    for bad in ("open", "cancelled", "partially_filled"):
        with pytest.raises(Conflict) as err:
            transition(done, bad)  # type: ignore[arg-type]
        assert err.value.code == "invalid_order_transition"
    with pytest.raises(Conflict):
        transition(o, "rejected")


def test_apply_fill_vwap_fees_and_overfill() -> None:
    o = transition(order(qty="3"), "open")

    def f(price: str, qty: str) -> Fill:
        return Fill(o.id, T0, o.symbol, "buy", D(price), D(qty), D("0.1"), "ZAR", "maker")

    o = apply_fill(o, f("10", "1"))
    assert o.status == "partially_filled" and o.avg_price == D(10)
    o = apply_fill(o, f("13", "2"))
    assert o.status == "filled" and o.avg_price == D(12) and o.fees == D("0.2")
    with pytest.raises(Conflict) as err:
        apply_fill(o, f("13", "1"))
    assert err.value.code in {"overfill", "invalid_order_transition"}


def test_transition_and_fill_copy_every_other_field() -> None:
    """`transition`/`apply_fill` copy an order field by field (not `dataclasses.replace`):
    a field added to Order but not copied there would silently reset to its default."""
    from dataclasses import fields, replace

    from amarktai.execution.orders import _moved

    o = order()
    marked = replace(o, **{f.name: object() for f in fields(o)})  # no field at its default
    moved = _moved(marked, "open", None)
    for f in fields(o):
        if f.name not in ("status", "reason"):
            assert getattr(moved, f.name) is getattr(marked, f.name), f.name
    fill = Fill(o.id, T0, "BTC/ZAR", "buy", D("1000"), D("0.004"), D("0.004"), "ZAR", "taker")
    filled = apply_fill(transition(replace(o, reason="r"), "open"), fill)
    assert filled == replace(
        o,
        status="partially_filled",
        reason="r",
        filled_qty=D("0.004"),
        avg_price=D("1000"),
        fees=D("0.004"),
    )
