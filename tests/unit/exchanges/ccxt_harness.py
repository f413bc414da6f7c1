"""A recorded transport for the ccxt connectors: no network, ever.

ccxt's async `fetch` is the single HTTP entry point and does everything around the
socket (headers, JSON decoding, the venue's error handling, timeouts -> RequestTimeout).
We keep all of that and swap only the aiohttp session under it for `ReplaySession`,
which checks each request (method, exact URL with its query, body, and the signing
headers) against the fixture in order and answers with the recorded reply. The exchange's
clock and nonce are fixed so signatures are byte-for-byte reproducible.

Fixture file (tests/unit/exchanges/fixtures/<venue>/<method>.json):
    {"call": {"method": ..., "args": ...},            # what the test calls on our client
     "calls": [{"request": {"method", "url", "headers", "body"},
                "response": {"status", "headers", "body"} | {"timeout": true}}, ...],
     "expected": <our parsed result as JSON>}
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from amarktai.exchanges.budget import RequestBudget
from amarktai.exchanges.ccxt_client import CcxtClient, make_ccxt_client
from amarktai.exchanges.client import Credentials

FIXTURES = Path(__file__).parent / "fixtures"
FIXED_MS = 1_765_000_000_000  # 2025-12-06T05:46:40Z
NOW = datetime.fromtimestamp(FIXED_MS / 1000, UTC)
# headers ccxt adds to every request whatever the venue (its version, compression)
GENERIC_HEADERS = {"User-Agent", "Accept-Encoding"}

# fake keys of each venue's shape (they sign fixture requests; they open nothing)
CREDENTIALS = {
    "luno": Credentials("abcd1234efgh5", "s3cr3t-Luno_secret-0123456789abcdefABCDEF0"),
    "binance": Credentials("A" * 32 + "b" * 32, "S" * 32 + "t" * 32),
    "kucoin": Credentials(
        "0123456789abcdef01234567", "12345678-abcd-4ef0-8123-456789abcdef", "passphrase1"
    ),
    "bybit": Credentials("BYBITKEY0123456789", "BYBITSECRET0123456789abcdefghijklmno"),
}


class FixtureMismatch(AssertionError):
    pass


class _Response:
    def __init__(self, status: int, headers: dict[str, str], body: Any) -> None:
        self.status = status
        self.reason = "OK" if status < 400 else "Error"
        self.headers = headers
        self._text = body if isinstance(body, str) else json.dumps(body)

    async def text(self, errors: str = "strict") -> str:
        return self._text

    async def __aenter__(self) -> _Response:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class ReplaySession:
    """Stands in for aiohttp.ClientSession. `record=True` accepts any request and keeps
    it (to write a fixture); otherwise each request must equal the next recorded one."""

    def __init__(self, calls: list[dict[str, Any]], *, record: bool = False) -> None:
        self.calls = calls
        self.record = record
        self.seen: list[dict[str, Any]] = []
        self.closed = False
        self.headers: dict[str, str] = {}  # aiohttp's session-wide headers: none

    def __getattr__(self, method: str) -> Callable[..., _Response]:
        if method not in ("get", "post", "put", "delete", "patch"):
            raise AttributeError(method)
        return lambda url, **kw: self._request(method.upper(), str(url), **kw)

    def _request(
        self, method: str, url: str, *, data: Any = None, headers: Any = None, **_: Any
    ) -> _Response:
        sent = {
            "method": method,
            "url": url,
            "headers": {k: v for k, v in (headers or {}).items() if k not in GENERIC_HEADERS},
            "body": data.decode() if isinstance(data, bytes) else data,
        }
        index = len(self.seen)
        self.seen.append(sent)
        if index >= len(self.calls):
            raise FixtureMismatch(f"unexpected request #{index}: {sent}")
        call = self.calls[index]
        if not self.record and call["request"] != sent:
            raise FixtureMismatch(
                f"request #{index} differs\n sent:     {sent}\n recorded: {call['request']}"
            )
        response = call["response"]
        if response.get("timeout"):
            raise TimeoutError("recorded timeout")
        return _Response(response.get("status", 200), response.get("headers", {}), response["body"])

    async def close(self) -> None:
        self.closed = True


async def _no_sleep(_: float) -> None:
    return None


def fixed_client(
    venue: str, *, private: bool = True, budget: RequestBudget | None = None
) -> CcxtClient:
    """A client with the venue's fake key, a fixed clock and nonce, no waiting, and a
    private budget (so tests never share the process bucket)."""
    client = make_ccxt_client(
        venue,
        CREDENTIALS[venue] if private else None,
        now=lambda: NOW,
        sleep=_no_sleep,
        budget=budget or RequestBudget(1000.0, 1000.0),
    )
    ex = client.exchange
    ex.milliseconds = lambda: FIXED_MS
    ex.seconds = lambda: FIXED_MS // 1000
    ex.nonce = lambda: FIXED_MS
    ex.microseconds = lambda: FIXED_MS * 1000
    ex.uuid = lambda: "00000000-0000-4000-8000-000000000000"
    ex.timeout_on_exit = 0
    return client


def load(venue: str, name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / venue / f"{name}.json").read_text())


def attach(
    client: CcxtClient, calls: list[dict[str, Any]], *, record: bool = False
) -> ReplaySession:
    session = ReplaySession(calls, record=record)
    client.exchange.session = session
    return session


async def with_markets(client: CcxtClient) -> None:
    """Load the venue's markets from its `instruments` fixture (every other fixture
    starts after markets are known, as in a running process)."""
    session = attach(client, load(client.venue, "instruments")["calls"])
    await client.exchange.load_markets(False, client.spec.market_params)
    assert len(session.seen) == len(session.calls)


def to_json(value: Any) -> Any:
    """Our result types as plain JSON: Decimals as strings (exact), datetimes ISO."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, Decimal):
        return format(value, "f")  # never exponent notation: "0.00000001", not "1E-8"
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def parse_args(call: dict[str, Any]) -> dict[str, Any]:
    """Fixture call arguments back into Python values (datetimes, Decimals, requests)."""
    from amarktai.exchanges.client import OrderRequest

    args = dict(call.get("args", {}))
    if "since" in args and args["since"] is not None:
        args["since"] = datetime.fromisoformat(args["since"])
    if "order" in args:
        o = dict(args["order"])
        o["qty"] = Decimal(o["qty"])
        o["price"] = None if o.get("price") is None else Decimal(o["price"])
        args["order"] = OrderRequest(**o)
    return args


async def run_fixture(
    client: CcxtClient, fixture: dict[str, Any], *, record: bool = False
) -> tuple[Any, ReplaySession]:
    session = attach(client, fixture["calls"], record=record)
    method = getattr(client, fixture["call"]["method"])
    result = await method(**parse_args(fixture["call"]))
    return result, session
