"""Recorded request/response fixtures for the hand-written venue connectors.

The way ccxt tests itself, without a network: each JSON file under `fixtures/<venue>/`
names a client call, the exact requests it must send (method, URL, query, body bytes,
signing headers — deterministic with a fixed clock) with the recorded reply to each,
and either the parsed result we expect or the typed error. `httpx.MockTransport`
replaces only the network: signing, budgets, retries, parsing and error mapping are the
real code. A request the fixture does not list, or one left unsent, fails the test.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from amarktai.exchanges.client import OrderRequest

FIXTURES = Path(__file__).parent / "fixtures"


def load(venue: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / venue / f"{name}.json").read_text())
    return data


def names(venue: str) -> list[str]:
    return sorted(p.stem for p in (FIXTURES / venue).glob("*.json"))


class FakeSleep:
    """Records back-off sleeps instead of waiting."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)


class Recorded:
    """An httpx transport handler that checks each request against the next recorded one."""

    def __init__(self, exchanges: Sequence[dict[str, Any]]) -> None:
        self.exchanges = list(exchanges)
        self.sent = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        where = f"request #{self.sent + 1} ({request.method} {request.url})"
        assert self.sent < len(self.exchanges), f"unexpected {where}"
        exchange = self.exchanges[self.sent]
        self.sent += 1
        want = exchange["request"]
        assert request.method == want["method"], where
        assert str(request.url.copy_with(query=None)) == want["url"], where
        assert dict(request.url.params.multi_items()) == want.get("query", {}), where
        body = request.content.decode()
        if want.get("body") is None:
            assert body == "", f"{where}: unexpected body {body!r}"
        else:  # the exact bytes, because they are what the venue signs
            assert body == json.dumps(want["body"], separators=(",", ":")), where
        for key, value in want.get("headers", {}).items():
            assert request.headers.get(key) == value, f"{where}: header {key}"
        for key in want.get("absent_headers", []):
            assert key not in request.headers, f"{where}: header {key} must not be sent"
        reply = exchange["response"]
        if reply.get("raise") == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if reply.get("raise") == "connect":
            raise httpx.ConnectError("connection refused", request=request)
        text = reply["text"] if "text" in reply else json.dumps(reply["body"])
        return httpx.Response(reply["status"], headers=reply.get("headers", {}), text=text)


def as_json(value: Any) -> Any:
    """Our result in the fixtures' JSON form: Decimals as normalised plain strings,
    times as ISO 8601, dataclasses as objects."""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [as_json(v) for v in value]
    return value


def call_args(call: dict[str, Any]) -> dict[str, Any]:
    """Fixture arguments → Python values (orders, Decimals, times)."""
    args: dict[str, Any] = {}
    for key, value in call["args"].items():
        if key == "order":
            order = dict(value)
            order["qty"] = Decimal(order["qty"])
            if order.get("price") is not None:
                order["price"] = Decimal(order["price"])
            args[key] = OrderRequest(**order)
        elif key == "since":
            args[key] = datetime.fromisoformat(value)
        else:
            args[key] = value
    return args
