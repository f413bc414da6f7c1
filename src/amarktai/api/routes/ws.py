"""`/api/v1/ws`: the real-time WebSocket, and `/api/v1/ws/schema`: its published protocol.

Connecting: `ws://host/api/v1/ws?token=<access_token>&last_seq=<n>` — or, to keep the
token out of URLs and proxy logs, connect without `token` and send
`{"type": "auth", "token": "...", "last_seq": n}` as the first message (within
`AMARKTAI_WS_AUTH_TIMEOUT_S`). Optional filters in the query (comma-separated) or later
via a `subscribe` message: `bots`, `symbols`, `types`.

The socket is always accepted first and then closed with an application code, because a
browser cannot read the status of a refused handshake but can read a close code.
"""

from __future__ import annotations

import asyncio
import contextlib
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
    CLOSE_SEQ_AHEAD,
    CLOSE_SLOW_CONSUMER,
    CLOSE_UNAUTHORIZED,
    Connection,
    Filter,
    Hub,
    SeqAhead,
    cancel_quietly,
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


async def _authenticate(runtime: Runtime, token: str) -> str | None:
    async with transaction(runtime.sessions) as session:
        accounts = runtime.accounts(session)
        try:
            user, _ = await accounts.authenticate(token)
        except DomainError:
            return None
        return user.id


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
    user_id = await _authenticate(runtime, token) if token else None
    if user_id is None:
        await _close(websocket, CLOSE_UNAUTHORIZED, "unauthorized")
        return
    conn = runtime.hub.connection(user_id, flt)
    await runtime.hub.attach(conn)
    try:
        await _serve(runtime, conn, websocket, last_seq)
    except Exception as exc:  # a vanished client surfaces as many exception types
        log.debug("ws_connection_ended", user_id=user_id, error=type(exc).__name__)
    finally:
        await runtime.hub.detach(conn)


async def _serve(
    runtime: Runtime, conn: Connection, websocket: WebSocket, last_seq: int | None
) -> None:
    hub = runtime.hub
    try:
        await hub.catch_up(conn, websocket, last_seq)
    except SeqAhead as exc:
        await _error(websocket, runtime, "last_seq_ahead", str(exc))
        await _close(websocket, CLOSE_SEQ_AHEAD, "last_seq ahead of stream")
        return
    pump = asyncio.create_task(hub.pump(conn, websocket))
    receive = asyncio.create_task(_receive(runtime, hub, conn, websocket))
    overflow = asyncio.create_task(hub.wait_overflow(conn))
    done, _ = await asyncio.wait({pump, receive, overflow}, return_when=asyncio.FIRST_COMPLETED)
    await cancel_quietly(pump, receive, overflow)
    if overflow in done:
        await _close(websocket, CLOSE_SLOW_CONSUMER, "slow consumer: resume with last_seq")
    for task in done - {overflow}:
        task.result()  # re-raise a send/receive failure for the caller's log


async def _receive(runtime: Runtime, hub: Hub, conn: Connection, websocket: WebSocket) -> None:
    """Client messages: a malformed one gets an `error` reply and the socket stays open."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        raw = message.get("text") or message.get("bytes") or b""
        try:
            parsed = CLIENT_ADAPTER.validate_json(raw)
        except ValidationError as exc:
            detail = "; ".join(e["msg"] for e in exc.errors()[:3])
            conn.reply(_control(runtime, "error", {"code": "malformed_message", "message": detail}))
            continue
        conn.reply(_answer(runtime, conn, parsed))


def _answer(
    runtime: Runtime, conn: Connection, msg: AuthMessage | SubscribeMessage | PingMessage
) -> Envelope:
    if isinstance(msg, PingMessage):
        return _control(runtime, "pong", {"nonce": msg.nonce})
    if isinstance(msg, SubscribeMessage):
        conn.filter = Filter(
            *(None if v is None else frozenset(v) for v in (msg.bots, msg.symbols, msg.types))
        )
        return _control(runtime, "subscribed", conn.filter.describe())
    message = "already authenticated; reconnect to resume from another seq"
    return _control(runtime, "error", {"code": "already_authenticated", "message": message})


def _control(runtime: Runtime, type_: str, data: dict[str, Any]) -> Envelope:
    return control(type_, data, runtime.clock.now())
