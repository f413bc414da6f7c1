from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from amarktai.kit.errors import ValidationFailed
from amarktai.markets import CandleAggregator, Trade, aggregate_trades, bucket_start

T0 = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)


def tr(sec: float, price: str, qty: str = "1", symbol: str = "X/Y") -> Trade:
    return Trade(T0 + timedelta(seconds=sec), symbol, D(price), D(qty), "buy")


def test_bucket_is_epoch_aligned() -> None:
    assert bucket_start(T0 + timedelta(minutes=7, seconds=3), 300) == T0 + timedelta(minutes=5)


def test_aggregate_ohlcv_keyed_by_open_time() -> None:
    trades = [
        tr(1, "10", "1"),
        tr(20, "12", "2"),
        tr(40, "9", "1"),
        tr(59, "11", "0.5"),
        tr(61, "13", "1"),
    ]
    candles = aggregate_trades(trades, 60)
    assert len(candles) == 2
    first = candles[0]
    assert first.ts == T0
    assert (first.open, first.high, first.low, first.close) == (D(10), D(12), D(9), D(11))
    assert first.volume == D("4.5")
    assert candles[1].ts == T0 + timedelta(minutes=1) and candles[1].close == D(13)


def test_incremental_returns_closed_bars_and_fills_gaps() -> None:
    agg = CandleAggregator("X/Y", 60, fill_gaps=True)
    assert agg.add(tr(1, "10")) == []
    assert agg.current is not None and agg.current.close == D(10)
    closed = agg.add(tr(190, "14"))
    assert [c.ts for c in closed] == [T0 + timedelta(minutes=m) for m in range(3)]
    assert closed[1].volume == 0 and closed[1].open == D(10)
    last = agg.flush()
    assert last is not None and last.close == D(14) and agg.flush() is None


def test_out_of_order_and_wrong_symbol_rejected() -> None:
    agg = CandleAggregator("X/Y", 60)
    agg.add(tr(130, "10"))
    with pytest.raises(ValidationFailed) as err:
        agg.add(tr(5, "10"))
    assert err.value.code == "out_of_order_trade"
    with pytest.raises(ValidationFailed):
        agg.add(tr(140, "10", symbol="A/B"))


def test_multi_symbol_batch() -> None:
    candles = aggregate_trades([tr(1, "1"), tr(2, "5", symbol="A/B"), tr(70, "2")], 60)
    assert [(c.symbol, c.close) for c in candles] == [("A/B", D(5)), ("X/Y", D(1)), ("X/Y", D(2))]
