from __future__ import annotations

import csv
from pathlib import Path

import pytest
from benchmarks.shared_data import find_shared_data_dir

from amarktai.kit.errors import NotFound, ValidationFailed
from amarktai.risk.stress import (
    PROXY_BETA,
    apply_stress,
    custom_scenario,
    historical_scenario,
    list_scenarios,
    run_stress_test,
)


def _candle(path: Path, date: str) -> tuple[float, float, float]:
    """(previous close, low, close) read independently of the module under test."""
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    i = next(k for k, row in enumerate(rows) if row["Date"] == date)
    return float(rows[i - 1]["close"]), float(rows[i]["low"]), float(rows[i]["close"])


@pytest.mark.parametrize(
    ("name", "date"),
    [("may_2021_crash", "2021-05-19"), ("nov_2022_exchange_collapse", "2022-11-09")],
)
def test_shocks_come_from_the_daily_candles(shared_data: Path, name: str, date: str) -> None:
    low_scenario = historical_scenario(name)
    close_scenario = historical_scenario(name, measure="close_to_close")
    files = {"BTC": "Bitcoin", "ETH": "Ethereum", "LTC": "Litecoin", "PAXG": "Gold"}
    for asset, stem in files.items():
        prev, low, close = _candle(shared_data / "daily" / f"binance_daily_{stem}.csv", date)
        assert low_scenario.shocks[asset] == pytest.approx(low / prev - 1, rel=1e-12)
        assert close_scenario.shocks[asset] == pytest.approx(close / prev - 1, rel=1e-12)
    assert low_scenario.date == date


def test_may_2021_btc_low_is_30000() -> None:
    shock = historical_scenario("may_2021_crash").shocks["BTC"]
    assert shock == pytest.approx(30_000 / 42_849.78 - 1)


def test_apply_stress_per_holding_and_total() -> None:
    result = run_stress_test(
        {"BTC": 1_000.0, "xbt": 500.0, "ETH/ZAR": 300.0, "SOL": 200.0, "ZAR": 100.0},
        "nov_2022_exchange_collapse",
    )
    scenario = historical_scenario("nov_2022_exchange_collapse")
    btc = scenario.shocks["BTC"]
    by_asset = {row.asset: row for row in result.holdings}
    assert by_asset["xbt"].shock_pct == pytest.approx(100 * btc)
    assert by_asset["ETH/ZAR"].pnl == pytest.approx(300 * scenario.shocks["ETH"])
    assert by_asset["SOL"].source == "proxy_btc_beta_1"
    assert by_asset["SOL"].pnl == pytest.approx(200 * PROXY_BETA * btc)
    assert by_asset["ZAR"].pnl == 0.0 and by_asset["ZAR"].source == "cash"
    assert result.total_pnl == pytest.approx(sum(row.pnl for row in result.holdings))
    assert result.stressed_value == pytest.approx(2_100.0 + result.total_pnl)
    assert result.total_pnl_percent == pytest.approx(100 * result.total_pnl / 2_100.0)
    assert result.missing == ()


def test_no_data_policy_reports_missing() -> None:
    scenario = historical_scenario("may_2021_crash")
    result = apply_stress({"SOL": 100.0, "BTC": 100.0}, scenario, unknown="no_data")
    assert result.missing == ("SOL",)
    assert result.holdings[0].pnl == 0.0


def test_custom_shocks_in_percent() -> None:
    result = run_stress_test({"BTC": 1_000.0, "ETH": 500.0, "DOGE": 10.0}, {"btc": -20, "ETH": 5})
    rows = {row.asset: row for row in result.holdings}
    assert rows["BTC"].pnl == pytest.approx(-200.0) and rows["BTC"].source == "custom"
    assert rows["ETH"].stressed_value == pytest.approx(525.0)
    assert rows["DOGE"].pnl == pytest.approx(-2.0)  # proxy: BTC shock × beta 1
    assert result.total_pnl == pytest.approx(-177.0)


def test_empty_holdings() -> None:
    result = run_stress_test({}, {"BTC": -10})
    assert result.total_pnl == 0.0 and result.total_pnl_percent == 0.0


@pytest.mark.parametrize("shocks", [{"BTC": -150}, {"BTC": float("nan")}])
def test_bad_custom_shocks(shocks: dict[str, float]) -> None:
    with pytest.raises(ValidationFailed) as info:
        custom_scenario(shocks)
    assert info.value.code == "invalid_shock"


def test_unknown_scenario_and_listing() -> None:
    assert {s.name for s in list_scenarios()} == {"may_2021_crash", "nov_2022_exchange_collapse"}
    with pytest.raises(ValidationFailed) as info:
        historical_scenario("march_2020")
    assert info.value.code == "unknown_scenario"


def test_data_dir_from_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_data: Path
) -> None:
    daily = tmp_path / "daily"
    daily.mkdir()
    (daily / "binance_daily_Bitcoin.csv").write_text(
        "Date,open,high,low,close,volume,Name,Symbol,Marketcap\n"
        "2022-11-08,10,10,10,100,1,Bitcoin,BTC,\n"
        "2022-11-09,100,100,50,80,1,Bitcoin,BTC,\n"
    )
    monkeypatch.setenv("AMARKTAI_SHARED_DATA", str(tmp_path))
    monkeypatch.setenv("AMARKTAI_MARKET_DIR", str(tmp_path / "empty-store"))
    assert find_shared_data_dir() == tmp_path
    scenario = historical_scenario("nov_2022_exchange_collapse")
    assert scenario.shocks["BTC"] == pytest.approx(-0.5)  # the pointed folder's file wins
    # assets without a file there come from the shipped sample (same Binance candles)
    assert (
        scenario.shocks["ETH"]
        == historical_scenario("nov_2022_exchange_collapse", data_dir=shared_data).shocks["ETH"]
    )
    assert historical_scenario("nov_2022_exchange_collapse", data_dir=tmp_path).shocks == {
        "BTC": pytest.approx(-0.5)
    }  # an explicit folder is read alone
    monkeypatch.delenv("AMARKTAI_SHARED_DATA")
    assert find_shared_data_dir() == shared_data


def test_missing_data_dir_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AMARKTAI_SHARED_DATA", raising=False)
    with pytest.raises(NotFound) as info:
        find_shared_data_dir([Path("/nonexistent/amarktai/risk")], code="stress_data_unavailable")
    assert info.value.code == "stress_data_unavailable"
