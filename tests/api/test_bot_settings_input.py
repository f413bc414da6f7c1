"""Bad numbers in a bot's settings are a clear 422, never a 500, and write nothing
(issue 13, item 8: `"max_position_fraction": "NaN"` was a 500)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.api.conftest import Api, auth

BAD_NUMBERS: list[Any] = [
    "NaN",
    "nan",
    "-NaN",
    "sNaN",
    "Infinity",
    "-inf",
    "1e999999",
    "abc",
    [],
    {},
]

RISK_FIELDS = [
    "max_position_fraction",
    "max_position_value",
    "fraction",
    "kelly_fraction",
    "cap",
    "kelly_min_trades",
    "stop_loss_pct",
    "take_profit_pct",
    "trailing_stop_pct",
]


def _risk_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for bad in BAD_NUMBERS:
        cases += [{name: bad} for name in RISK_FIELDS]
        cases.append({"chandelier": {"atr_period": bad, "k": 3}})
        cases.append({"chandelier": {"atr_period": 22, "k": bad}})
        cases.append({"breakers": {"daily_loss_pct": bad}})
        cases.append({"breakers": {"daily_loss_amount": bad}})
        cases.append({"breakers": {"max_consecutive_losses": bad}})
    return cases


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_bad_numbers_in_risk_settings_are_422(api: Api) -> None:
    h = await api.user("nan@example.com")
    base = {"name": "b", "strategy": "dca", "symbol": "BTC/ZAR", "timeframe_s": 60}
    failures = []
    for risk in _risk_cases():
        r = await api.client.post("/api/v1/bots", json={**base, "risk": risk}, headers=auth(h))
        if r.status_code != 422 or r.json().get("error", {}).get("code") is None:
            failures.append((risk, r.status_code, r.text[:200]))
    assert not failures, failures[:5]
    bots = (await api.client.get("/api/v1/bots", headers=auth(h))).json()
    assert bots["items"] == [] if isinstance(bots, dict) else bots == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_bad_numbers_in_a_risk_patch_are_422_and_change_nothing(api: Api) -> None:
    h = await api.user("nanpatch@example.com")
    body = {"name": "b", "strategy": "dca", "symbol": "BTC/ZAR", "timeframe_s": 60}
    bot = (await api.client.post("/api/v1/bots", json=body, headers=auth(h))).json()
    for bad in BAD_NUMBERS:
        r = await api.client.patch(
            f"/api/v1/bots/{bot['id']}",
            json={"risk": {"max_position_fraction": bad}},
            headers=auth(h),
        )
        assert r.status_code == 422, (bad, r.status_code, r.text)
    after = (await api.client.get(f"/api/v1/bots/{bot['id']}", headers=auth(h))).json()
    assert after["risk"] == bot["risk"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_bad_numbers_in_strategy_params_and_allocation_are_4xx(api: Api) -> None:
    h = await api.user("nanparams@example.com")
    await api.client.post("/api/v1/wallet/deposits", json={"amount": "1000"}, headers=auth(h))
    base = {"name": "b", "symbol": "BTC/ZAR", "timeframe_s": 60}
    cases: list[dict[str, Any]] = []
    for bad in ("NaN", "Infinity", "-inf", "1e999999"):
        cases += [
            {"strategy": "dca", "params": {"quote_amount": bad}},
            {"strategy": "sma_cross", "params": {"fast": bad}},
            {"strategy": "grid", "params": {"spacing_pct": bad}},
            {"strategy": "dca", "allocation": bad},
        ]
    for case in cases:
        r = await api.client.post("/api/v1/bots", json={**base, **case}, headers=auth(h))
        assert r.status_code == 422, (case, r.status_code, r.text[:300])
