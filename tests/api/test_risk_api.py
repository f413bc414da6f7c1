"""Risk through the real API and the real engine on a stepped `sim` market: VaR, its
backtest, Monte Carlo, stress tests, ledger-based breakers, exits, sizing, emergency stop."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select
from tests.api.conftest import Api, auth
from tests.api.test_trading import Stepper, act, create_bot, funded_trader
from tests.support import heavy_tailed_returns

from amarktai.bus.messages import make_body
from amarktai.db.engine import transaction
from amarktai.engine.models import Bot, DecisionTrace, FillRow, OrderRow
from amarktai.engine.recorder import Recorder
from amarktai.execution.orders import new_order
from amarktai.ledger import journal
from amarktai.ledger.service import LedgerService
from amarktai.risk.history import register_closes, unregister_closes
from amarktai.risk.repository import RiskRepository
from amarktai.strategies.base import Decision, Strategy, StrategyContext, StrategyParams
from amarktai.strategies.registry import register, unregister


class AlwaysLong(Strategy):
    """Wants a full position every bar and keeps its own (wrong) idea of its PnL."""

    name = "test_always_long"
    description = "test strategy: target 1 with a boastful memory"
    Params = StrategyParams
    memory_pnl = Decimal("1000000")  # what the bot believes; breakers must ignore it

    @property
    def warmup_bars(self) -> int:
        return 1

    def on_bar(self, ctx: StrategyContext) -> Decision:
        return Decision(rule="always long", signal=1.0, target=1.0)


@pytest.fixture(autouse=True)
def always_long() -> Iterator[None]:
    register(AlwaysLong)
    yield
    unregister(AlwaysLong.name)


async def get(api: Api, h: dict[str, str], path: str, **params: Any) -> Any:
    return await api.client.get(path, params=params, headers=auth(h))


async def trading_user(
    api: Api, email: str, **bot: Any
) -> tuple[dict[str, str], dict[str, Any], Stepper]:
    """A funded user with one running bot that has bought some BTC."""
    h = await funded_trader(api, email)
    created = await create_bot(api, h, allocation="20000", **bot)
    stepper = Stepper(api)
    await act(api, h, created["id"], "start")
    await stepper.engine.sync_bot(created["id"])
    await stepper.run(16)
    return h, created, stepper


def assert_error(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code and err["message"]
    return dict(err)


# -- VaR, backtest, Monte Carlo, stress ---------------------------------------------------


@pytest.mark.parametrize("method", ["historical", "parametric", "cornish_fisher", "monte_carlo"])
async def test_var_of_user_and_bot_portfolio(api: Api, method: str) -> None:
    h, bot, _ = await trading_user(api, f"var-{method}@example.com")
    r = await get(api, h, "/api/v1/risk/var", confidence=0.99, horizon_days=5, method=method,
                  seed=7, simulations=20000)  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    assert {h["asset"] for h in body["holdings"]} == {"BTC", "ZAR"}
    assert body["method"] == method and body["confidence"] == 0.99 and body["horizon_days"] == 5
    assert 0 < body["var_amount"] <= body["cvar_amount"]
    total = sum(Decimal(x["value"]) for x in body["holdings"])
    assert body["var_percent"] == pytest.approx(100 * body["var_amount"] / float(total))
    assert body["band"] in ("green", "amber", "red")
    assert body["sentence"].startswith("With 99% confidence, you should not lose more than R")
    assert body["history"]["observations"] > 1000
    r = await get(api, h, "/api/v1/risk/var", scope=f"bot:{bot['id']}", method=method, seed=7)
    bot_var = r.json()
    assert r.status_code == 200 and bot_var["portfolio_value"] < body["portfolio_value"]


async def test_var_bad_input_and_empty_portfolio(api: Api) -> None:
    empty = await api.user("empty@example.com")
    h, _, _ = await trading_user(api, "varbad@example.com")
    path = "/api/v1/risk/var"
    assert_error(await get(api, h, path, confidence=1.5), 422, "invalid_confidence")
    assert_error(await get(api, h, path, confidence=0), 422, "invalid_confidence")
    assert_error(await get(api, h, path, horizon_days=0), 422, "invalid_horizon")
    assert_error(await get(api, h, path, method="magic"), 422, "invalid_method")
    assert_error(await get(api, h, path, scope="everyone"), 422, "invalid_scope")
    assert_error(await get(api, h, path, scope="bot:nope"), 404, "bot_not_found")
    err = assert_error(await get(api, h, path, lookback_days=10), 422, "insufficient_history")
    assert err["details"]["count"] == 10
    assert_error(await get(api, h, path, horizon_days="x"), 422, "validation_error")
    r = await get(api, empty, path)
    assert r.status_code == 200
    assert r.json()["var_amount"] == 0 and "empty" in r.json()["note"]


@pytest.fixture
def heavy_tailed_btc() -> Iterator[None]:
    """BTC's return history replaced by a small-cap-like series (skew ~5, kurtosis ~100)."""
    returns = heavy_tailed_returns()
    closes = 100.0 * np.cumprod(np.r_[1.0, 1.0 + returns])
    days = np.arange(np.datetime64("2021-01-01"), np.datetime64("2021-01-01") + closes.size)
    register_closes("BTC", {str(d): float(c) for d, c in zip(days, closes, strict=True)})
    yield
    unregister_closes("BTC")


async def test_invalid_cornish_fisher_falls_back_to_historical_with_a_note(
    api: Api, heavy_tailed_btc: None
) -> None:
    h, _, _ = await trading_user(api, "cf-domain@example.com")
    path = "/api/v1/risk/var"
    cf = (await get(api, h, path, method="cornish_fisher", confidence=0.95)).json()
    hist = (await get(api, h, path, method="historical", confidence=0.95)).json()
    assert cf["var_amount"] > 0 and "R0.00" not in cf["sentence"]  # was R0.00, green
    assert 0 < cf["var_percent"] <= cf["cvar_percent"] <= 100
    assert cf["var_amount"] == pytest.approx(hist["var_amount"])
    assert cf["cvar_amount"] == pytest.approx(hist["cvar_amount"])
    assert cf["band"] == hist["band"] and not cf["capped"]
    assert cf["method"] == "cornish_fisher" and cf["method_used"] == "historical"
    assert cf["fallback_reason"].startswith("Cornish-Fisher is not valid for skew 4.9")
    assert cf["fallback_reason"] in cf["note"] and "Historical VaR" in cf["note"]
    assert hist["method_used"] == "historical" and hist["fallback_reason"] is None
    for method in ("historical", "parametric", "cornish_fisher", "monte_carlo"):
        r = (await get(api, h, path, method=method, confidence=0.99, seed=1)).json()
        assert 0 < r["var_percent"] <= r["cvar_percent"] <= 100, method
    r = await get(api, h, "/api/v1/risk/var/backtest", method="cornish_fisher", window=250)
    backtest = r.json()
    assert r.status_code == 200 and backtest["fallback_forecasts"] > 0
    assert "Cornish-Fisher was outside its validity domain" in backtest["note"]
    assert min(backtest["var_forecasts"]) >= 0
    schema = (await api.client.get("/openapi.json")).json()["components"]["schemas"]["VarOut"]
    assert {"method_used", "fallback_reason", "capped", "note"} <= set(schema["properties"])


async def test_var_backtest(api: Api) -> None:
    empty = await api.user("bt-empty@example.com")
    h, _, _ = await trading_user(api, "bt@example.com")
    r = await get(api, h, "/api/v1/risk/var/backtest", confidence=0.95, window=250)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["observations"] > 1000 and body["breaches"] > 0
    assert body["breach_rate"] == pytest.approx(body["breaches"] / body["observations"])
    assert 0 <= body["kupiec"]["p_value"] <= 1 and body["kupiec"]["lr"] >= 0
    assert 0 <= body["christoffersen"]["test"]["p_value"] <= 1
    assert_error(await get(api, h, "/api/v1/risk/var/backtest", window=5), 422, "invalid_window")
    assert_error(await get(api, empty, "/api/v1/risk/var/backtest"), 422, "nothing_at_risk")


@pytest.mark.parametrize("method", ["gbm", "bootstrap", "block_bootstrap"])
async def test_monte_carlo_is_reproducible(api: Api, method: str) -> None:
    h, _, _ = await trading_user(api, f"mc-{method}@example.com")
    params = {"days": 30, "simulations": 2000, "method": method, "seed": 42}
    first = await get(api, h, "/api/v1/risk/monte-carlo", **params)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body == (await get(api, h, "/api/v1/risk/monte-carlo", **params)).json()
    assert body["p5"] <= body["median"] <= body["p95"]
    assert body["prob_profit"] + body["prob_loss"] <= 1
    assert len(body["histogram"]["edges"]) == len(body["histogram"]["counts"]) + 1
    assert sum(body["histogram"]["counts"]) == 2000
    assert len(body["fan_chart"]["days"]) == 31 and len(body["fan_chart"]["values"]) == 5


async def test_monte_carlo_bad_input(api: Api) -> None:
    empty = await api.user("mc-empty@example.com")
    h, _, _ = await trading_user(api, "mcbad@example.com")
    path = "/api/v1/risk/monte-carlo"
    assert_error(await get(api, h, path, simulations=10**6), 422, "too_many_simulations")
    assert_error(await get(api, h, path, days=0), 422, "invalid_horizon")
    assert_error(await get(api, h, path, method="dice"), 422, "invalid_method")
    err = assert_error(await get(api, h, path, lookback_days=5), 422, "insufficient_history")
    assert err["details"]["count"] == 5
    r = await get(api, empty, path)
    assert r.status_code == 200 and r.json()["current_capital"] == 0 and r.json()["note"]


async def test_stress_named_and_custom(api: Api) -> None:
    h, _, _ = await trading_user(api, "stress@example.com")
    names = [s["name"] for s in (await get(api, h, "/api/v1/risk/stress/scenarios")).json()]
    assert {"may_2021_crash", "nov_2022_exchange_collapse"} <= set(names)
    results = (await get(api, h, "/api/v1/risk/stress")).json()
    assert [r["scenario"] for r in results] == names
    may = results[0]
    btc = next(x for x in may["holdings"] if x["asset"] == "BTC")
    assert btc["shock_pct"] < -20 and btc["pnl"] < 0 and btc["source"] == "data"
    zar = next(x for x in may["holdings"] if x["asset"] == "ZAR")
    assert zar["pnl"] == 0
    r = await api.client.post("/api/v1/risk/stress", json={"shocks": {"BTC": -50}}, headers=auth(h))
    assert r.status_code == 200 and r.json()["total_pnl"] == pytest.approx(btc["value"] * -0.5)
    bad = await api.client.post(
        "/api/v1/risk/stress", json={"shocks": {"BTC": -150}}, headers=auth(h)
    )
    assert_error(bad, 422, "invalid_shock")
    assert_error(await get(api, h, "/api/v1/risk/stress", scenario="nope"), 422, "unknown_scenario")


# -- breakers ------------------------------------------------------------------------------


async def test_breaker_trips_on_ledger_loss_despite_bot_memory(api: Api) -> None:
    """The bot 'remembers' a million profit; the ledger says fees made it lose money."""
    h = await funded_trader(api, "brk@example.com")
    r = await api.client.put(
        "/api/v1/risk/limits",
        json={"settings": {"daily_loss_amount": "0.01"}},
        headers=auth(h),
    )
    assert r.status_code == 200, r.text
    bot = await create_bot(api, h, strategy="test_always_long", params={}, allocation="20000")
    stepper = Stepper(api)
    alerts: list[tuple[str, str, dict[str, Any]]] = []

    async def listen(user_id: str, kind: str, payload: dict[str, Any]) -> None:
        alerts.append((user_id, kind, payload))

    stepper.engine._listeners.append(listen)
    await act(api, h, bot["id"], "start")
    await stepper.engine.sync_bot(bot["id"])
    await stepper.run(31)
    assert AlwaysLong.memory_pnl > 0
    now = (await get(api, h, f"/api/v1/bots/{bot['id']}")).json()
    assert now["status"] == "halted" and "daily_loss" in now["status_reason"]
    denied = (await get(api, h, f"/api/v1/bots/{bot['id']}/decisions", outcome="denied")).json()
    checks = denied["items"][-1]["trace"]["risk"]["checks"]
    assert any(c["name"] == "daily_loss" and c["tripped"] for c in checks)
    assert any(c["name"] == "circuit_breakers" and c["tripped"] for c in checks)
    assert any(kind == "alert" and p["breaker"] == "daily_loss" for _, kind, p in alerts)
    for _, kind, payload in alerts:  # every alert is a valid real-time message
        assert make_body(kind, payload, api.clock.now()).type == kind
    status = (await get(api, h, "/api/v1/risk/breakers")).json()
    assert [e["breaker"] for e in status["active"]] == ["daily_loss"]
    events = (await get(api, h, "/api/v1/risk/events")).json()
    assert events[0]["kind"] == "trip" and Decimal(events[0]["figures"]["pnl"]) < 0
    # reset by hand: the bot is released to paused; a second reset finds nothing
    r = await api.client.post(
        "/api/v1/risk/breakers/reset", json={"scope": "user"}, headers=auth(h)
    )
    assert r.status_code == 200 and r.json()["released_bots"] == [bot["id"]]
    assert (await get(api, h, f"/api/v1/bots/{bot['id']}")).json()["status"] == "paused"
    r = await api.client.post(
        "/api/v1/risk/breakers/reset", json={"scope": "user"}, headers=auth(h)
    )
    assert_error(r, 404, "no_active_breaker")


async def test_daily_loss_trip_resets_by_rule_next_utc_day(api: Api) -> None:
    h = await funded_trader(api, "rule@example.com")
    await api.client.put(
        "/api/v1/risk/limits", json={"settings": {"daily_loss_amount": "0.01"}}, headers=auth(h)
    )
    bot = await create_bot(api, h, strategy="test_always_long", params={}, allocation="20000")
    stepper = Stepper(api)
    await act(api, h, bot["id"], "start")
    await stepper.engine.sync_bot(bot["id"])
    await stepper.run(31)
    assert (await get(api, h, f"/api/v1/bots/{bot['id']}")).json()["status"] == "halted"
    api.clock.advance(86400)
    await stepper.engine.load()  # the periodic resync applies the reset rules
    # (the API's tokens cannot be used a day ahead of real time, so read the database)
    async with transaction(api.runtime.sessions) as s:
        row = await s.get(Bot, bot["id"])
        assert row is not None and row.status == "paused"
        kinds = [e.kind for e in await RiskRepository(s).events(h["id"], 10)]
    assert kinds[:2] == ["reset", "trip"]


async def test_limits_bad_input_writes_nothing(api: Api) -> None:
    h = await funded_trader(api, "lim@example.com")
    for settings, code in (
        ({"daily_loss_pct": 2}, "invalid_risk_setting"),
        ({"max_consecutive_losses": 0}, "invalid_risk_setting"),
        ({"bogus": 1}, "invalid_risk_setting"),
    ):
        r = await api.client.put(
            "/api/v1/risk/limits", json={"settings": settings}, headers=auth(h)
        )
        assert_error(r, 422, code)
    status = (await get(api, h, "/api/v1/risk/breakers")).json()
    assert status["levels"][0]["limits"]["daily_loss_pct"] is None
    r = await api.client.put(
        "/api/v1/risk/limits", json={"scope": "platform", "settings": {}}, headers=auth(h)
    )
    assert_error(r, 403, "insufficient_role")
    r = await api.client.post(
        "/api/v1/bots",
        json={"name": "b", "strategy": "dca", "symbol": "BTC/ZAR", "risk": {"stop_loss_pct": 2}},
        headers=auth(h),
    )
    assert_error(r, 422, "invalid_risk_setting")
    assert (await get(api, h, "/api/v1/bots")).json() == []


# -- trade-level exits and sizing -----------------------------------------------------------


async def test_stop_or_target_exit_sells_with_its_rule(api: Api) -> None:
    risk = {"stop_loss_pct": 0.0005, "take_profit_pct": 0.0005}
    h, bot, stepper = await trading_user(api, "exit@example.com", risk=risk)
    await stepper.run(30)
    orders = (await get(api, h, f"/api/v1/bots/{bot['id']}/decisions", outcome="order")).json()
    exits = [t for t in orders["items"] if t["rule"] in ("stop_loss", "take_profit")]
    assert exits, [t["rule"] for t in orders["items"]]
    assert exits[0]["trace"]["risk"]["side"] == "sell"
    assert exits[0]["trace"]["inputs"]["entry_price"] > 0


async def test_fixed_fraction_sizing_and_user_exposure_cap(api: Api) -> None:
    risk = {"sizing": "fixed_fraction", "fraction": 0.2}
    h, bot, stepper = await trading_user(
        api, "size@example.com", strategy="test_always_long", params={}, risk=risk
    )
    detail = (await get(api, h, f"/api/v1/bots/{bot['id']}")).json()
    share = (
        Decimal(detail["position_qty"]) * Decimal(detail["last_price"]) / Decimal(detail["equity"])
    )
    assert Decimal("0.15") < share < Decimal("0.21")
    traces = (await get(api, h, f"/api/v1/bots/{bot['id']}/decisions", outcome="order")).json()
    assert any(c["name"] == "sizing" for c in traces["items"][-1]["trace"]["risk"]["checks"])
    await api.client.put(
        "/api/v1/risk/limits", json={"settings": {"max_exposure": "1"}}, headers=auth(h)
    )
    other = await create_bot(api, h, allocation="5000")
    await act(api, h, other["id"], "start")
    await stepper.engine.sync_bot(other["id"])
    await stepper.run(11)
    denied = (await get(api, h, f"/api/v1/bots/{other['id']}/decisions", outcome="denied")).json()
    checks = denied["items"][0]["trace"]["risk"]["checks"]
    assert any(c["name"] == "user_max_exposure" and not c["passed"] for c in checks)


# -- emergency stop -----------------------------------------------------------------------


async def _bots_with_resting_orders(api: Api, h: dict[str, str], stepper: Stepper, n: int) -> None:
    engine = stepper.engine
    async with transaction(api.runtime.sessions) as s:
        ledger = LedgerService(s, api.clock)
        recorder = Recorder(s, ledger)
        price = engine.last_prices["BTC/ZAR"]
        for i in range(n):
            bot = Bot(
                id=f"EBOT{i:022d}", user_id=h["id"], name=f"e{i}", strategy="dca", params={},
                exchange="sim", symbol="BTC/ZAR", timeframe_s=3600, mode="paper_public",
                status="running", risk={}, created_at=api.clock.now(), updated_at=api.clock.now(),
            )  # fmt: skip
            s.add(bot)
            await s.flush()
            order = new_order(
                client_order_id=f"rest-{i}", bot_id=bot.id, symbol="BTC/ZAR", side="buy",
                type="limit", qty=Decimal("0.001"), limit_price=(price / 2).quantize(Decimal(1)),
                created_at=api.clock.now(),
            )  # fmt: skip
            execution = engine.venues["paper_public"].submit(order)
            await recorder.save_order(execution.order, h["id"], api.clock.now())


async def test_emergency_stop_100_bots_under_a_second(api: Api) -> None:
    h, bot, stepper = await trading_user(api, "stop@example.com")
    await _bots_with_resting_orders(api, h, stepper, 100)
    await stepper.engine.load()
    started = time.perf_counter()
    r = await api.client.post("/api/v1/emergency-stop", json={"flatten": True}, headers=auth(h))
    elapsed = time.perf_counter() - started
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["bots_halted"]) == 101 and len(body["orders_cancelled"]) == 100
    assert [f["bot_id"] for f in body["flattened"]] == [bot["id"]]
    if api.runtime.settings.effective_database_url.startswith("sqlite"):
        assert elapsed < 1.0, elapsed
    assert not stepper.engine.venues["paper_public"].open_orders()
    assert (await get(api, h, f"/api/v1/bots/{bot['id']}")).json()["position_qty"] in ("0", "0E-18")
    open_orders = (await get(api, h, "/api/v1/orders", status="open")).json()["items"]
    assert open_orders == []
    # new bots are denied while the stop stands
    other = await create_bot(api, h, allocation="5000")
    await act(api, h, other["id"], "start")
    await stepper.engine.sync_bot(other["id"])
    await stepper.run(6)
    denied = (await get(api, h, f"/api/v1/bots/{other['id']}/decisions", outcome="denied")).json()
    assert denied["items"] and denied["items"][0]["rule"] == "circuit_breaker"


async def test_flatten_books_every_sell_as_a_real_fill(api: Api) -> None:
    h = await funded_trader(api, "flat@example.com")
    stepper = Stepper(api)
    bots = [(await create_bot(api, h, allocation="20000"))["id"] for _ in range(3)]
    for bot_id in bots:
        await act(api, h, bot_id, "start")
        await stepper.engine.sync_bot(bot_id)
    await stepper.run(16)
    held = {b: (await get(api, h, f"/api/v1/bots/{b}")).json()["position_qty"] for b in bots}
    assert all(Decimal(q) > 0 for q in held.values())
    r = await api.client.post("/api/v1/emergency-stop", json={"flatten": True}, headers=auth(h))
    assert r.status_code == 200, r.text
    flattened = {f["bot_id"]: f for f in r.json()["flattened"]}
    assert set(flattened) == set(bots) and not r.json()["not_flattened"]
    async with transaction(api.runtime.sessions) as s:
        ledger = LedgerService(s, api.clock)
        for bot_id in bots:
            assert Decimal(flattened[bot_id]["qty"]) == Decimal(held[bot_id])
            assert (await get(api, h, f"/api/v1/bots/{bot_id}")).json()["position_qty"] in (
                "0", "0E-18")  # fmt: skip
            order = await s.get(OrderRow, flattened[bot_id]["order_id"])
            assert order is not None and order.status == "filled" and order.side == "sell"
            fills = await s.execute(select(FillRow).where(FillRow.order_id == order.id))
            rows = fills.scalars().all()
            assert rows and sum(f.qty for f in rows) == Decimal(held[bot_id])
            for fill in rows:
                entry = await ledger.get(fill.ledger_entry_id, user_id=h["id"])
                assert entry.kind == "fill" and entry.bot_id == bot_id
                pnl = journal.bot_account(bot_id, "pnl")
                assert fill.realised_pnl == -sum(
                    (p.amount for p in entry.postings if p.account == pnl), journal.ZERO
                )
            trace = await s.execute(select(DecisionTrace).where(DecisionTrace.order_id == order.id))
            assert trace.scalar_one().rule == "emergency_stop"
        count, broken = await ledger.verify()
        assert count > 0 and broken is None
        replay = await ledger.replay(h["id"])
        assert replay.ok


async def test_emergency_stop_platform_scope_needs_admin(api: Api) -> None:
    h = await funded_trader(api, "notadmin@example.com")
    r = await api.client.post("/api/v1/emergency-stop", json={"scope": "platform"}, headers=auth(h))
    assert_error(r, 403, "insufficient_role")
    r = await api.client.post("/api/v1/emergency-stop", json={"scope": "galaxy"}, headers=auth(h))
    assert_error(r, 422, "validation_error")
    viewer = await api.user("viewer-stop@example.com", role="viewer")
    r = await api.client.post("/api/v1/emergency-stop", json={}, headers=auth(viewer))
    assert_error(r, 403, "insufficient_role")
    admin = await api.user("admin-stop@example.com", role="admin")
    victim, vbot, _ = await trading_user(api, "victim@example.com")
    r = await api.client.post(
        "/api/v1/emergency-stop", json={"scope": "platform"}, headers=auth(admin)
    )
    assert r.status_code == 200 and vbot["id"] in r.json()["bots_halted"]
    async with transaction(api.runtime.sessions) as s:
        traces = (await s.execute(DecisionTrace.__table__.select())).all()
    assert traces
    assert (await get(api, victim, f"/api/v1/bots/{vbot['id']}")).json()["status"] == "halted"
