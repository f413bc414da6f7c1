"""`GET /ledger/verify` checks the platform-wide chain: a trader learns only whether it is
intact; the entry count and entry ids describe other users' activity and are for admins
(issue 13, item 10)."""

from __future__ import annotations

from tests.api.conftest import Api, auth


async def test_a_trader_sees_only_whether_the_chain_is_intact(api: Api) -> None:
    other = await api.user("other@example.com")
    for _ in range(3):
        await api.client.post("/api/v1/wallet/deposits", json={"amount": "5"}, headers=auth(other))
    trader = await api.user("trader@example.com")
    r = await api.client.get("/api/v1/ledger/verify", headers=auth(trader))
    assert r.status_code == 200
    body = r.json()
    assert body["ok"] is True
    assert body.get("entries") is None and body.get("first_broken") is None

    admin = await api.user("admin@example.com", role="admin")
    body = (await api.client.get("/api/v1/ledger/verify", headers=auth(admin))).json()
    assert body == {"ok": True, "entries": 3, "first_broken": None}
