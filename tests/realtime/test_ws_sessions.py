"""A WebSocket never outlives its credentials: logout, revoked sessions, a reused refresh
token, a deactivated account and an expired access token close it with a stated code, on
both bus backends and across processes; and oversized client frames are refused."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.realtime.support import Live, alert, live_server, recv
from websockets.exceptions import ConnectionClosed

from amarktai.db.engine import transaction

Closed = tuple[int, str, list[dict[str, Any]]]


async def closed(ws: Any, wait_s: float = 5.0) -> Closed:
    """Read until the server closes: its close code, reason and what came before."""
    got: list[dict[str, Any]] = []
    try:
        while True:
            got.append(json.loads(await asyncio.wait_for(ws.recv(), wait_s)))
    except ConnectionClosed as exc:
        assert exc.rcvd is not None, "closed without a close frame"
        return int(exc.rcvd.code), exc.rcvd.reason, got


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def make_admin(live: Live, user_id: str) -> None:
    assert live.runtime is not None
    async with transaction(live.runtime.sessions) as s:
        user = await live.runtime.accounts(s).repo.user(user_id)
        assert user is not None
        user.role = "admin"


async def test_logout_closes_the_socket_within_a_second_and_only_that_session(
    tmp_path: Path, sqlite_url: str, backend: dict[str, Any]
) -> None:
    async with live_server(tmp_path, sqlite_url, **backend) as live:
        rt = live.runtime
        assert rt is not None
        token, uid = await live.user("a@example.com")
        other = await live.login("a@example.com")  # a second device: its own session
        async with live.connect(token) as ws, live.connect(other["access_token"]) as ws2:
            assert (await recv(ws))["type"] == "resume" and (await recv(ws2))["type"] == "resume"
            started = time.monotonic()
            r = await live.http.post("/api/v1/auth/logout", headers=bearer(token))
            assert r.status_code == 204, r.text
            await alert(rt, uid, 1)  # published after the logout: must not reach ws
            code, reason, got = await closed(ws, wait_s=1.0)
            elapsed = time.monotonic() - started
            assert (code, reason) == (4403, "logged out")
            assert elapsed < 1.0, elapsed
            assert [m for m in got if m["seq"] is not None] == []
            print(f"logout -> close: {elapsed * 1000:.1f} ms")
            # the other session's socket still delivers
            while (msg := await recv(ws2))["seq"] is None:
                pass
            assert msg["data"]["message"] == "alert 1"


async def test_revoking_one_or_all_sessions_closes_their_sockets(
    tmp_path: Path, sqlite_url: str, backend: dict[str, Any]
) -> None:
    async with live_server(tmp_path, sqlite_url, **backend) as live:
        token, _ = await live.user("a@example.com")
        second = await live.login("a@example.com")
        third = await live.login("a@example.com")
        async with (
            live.connect(token) as ws1,
            live.connect(second["access_token"]) as ws2,
            live.connect(third["access_token"]) as ws3,
        ):
            for ws in (ws1, ws2, ws3):
                assert (await recv(ws))["type"] == "resume"
            sid = second["session_id"]
            r = await live.http.delete(f"/api/v1/auth/sessions/{sid}", headers=bearer(token))
            assert r.status_code == 204, r.text
            assert (await closed(ws2, 1.0))[:2] == (4403, "session revoked")
            await ws1.send(json.dumps({"type": "ping", "nonce": 1}))
            assert (await recv(ws1))["type"] == "pong"  # the others stay open
            r = await live.http.delete("/api/v1/auth/sessions", headers=bearer(token))
            assert r.status_code == 200, r.text
            assert (await closed(ws1, 1.0))[:2] == (4403, "signed out everywhere")
            assert (await closed(ws3, 1.0))[:2] == (4403, "signed out everywhere")


async def test_refresh_token_reuse_closes_the_sessions_sockets(
    tmp_path: Path, sqlite_url: str, backend: dict[str, Any]
) -> None:
    async with live_server(tmp_path, sqlite_url, **backend) as live:
        await live.user("a@example.com")
        first = await live.login("a@example.com")
        async with live.connect(first["access_token"]) as ws:
            assert (await recv(ws))["type"] == "resume"
            body = {"refresh_token": first["refresh_token"]}
            assert (await live.http.post("/api/v1/auth/refresh", json=body)).status_code == 200
            r = await live.http.post("/api/v1/auth/refresh", json=body)  # the stolen copy
            assert r.status_code == 401
            assert (await closed(ws, 1.0))[:2] == (4403, "refresh token reused")


async def test_deactivating_an_account_closes_all_its_sockets(
    tmp_path: Path, sqlite_url: str, backend: dict[str, Any]
) -> None:
    async with live_server(tmp_path, sqlite_url, **backend) as live:
        _, admin_id = await live.user("admin@example.com")
        await make_admin(live, admin_id)
        admin = await live.login("admin@example.com")
        token, uid = await live.user("victim@example.com")
        again = await live.login("victim@example.com")
        async with live.connect(token) as ws1, live.connect(again["access_token"]) as ws2:
            await recv(ws1), await recv(ws2)
            r = await live.http.patch(
                f"/api/v1/admin/users/{uid}",
                json={"is_active": False},
                headers=bearer(admin["access_token"]),
            )
            assert r.status_code == 200, r.text
            assert (await closed(ws1, 1.0))[:2] == (4403, "account deactivated")
            assert (await closed(ws2, 1.0))[:2] == (4403, "account deactivated")


async def test_expired_token_closes_4401_unless_the_client_reauthenticates_in_band(
    tmp_path: Path, sqlite_url: str
) -> None:
    async with live_server(tmp_path, sqlite_url, access_token_ttl_s=3) as live:
        rt = live.runtime
        assert rt is not None
        token, uid = await live.user("a@example.com")
        refresh = (await live.login("a@example.com"))["refresh_token"]
        await live.user("b@example.com")
        other_token = (await live.login("b@example.com"))["access_token"]
        async with live.connect(token) as stale, live.connect() as kept:
            await kept.send(json.dumps({"type": "auth", "token": token}))
            resume = await recv(kept)
            assert resume["type"] == "resume"
            old_expiry = datetime.fromisoformat(resume["data"]["expires_at"])
            assert (await recv(stale))["type"] == "resume"
            # another user's token cannot take the connection over
            await kept.send(json.dumps({"type": "auth", "token": other_token}))
            assert (await recv(kept))["data"]["code"] == "auth_failed"
            await asyncio.sleep(1.0)  # so the fresh token expires (whole seconds) later
            r = await live.http.post("/api/v1/auth/refresh", json={"refresh_token": refresh})
            assert r.status_code == 200, r.text
            await kept.send(json.dumps({"type": "auth", "token": r.json()["access_token"]}))
            answer = await recv(kept)
            assert answer["type"] == "authenticated"
            assert datetime.fromisoformat(answer["data"]["expires_at"]) > old_expiry
            assert (await closed(stale, 4.0))[:2] == (4401, "token expired")
            assert datetime.now(UTC) >= old_expiry
            await alert(rt, uid, 1)  # the re-authenticated one outlived the old expiry
            while (msg := await recv(kept))["seq"] is None:
                pass
            assert msg["data"]["message"] == "alert 1"
            assert (await closed(kept, 4.0))[:2] == (4401, "token expired")


async def test_a_lost_revocation_is_caught_by_the_periodic_session_check(
    tmp_path: Path, sqlite_url: str
) -> None:
    """The revocation written without a bus message (as the CLI on the in-process bus
    would): the socket's session check still closes it."""
    async with live_server(tmp_path, sqlite_url, ws_session_check_s=0.3) as live:
        rt = live.runtime
        assert rt is not None
        token, uid = await live.user("a@example.com")
        async with live.connect(token) as ws:
            assert (await recv(ws))["type"] == "resume"
            async with transaction(rt.sessions) as s:
                await rt.accounts(s).repo.revoke_sessions(uid, rt.clock.now(), "logout")
            assert (await closed(ws, 2.0))[:2] == (4403, "logged out")


async def test_logout_on_one_api_process_closes_the_socket_on_another(
    tmp_path: Path, sqlite_url: str, redis_url: str
) -> None:
    async with (
        live_server(tmp_path, sqlite_url, redis_url=redis_url) as a,  # one data dir: one key
        live_server(tmp_path, sqlite_url, redis_url=redis_url) as b,
    ):
        token, _ = await a.user("a@example.com")
        async with b.connect(token) as ws:
            assert (await recv(ws))["type"] == "resume"
            started = time.monotonic()
            r = await a.http.post("/api/v1/auth/logout", headers=bearer(token))
            assert r.status_code == 204
            assert (await closed(ws, 1.0))[:2] == (4403, "logged out")
            print(f"logout on A -> close on B: {(time.monotonic() - started) * 1000:.1f} ms")


# -- frame size -----------------------------------------------------------------------------

FIVE_MB = 5 * 1024 * 1024


async def _raw_socket(live: Live, token: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A hand-made WebSocket client: it can announce a frame it never finishes sending."""
    host, port = live.base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET /api/v1/ws?token={token} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 101"), head
    return reader, writer


async def _next_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    b0, b1 = await reader.readexactly(2)
    size = b1 & 0x7F
    if size == 126:
        size = int.from_bytes(await reader.readexactly(2), "big")
    elif size == 127:
        size = int.from_bytes(await reader.readexactly(8), "big")
    return b0 & 0x0F, await reader.readexactly(size)


async def test_a_5_mb_frame_is_refused_from_its_header_without_being_read(
    tmp_path: Path, sqlite_url: str
) -> None:
    async with live_server(tmp_path, sqlite_url) as live:
        token, _ = await live.user("a@example.com")
        reader, writer = await _raw_socket(live, token)
        try:
            # Header of a 5 MB masked text frame, then only 1 KiB of its payload.
            writer.write(bytes([0x81, 0x80 | 127]) + FIVE_MB.to_bytes(8, "big") + os.urandom(4))
            writer.write(os.urandom(1024))
            await writer.drain()
            started = time.monotonic()
            while True:
                opcode, payload = await asyncio.wait_for(_next_frame(reader), 3)
                if opcode == 0x8:
                    break
            assert int.from_bytes(payload[:2], "big") == 1009
            assert time.monotonic() - started < 1.0
        finally:
            writer.close()


async def test_the_app_closes_1009_on_an_oversized_message_under_any_server(
    tmp_path: Path, sqlite_url: str
) -> None:
    """Under a server that lets the whole message through (uvicorn's 16 MiB default) the
    endpoint still refuses it, and a message under the limit is answered as before."""
    async with live_server(tmp_path, sqlite_url, server={"ws_max_size": 16 * 2**20}) as live:
        token, _ = await live.user("a@example.com")
        async with live.connect(token) as ws:
            assert (await recv(ws))["type"] == "resume"
            ok = json.dumps({"type": "ping", "nonce": "x" * 60_000})
            await ws.send(ok)
            assert (await recv(ws))["type"] == "pong"
            await ws.send(json.dumps({"type": "ping", "nonce": "x" * FIVE_MB}))
            assert (await closed(ws))[:2] == (1009, "message too big")


async def test_schema_documents_the_new_close_codes_and_messages(
    tmp_path: Path, sqlite_url: str
) -> None:
    async with live_server(tmp_path, sqlite_url) as live:
        doc = (await live.http.get("/api/v1/ws/schema")).json()
        assert {"1009", "4401", "4403"} <= set(doc["close_codes"])
        assert "token expired" in doc["close_codes"]["4401"]
        assert "authenticated" in doc["control_types"]
        assert "expires_at" in json.dumps(doc["server_messages"]["$defs"]["ResumeData"])
