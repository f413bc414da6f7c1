"""Money the API accepts comes back, sums and verifies exactly (issue 13, item 1).

`POST /wallet/deposits` accepts 38 significant digits (20 integer, 18 fractional). A
read path that normalised in Python's default 28-digit context once returned such an
amount rounded, and the chain check recomputed a different hash than the one written,
so one ordinary deposit broke platform-wide ledger verification.
"""

from __future__ import annotations

from decimal import Decimal

from tests.api.conftest import Api, auth

WIDE = "12345678901.123456789012345678"  # 29 significant digits
LIMIT = "99999999999999999999.999999999999999999"  # 38: the largest amount accepted


async def test_a_wide_deposit_reads_back_exactly_and_the_chain_verifies(api: Api) -> None:
    h = await api.user("wide@example.com")
    for amount in (WIDE, WIDE, "0.000000000000000001"):
        r = await api.client.post(
            "/api/v1/wallet/deposits", json={"asset": "ZAR", "amount": amount}, headers=auth(h)
        )
        assert r.status_code == 201, r.text
    total = Decimal("24691357802.246913578024691357")  # by hand: default-context sums round

    balances = (await api.client.get("/api/v1/wallet/balances", headers=auth(h))).json()
    cash = next(v for k, v in balances["balances"].items() if k.endswith(":cash"))
    assert Decimal(cash["ZAR"]) == total
    assert cash["ZAR"] == "24691357802.246913578024691357"

    page = (await api.client.get("/api/v1/ledger/entries", headers=auth(h))).json()
    amounts = sorted(Decimal(p["amount"]) for e in page["items"] for p in e["postings"])
    assert Decimal(WIDE) in amounts
    running = [Decimal(p["balance"]) for e in page["items"] for p in e["postings"]]
    assert total in running or -total in running

    capital = (await api.client.get("/api/v1/wallet/capital", headers=auth(h))).json()
    assert Decimal(capital["ZAR"]["total"]) == total

    verify = (await api.client.get("/api/v1/ledger/verify", headers=auth(h))).json()
    assert verify["ok"] is True, verify


async def test_the_largest_accepted_amount_is_exact_and_overflow_is_refused_cleanly(
    api: Api,
) -> None:
    h = await api.user("limit@example.com")
    r = await api.client.post(
        "/api/v1/wallet/deposits", json={"asset": "BTC", "amount": LIMIT}, headers=auth(h)
    )
    assert r.status_code == 201, r.text
    posted = [p for p in r.json()["postings"] if p["account"].endswith(":cash")]
    assert posted[0]["amount"] == LIMIT and posted[0]["balance"] == LIMIT
    # One more unit would take the balance past what the store holds: a clear 4xx, and
    # nothing half-written.
    r = await api.client.post(
        "/api/v1/wallet/deposits", json={"asset": "BTC", "amount": "1"}, headers=auth(h)
    )
    assert 400 <= r.status_code < 500, r.text
    balances = (await api.client.get("/api/v1/wallet/balances", headers=auth(h))).json()
    cash = next(v for k, v in balances["balances"].items() if k.endswith(":cash"))
    assert cash["BTC"] == LIMIT
    verify = (await api.client.get("/api/v1/ledger/verify", headers=auth(h))).json()
    assert verify["ok"] is True, verify
