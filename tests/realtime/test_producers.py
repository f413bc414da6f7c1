"""Real producers reach the socket: the engine trading on the sim market (order, fill),
REST bot actions (bot_status) and the market publisher (price, candle)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.realtime.support import Live, live_server, recv, recv_durable

from amarktai.engine.runner import Engine
from amarktai.kit.clock import ManualClock
from amarktai.markets.sim import SimConfig, SimMarket
from amarktai.realtime.producers import MarketPublisher, bus_listener


async def funded_bot(live: Live, token: str) -> dict[str, Any]:
    h = {"Authorization": f"Bearer {token}"}
    r = await live.http.post("/api/v1/wallet/deposits", json={"amount": "100000"}, headers=h)
    assert r.status_code == 201, r.text
    body = {
        "name": "b",
        "strategy": "dca",
        "params": {"quote_amount": 1000, "every_bars": 1},
        "symbol": "BTC/ZAR",
        "timeframe_s": 5,
        "allocation": "20000",
    }
    r = await live.http.post("/api/v1/bots", json=body, headers=h)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_engine_rest_and_market_events_arrive_in_order(
    tmp_path: Path, sqlite_url: str, backend: dict[str, Any]
) -> None:
    clock = ManualClock(datetime.now(UTC))
    async with live_server(tmp_path, sqlite_url, clock=clock, **backend) as live:
        rt = live.runtime
        assert rt is not None
        token, _ = await live.user("trader@example.com")
        bot = await funded_bot(live, token)
        engine = Engine(rt.sessions, clock, rt.instruments, listeners=[bus_listener(rt.bus)])
        rt.trading = engine
        async with live.connect(token, last_seq=0) as ws:
            assert (await recv(ws))["type"] == "resume"
            h = {"Authorization": f"Bearer {token}"}
            r = await live.http.post(f"/api/v1/bots/{bot['id']}/start", headers=h)
            assert r.status_code == 200, r.text
            status = (await recv_durable(ws, 1))[0]
            assert status["type"] == "bot_status" and status["data"]["status"] == "running"
            # The REST transaction commits after its response; wait for the engine to see it.
            for _ in range(100):
                await engine.sync_bot(bot["id"])
                if bot["id"] in engine.runners:
                    break
                await asyncio.sleep(0.02)
            steps = SimMarket(SimConfig(seed=11), start=clock.now()).steps()
            for _ in range(31):
                batch = next(steps)
                clock.set(max(clock.now(), batch[0].ts))
                for event in batch:
                    await engine.handle(event)
            fills = (await live.http.get(f"/api/v1/fills?bot_id={bot['id']}", headers=h)).json()
            n_fills = len(fills["items"])
            assert n_fills >= 5
            got = await recv_durable(ws, 2 * n_fills)  # one order and one fill per trade
            assert [m["seq"] for m in got] == list(range(2, 2 + 2 * n_fills))
            assert {m["type"] for m in got} == {"order", "fill"}
            assert {m["data"]["id"] for m in got if m["type"] == "fill"} == {
                f["id"] for f in fills["items"]
            }
            market = MarketPublisher(
                rt.bus, engine.last_prices, engine.history, exchange="sim", interval_s=1
            )
            assert await market.publish_once() >= 2
            kinds = set()
            while not {"price", "candle"} <= kinds:
                kinds.add((await recv(ws))["type"])
