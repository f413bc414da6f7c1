import gzip
import itertools
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from benchmarks.shared_data import find_shared_data_dir

from amarktai.kit.clock import ManualClock
from amarktai.kit.errors import NotFound, ValidationFailed
from amarktai.markets import Candle, Trade
from amarktai.markets.replay import (
    ReplayMarket,
    load_candles,
    load_file,
    load_trades,
)

DATA = find_shared_data_dir()
HEADER = "Date,open,high,low,close,volume,Name,Symbol,Marketcap\n"
GOOD = [
    "2024-01-01,10,12,9,11,100,Bitcoin,BTC,",
    "2024-01-02,11,13,10,12,100,Bitcoin,BTC,",
    "2024-01-03,12,14,11,13,100,Bitcoin,BTC,",
]


@pytest.mark.parametrize(
    ("name", "symbol", "rows", "timeframe", "first"),
    [
        ("daily/binance_daily_Bitcoin.csv", "BTC/USDT", 1792, 86400, "2020-08-28T00:00:00+00:00"),
        ("daily/binance_daily_Gold.csv", "PAXG/USDT", 1792, 86400, "2020-08-28T00:00:00+00:00"),
        ("intraday/ETH_BTC-5m.feather", "ETH/BTC", 5760, 300, "2018-01-10T04:55:00+00:00"),
        ("intraday/LTC_BTC-5m.feather", "LTC/BTC", 5760, 300, None),
        ("intraday/XRP_ETH-1m.feather", "XRP/ETH", 2469, 60, "2019-10-11T00:00:00+00:00"),
        ("intraday/UNITTEST_BTC-1m.json", "UNITTEST/BTC", 13681, 60, None),
    ],
)
def test_real_candle_files_load(
    name: str, symbol: str, rows: int, timeframe: int, first: str | None
) -> None:
    candles = load_file(DATA / name)
    assert len(candles) == rows
    c0 = candles[0]
    assert isinstance(c0, Candle) and c0.symbol == symbol and c0.timeframe == timeframe
    assert c0.ts.tzinfo is not None
    if first:
        assert c0.ts.isoformat() == first
    assert all(a.ts < b.ts for a, b in itertools.pairwise(candles))


def test_daily_csv_values_are_exact_decimals() -> None:
    c0 = load_candles(DATA / "daily/binance_daily_Bitcoin.csv")[0]
    assert (c0.open, c0.high, c0.low, c0.close) == (
        D("11330.38"),
        D("11542.65"),
        D("11276.89"),
        D("11526.91"),
    )
    assert c0.volume == D("45953.908365")


def test_real_trade_files_load() -> None:
    xrp = load_trades(DATA / "intraday/XRP_ETH-trades.json.gz")
    assert len(xrp) == 12477 and xrp[0].symbol == "XRP/ETH"
    assert xrp[0] == Trade(
        datetime(2019, 10, 11, 0, 0, 11, 620000, tzinfo=UTC),
        "XRP/ETH",
        D("0.00141342"),
        D("23.0"),
        "sell",
        "13519807",
    )
    eth = load_file(DATA / "intraday/public_trades_list.csv")
    assert len(eth) == 1000 and isinstance(eth[0], Trade)
    assert (eth[0].symbol, eth[0].price, eth[0].qty, eth[0].side) == (
        "ETH/USDT",
        D("1666.8"),
        D("26.062"),
        "buy",
    )


def _csv(tmp_path: Path, rows: list[str], name: str = "bad_daily.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize(
    ("rows", "row", "problem"),
    [
        ([GOOD[0], GOOD[2], GOOD[1]], 3, "unsorted"),
        ([GOOD[0], GOOD[1], GOOD[1]], 3, "duplicate timestamp"),
        ([GOOD[0], "2024-01-02,11,,10,12,100,Bitcoin,BTC,", GOOD[2]], 2, "NaN"),
        ([GOOD[0], GOOD[1], "2024-01-03,-12,14,11,13,100,Bitcoin,BTC,"], 3, "negative price"),
        ([GOOD[0], "2024-01-02,0,13,10,12,100,Bitcoin,BTC,", GOOD[2]], 2, "zero or negative"),
        (["2024-01-01,10,9,12,11,100,Bitcoin,BTC,", *GOOD[1:]], 1, "high below low"),
        ([GOOD[0], "not-a-date,11,13,10,12,100,Bitcoin,BTC,"], 2, "timestamp"),
    ],
)
def test_bad_candle_csv_names_file_and_row_and_yields_nothing(
    tmp_path: Path, rows: list[str], row: int, problem: str
) -> None:
    path = _csv(tmp_path, rows)
    emitted: list[object] = []
    with pytest.raises(ValidationFailed) as err:
        market = ReplayMarket.from_files([path])
        emitted.extend(market.events())
    assert err.value.code == "bad_market_data"
    assert "bad_daily.csv" in err.value.message
    assert f"row {row} (line {row + 1})" in err.value.message
    assert problem in err.value.message
    assert emitted == []


def test_bad_json_candles_and_trades(tmp_path: Path) -> None:
    candles = tmp_path / "AAA_BBB-1m.json"
    candles.write_text(
        json.dumps([[60000, 1, 2, 1, 1, 5], [120000, 1, 2, 1, 1, 5], [180000, 1, 2, 1, None, 5]])
    )
    with pytest.raises(ValidationFailed, match=r"AAA_BBB-1m.json: row 3: NaN"):
        load_file(candles)
    trades = tmp_path / "AAA_BBB-trades.json.gz"
    rows = [[1000, "1", None, "buy", 1.0, 2.0, 2.0], [900, "2", None, "sell", 1.0, 2.0, 2.0]]
    with gzip.open(trades, "wt") as handle:
        json.dump(rows, handle)
    with pytest.raises(ValidationFailed, match=r"AAA_BBB-trades.json.gz: row 2: unsorted"):
        load_file(trades)


def test_trades_may_share_a_timestamp_but_not_an_id(tmp_path: Path) -> None:
    head = ",timestamp,id,type,side,price,amount,cost,date\n"
    ok = tmp_path / "ok_trades.csv"
    ok.write_text(head + "0,1000,1,,buy,5,1,5,x\n1,1000,2,,sell,5,1,5,x\n")
    assert len(load_trades(ok, symbol="A/B")) == 2
    dup = tmp_path / "dup_trades.csv"
    dup.write_text(head + "0,1000,1,,buy,5,1,5,x\n1,1001,1,,sell,5,1,5,x\n")
    with pytest.raises(ValidationFailed, match=r"dup_trades.csv: row 2 \(line 3\): duplicate"):
        load_trades(dup, symbol="A/B")
    neg = tmp_path / "neg_trades.csv"
    neg.write_text(head + "0,1000,1,,buy,5,1,5,x\n1,1001,2,,sell,5,-1,5,x\n")
    with pytest.raises(ValidationFailed, match=r"row 2 \(line 3\): zero or negative amount"):
        load_trades(neg, symbol="A/B")


def test_unknown_symbol_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as err:
        load_file(_csv(tmp_path, GOOD, name="mystery.csv"))
    assert err.value.code == "unknown_symbol"
    assert len(load_candles(tmp_path / "mystery.csv", symbol="M/N")) == 3
    with pytest.raises(NotFound):
        load_file(tmp_path / "absent.csv")


def test_shared_data_dir_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AMARKTAI_SHARED_DATA", str(tmp_path))
    assert find_shared_data_dir() == tmp_path
    monkeypatch.setenv("AMARKTAI_SHARED_DATA", str(tmp_path / "nope"))
    with pytest.raises(NotFound):
        find_shared_data_dir()


def test_merged_replay_is_time_ordered_and_candles_emit_at_close() -> None:
    market = ReplayMarket.from_files(
        [DATA / "intraday/XRP_ETH-1m.feather", DATA / "intraday/XRP_ETH-trades.json.gz"]
    )
    assert {i.symbol for i in market.instruments()} == {"XRP/ETH"}
    times = [e.close_ts if isinstance(e, Candle) else e.ts for e in market.events()]
    assert times == sorted(times)
    assert len(market) == 2469 + 12477


async def test_replay_speed_paces_on_clock(tmp_path: Path) -> None:
    path = _csv(tmp_path, GOOD, name="binance_daily_Bitcoin.csv")
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)

    market = ReplayMarket.from_files([path], speed=86400.0, clock=clock, sleep=fake_sleep)
    events = [e async for e in market]
    assert len(events) == 3
    assert slept == [1.0, 1.0]  # one replayed day per wall second
    fast = [e async for e in ReplayMarket.from_files([path])]
    assert fast == events
    with pytest.raises(ValidationFailed):
        ReplayMarket([], speed=0)
    assert clock.now() - datetime(2026, 1, 1, tzinfo=UTC) == timedelta(seconds=2)


CAPTURE = DATA / "more/orderbook_trades/nkaz001__hftbacktest/spot"


def _capture_line(ns: int, trade_id: int, price: str, qty: str, maker: bool, ms: int) -> str:
    data = {"e": "trade", "E": ms, "s": "BTCUSDT", "t": trade_id, "p": price, "q": qty,
            "T": ms, "m": maker}  # fmt: skip
    return f"{ns} {json.dumps({'stream': 'btcusdt@trade', 'data': data}, separators=(',', ':'))}"


def test_a_raw_binance_capture_replays_its_trade_prints() -> None:
    path = CAPTURE / "btcusdt_20240808.gz"
    with gzip.open(path, "rt") as handle:
        expected = sum('"e":"trade"' in line for line in handle)
    trades = load_file(path)
    assert len(trades) == expected == 9757
    assert all(isinstance(t, Trade) and t.symbol == "BTC/USDT" for t in trades)
    first = trades[0]
    assert first.price == D("61837.63") and first.qty == D("0.02")
    assert first.side == "sell"  # "m": true, the buyer was the maker: a taker sell
    assert first.ts == datetime(2024, 8, 8, 23, 54, 15, 342000, tzinfo=UTC)
    assert all(a.ts <= b.ts for a, b in itertools.pairwise(trades))


def test_a_bad_capture_names_the_file_line_and_loads_nothing(tmp_path: Path) -> None:
    book = '1 {"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT"}}'
    good = [_capture_line(2, 10, "100.5", "1", False, 1000), book]
    path = tmp_path / "btcusdt_x.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("\n".join([*good, _capture_line(3, 11, "-1", "1", True, 1001)]) + "\n")
    with pytest.raises(ValidationFailed) as bad:
        load_file(path)
    assert "btcusdt_x.gz" in bad.value.message and "file line 3" in bad.value.message
    assert "negative price" in bad.value.message
    with gzip.open(path, "wt") as handle:
        handle.write("\n".join([*good, _capture_line(3, 10, "101", "1", True, 1001)]) + "\n")
    with pytest.raises(ValidationFailed, match="duplicate trade"):
        load_file(path)
    with gzip.open(path, "wt") as handle:
        handle.write("\n".join([*good, _capture_line(3, 11, "101", "1", True, 999)]) + "\n")
    with pytest.raises(ValidationFailed, match="file line 3"):
        load_file(path)
    with gzip.open(path, "wt") as handle:
        handle.write("\n".join(good) + "\n")
    (trade,) = load_file(path)
    assert (trade.symbol, trade.side, trade.price) == ("BTC/USDT", "buy", D("100.5"))
