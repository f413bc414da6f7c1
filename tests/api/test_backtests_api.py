"""Backtests and optimisations as background jobs over the real API (in-process queue)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from benchmarks.shared_data import find_shared_data_dir
from sqlalchemy import func, select
from tests.api.conftest import Api, auth

from amarktai.jobs.models import Job

WALK = {"random_walk": {"n": 400, "seed": 7, "sigma": 0.01}}
SMA = {"strategy": "sma_cross", "params": {"fast": 5, "slow": 20}}


@pytest.fixture(autouse=True)
def shared_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests name shared-data files (``daily/...``): point the product at that folder
    explicitly, as a user would (the product never looks for it)."""
    monkeypatch.setenv("AMARKTAI_SHARED_DATA", str(find_shared_data_dir()))


async def wait_done(
    api: Api, h: dict[str, str], path: str, timeout_s: float = 30
) -> dict[str, Any]:
    """Poll until the job leaves queued/running."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        r = await api.client.get(path, headers=auth(h))
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        if body["status"] not in ("queued", "running"):
            return body
        assert loop.time() < deadline, f"job still {body['status']}: {body['message']}"
        await asyncio.sleep(0.05)


async def job_count(api: Api) -> int:
    async with api.runtime.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(Job))).scalar_one())


async def test_backtest_runs_to_results(api: Api) -> None:
    h = await api.user("bt@example.com")
    body = {
        "strategy": "sma_cross",
        "params": {"fast": 3, "slow": 8},
        "data": {"random_walk": {"n": 1500, "seed": 7, "sigma": 0.01}},
        "monte_carlo_simulations": 200,
        "seed": 1,
    }
    r = await api.client.post("/api/v1/backtests", json=body, headers=auth(h))
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    assert r.json()["status"] in ("queued", "running")

    done = await wait_done(api, h, f"/api/v1/backtests/{job_id}")
    assert done["status"] == "succeeded", done
    assert done["progress"] == 1.0
    result = done["result"]
    assert result["summary"]["strategy"] == "sma_cross"
    assert result["summary"]["bars"] == 1500
    assert "sharpe" in result["summary"]["metrics"]
    assert result["monte_carlo"]["simulations"] == 200
    assert len(result["equity"]["times"]) == len(result["equity"]["equity"]) <= 500

    trades = (await api.client.get(f"/api/v1/backtests/{job_id}/trades", headers=auth(h))).json()
    assert len(trades) == result["summary"]["trades"] > 0
    assert {"entry_time", "exit_price", "pnl", "fees"} <= set(trades[0])

    report = await api.client.get(f"/api/v1/backtests/{job_id}/report", headers=auth(h))
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/html")
    assert "<svg" in report.text and "Monte Carlo of the trade sequence" in report.text

    listed = (await api.client.get("/api/v1/backtests", headers=auth(h))).json()
    assert [j["id"] for j in listed["items"]] == [job_id]
    assert listed["items"][0]["result"] is None


async def test_progress_is_published_on_the_users_stream(api: Api) -> None:
    h = await api.user("ws@example.com")
    r = await api.client.post("/api/v1/backtests", json={**SMA, "data": WALK}, headers=auth(h))
    job_id = r.json()["id"]
    await wait_done(api, h, f"/api/v1/backtests/{job_id}")
    replay = await api.runtime.bus.read_after(h["id"], 0, 100)
    events = [json.loads(m.text) for m in replay.messages if m.type == "metrics"]
    values = [e["data"]["values"] for e in events if e["data"]["values"]["job_id"] == job_id]
    assert values[0]["status"] == "running"
    assert values[-1]["status"] == "succeeded" and values[-1]["progress"] == 1.0


async def test_backtest_over_a_recorded_file_and_date_range(api: Api) -> None:
    h = await api.user("file@example.com")
    data = {
        "file": "daily/binance_daily_Bitcoin.csv",
        "start": "2023-01-01T00:00:00Z",
        "end": "2023-07-01T00:00:00Z",
    }
    body = {**SMA, "data": data, "mode": "vectorised", "monte_carlo_simulations": 0}
    r = await api.client.post("/api/v1/backtests", json=body, headers=auth(h))
    assert r.status_code == 202, r.text
    done = await wait_done(api, h, f"/api/v1/backtests/{r.json()['id']}")
    assert done["status"] == "succeeded", done
    assert done["result"]["summary"]["bars"] == 181
    assert done["result"]["summary"]["path"] == "vectorised"


async def test_data_files_lists_usable_and_broken_files(api: Api) -> None:
    h = await api.user("files@example.com")
    r = await api.client.get("/api/v1/backtests/data-files", headers=auth(h))
    assert r.status_code == 200
    files = {f["file"]: f for f in r.json()}
    assert files["daily/binance_daily_Bitcoin.csv"]["usable"] is True
    assert files["daily/binance_daily_Bitcoin.csv"]["bars"] > 1000
    assert files["intraday/UNITTEST_BTC-1m.json"]["usable"] is False
    assert "data_gap" in files["intraday/UNITTEST_BTC-1m.json"]["problem"]


BTC = "daily/binance_daily_Bitcoin.csv"
BAD_BACKTESTS = [
    ({"strategy": "nope", "data": WALK}, "unknown_strategy", "nope"),
    ({**SMA, "params": {"fast": 5, "slow": 20, "speed": 3}, "data": WALK},
     "invalid_parameter", "speed"),
    ({**SMA, "params": {"fast": 1, "slow": 20}, "data": WALK}, "invalid_parameter", ">= 2"),
    ({**SMA, "params": {"fast": 30, "slow": 20}, "data": WALK}, "invalid_parameter", "shorter"),
    ({**SMA, "data": {"file": BTC, "start": "2021-01-01T00:00:00Z",
                      "end": "2021-01-01T00:00:00Z"}}, "empty_range", "before end"),
    ({**SMA, "data": {"file": BTC, "start": "2030-01-01T00:00:00Z"}}, "empty_range", "no bars"),
    ({**SMA, "data": {"file": BTC, "start": "2021-01-01T00:00:00Z",
                      "end": "2021-01-10T00:00:00Z"}}, "range_too_short", "need at least 22"),
    ({**SMA, "data": {"file": "intraday/UNITTEST_BTC-1m.json"}}, "data_gap", "missing candles"),
    ({**SMA, "data": {"file": "../../etc/passwd"}}, "unknown_data_file", "passwd"),
    ({"strategy": "dca", "data": WALK, "mode": "vectorised"}, "not_vectorisable", "dca"),
    ({**SMA, "data": {"random_walk": {"n": 400}, "file": BTC}}, "validation_error", "exactly one"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "code", "says"), BAD_BACKTESTS)
async def test_bad_backtest_input_is_422_and_writes_nothing(
    api: Api, body: dict[str, Any], code: str, says: str
) -> None:
    h = await api.user("bad@example.com")
    r = await api.client.post("/api/v1/backtests", json=body, headers=auth(h))
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == code
    assert says in json.dumps(error), error
    assert await job_count(api) == 0


async def test_optimisation_finds_a_pareto_front_with_walk_forward(api: Api) -> None:
    h = await api.user("opt@example.com")
    body = {
        "strategy": "sma_cross",
        "data": WALK,
        "n_trials": 8,
        "seed": 3,
        "walk_forward": {"train_bars": 200, "test_bars": 100},
        "space": {"fast": [3, 10], "slow": [15, 40]},
    }
    r = await api.client.post("/api/v1/optimisations", json=body, headers=auth(h))
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    done = await wait_done(api, h, f"/api/v1/optimisations/{job_id}")
    assert done["status"] == "succeeded", done
    result = done["result"]
    assert len(result["folds"]) == 2 and result["pareto"]
    assert all(p["out_of_sample"] is not None for p in result["pareto"])
    trials = await api.client.get(f"/api/v1/optimisations/{job_id}/trials", headers=auth(h))
    assert trials.status_code == 200
    assert len(trials.json()) == 16
    assert {t["fold"] for t in trials.json()} == {0, 1}


async def test_optimisation_with_zero_valid_trials_fails_with_the_reason(api: Api) -> None:
    h = await api.user("zero@example.com")
    body = {
        "strategy": "sma_cross",
        "data": WALK,
        "n_trials": 4,
        "space": {"fast": [60, 80], "slow": [20, 40]},
    }
    r = await api.client.post("/api/v1/optimisations", json=body, headers=auth(h))
    assert r.status_code == 202, r.text
    done = await wait_done(api, h, f"/api/v1/optimisations/{r.json()['id']}")
    assert done["status"] == "failed"
    assert done["error"]["code"] == "no_valid_trials"
    assert "0 of 4 trials were valid" in done["error"]["message"]
    assert "shorter than slow" in done["error"]["message"]
    assert done["result"]["pareto"] == []


BAD_OPTIMISATIONS = [
    ({"space": {"speed": [1, 2]}}, "invalid_parameter", "speed"),
    ({"space": {"fast": [1, 10]}}, "invalid_parameter", ">= 2"),
    ({"space": {"fast": [5]}}, "invalid_parameter", "[low, high]"),
    ({"fixed": {"slow": 5000}}, "invalid_parameter", "<= 1000"),
    ({"walk_forward": {"train_bars": 300, "test_bars": 200}}, "range_too_short", "400 bars"),
    ({"objectives": ["return", "return"]}, "validation_error", "repeat"),
    ({"strategy": "nope"}, "unknown_strategy", "nope"),
]


@pytest.mark.parametrize(("extra", "code", "says"), BAD_OPTIMISATIONS)
async def test_bad_optimisation_input_is_422_and_writes_nothing(
    api: Api, extra: dict[str, Any], code: str, says: str
) -> None:
    h = await api.user("badopt@example.com")
    body = {"strategy": "sma_cross", "data": WALK, "n_trials": 4, **extra}
    r = await api.client.post("/api/v1/optimisations", json=body, headers=auth(h))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == code
    assert says in json.dumps(r.json()["error"])
    assert await job_count(api) == 0


async def test_cancel_a_running_optimisation(api: Api) -> None:
    h = await api.user("cancel@example.com")
    body = {"strategy": "sma_cross", "data": WALK, "n_trials": 2000}
    r = await api.client.post("/api/v1/optimisations", json=body, headers=auth(h))
    job_id = r.json()["id"]
    path = f"/api/v1/optimisations/{job_id}"
    for _ in range(200):
        if (await api.client.get(path, headers=auth(h))).json()["status"] == "running":
            break
        await asyncio.sleep(0.02)
    r = await api.client.delete(path, headers=auth(h))
    assert r.status_code == 202, r.text
    done = await wait_done(api, h, path, timeout_s=10)
    assert done["status"] == "cancelled"
    assert done["error"]["code"] == "cancelled"
    again = await api.client.delete(path, headers=auth(h))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "job_finished"


async def test_jobs_are_private_to_their_owner(api: Api) -> None:
    alice = await api.user("alice@example.com")
    bob = await api.user("bob@example.com")
    r = await api.client.post("/api/v1/backtests", json={**SMA, "data": WALK}, headers=auth(alice))
    job_id = r.json()["id"]
    await wait_done(api, alice, f"/api/v1/backtests/{job_id}")
    for path in ("", "/report", "/trades"):
        r = await api.client.get(f"/api/v1/backtests/{job_id}{path}", headers=auth(bob))
        assert r.status_code == 404, path
        assert r.json()["error"]["code"] == "backtest_not_found"
    assert (
        await api.client.delete(f"/api/v1/backtests/{job_id}", headers=auth(bob))
    ).status_code == 404
    assert (
        await api.client.get(f"/api/v1/optimisations/{job_id}", headers=auth(alice))
    ).status_code == 404
    assert (await api.client.get("/api/v1/backtests", headers=auth(bob))).json()["items"] == []


async def test_viewers_cannot_submit(api: Api) -> None:
    h = await api.user("viewer@example.com", role="viewer")
    r = await api.client.post("/api/v1/backtests", json={**SMA, "data": WALK}, headers=auth(h))
    assert r.status_code == 403
