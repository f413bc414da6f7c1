"""The trading core through the real API and the real engine on a stepped `sim` market."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from tests.api.conftest import Api, auth

from amarktai.engine.runner import Engine
from amarktai.markets.sim import SimConfig, SimMarket
from amarktai.strategies.base import Decision, Strategy, StrategyContext, StrategyParams
from amarktai.strategies.registry import register, unregister


class Exploding(Strategy):
    """Raises on its third bar: the engine must error this bot only."""

    name = "test_exploding"
    description = "test strategy that crashes"
    Params = StrategyParams

    @property
    def warmup_bars(self) -> int:
        return 1

    def on_bar(self, ctx: StrategyContext) -> Decision:
        if ctx.bar_index >= 2:
            raise RuntimeError("boom at bar 2")
        return Decision(rule="hold", signal=0.0)


@pytest.fixture(autouse=True)
def exploding_strategy() -> Iterator[None]:
    register(Exploding)
    yield
    unregister(Exploding.name)


class Stepper:
    def __init__(self, api: Api, seed: int = 11) -> None:
        self.api = api
        self.engine = Engine(api.runtime.sessions, api.clock, api.runtime.instruments)
        api.runtime.trading = self.engine
        market = SimMarket(SimConfig(seed=seed), start=api.clock.now())
        self._steps: Iterator[list[Any]] = market.steps()

    async def run(self, seconds: int) -> None:
        for _ in range(seconds):
            batch = next(self._steps)
            self.api.clock.set(max(self.api.clock.now(), batch[0].ts))
            for event in batch:
                await self.engine.handle(event)


async def funded_trader(api: Api, email: str, amount: str = "100000") -> dict[str, str]:
    h = await api.user(email)
    r = await api.client.post("/api/v1/wallet/deposits", json={"amount": amount}, headers=auth(h))
    assert r.status_code == 201, r.text
    return h


async def create_bot(api: Api, h: dict[str, str], **kw: Any) -> dict[str, Any]:
    body = {
        "name": "b",
        "strategy": "dca",
        "params": {"quote_amount": 1000, "every_bars": 1},
        "symbol": "BTC/ZAR",
        "timeframe_s": 5,
        **kw,
    }
    r = await api.client.post("/api/v1/bots", json=body, headers=auth(h))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def act(api: Api, h: dict[str, str], bot_id: str, action: str) -> Any:
    return await api.client.post(f"/api/v1/bots/{bot_id}/{action}", headers=auth(h))


async def test_bot_trades_and_every_fill_is_in_the_ledger(api: Api) -> None:
    h = await funded_trader(api, "t1@example.com")
    bot = await create_bot(api, h, allocation="20000")
    assert bot["status"] == "created" and Decimal(bot["cash"]) == 20000
    stepper = Stepper(api)
    assert (await act(api, h, bot["id"], "start")).json()["status"] == "running"
    await stepper.engine.sync_bot(bot["id"])
    await stepper.run(31)
    fills = (await api.client.get(f"/api/v1/fills?bot_id={bot['id']}", headers=auth(h))).json()
    assert len(fills["items"]) >= 5
    spent = sum(Decimal(f["price"]) * Decimal(f["qty"]) + Decimal(f["fee"]) for f in fills["items"])
    detail = (await api.client.get(f"/api/v1/bots/{bot['id']}", headers=auth(h))).json()
    assert Decimal(detail["cash"]) == Decimal(20000) - spent
    assert Decimal(detail["position_qty"]) == sum(Decimal(f["qty"]) for f in fills["items"])
    assert all(f["ledger_entry_id"] for f in fills["items"])
    orders = (await api.client.get("/api/v1/orders", headers=auth(h))).json()["items"]
    assert {o["status"] for o in orders} == {"filled"}
    traces = (
        await api.client.get(f"/api/v1/bots/{bot['id']}/decisions?outcome=order", headers=auth(h))
    ).json()["items"]
    assert len(traces) == len(orders)
    t = traces[0]["trace"]
    assert t["rule"] and "inputs" in t and t["risk"]["checks"]
    assert {c["name"] for c in t["risk"]["checks"]} >= {"allocated_capital", "instrument_rules"}
    assert t["execution"]["status"] == "filled"
    verify = (await api.client.get("/api/v1/ledger/verify", headers=auth(h))).json()
    assert verify["ok"] is True


async def test_bot_never_spends_unallocated_capital(api: Api) -> None:
    h = await funded_trader(api, "t2@example.com", amount="100000")
    bot = await create_bot(api, h, allocation="2500")  # enough for two R1000 buys + fees
    stepper = Stepper(api)
    await act(api, h, bot["id"], "start")
    await stepper.engine.sync_bot(bot["id"])
    await stepper.run(40)
    detail = (await api.client.get(f"/api/v1/bots/{bot['id']}", headers=auth(h))).json()
    assert Decimal(detail["cash"]) >= 0
    fills = (await api.client.get(f"/api/v1/fills?bot_id={bot['id']}", headers=auth(h))).json()
    assert len(fills["items"]) == 2  # the third R1000 buy would need capital it was not given
    holds = (
        await api.client.get(f"/api/v1/bots/{bot['id']}/decisions?outcome=hold", headers=auth(h))
    ).json()["items"]
    assert holds and holds[0]["trace"]["order"] is None
    capital = (await api.client.get("/api/v1/wallet/capital", headers=auth(h))).json()
    assert Decimal(capital["ZAR"]["free"]) == Decimal(97500)


async def test_crashing_strategy_errors_only_its_own_bot(api: Api) -> None:
    h = await funded_trader(api, "t3@example.com")
    good = await create_bot(api, h, allocation="10000")
    bad = await create_bot(api, h, strategy="test_exploding", params={}, allocation="10000")
    stepper = Stepper(api)
    for b in (good, bad):
        await act(api, h, b["id"], "start")
        await stepper.engine.sync_bot(b["id"])
    await stepper.run(31)
    bad_now = (await api.client.get(f"/api/v1/bots/{bad['id']}", headers=auth(h))).json()
    good_now = (await api.client.get(f"/api/v1/bots/{good['id']}", headers=auth(h))).json()
    assert bad_now["status"] == "errored" and "boom at bar 2" in bad_now["status_reason"]
    assert good_now["status"] == "running" and Decimal(good_now["position_qty"]) > 0
    # An errored bot can be restarted by its owner.
    assert (await act(api, h, bad["id"], "start")).json()["status"] == "running"


async def test_lifecycle_conflicts_capital_and_isolation(api: Api) -> None:
    h = await funded_trader(api, "t4@example.com")
    other = await api.user("t5@example.com")
    viewer = await api.user("t6@example.com", role="viewer")
    bot = await create_bot(api, h)
    r = await act(api, h, bot["id"], "start")
    assert r.status_code == 409 and r.json()["error"]["code"] == "no_allocated_capital"
    r = await act(api, h, bot["id"], "pause")
    err = r.json()["error"]
    assert r.status_code == 409 and err["details"]["current_status"] == "created"
    r = await api.client.post(
        f"/api/v1/bots/{bot['id']}/allocate", json={"amount": "1000"}, headers=auth(h)
    )
    assert r.status_code == 200
    assert (await act(api, h, bot["id"], "start")).json()["status"] == "running"
    assert (await act(api, h, bot["id"], "pause")).json()["status"] == "paused"
    assert (await act(api, h, bot["id"], "stop")).json()["status"] == "stopped"
    r = await act(api, h, bot["id"], "pause")
    assert r.status_code == 409 and r.json()["error"]["details"]["current_status"] == "stopped"
    assert (
        await api.client.get(f"/api/v1/bots/{bot['id']}", headers=auth(other))
    ).status_code == 404
    assert (await act(api, other, bot["id"], "start")).status_code == 404
    assert (await act(api, viewer, bot["id"], "start")).status_code == 403
    r = await api.client.post("/api/v1/bots/x/allocate", json={"amount": "1"}, headers=auth(h))
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("change", "status_code", "code"),
    [
        ({"strategy": "nope"}, 404, "unknown_strategy"),
        ({"symbol": "DOGE/ZAR"}, 404, "unknown_instrument"),
        ({"params": {"quote_amount": -5, "every_bars": 1}}, 422, "invalid_parameter"),
        ({"params": {"bogus": 1}}, 422, "invalid_parameter"),
        ({"timeframe_s": 0}, 422, "invalid_timeframe"),
        ({"mode": "live"}, 409, "live_not_available"),
        ({"mode": "yolo"}, 422, "validation_error"),
        ({"allocation": "999999999"}, 409, None),
        ({"risk": {"max_position_fraction": 2}}, 422, "invalid_risk_setting"),
    ],
)
async def test_bad_bot_input_is_rejected_and_writes_nothing(
    api: Api, change: dict[str, Any], status_code: int, code: str | None
) -> None:
    h = await funded_trader(api, "t7@example.com", amount="1000")
    body = {
        "name": "b",
        "strategy": "dca",
        "params": {"quote_amount": 10, "every_bars": 1},
        "symbol": "BTC/ZAR",
        "timeframe_s": 5,
        **change,
    }
    r = await api.client.post("/api/v1/bots", json=body, headers=auth(h))
    assert r.status_code == status_code, r.text
    if code:
        assert r.json()["error"]["code"] == code
    assert (await api.client.get("/api/v1/bots", headers=auth(h))).json() == []


async def test_withdrawal_limited_to_free_cash_and_balances_as_of(api: Api) -> None:
    h = await funded_trader(api, "t8@example.com", amount="500")
    before = api.clock.now()
    api.clock.advance(10)
    await api.client.post("/api/v1/wallet/deposits", json={"amount": "250"}, headers=auth(h))
    r = await api.client.post("/api/v1/wallet/withdrawals", json={"amount": "800"}, headers=auth(h))
    assert r.status_code in (409, 422), r.text
    now = (await api.client.get("/api/v1/wallet/balances", headers=auth(h))).json()
    then = (
        await api.client.get(
            "/api/v1/wallet/balances", params={"as_of": before.isoformat()}, headers=auth(h)
        )
    ).json()
    cash = f"user:{h['id']}:cash"
    assert now["balances"][cash]["ZAR"] == "750" and then["balances"][cash]["ZAR"] == "500"
