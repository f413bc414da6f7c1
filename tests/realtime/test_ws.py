"""`/api/v1/ws` against a live server, on both bus backends."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest
from tests.realtime.support import alert, live_server, recv, recv_durable
from websockets.exceptions import ConnectionClosed

from amarktai.bus.messages import MESSAGE_MODELS


async def closed_code(ws: Any, wait_s: float = 5.0) -> int:
    """Read until the server closes; the close code it sent."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), wait_s)
    except ConnectionClosed as exc:
        assert exc.rcvd is not None, "closed without a close frame"
        return int(exc.rcvd.code)


def valid(msg: dict[str, Any]) -> dict[str, Any]:
    """Every server message must match its published model."""
    MESSAGE_MODELS[msg["type"]].model_validate(msg)
    return msg


async def test_invalid_or_missing_token_closes_4401(
    tmp_path: Path, sqlite_url: str, backend: dict[str, Any]
) -> None:
    async with live_server(tmp_path, sqlite_url, ws_auth_timeout_s=0.5, **backend) as live:
        async with live.connect("not-a-token") as ws:
            assert await closed_code(ws) == 4401
        async with live.connect() as ws:  # no token and no auth message in time
            assert await closed_code(ws) == 4401
        async with live.connect() as ws:
            await ws.send(json.dumps({"type": "auth", "token": "nope"}))
            assert await closed_code(ws) == 4401


async def test_auth_by_first_message_then_resume_in_order_then_live(
    tmp_path: Path, sqlite_url: str, backend: dict[str, Any]
) -> None:
    async with live_server(tmp_path, sqlite_url, **backend) as live:
        token, uid = await live.user("a@example.com")
        for n in range(1, 51):
            assert await alert(live.runtime, uid, n) == n  # type: ignore[arg-type]
        async with live.connect() as ws:
            await ws.send(json.dumps({"type": "auth", "token": token, "last_seq": 10}))
            resume = valid(await recv(ws))
            assert resume["type"] == "resume" and resume["seq"] is None
            assert resume["data"].pop("expires_at")  # the token's: re-authenticate before
            assert resume["data"] == {"gap": False, "last_seq": 10, "from_seq": 11, "head_seq": 50}
            replay = await recv_durable(ws, 40)
            assert [m["seq"] for m in replay] == list(range(11, 51))
            assert replay[0]["data"]["message"] == "alert 11" and valid(replay[0])["v"] == 1
            for n in range(51, 61):
                await alert(live.runtime, uid, n)  # type: ignore[arg-type]
            assert [m["seq"] for m in await recv_durable(ws, 10)] == list(range(51, 61))


async def test_no_last_seq_starts_live_at_head(
    tmp_path: Path, sqlite_url: str, backend: dict[str, Any]
) -> None:
    async with live_server(tmp_path, sqlite_url, **backend) as live:
        token, uid = await live.user("a@example.com")
        await alert(live.runtime, uid, 1)  # type: ignore[arg-type]
        async with live.connect(token) as ws:
            resume = await recv(ws)
            assert resume["data"]["from_seq"] == 2 and resume["data"]["head_seq"] == 1
            await alert(live.runtime, uid, 2)  # type: ignore[arg-type]
            assert [m["seq"] for m in await recv_durable(ws, 1)] == [2]


async def test_malformed_message_gets_error_and_socket_stays_open(
    tmp_path: Path, sqlite_url: str, backend: dict[str, Any]
) -> None:
    async with live_server(tmp_path, sqlite_url, **backend) as live:
        token, _ = await live.user("a@example.com")
        async with live.connect(token) as ws:
            assert (await recv(ws))["type"] == "resume"
            for bad in ("{not json", json.dumps({"type": "dance"}), json.dumps([1, 2])):
                await ws.send(bad)
                error = valid(await recv(ws))
                assert error["type"] == "error"
                assert error["data"]["code"] == "malformed_message"
            await ws.send(b"\x00\x01")
            assert (await recv(ws))["data"]["code"] == "malformed_message"
            await ws.send(json.dumps({"type": "ping", "nonce": 7}))
            pong = valid(await recv(ws))
            assert pong["type"] == "pong" and pong["data"]["nonce"] == 7


async def test_last_seq_ahead_of_stream_is_an_error_code(
    tmp_path: Path, sqlite_url: str, backend: dict[str, Any]
) -> None:
    async with live_server(tmp_path, sqlite_url, **backend) as live:
        token, uid = await live.user("a@example.com")
        await alert(live.runtime, uid, 1)  # type: ignore[arg-type]
        async with live.connect(token, last_seq=5) as ws:
            error = await recv(ws)
            assert error["type"] == "error" and error["data"]["code"] == "last_seq_ahead"
            assert await closed_code(ws) == 4409
        async with live.connect(token, last_seq="abc") as ws:
            assert (await recv(ws))["data"]["code"] == "bad_query"
            assert await closed_code(ws) == 4400


async def test_resume_beyond_retention_says_gap(
    tmp_path: Path, sqlite_url: str, backend: dict[str, Any]
) -> None:
    # Redis trims whole stream nodes (MAXLEN ~), so publish well past the limit.
    async with live_server(tmp_path, sqlite_url, stream_max_len=20, **backend) as live:
        token, uid = await live.user("a@example.com")
        for n in range(1, 401):
            await alert(live.runtime, uid, n)  # type: ignore[arg-type]
        info = await live.runtime.bus.info(uid)  # type: ignore[union-attr]
        assert info.head == 400 and 1 < info.oldest <= 381
        async with live.connect(token, last_seq=1) as ws:
            resume = await recv(ws)
            assert resume["data"]["gap"] is True and resume["data"]["from_seq"] == info.oldest
            got = await recv_durable(ws, 400 - info.oldest + 1)
            assert [m["seq"] for m in got] == list(range(info.oldest, 401))
        async with live.connect(token, last_seq=399) as ws:
            assert (await recv(ws))["data"]["gap"] is False


async def test_subscriptions_filter_by_bot_symbol_and_type(
    tmp_path: Path, sqlite_url: str, backend: dict[str, Any]
) -> None:
    async with live_server(tmp_path, sqlite_url, **backend) as live:
        token, uid = await live.user("a@example.com")
        rt = live.runtime
        assert rt is not None
        async with live.connect(token, bots="bot-a", symbols="BTC/ZAR") as ws:
            assert (await recv(ws))["type"] == "resume"
            await alert(rt, uid, 1, bot_id="bot-b")
            await alert(rt, uid, 2, bot_id="bot-a")
            await alert(rt, uid, 3)  # not about any bot: passes a bot filter
            got = await recv_durable(ws, 2)
            assert [m["data"]["message"] for m in got] == ["alert 2", "alert 3"]
            await rt.bus.publish_public("price", {"symbol": "ETH/ZAR", "price": "1"})
            await rt.bus.publish_public("price", {"symbol": "BTC/ZAR", "price": "2"})
            price = await recv(ws)
            assert price["type"] == "price" and price["data"]["symbol"] == "BTC/ZAR"
            assert price["seq"] is None
            await ws.send(json.dumps({"type": "subscribe", "types": ["fill"]}))
            sub = valid(await recv(ws))
            assert sub["type"] == "subscribed" and sub["data"]["types"] == ["fill"]
            await alert(rt, uid, 4)
            fill = {"id": "f1", "order_id": "o1", "symbol": "BTC/ZAR", "side": "buy",
                    "price": "1", "qty": "1", "fee": "0", "ts": "2026-01-01T00:00:00Z"}  # fmt: skip
            await rt.bus.publish_user(uid, "fill", fill)
            assert (await recv(ws))["type"] == "fill"


async def test_other_users_never_see_my_messages(
    tmp_path: Path, sqlite_url: str, backend: dict[str, Any]
) -> None:
    async with live_server(tmp_path, sqlite_url, **backend) as live:
        _, uid_a = await live.user("a@example.com")
        token_b, uid_b = await live.user("b@example.com")
        async with live.connect(token_b) as ws:
            await recv(ws)
            await alert(live.runtime, uid_a, 1)  # type: ignore[arg-type]
            await alert(live.runtime, uid_b, 1)  # type: ignore[arg-type]
            got = await recv_durable(ws, 1)
            assert got[0]["seq"] == 1 and (await live.runtime.bus.info(uid_b)).head == 1  # type: ignore[union-attr]
            with pytest.raises(TimeoutError):
                await recv_durable(ws, 1, wait_s=0.3)


async def test_slow_client_is_closed_4008_then_resumes_without_loss(
    tmp_path: Path, sqlite_url: str, backend: dict[str, Any]
) -> None:
    async with live_server(tmp_path, sqlite_url, ws_queue_size=8, **backend) as live:
        token, uid = await live.user("a@example.com")
        rt = live.runtime
        assert rt is not None
        body = os.urandom(4000).hex()  # incompressible: the socket negotiates deflate
        async with live.connect(token, slow=True) as slow, live.connect(token) as fast:
            await recv(slow), await recv(fast)
            seq = 0
            while rt.hub.stats.overflows == 0:  # the slow one is not reading at all
                data = {"level": "info", "code": "bulk", "message": body}
                seq = await rt.bus.publish_user(uid, "alert", data)
                assert seq < 20_000, "never overflowed"
                await asyncio.sleep(0)
            assert [m["seq"] for m in await recv_durable(fast, seq)] == list(range(1, seq + 1))
            seen = []
            try:
                while True:
                    msg = json.loads(await asyncio.wait_for(slow.recv(), 10))
                    if msg["seq"] is not None:
                        seen.append(msg["seq"])
            except ConnectionClosed as exc:
                assert exc.rcvd is not None and exc.rcvd.code == 4008
        assert seen == list(range(1, len(seen) + 1))
        for _ in range(5):
            seq = await alert(rt, uid, 0)
        async with live.connect(token, last_seq=seen[-1] if seen else 0) as again:
            assert (await recv(again))["data"]["gap"] is False
            rest = await recv_durable(again, seq - (seen[-1] if seen else 0))
            assert [m["seq"] for m in rest] == list(range(len(seen) + 1, seq + 1))


async def test_schema_route_publishes_every_message_type(tmp_path: Path, sqlite_url: str) -> None:
    async with live_server(tmp_path, sqlite_url) as live:
        doc = (await live.http.get("/api/v1/ws/schema")).json()
        required = {"price", "candle", "order_book", "trade", "order", "fill", "position",
                    "bot_status", "metrics", "risk", "alert", "insight", "chat",
                    "heartbeat", "resume"}  # fmt: skip
        mapping = doc["server_messages"]["discriminator"]["mapping"]
        assert required <= set(mapping)
        assert doc["close_codes"]["4401"] and doc["close_codes"]["4008"]
        assert doc["version"] == 1 and "auth" in json.dumps(doc["client_messages"])
        openapi = (await live.http.get("/openapi.json")).json()
        assert "/api/v1/ws/schema" in openapi["paths"]
