"""`/api/v1/ws`: the real-time WebSocket, and `/api/v1/ws/schema`: its published protocol.

Connecting: `ws://host/api/v1/ws?token=<access_token>&last_seq=<n>` — or, to keep the
token out of URLs and proxy logs, connect without `token` and send
`{"type": "auth", "token": "...", "last_seq": n}` as the first message (within
`AMARKTAI_WS_AUTH_TIMEOUT_S`). Optional filters in the query (comma-separated) or later
via a `subscribe` message: `bots`, `symbols`, `types`.

The socket is always accepted first and then closed with an application code, because a
browser cannot read the status of a refused handshake but can read a close code.

A socket never outlives its credentials: it closes with 4403 the moment its session ends
(logout, revocation, refresh-token reuse, deactivated account: signalled over the bus, so
any process's logout reaches it, and re-read from the database every
`AMARKTAI_WS_SESSION_CHECK_S` in case that signal was missed), and with 4401 'token
expired' when its access token expires, unless the client re-authenticated in band first
(an `auth` message with a fresh token). Client frames over `AMARKTAI_WS_MAX_MESSAGE_BYTES`
close it with 1009.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from fastapi import APIRouter, WebSocket
from pydantic import ValidationError
from starlette.datastructures import QueryParams

from amarktai.bus.messages import (
    CLIENT_ADAPTER,
    AuthMessage,
    Envelope,
    PingMessage,
    SubscribeMessage,
    control,
)
from amarktai.bus.schema import protocol_document
from amarktai.db.engine import transaction
from amarktai.kit.errors import DomainError
from amarktai.realtime.hub import (
    CLOSE_PROTOCOL,
    CLOSE_REVOKED,
    CLOSE_SEQ_AHEAD,
    CLOSE_SLOW_CONSUMER,
    CLOSE_TOO_BIG,
    CLOSE_UNAUTHORIZED,
    Connection,
    Filter,
    Hub,
    SeqAhead,
    cancel_quietly,
    revoke_reason,
)
from amarktai.runtime import Runtime

router = APIRouter(prefix="/api/v1", tags=["realtime"])
log = structlog.get_logger("amarktai.realtime")


@router.get("/ws/schema")
async def ws_schema() -> dict[str, Any]:
    """JSON Schema of every WebSocket message (server → client and client → server),
    the durable/public/control type lists and the close codes.

    Protocol: after authentication the server sends one `resume` message
    (`gap`, `from_seq`, `head_seq`), then every durable message with seq > `last_seq` in
    order, then the live feed. Durable messages carry a per-user, strictly increasing
    `seq`; public market data and control messages carry `seq: null`. If `gap` is true
    the retention window has moved past `last_seq`: refetch state over REST. Keep the
    highest `seq` seen and reconnect with it as `last_seq` after any disconnect.
    """
    return protocol_document()


class BadQuery(ValueError):
    """A query-string value the socket cannot use (closed with 4400)."""


def _csv(params: QueryParams, name: str) -> frozenset[str] | None:
    raw = params.get(name)
    return None if raw is None else frozenset(p for p in raw.split(",") if p)


def _query(params: QueryParams) -> tuple[int | None, Filter]:
    raw = params.get("last_seq")
    try:
        last_seq = None if raw in (None, "") else int(raw)
    except ValueError as exc:
        raise BadQuery("last_seq must be a non-negative integer") from exc
    if last_seq is not None and last_seq < 0:
        raise BadQuery("last_seq must be a non-negative integer")
    flt = Filter(_csv(params, "bots"), _csv(params, "symbols"), _csv(params, "types"))
    return last_seq, flt


@dataclass(frozen=True)
class Identity:
    """Who a token authenticates, and until when: the connection is bound to both."""

    user_id: str
    session_id: str
    expires_at: datetime


async def _authenticate(runtime: Runtime, token: str) -> Identity | None:
    async with transaction(runtime.sessions) as session:
        accounts = runtime.accounts(session)
        try:
            user, auth = await accounts.authenticate(token)
            claims = runtime.tokens.decode_access(token, runtime.clock.now())
        except DomainError:
            return None
        return Identity(user.id, auth.id, claims.expires_at)


async def _session_end(runtime: Runtime, conn: Connection) -> str | None:
    """Why the connection's session is over (its close reason), or None while it stands."""
    if conn.session_id is None:
        return None
    async with runtime.sessions() as session:
        repo = runtime.accounts(session).repo
        user = await repo.user(conn.user_id)
        auth = await repo.session_of_user(conn.user_id, conn.session_id)
    if user is None or not user.is_active:
        return revoke_reason("deactivated")
    if auth is None or auth.revoked_at is not None:
        return revoke_reason(auth.revoke_reason if auth else None)
    if auth.expires_at <= runtime.clock.now():
        return "session expired"
    return None


async def _watch(runtime: Runtime, conn: Connection) -> None:
    """End the connection when its access token expires (an in-band `auth` moves that
    moment: `expires_at` is re-read every turn) and, every `ws_session_check_s`, when the
    database says its session ended: the backstop for a revocation that never reached
    this process over the bus (a dropped pub/sub message, a CLI on the in-process bus)."""
    every = runtime.settings.ws_session_check_s
    next_check = time.monotonic() + every
    while not conn.ended.is_set():
        if conn.expires_at is not None:
            left = (conn.expires_at - runtime.clock.now()).total_seconds()
            if left <= 0:
                conn.end(CLOSE_UNAUTHORIZED, "token expired")
                return
        else:
            left = every
        await asyncio.sleep(max(min(left, next_check - time.monotonic()), 0.0))
        if time.monotonic() < next_check:
            continue
        next_check = time.monotonic() + every
        try:
            ended = await _session_end(runtime, conn)
        except Exception:  # a database hiccup must not drop healthy sockets
            log.warning("ws_session_check_failed", user_id=conn.user_id, exc_info=True)
            continue
        if ended is not None:
            conn.end(CLOSE_REVOKED, ended)


async def _auth_message(websocket: WebSocket, timeout_s: float) -> AuthMessage | None:
    """The first message, when the token was not in the URL; anything else fails auth."""
    try:
        raw = await asyncio.wait_for(websocket.receive_text(), timeout_s)
        message = CLIENT_ADAPTER.validate_json(raw)
    except (TimeoutError, ValidationError, KeyError):
        return None
    return message if isinstance(message, AuthMessage) else None


async def _close(websocket: WebSocket, code: int, reason: str = "") -> None:
    with contextlib.suppress(Exception):
        await websocket.close(code, reason)


async def _error(websocket: WebSocket, runtime: Runtime, code: str, message: str) -> None:
    env = control("error", {"code": code, "message": message}, runtime.clock.now())
    with contextlib.suppress(Exception):
        await websocket.send_text(env.text)


@router.websocket("/ws")
async def websocket_endpoint(websocket: WebSocket) -> None:
    runtime: Runtime = websocket.app.state.runtime
    await runtime.hub.ensure_started()
    await websocket.accept()
    try:
        last_seq, flt = _query(websocket.query_params)
    except BadQuery as exc:
        await _error(websocket, runtime, "bad_query", str(exc))
        await _close(websocket, CLOSE_PROTOCOL, "bad query")
        return
    token = websocket.query_params.get("token")
    if not token:
        first = await _auth_message(websocket, runtime.settings.ws_auth_timeout_s)
        token = first.token if first else None
        last_seq = first.last_seq if first and first.last_seq is not None else last_seq
    who = await _authenticate(runtime, token) if token else None
    if who is None:
        await _close(websocket, CLOSE_UNAUTHORIZED, "unauthorized")
        return
    conn = runtime.hub.connection(
        who.user_id, flt, session_id=who.session_id, expires_at=who.expires_at
    )
    await runtime.hub.attach(conn)
    try:
        # A logout that committed between the check above and `attach` published its
        # revocation before this connection could hear it: look once more.
        if (ended := await _session_end(runtime, conn)) is not None:
            conn.end(CLOSE_REVOKED, ended)
        await _serve(runtime, conn, websocket, last_seq)
    except Exception as exc:  # a vanished client surfaces as many exception types
        log.debug("ws_connection_ended", user_id=who.user_id, error=type(exc).__name__)
    finally:
        await runtime.hub.detach(conn)


async def _serve(
    runtime: Runtime, conn: Connection, websocket: WebSocket, last_seq: int | None
) -> None:
    hub = runtime.hub
    if conn.ended.is_set():
        await _close(websocket, conn.end_code, conn.end_reason)
        return
    watch = asyncio.create_task(_watch(runtime, conn))
    try:
        # Catch-up may replay many pages: a logout meanwhile must not wait for it.
        catch_up = asyncio.create_task(hub.catch_up(conn, websocket, last_seq))
        ended = asyncio.create_task(hub.wait_ended(conn))
        await asyncio.wait({catch_up, ended}, return_when=asyncio.FIRST_COMPLETED)
        await cancel_quietly(ended)
        if conn.ended.is_set():
            await cancel_quietly(catch_up)
            await _close(websocket, conn.end_code, conn.end_reason)
            return
        try:
            catch_up.result()
        except SeqAhead as exc:
            await _error(websocket, runtime, "last_seq_ahead", str(exc))
            await _close(websocket, CLOSE_SEQ_AHEAD, "last_seq ahead of stream")
            return
        await _live(runtime, conn, websocket)
    finally:
        await cancel_quietly(watch)


async def _live(runtime: Runtime, conn: Connection, websocket: WebSocket) -> None:
    hub = runtime.hub
    pump = asyncio.create_task(hub.pump(conn, websocket))
    receive = asyncio.create_task(_receive(runtime, hub, conn, websocket))
    overflow = asyncio.create_task(hub.wait_overflow(conn))
    ended = asyncio.create_task(hub.wait_ended(conn))
    tasks = {pump, receive, overflow, ended}
    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    await cancel_quietly(pump, receive, overflow, ended)
    if conn.ended.is_set():  # revoked, expired, oversized: say which, with its code
        await _close(websocket, conn.end_code, conn.end_reason)
        return
    if overflow in done:
        await _close(websocket, CLOSE_SLOW_CONSUMER, "slow consumer: resume with last_seq")
    for task in done - {overflow, ended}:
        task.result()  # re-raise a send/receive failure for the caller's log


def _too_big(raw: str | bytes, limit: int) -> bool:
    return len(raw) > limit or (isinstance(raw, str) and len(raw.encode()) > limit)


async def _receive(runtime: Runtime, hub: Hub, conn: Connection, websocket: WebSocket) -> None:
    """Client messages: a malformed one gets an `error` reply and the socket stays open;
    an oversized one ends it (1009). uvicorn refuses such a frame from its header already
    (`ws_max_size`, see `amarktai.cli.serve`); this check holds under any ASGI server."""
    limit = runtime.settings.ws_max_message_bytes
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        raw = message.get("text") or message.get("bytes") or b""
        if _too_big(raw, limit):
            conn.end(CLOSE_TOO_BIG, "message too big")
            return
        try:
            parsed = CLIENT_ADAPTER.validate_json(raw)
        except ValidationError as exc:
            detail = "; ".join(e["msg"] for e in exc.errors()[:3])
            conn.reply(_control(runtime, "error", {"code": "malformed_message", "message": detail}))
            continue
        conn.reply(await _answer(runtime, conn, parsed))


async def _answer(
    runtime: Runtime, conn: Connection, msg: AuthMessage | SubscribeMessage | PingMessage
) -> Envelope:
    if isinstance(msg, PingMessage):
        return _control(runtime, "pong", {"nonce": msg.nonce})
    if isinstance(msg, SubscribeMessage):
        conn.filter = Filter(
            *(None if v is None else frozenset(v) for v in (msg.bots, msg.symbols, msg.types))
        )
        return _control(runtime, "subscribed", conn.filter.describe())
    return await _reauthenticate(runtime, conn, msg)


async def _reauthenticate(runtime: Runtime, conn: Connection, msg: AuthMessage) -> Envelope:
    """In-band re-authentication: a fresh token of the same user keeps the socket (and its
    cursor) open past the old token's expiry. The connection follows the new token's
    session. A bad token changes nothing: the old expiry still stands."""
    who = await _authenticate(runtime, msg.token)
    if who is None or who.user_id != conn.user_id:
        message = "the token is not valid for this connection's user"
        return _control(runtime, "error", {"code": "auth_failed", "message": message})
    conn.session_id, conn.expires_at = who.session_id, who.expires_at
    return _control(runtime, "authenticated", {"expires_at": who.expires_at})


def _control(runtime: Runtime, type_: str, data: dict[str, Any]) -> Envelope:
    return control(type_, data, runtime.clock.now())
