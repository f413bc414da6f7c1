"""Admin show/hide per role (issue 15 item 14): a hidden feature is refused by the API,
not only left out of the menus; safety controls stay; every change is audited."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.api.conftest import Api, auth


async def _hide(
    api: Api, admin: dict[str, str], feature: str, scope: str, hidden: bool = True
) -> Any:
    return await api.client.put(
        "/api/v1/admin/features",
        json={"feature": feature, "scope": scope, "hidden": hidden},
        headers=auth(admin),
    )


async def test_a_feature_hidden_for_traders_is_refused_for_them_only(api: Api) -> None:
    admin = await api.user("boss@example.com", role="admin")
    trader = await api.user("t@example.com")
    assert (await api.client.get("/api/v1/backtests", headers=auth(trader))).status_code == 200

    r = await _hide(api, admin, "backtests", "trader")
    assert r.status_code == 200, r.text
    row = next(f for f in r.json()["features"] if f["name"] == "backtests")
    assert row["hidden_for"] == ["trader"]

    refused = await api.client.get("/api/v1/backtests", headers=auth(trader))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "feature_hidden"
    assert "Backtests is turned off for the trader role" in refused.json()["error"]["message"]
    assert (await api.client.get("/api/v1/backtests", headers=auth(admin))).status_code == 200
    mine = (await api.client.get("/api/v1/auth/features", headers=auth(trader))).json()
    assert mine["features"]["backtests"] is False and mine["features"]["exports"] is True

    assert (await _hide(api, admin, "backtests", "trader", hidden=False)).status_code == 200
    assert (await api.client.get("/api/v1/backtests", headers=auth(trader))).status_code == 200


async def test_hiding_risk_analytics_everywhere_keeps_the_safety_controls(api: Api) -> None:
    admin = await api.user("boss2@example.com", role="admin")
    trader = await api.user("t2@example.com")
    assert (await _hide(api, admin, "risk_analytics", "all")).status_code == 200
    for who in (trader, admin):
        for path in ("/api/v1/risk/var", "/api/v1/risk/monte-carlo", "/api/v1/risk/stress"):
            r = await api.client.get(path, headers=auth(who))
            assert r.status_code == 403 and r.json()["error"]["details"]["scope"] == "all"
    assert (await api.client.get("/api/v1/risk/breakers", headers=auth(trader))).status_code == 200
    stop = await api.client.post("/api/v1/emergency-stop", json={}, headers=auth(trader))
    assert stop.status_code == 200, stop.text


async def test_hidden_exports_keys_and_live_mode_are_refused(api: Api) -> None:
    admin = await api.user("boss3@example.com", role="admin")
    trader = await api.user("t3@example.com")
    for feature in ("exports", "exchange_keys", "live_trading"):
        assert (await _hide(api, admin, feature, "trader")).status_code == 200
    r = await api.client.get("/api/v1/exports/trades.csv", headers=auth(trader))
    assert r.status_code == 403
    r = await api.client.get("/api/v1/api-keys", headers=auth(trader))
    assert r.status_code == 403
    body = {"name": "b", "strategy": "dca", "symbol": "BTC/ZAR", "mode": "live"}
    r = await api.client.post("/api/v1/bots", json=body, headers=auth(trader))
    assert r.status_code == 403 and r.json()["error"]["details"]["feature"] == "live_trading"
    bots = (await api.client.get("/api/v1/bots", headers=auth(trader))).json()
    assert bots == [] or bots.get("items") == []  # nothing half-written


async def test_only_admins_change_it_bad_input_is_clear_and_changes_are_audited(api: Api) -> None:
    admin = await api.user("boss4@example.com", role="admin")
    trader = await api.user("t4@example.com")
    assert (await _hide(api, trader, "backtests", "all")).status_code == 403
    r = await _hide(api, admin, "teleport", "all")
    assert r.status_code == 404 and "unknown feature 'teleport'" in r.json()["error"]["message"]
    assert (await _hide(api, admin, "backtests", "everyone")).status_code == 422
    # concurrent identical hides: one row, every request answered
    results = await asyncio.gather(*(_hide(api, admin, "chat", "viewer") for _ in range(8)))
    assert {r.status_code for r in results} == {200}
    listing = (await api.client.get("/api/v1/admin/features", headers=auth(admin))).json()
    assert next(f for f in listing["features"] if f["name"] == "chat")["hidden_for"] == ["viewer"]
    audit = (await api.client.get("/api/v1/admin/audit", headers=auth(admin))).json()
    events = [e for e in audit["items"] if e["event"] == "feature.visibility_changed"]
    assert events and events[0]["details"] == {"feature": "chat", "scope": "viewer", "hidden": True}
    assert events[0]["actor_id"] == admin["id"]
