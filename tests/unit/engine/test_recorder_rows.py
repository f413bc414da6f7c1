"""The bulk-insert rows are positional tuples: every position must hold the value of the
column named there (an order row's qty in `qty`, never in `filled_qty`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from types import SimpleNamespace

from amarktai.engine import recorder
from amarktai.engine.models import OrderRow
from amarktai.execution.orders import Fill, apply_fill, new_order
from amarktai.ledger import journal

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_order_and_fill_rows_put_each_value_under_its_column() -> None:
    order = new_order(
        client_order_id="c1",
        bot_id="b1",
        symbol="BTC/ZAR",
        side="sell",
        type="stop_limit",
        qty=D("0.5"),
        limit_price=D("990"),
        stop_price=D("1000"),
        created_at=T0,
        time_in_force="IOC",
    )
    fill = Fill(order.id, T0 + timedelta(seconds=5), "BTC/ZAR", "sell", D("995"), D("0.2"),
                D("0.199"), "ZAR", "maker")  # fmt: skip
    order = apply_fill(order, fill)
    now = T0 + timedelta(seconds=9)
    rows = recorder.Rows()
    rows.order(order, "u1", now)
    pnl = journal.bot_account("b1", "pnl")
    entry = SimpleNamespace(id="e1", postings=[SimpleNamespace(account=pnl, amount=D(-7))])
    rows.fill(fill, "u1", "b1", entry)  # the parts of a booked entry a fill row reads
    rows.trace("u1", "b1", now, "r" * 300, 0.5, "order", {"a": 1}, order.id)

    got = dict(zip(recorder._ORDER_COLUMNS, rows.orders[0], strict=True))
    assert got == {
        **{name: getattr(order, name) for name in recorder._ORDER_COLUMNS if hasattr(order, name)},
        "user_id": "u1",
        "updated_at": now,
    }
    got = dict(zip(recorder._FILL_COLUMNS, rows.fills[0], strict=True))
    assert got == {
        **{name: getattr(fill, name) for name in recorder._FILL_COLUMNS if hasattr(fill, name)},
        "user_id": "u1",
        "bot_id": "b1",
        "realised_pnl": D(7),
        "ledger_entry_id": "e1",
    }
    got = dict(zip(recorder._TRACE_COLUMNS, rows.traces[0], strict=True))
    assert len(got.pop("id")) == 26
    assert got == {
        "user_id": "u1",
        "bot_id": "b1",
        "ts": now,
        "rule": "r" * 200,
        "signal": 0.5,
        "outcome": "order",
        "trace": {"a": 1},
        "order_id": order.id,
    }


def test_an_order_row_reads_back_as_the_order_it_was_written_from() -> None:
    """What a restart restores (`order_from_row`) is what was stored (`order_values`),
    a stop's trigger included."""

    limit = new_order(client_order_id="c2", bot_id="b1", symbol="BTC/ZAR", side="buy",
                      type="limit", qty=D("0.3"), limit_price=D("950"), created_at=T0)  # fmt: skip
    stop = new_order(client_order_id="c3", bot_id="b1", symbol="BTC/ZAR", side="sell",
                     type="stop_limit", qty=D("0.5"), limit_price=D("990"),
                     stop_price=D("1000"), created_at=T0)  # fmt: skip
    fill = Fill(stop.id, T0, "BTC/ZAR", "sell", D("995"), D("0.2"), D("0.1"), "ZAR", "maker")
    touched = apply_fill(replace(stop, status="open", triggered=True), fill)
    armed, fired = replace(stop, status="open"), replace(stop, status="open", triggered=True)
    for order in (replace(limit, status="open"), armed, fired, touched):
        row = OrderRow(**recorder.order_values(order, "u1", T0))
        assert recorder.order_from_row(row) == order
