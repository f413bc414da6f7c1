"""/metrics carries the platform's own series beside HTTP and process ones (issue 15
item 6): bots by state, engine closes, decisions and fills, close latency, feed lag,
breaker trips, WebSocket clients, job queue depth; HEAD /metrics answers too."""

from __future__ import annotations

import re

from tests.api.conftest import Api, auth
from tests.api.test_trading import Stepper, create_bot, funded_trader


def _value(text: str, series: str) -> float:
    match = re.search(rf"^{re.escape(series)} ([0-9.e+-]+)$", text, re.M)
    assert match, f"{series} missing from /metrics"
    return float(match.group(1))


async def test_domain_series_follow_the_engine_and_the_database(api: Api) -> None:
    stepper = Stepper(api)
    h = await funded_trader(api, "metrics@example.com")
    bot = await create_bot(api, h, allocation="5000")
    assert (
        await api.client.post(f"/api/v1/bots/{bot['id']}/start", headers=auth(h))
    ).status_code == 200
    await stepper.engine.load()
    await stepper.run(30)

    r = await api.client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert "amarktai_http_requests_total" in text  # the existing series stay
    assert _value(text, 'amarktai_bots{status="running"}') == 1
    closes = _value(text, "amarktai_engine_candle_closes_total")
    assert closes >= 5 and _value(text, "amarktai_engine_decisions_total") >= closes
    assert _value(text, "amarktai_engine_fills_total") >= 1
    assert _value(text, 'amarktai_engine_close_seconds_bucket{le="+Inf"}') == closes
    assert _value(text, "amarktai_engine_close_seconds_sum") > 0
    assert _value(text, "amarktai_engine_feed_lag_seconds") >= 0
    assert _value(text, "amarktai_ws_clients") == 0
    assert "amarktai_breaker_trips_active" in text and "amarktai_jobs" in text

    stop = await api.client.post("/api/v1/emergency-stop", json={}, headers=auth(h))
    assert stop.status_code == 200
    after = (await api.client.get("/metrics")).text
    assert _value(after, 'amarktai_breaker_trips_active{scope="user"}') == 1
    assert _value(after, 'amarktai_bots{status="halted"}') == 1

    head = await api.client.head("/metrics")
    assert head.status_code == 200 and head.content == b""
