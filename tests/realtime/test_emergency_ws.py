"""An emergency stop reaches the dashboard over a real WebSocket: its critical `alert` and
every halted bot's `bot_status`, from the API (user and platform scope) and from the CLI
(a separate process: at once over Redis; without Redis at the serving engine's resync)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from tests.realtime.support import Live, live_server, recv, recv_durable
from tests.realtime.test_producers import funded_bot

from amarktai.db.engine import transaction
from amarktai.engine.runner import Engine
from amarktai.realtime.producers import bus_listener
from amarktai.runtime import Runtime


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def serving_engine(rt: Runtime) -> Engine:
    """The engine as `amarktai serve` wires it (`bootstrap.start_engine`), without its feed."""
    engine = Engine(rt.sessions, rt.clock, rt.instruments, listeners=[bus_listener(rt.bus)])
    rt.trading = engine
    return engine


async def running_bot(live: Live, token: str) -> str:
    bot = await funded_bot(live, token)
    r = await live.http.post(f"/api/v1/bots/{bot['id']}/start", headers=bearer(token))
    assert r.status_code == 200, r.text
    return str(bot["id"])


Msgs = list[dict[str, Any]]


async def stop_news(ws: Any, bot_ids: set[str], wait_s: float = 5.0) -> tuple[Msgs, Msgs]:
    """Durable messages until the stop's alert and a `halted` status of every bot came."""
    alerts: list[dict[str, Any]] = []
    halted: set[str] = set()
    statuses: list[dict[str, Any]] = []
    while not (alerts and halted >= bot_ids):
        (msg,) = await recv_durable(ws, 1, wait_s)
        if msg["type"] == "alert":
            alerts.append(msg)
        elif msg["type"] == "bot_status" and msg["data"]["status"] == "halted":
            halted.add(msg["data"]["bot_id"])
            statuses.append(msg)
    return alerts, statuses


def assert_stop_alert(alert: dict[str, Any], by: str) -> None:
    data = alert["data"]
    assert data["level"] == "critical" and data["code"] == "emergency_stop.emergency_stop"
    assert data["message"] == f"emergency stop by {by}" and data["kind"] == "emergency_stop"


async def test_api_emergency_stop_sends_the_alert_and_halted_bots(
    tmp_path: Path, sqlite_url: str, backend: dict[str, Any]
) -> None:
    async with live_server(tmp_path, sqlite_url, **backend) as live:
        assert live.runtime is not None
        token, _ = await live.user("trader@example.com")
        bots = {await running_bot(live, token) for _ in range(2)}
        serving_engine(live.runtime)
        async with live.connect(token) as ws:
            assert (await recv(ws))["type"] == "resume"
            started = time.monotonic()
            r = await live.http.post("/api/v1/emergency-stop", json={}, headers=bearer(token))
            assert r.status_code == 200, r.text
            assert set(r.json()["bots_halted"]) == bots
            alerts, statuses = await stop_news(ws, bots)
            print(f"emergency stop -> alert and halted on the socket: "
                  f"{(time.monotonic() - started) * 1000:.0f} ms")  # fmt: skip
        assert len(alerts) == 1
        assert_stop_alert(alerts[0], "trader@example.com")
        assert all(s["data"]["reason"] == "emergency stop by trader@example.com" for s in statuses)


async def test_platform_stop_alerts_each_owner_and_the_admin(
    tmp_path: Path, sqlite_url: str, backend: dict[str, Any]
) -> None:
    async with live_server(tmp_path, sqlite_url, **backend) as live:
        rt = live.runtime
        assert rt is not None
        victim, _ = await live.user("victim@example.com")
        bot = await running_bot(live, victim)
        admin, admin_id = await live.user("admin@example.com")
        async with transaction(rt.sessions) as s:
            user = await rt.accounts(s).repo.user(admin_id)
            assert user is not None
            user.role = "admin"
        async with live.connect(victim) as vws, live.connect(admin) as aws:
            await recv(vws), await recv(aws)
            body = {"scope": "platform"}
            r = await live.http.post("/api/v1/emergency-stop", json=body, headers=bearer(admin))
            assert r.status_code == 200, r.text
            alerts, _ = await stop_news(vws, {bot})
            assert_stop_alert(alerts[0], "admin@example.com")
            (admin_alert,) = await recv_durable(aws, 1)
            assert_stop_alert(admin_alert, "admin@example.com")


async def cli_stop(live: Live, tmp_path: Path, email: str, **env: str) -> str:
    """`amarktai emergency-stop --user EMAIL` as its own process, on the server's data."""
    assert live.runtime is not None
    full_env = {
        **os.environ,
        "AMARKTAI_DATA_DIR": str(tmp_path / "data"),
        "AMARKTAI_DATABASE_URL": live.runtime.settings.effective_database_url,
        "AMARKTAI_ENV": "test",
        **env,
    }
    if "AMARKTAI_REDIS_URL" not in env:
        full_env.pop("AMARKTAI_REDIS_URL", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "amarktai.cli.main", "emergency-stop", "--user", email,
        env=full_env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def test_cli_stop_over_redis_reaches_the_servers_socket_at_once(
    tmp_path: Path, sqlite_url: str, redis_url: str
) -> None:
    async with live_server(tmp_path, sqlite_url, redis_url=redis_url) as live:
        token, _ = await live.user("trader@example.com")
        bot = await running_bot(live, token)
        async with live.connect(token) as ws:
            assert (await recv(ws))["type"] == "resume"
            out = await cli_stop(live, tmp_path, "trader@example.com", AMARKTAI_REDIS_URL=redis_url)
            assert "1 bots halted" in out
            alerts, _ = await stop_news(ws, {bot}, wait_s=2.0)
            assert_stop_alert(alerts[0], "cli")


async def test_cli_stop_without_redis_shows_halted_bots_at_the_engines_resync(
    tmp_path: Path, sqlite_url: str
) -> None:
    """The in-process bus cannot cross processes: the CLI's own publish reaches nobody.
    The serving engine's resync (`engine.load`, every 2 s under `serve`) drops the halted
    bots and publishes their `halted` status; the dashboard shows that as a critical alert
    (`LiveContext.toAlert`). The stop's `alert` message itself is not replayed."""
    async with live_server(tmp_path, sqlite_url) as live:
        assert live.runtime is not None
        token, _ = await live.user("trader@example.com")
        bot = await running_bot(live, token)
        engine = serving_engine(live.runtime)
        await engine.load()
        assert bot in engine.runners
        async with live.connect(token) as ws:
            assert (await recv(ws))["type"] == "resume"
            await cli_stop(live, tmp_path, "trader@example.com")
            await engine.load()  # the serving engine's periodic resync
            assert bot not in engine.runners
            while (status := (await recv_durable(ws, 1, 2.0))[0])["data"]["status"] != "halted":
                pass  # the bot's own `running` from its start may come first
            assert status["type"] == "bot_status" and status["data"]["bot_id"] == bot
            assert status["data"]["reason"] == "emergency stop by cli"
            await engine.load()  # announced once, not at every resync
            with pytest.raises(TimeoutError):
                await recv_durable(ws, 1, 0.3)
