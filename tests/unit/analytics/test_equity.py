"""Equity curves and closed trades against a case worked out by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from amarktai.analytics.equity import equity_curve, sample_instants
from amarktai.analytics.service import Curve, performance
from amarktai.analytics.trades import round_trips
from amarktai.ledger import journal
from amarktai.ledger.journal import Entry, EntryDraft, Position, PostedLine

T0 = datetime(2026, 1, 1, tzinfo=UTC)
D = Decimal


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def entry(seq: int, minutes: int, draft: EntryDraft) -> Entry:
    lines = tuple(PostedLine(p.account, p.asset, p.amount, D(0)) for p in draft.postings)
    return Entry(
        f"e{seq}", seq, at(minutes), draft.kind, draft.user_id, draft.bot_id,
        draft.description, None, None, "", "", lines,
    )  # fmt: skip


def fill(side: str, qty: str, price: str, fee: str) -> journal.Fill:
    return journal.Fill("bot1", side, "BTC", "ZAR", D(qty), D(price), D(fee), "ZAR")  # type: ignore[arg-type]


# deposit 10 000, allocate 1 000 to the bot, buy 0.01 @ 50 000 (fee 1), sell 0.005 @ 60 000
# (fee 0.6; releases cost 250, realises 50), deallocate 300.
ENTRIES = [
    entry(1, 0, journal.deposit("u1", "ZAR", D(10000))),
    entry(2, 1, journal.allocate("u1", "bot1", "ZAR", D(1000))),
    entry(3, 2, journal.fill("u1", fill("buy", "0.01", "50000", "1"))),
    entry(
        4, 4, journal.fill("u1", fill("sell", "0.005", "60000", "0.6"), Position(D("0.01"), D(500)))
    ),
    entry(5, 6, journal.deallocate("u1", "bot1", "ZAR", D(300))),
]
PRICES = {0: D(50000), 3: D(60000), 5: D(40000)}


def price(asset: str, when: datetime) -> Decimal:
    assert asset == "BTC"
    minute = max(m for m in PRICES if at(m) <= when)
    return PRICES[minute]


def test_bot_curve_marks_to_market_and_treats_allocations_as_flows() -> None:
    instants = [at(m) for m in (1, 2, 3, 4, 5, 6)]
    points = equity_curve(ENTRIES, instants, price, bot_id="bot1")
    assert [p.equity for p in points] == [
        D(1000), D(999), D(1099), D("1098.4"), D("998.4"), D("698.4"),
    ]  # fmt: skip
    assert [p.unrealised_pnl for p in points] == [D(0), D(0), D(100), D(50), D(-50), D(-50)]
    assert [p.realised_pnl for p in points][-1] == D(50)
    assert [p.fees for p in points] == [D(0), D(1), D(1), D("1.6"), D("1.6"), D("1.6")]
    assert [p.flow for p in points] == [D(1000), D(0), D(0), D(0), D(0), D(-300)]
    assert [p.in_market for p in points] == [False, False, True, True, True, True]
    growth = [1.0, 0.999, 1.099, 1.0984, 0.9984, 0.9984]
    assert [p.index for p in points] == pytest.approx(growth)


def test_user_curve_counts_free_cash_and_only_deposits_as_flows() -> None:
    points = equity_curve(ENTRIES, [at(0), at(3), at(6)], price)
    assert [p.equity for p in points] == [D(10000), D(10099), D("9998.4")]
    assert [p.flow for p in points] == [D(10000), D(0), D(0)]
    assert points[-1].index == pytest.approx(0.99984)


def test_performance_from_the_curve() -> None:
    points = equity_curve(ENTRIES, [at(m) for m in (1, 2, 3, 4, 5, 6)], price, bot_id="bot1")
    result = performance(Curve("ZAR", points), [], 2)
    assert result["equity"] == "698.4" and result["net_pnl"] == "-1.6"
    assert result["n_fills"] == 2 and result["metrics"]["n_trades"] == 0
    assert result["metrics"]["total_return"] == pytest.approx(-0.0016)
    assert result["metrics"]["max_drawdown"] == pytest.approx(0.9984 / 1.099 - 1)
    assert result["metrics"]["exposure"] == pytest.approx(4 / 5)


@dataclass(frozen=True)
class F:
    id: str
    ts: datetime
    side: str
    price: Decimal
    qty: Decimal
    fee: Decimal
    realised_pnl: Decimal | None = None
    fee_asset: str = "ZAR"
    symbol: str = "BTC/ZAR"


def test_round_trips_release_entry_fees_with_the_cost_basis() -> None:
    fills = [
        F("f1", at(0), "buy", D(50000), D("0.01"), D(1)),
        F("f2", at(1), "buy", D(40000), D("0.01"), D("0.8")),
        F("f3", at(2), "sell", D(60000), D("0.005"), D("0.6"), D(75)),
        F("f4", at(5), "sell", D(30000), D("0.015"), D("0.45"), D(-225)),
        F("f5", at(6), "buy", D(30000), D("0.01"), D("0.3")),
        F("f6", at(8), "sell", D(31000), D("0.01"), D("0.31"), D(10)),
    ]
    first, second, third = round_trips(fills, "ZAR")
    assert (first.entry_price, first.pnl, first.fees, first.net_pnl) == (
        D(45000), D(75), D("1.05"), D("73.95"),
    )  # fmt: skip
    assert (second.entry_price, second.fees, second.net_pnl) == (D(45000), D("1.8"), D("-226.8"))
    assert first.entry_ts == second.entry_ts == at(0) and first.entry_fills == 2
    assert second.duration_s == 300
    assert (third.entry_ts, third.entry_fills, third.fees) == (at(6), 1, D("0.61"))
    assert third.net_pnl == D("9.39")


def test_a_fee_in_the_base_asset_is_valued_at_the_fill_price() -> None:
    fills = [
        F("f1", at(0), "buy", D(100), D(1), D("0.01"), fee_asset="BTC"),
        F("f2", at(1), "sell", D(110), D(1), D(0), D(10)),
    ]
    (trip,) = round_trips(fills, "ZAR")
    assert trip.fees == D(1) and trip.net_pnl == D(9)


def test_sample_instants_keep_fills_while_they_fit_and_stay_bounded() -> None:
    events = [at(m) for m in range(0, 60, 7)]
    few = sample_instants(at(0), at(60), events, 40)
    assert set(events) <= set(few) and few == sorted(set(few))
    many = sample_instants(at(0), at(600), [at(0) + timedelta(seconds=s) for s in range(5000)], 100)
    assert len(many) <= 100 and many[0] == at(0) and many[-1] == at(600)
    assert sample_instants(at(5), at(5), events, 10) == [at(5)]
