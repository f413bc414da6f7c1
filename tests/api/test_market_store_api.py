"""A fresh install: no shared data folder, an empty candle store. VaR, Monte Carlo, stress
tests and a backtest from a data file all answer from the sample shipped in the package,
and a series the user stores takes its place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.api.conftest import Api, auth
from tests.api.test_backtests_api import wait_done
from tests.api.test_risk_api import get, trading_user

from amarktai.marketdata.importer import read_candle_file
from amarktai.marketdata.sources import SAMPLE_DIR
from amarktai.marketdata.store import CandleStore, SeriesKey
from amarktai.risk.history import clear_history_cache

STORE_SERIES = "bitstamp/BTC-USD/1d"


@pytest.fixture(autouse=True)
def fresh_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shared-data root is an empty folder; the store is empty."""
    (tmp_path / "empty-shared").mkdir()
    monkeypatch.setenv("AMARKTAI_SHARED_DATA", str(tmp_path / "empty-shared"))
    monkeypatch.setenv("AMARKTAI_MARKET_DIR", str(tmp_path / "store"))
    clear_history_cache()
    return tmp_path / "store"


async def test_risk_answers_from_the_shipped_sample(api: Api) -> None:
    h, _, _ = await trading_user(api, "fresh-risk@example.com")
    r = await get(api, h, "/api/v1/risk/var", method="historical")
    assert r.status_code == 200, r.text
    history = r.json()["history"]
    assert history["observations"] > 1000
    assert history["source"] == "BTC: bitstamp/BTC-USD/1d (sample)"
    r = await get(api, h, "/api/v1/risk/monte-carlo", days=30, simulations=500, seed=1)
    assert r.status_code == 200, r.text
    r = await get(api, h, "/api/v1/risk/var/backtest")
    assert r.status_code == 200, r.text
    r = await get(api, h, "/api/v1/risk/stress")
    assert r.status_code == 200, r.text
    btc = next(x for x in r.json()[0]["holdings"] if x["asset"] == "BTC")
    assert btc["source"] == "data" and btc["shock_pct"] < -20


async def test_backtest_from_a_sample_series(api: Api) -> None:
    h = await api.user("fresh-bt@example.com", role="trader")
    r = await api.client.get("/api/v1/backtests/data-files", headers=auth(h))
    assert r.status_code == 200, r.text
    files = {f["file"]: f for f in r.json()}
    hourly = files["binance/BTC-USDT/1h"]
    assert hourly["usable"] and hourly["source"] == "sample" and hourly["bars"] == 9447
    assert all(f["source"] == "sample" for f in files.values())
    body: dict[str, Any] = {
        "strategy": "sma_cross",
        "params": {"fast": 5, "slow": 20},
        "data": {"file": "binance/BTC-USDT/1h", "start": "2024-01-01T00:00:00Z"},
        "monte_carlo_simulations": 0,
    }
    r = await api.client.post("/api/v1/backtests", json=body, headers=auth(h))
    assert r.status_code == 202, r.text
    done = await wait_done(api, h, f"/api/v1/backtests/{r.json()['id']}")
    assert done["status"] == "succeeded", done
    r = await api.client.post(
        "/api/v1/backtests",
        json={**body, "data": {"file": "daily/binance_daily_Bitcoin.csv"}},
        headers=auth(h),
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_data_file"


async def test_a_stored_series_takes_the_samples_place(api: Api, fresh_install: Path) -> None:
    h, _, _ = await trading_user(api, "fresh-store@example.com")
    sample = CandleStore(SAMPLE_DIR).read(SeriesKey.parse(STORE_SERIES))
    store = CandleStore(fresh_install)
    store.write(SeriesKey.parse(STORE_SERIES), sample.take(slice(0, 400)))
    r = await get(api, h, "/api/v1/risk/var", method="historical")
    assert r.status_code == 200, r.text
    assert r.json()["history"]["source"] == "BTC: bitstamp/BTC-USD/1d (store)"
    assert r.json()["history"]["observations"] == 399
    r = await api.client.get("/api/v1/backtests/data-files", headers=auth(h))
    daily = next(f for f in r.json() if f["file"] == STORE_SERIES)
    assert daily["source"] == "store" and daily["bars"] == 400


def test_sample_is_small_real_and_documented() -> None:
    files = list(SAMPLE_DIR.rglob("*.arrow"))
    assert len(files) == 5
    assert sum(f.stat().st_size for f in files) < 2 * 2**20
    sources = (SAMPLE_DIR / "SOURCES.md").read_text()
    for f in files:
        assert f"{f.parent.name}/{f.stem}" in sources or f.parent.name.split("-")[0] in sources
    arrays, _ = read_candle_file(SAMPLE_DIR / "bitstamp" / "BTC-USD" / "1d.arrow")
    assert len(arrays) == 1865
    assert "Apache-2.0" in sources and "MIT" in sources  # only licensed copies ship
