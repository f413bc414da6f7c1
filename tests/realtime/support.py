"""Helpers for the real-time tests: a Redis DB of our own, a live uvicorn server, a client.

WebSockets need a real server (ASGI test transports do not speak them), so the app runs
under uvicorn on a free loopback port, in-process or as `amarktai serve` subprocesses.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect

from amarktai.accounts.passwords import Passwords
from amarktai.api.app import create_app
from amarktai.cli.serve import server_options
from amarktai.config import Settings
from amarktai.kit.clock import Clock
from amarktai.runtime import Runtime, build_runtime

REDIS_BASE = os.environ.get("AMARKTAI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PASSWORD = "correct horse battery"
CLAIM_KEY = "amarktai:test:claimed"


def unavailable(what: str, reason: str) -> None:
    message = f"{what} not reachable ({reason}); set AMARKTAI_TEST_{what.upper()}_URL"
    if IN_CI:
        pytest.fail(f"{message} — required in CI")
    pytest.skip(message)


async def claim_redis_db() -> str:
    """A Redis database of this test alone: the first empty one in 1..15, claimed with a
    key so parallel runs never share one. The caller flushes it when done."""
    base = REDIS_BASE.rsplit("/", 1)[0]
    try:
        for db in range(1, 16):
            client = Redis.from_url(f"{base}/{db}", socket_connect_timeout=2)
            try:
                if await client.dbsize() == 0 and await client.set(CLAIM_KEY, "1", nx=True):
                    return f"{base}/{db}"
            finally:
                await client.aclose()
    except Exception as exc:  # any connection failure means "no server here"
        unavailable("Redis", f"{type(exc).__name__}: {exc}")
    unavailable("Redis", "no empty database in 1..15")
    raise AssertionError("unreachable")


async def flush_redis(url: str) -> None:
    client = Redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Live:
    """A running server and what a test needs to talk to it."""

    base: str
    runtime: Runtime | None = None
    http: httpx.AsyncClient = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.AsyncClient(base_url=self.base, timeout=10)

    @property
    def ws_url(self) -> str:
        return self.base.replace("http://", "ws://") + "/api/v1/ws"

    async def login(self, email: str) -> dict[str, Any]:
        """Another login of a registered user: a new session (tokens, session_id)."""
        r = await self.http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def user(self, email: str) -> tuple[str, str]:
        """Register and log in over REST; returns (access token, user id)."""
        r = await self.http.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
        )
        assert r.status_code == 201, r.text
        user_id = r.json()["id"]
        # The request's transaction commits after the response is sent (FastAPI runs a
        # yield dependency's exit then), so a login right after register may not see it.
        for _ in range(50):
            r = await self.http.post(
                "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
            )
            if r.status_code != 401:
                break
            await asyncio.sleep(0.05)
        assert r.status_code == 200, r.text
        return r.json()["access_token"], user_id

    def connect(self, token: str | None = None, *, slow: bool = False, **query: Any) -> Any:
        """A client; `slow` shrinks its receive buffer (loopback autotunes it to 32 MB)
        and its frame queue, so a client that stops reading is felt by the server fast."""
        params = {k: str(v) for k, v in query.items() if v is not None}
        if token is not None:
            params["token"] = token
        url = self.ws_url + ("?" + str(httpx.QueryParams(params)) if params else "")
        if not slow:
            return connect(url, open_timeout=10, close_timeout=2, max_size=None)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        host, port = self.base.removeprefix("http://").split(":")
        sock.connect((host, int(port)))
        return connect(url, sock=sock, open_timeout=10, close_timeout=2, max_queue=1)


@asynccontextmanager
async def live_server(
    tmp_path: Any,
    db_url: str,
    *,
    clock: Clock | None = None,
    server: dict[str, Any] | None = None,
    **overrides: Any,
) -> AsyncIterator[Live]:
    """The real app under uvicorn, in this event loop, on a free port, with the uvicorn
    options `amarktai serve` uses (`server` overrides them)."""
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url, env="test", **overrides)
    passwords = Passwords(time_cost=1, memory_kib=1024)
    runtime = build_runtime(settings, passwords=passwords, clock=clock)
    app = create_app(runtime)
    port = free_port()
    options = {**server_options(settings), **(server or {})}
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", **options
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 — uvicorn offers no event to await
        await asyncio.sleep(0.02)
    live = Live(f"http://127.0.0.1:{port}", runtime)
    try:
        yield live
    finally:
        await live.http.aclose()
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        await runtime.close()


async def recv(ws: ClientConnection, wait_s: float = 5.0) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), wait_s))
    return data


async def recv_durable(ws: ClientConnection, count: int, wait_s: float = 10.0) -> list[Any]:
    """The next `count` messages that carry a seq (skips heartbeats and market data)."""
    out: list[Any] = []
    while len(out) < count:
        msg = await recv(ws, wait_s)
        if msg["seq"] is not None:
            out.append(msg)
    return out


async def alert(runtime: Runtime, user_id: str, n: int, *, bot_id: str | None = None) -> int:
    data = {"level": "info", "code": "test", "message": f"alert {n}", "bot_id": bot_id}
    return await runtime.bus.publish_user(user_id, "alert", data)
