"""The dialect-neutral ASGI plumbing every local venue shares.

Why its own module: reading the exact request bytes (a venue signs the raw path, query
and body), rendering a reply, and losing a reply on purpose (held past the client's
timeout, replaced by a 503 page, or cut after the status line) are the same for every
venue. A dialect (`valr_server`, …) subclasses `VenueApp` and implements `handle`, a
plain synchronous function from `Request` to `Reply` over the shared `VenueCore`.
"""

from __future__ import annotations

import asyncio
import json
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from amarktai.venues.core import Account, Fault, VenueCore, VenueReject

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(slots=True)
class Reply:
    status: int
    body: Any = None
    text: str | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def payload(self) -> bytes:
        if self.text is not None:
            return self.text.encode()
        if self.body is None:
            return b""
        return json.dumps(self.body, separators=(",", ":")).encode()


@dataclass(slots=True)
class Request:
    method: str
    path: str  # decoded path, for routing
    signed_path: str  # raw path + "?" + raw query, exactly as the client signed it
    query: dict[str, str]
    body: bytes
    headers: dict[str, str]
    client: str
    account: Account | None = None

    def json(self) -> dict[str, Any]:
        """The body as a JSON object; anything else is the venue refusing the request."""
        try:
            parsed = json.loads(self.body or b"{}")
        except ValueError as exc:
            raise VenueReject("invalid_order", "Request body is not valid JSON") from exc
        if not isinstance(parsed, dict):
            raise VenueReject("invalid_order", "Request body must be a JSON object")
        return parsed


class _Drop(Exception):
    """Raised after the status line is sent: uvicorn then cuts the connection."""


class VenueApp(ABC):
    """An ASGI app over one `VenueCore`; subclasses speak a venue's dialect in `handle`."""

    def __init__(self, core: VenueCore) -> None:
        self.core = core

    @abstractmethod
    def handle(self, request: Request) -> Reply:
        """One request in the venue's dialect: its reply, or a `VenueReject`."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        raw_path = scope.get("raw_path") or scope["path"].encode()
        query_string: bytes = scope.get("query_string", b"")
        signed = raw_path.decode("latin-1")
        if query_string:
            signed += "?" + query_string.decode("latin-1")
        request = Request(
            method=scope["method"],
            path=scope["path"],
            signed_path=signed,
            query=dict(parse_qsl(query_string.decode("latin-1"))),
            body=body,
            headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
            client=(scope.get("client") or ("127.0.0.1", 0))[0],
        )
        fault = self.core.faults.take(request.method, request.path)
        if fault is not None and not fault.after_action:
            if fault.kind == "5xx":
                await send_reply(send, Reply(503, text="<html>Service Unavailable</html>"))
                return
            if fault.kind == "timeout":
                await asyncio.sleep(fault.delay_s)
        reply = self.handle(request)
        if fault is not None and (fault.after_action or fault.kind == "drop"):
            await self._after(fault, reply, send)
            return
        await send_reply(send, reply)

    async def _after(self, fault: Fault, reply: Reply, send: Send) -> None:
        """The venue acted; now lose the reply the way `fault` says."""
        if fault.kind == "timeout":
            await asyncio.sleep(fault.delay_s)
            await send_reply(send, reply)
        elif fault.kind == "5xx":
            await send_reply(send, Reply(503, text="<html>Service Unavailable</html>"))
        else:
            await send(
                {
                    "type": "http.response.start",
                    "status": reply.status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
                }
            )
            raise _Drop("fault injection: connection dropped after the venue acted")


async def send_reply(send: Send, reply: Reply) -> None:
    payload = reply.payload()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    headers += [(k.encode(), v.encode()) for k, v in reply.headers]
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
