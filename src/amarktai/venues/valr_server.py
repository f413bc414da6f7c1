"""VALR's REST dialect over `VenueCore`: a local VALR our real `ValrClient` can talk to.

Why a raw ASGI callable and not a framework router: the server must control what a
framework would hide — the exact request bytes VALR signs (raw path, query string and
body), a connection cut half-way through a reply (`drop` fault), a reply held past the
client's timeout — and it is on the benchmark path, where every microsecond it spends
is counted against our client. Routes are a short regex table.

What it speaks (shapes taken from the recordings in `tests/unit/exchanges/fixtures/valr`,
themselves from VALR's docs; see `amarktai.exchanges.valr` for sources):

* Public: `GET /v1/public/pairs`, `/v1/public/{pair}/marketsummary|orderbook|trades|
  buckets`. Authenticated: `/v1/marketdata/{pair}/orderbook|tradehistory`,
  `/v1/account/balances`, `/v1/account/{pair}/tradehistory`, `/v1/account/fees/trade`,
  `/v1/account/api-keys/current`, `POST /v1/orders/limit|market` (202 + id),
  `DELETE /v1/orders/order` (202, empty), `GET /v1/orders/{pair}/customerorderid/{id}`,
  `GET /v1/orders/{pair}/orderid/{id}`, `GET /v1/orders/open`.
* Signing, checked as VALR checks it: `X-VALR-SIGNATURE` must equal hex
  HMAC-SHA512(secret, timestamp + VERB + raw path with query + raw body + sub-account
  id); an unknown key or a wrong signature is `401 {"code": -11, "message":
  "Unauthorized"}`, a timestamp outside the receive window is `400 "Request has
  expired"`. The verification is written here independently of the client's `sign`, and
  pinned to VALR's documented test vectors, so a client bug cannot agree with itself.
* Limits: per key and per IP per window (VALR: 2000 and 1200 a minute), plus the
  `/v1/public/*` limit (30 a minute, candles excepted): `429` with
  `x-valr-ratelimited: true` and `Retry-After`.
* Errors: `{"code": …, "message": …}`; an unknown customerOrderId is `404 {"code": -1,
  "message": "Order not found"}`. Codes for duplicate ids (-11502) and refused shapes
  (-12007) follow the connector's docstring; VALR's docs do not pin them all.

Run it: `python -m amarktai.venues.valr_server --port 8765` (prints the key and secret).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from amarktai.kit.money import ZERO
from amarktai.markets.instruments import SIM_INSTRUMENTS
from amarktai.markets.sim import SimConfig
from amarktai.markets.types import Instrument
from amarktai.venues.asgi import Reply, Request, VenueApp
from amarktai.venues.core import (
    Account,
    BookFeed,
    FeeTier,
    OrderKind,
    OrderRequest,
    RateLimiter,
    ReplayFeed,
    SimFeed,
    VenueCore,
    VenueOrderState,
    VenueReject,
)

CUSTOMER_ORDER_ID = re.compile(r"^[A-Za-z0-9-]{1,50}$")
BUCKET_PERIODS_S = (60, 300, 900, 1800, 3600, 21600, 86400)
BOOK_DEPTH = 40  # VALR's aggregated book: the top 40 levels a side

#: VALR's published tier-1 spot fees (as fractions): fiat quote 0.18 % maker / 0.35 %
#: taker. Tests pass their own table to get round numbers.
VALR_TIERS: dict[str, FeeTier] = {"default": FeeTier(Decimal("0.0018"), Decimal("0.0035"))}

_STATUS_WORDS = {
    "placed": "Placed",
    "partially_filled": "Partially Filled",
    "filled": "Filled",
    "cancelled": "Cancelled",
    "failed": "Failed",
}


def valr_pair(instrument: Instrument) -> str:
    """VALR spells every spot pair base + quote: `BTC/ZAR` → `BTCZAR`."""
    return f"{instrument.base}{instrument.quote}"


def expected_signature(
    secret: str, timestamp: str, verb: str, path: str, body: bytes, subaccount: str = ""
) -> str:
    """What VALR computes on its side for a request, from the raw bytes it received."""
    payload = timestamp.encode() + verb.upper().encode() + path.encode() + body
    payload += subaccount.encode()
    return hmac.new(secret.encode(), payload, hashlib.sha512).hexdigest()


def _num(value: Decimal) -> str:
    """Plain decimal text without trailing zeros (VALR never sends exponents)."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _when(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def _places(step: Decimal) -> int:
    exponent = step.normalize().as_tuple().exponent
    return max(0, -int(exponent))


@dataclass(frozen=True, slots=True)
class ValrLimits:
    """Calls per `window_s`: VALR's published 2000/key, 1200/IP, 30 on /v1/public/*."""

    per_key: int = 2000
    per_ip: int = 1200
    public: int = 30
    window_s: float = 60.0


def _error(status: int, code: int, message: str) -> Reply:
    return Reply(status, {"code": code, "message": message})


_REJECTS: dict[str, tuple[int, int]] = {
    "unknown_pair": (400, -1),
    "invalid_order": (400, -12007),
    "duplicate_id": (400, -11502),
    "not_found": (404, -1),
    "forbidden": (403, -1),
}


Handler = Callable[["ValrServer", Request, re.Match[str]], Reply]


@dataclass(frozen=True, slots=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    private: bool
    trade: bool = False  # needs the "Trade" permission
    public_limit: bool = False  # counts against /v1/public/* limits


class ValrServer(VenueApp):
    """The ASGI app. `core` holds the state; tests reach it (and `core.faults`) directly."""

    def __init__(
        self,
        core: VenueCore,
        *,
        limits: ValrLimits | None = None,
        recv_window_s: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(core)
        self.limits = limits or ValrLimits()
        self.recv_window_s = recv_window_s
        window = self.limits.window_s
        self._per_key = RateLimiter(self.limits.per_key, window, monotonic)
        self._per_ip = RateLimiter(self.limits.per_ip, window, monotonic)
        self._public = RateLimiter(self.limits.public, window, monotonic)
        self.rate_limited = 0  # 429s answered
        self.auth_refused = 0  # 401s answered

    # -- dispatch -------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        """Route, limit, authenticate, run; every refusal in VALR's shape."""
        self.core.requests += 1
        for route in _ROUTES:
            if route.method != request.method:
                continue
            match = route.pattern.fullmatch(request.path)
            if match is None:
                continue
            limited = self._limit(request, route)
            if limited is not None:
                return limited
            if route.private:
                refused = self._authenticate(request, route)
                if refused is not None:
                    return refused
            try:
                return route.handler(self, request, match)
            except VenueReject as exc:
                status, code = _REJECTS.get(exc.kind, (400, -1))
                return _error(status, code, exc.message)
        return _error(404, -1, f"No route {request.method} {request.path}")

    def _limit(self, request: Request, route: _Route) -> Reply | None:
        waits = [self._per_ip.check(f"ip:{request.client}")]
        key = request.headers.get("x-valr-api-key")
        if route.private and key:
            waits.append(self._per_key.check(f"key:{key}"))
        if route.public_limit:
            waits.append(self._public.check(f"public:{request.client}"))
        over = [w for w in waits if w is not None]
        if not over:
            return None
        self.rate_limited += 1
        retry = max(1, math.ceil(max(over)))
        reply = _error(429, -1, "Rate limited")
        reply.headers = (("x-valr-ratelimited", "true"), ("retry-after", str(retry)))
        return reply

    def _authenticate(self, request: Request, route: _Route) -> Reply | None:
        key = request.headers.get("x-valr-api-key", "")
        stamp = request.headers.get("x-valr-timestamp", "")
        signature = request.headers.get("x-valr-signature", "")
        account = self.core.accounts.get(key)
        if account is None or not stamp.isdigit():
            self.auth_refused += 1
            return _error(401, -11, "Unauthorized")
        want = expected_signature(
            account.secret,
            stamp,
            request.method,
            request.signed_path,
            request.body,
            request.headers.get("x-valr-sub-account-id", ""),
        )
        if not hmac.compare_digest(want, signature.lower()):
            self.auth_refused += 1
            return _error(401, -11, "Unauthorized")
        if abs(self.core.clock() * 1000 - int(stamp)) > self.recv_window_s * 1000:
            return _error(400, -1, "Request has expired")
        if route.trade and "Trade" not in account.permissions:
            return _error(403, -1, "Forbidden")
        request.account = account
        return None

    # -- market data ----------------------------------------------------------------

    def pairs(self, request: Request, match: re.Match[str]) -> Reply:
        rows = []
        for pair, market in self.core.markets.items():
            i = market.instrument
            rows.append(
                {
                    "symbol": pair,
                    "baseCurrency": i.base,
                    "quoteCurrency": i.quote,
                    "shortName": f"{i.base}/{i.quote}",
                    "active": True,
                    "minBaseAmount": _num(i.min_qty),
                    "maxBaseAmount": "1000000",
                    "minQuoteAmount": _num(i.min_notional),
                    "maxQuoteAmount": "5000000",
                    "tickSize": _num(i.price_step),
                    "baseDecimalPlaces": str(_places(i.qty_step)),
                    "marginTradingAllowed": False,
                    "currencyPairType": "SPOT",
                }
            )
        return Reply(200, rows)

    def summary(self, request: Request, match: re.Match[str]) -> Reply:
        pair = match["pair"]
        market = self.core.market(pair)
        with self.core.lock:
            book = market.book
            prints = list(market.prints)
        last = prints[-1].price if prints else None
        prices = [p.price for p in prints]
        volume = sum((p.qty for p in prints), ZERO)
        first = prices[0] if prices else None
        change = (
            _num(((last - first) / first * 100).quantize(Decimal("0.01")))
            if last is not None and first
            else "0"
        )
        body = {
            "currencyPair": pair,
            "askPrice": _num(book.asks[0].price) if book.asks else "0",
            "bidPrice": _num(book.bids[0].price) if book.bids else "0",
            "lastTradedPrice": _num(last) if last is not None else "0",
            "previousClosePrice": _num(first) if first is not None else "0",
            "baseVolume": _num(volume),
            "highPrice": _num(max(prices)) if prices else "0",
            "lowPrice": _num(min(prices)) if prices else "0",
            "created": _when(datetime.fromtimestamp(self.core.clock(), UTC)),
            "changeFromPrevious": change,
        }
        return Reply(200, body)

    def orderbook(self, request: Request, match: re.Match[str]) -> Reply:
        """The feed's book with our resting orders merged in, aggregated per price."""
        pair = match["pair"]
        book, resting = self.core.snapshot(pair)
        sides: dict[str, dict[Decimal, list[Decimal]]] = {"buy": {}, "sell": {}}
        for level in book.bids:
            sides["buy"].setdefault(level.price, []).append(level.qty)
        for level in book.asks:
            sides["sell"].setdefault(level.price, []).append(level.qty)
        for order in resting:
            assert order.price is not None
            sides[order.side].setdefault(order.price, []).append(order.remaining)

        def rows(side: str, descending: bool) -> list[dict[str, Any]]:
            prices = sorted(sides[side], reverse=descending)[:BOOK_DEPTH]
            return [
                {
                    "side": side,
                    "quantity": _num(sum(sides[side][p], ZERO)),
                    "price": _num(p),
                    "currencyPair": pair,
                    "orderCount": len(sides[side][p]),
                }
                for p in prices
            ]

        body = {
            "Asks": rows("sell", False),
            "Bids": rows("buy", True),
            "LastChange": _when(book.ts),
            "SequenceNumber": self.core.requests,
        }
        return Reply(200, body)

    def trades(self, request: Request, match: re.Match[str]) -> Reply:
        limit = min(_int(request.query.get("limit"), 100), 100)
        body = [
            {
                "price": _num(p.price),
                "quantity": _num(p.qty),
                "currencyPair": p.pair,
                "tradedAt": _when(p.ts),
                "takerSide": p.taker_side,
                "sequenceId": p.seq,
                "id": p.trade_id,
                "quoteVolume": _num(p.price * p.qty),
            }
            for p in self.core.prints(match["pair"], limit)
        ]
        return Reply(200, body)

    def buckets(self, request: Request, match: re.Match[str]) -> Reply:
        """Candles built from the prints held, newest first, only non-empty buckets."""
        pair = match["pair"]
        period = _int(request.query.get("periodSeconds"), 0)
        if period not in BUCKET_PERIODS_S:
            return _error(400, -1, f"Invalid periodSeconds {period}")
        limit = min(_int(request.query.get("limit"), 300), 300)
        start = _int(request.query.get("startTime"), 0)
        end = _int(request.query.get("endTime"), 2**62)
        groups: dict[int, list[Any]] = {}
        for p in self.core.prints(pair, 10**9):
            t = int(p.ts.timestamp())
            if start <= t <= end:
                groups.setdefault(t - t % period, []).append(p)
        body = []
        for at in sorted(groups, reverse=True)[:limit]:
            ps = sorted(groups[at], key=lambda p: p.seq)
            body.append(
                {
                    "currencyPairSymbol": pair,
                    "bucketPeriodInSeconds": period,
                    "startTime": datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "open": _num(ps[0].price),
                    "high": _num(max(p.price for p in ps)),
                    "low": _num(min(p.price for p in ps)),
                    "close": _num(ps[-1].price),
                    "volume": _num(sum((p.qty for p in ps), ZERO)),
                    "quoteVolume": _num(sum((p.qty * p.price for p in ps), ZERO)),
                }
            )
        return Reply(200, body)

    # -- account --------------------------------------------------------------------

    def balances(self, request: Request, match: re.Match[str]) -> Reply:
        account = _account(request)
        now = _when(datetime.fromtimestamp(self.core.clock(), UTC))
        with self.core.lock:
            body = [
                {
                    "currency": asset,
                    "available": _num(h.available),
                    "reserved": _num(h.reserved),
                    "total": _num(h.total),
                    "updatedAt": now,
                }
                for asset, h in sorted(account.balances.items())
            ]
        return Reply(200, body)

    def account_trades(self, request: Request, match: re.Match[str]) -> Reply:
        account = _account(request)
        limit = min(_int(request.query.get("limit"), 100), 100)
        body = []
        for f in self.core.fills(account, match["pair"], limit):
            row: dict[str, Any] = {
                "price": _num(f.price),
                "quantity": _num(f.qty),
                "currencyPair": f.pair,
                "tradedAt": _when(f.ts),
                "side": f.side,
                "sequenceId": f.seq,
                "id": f.trade_id,
                "orderId": f.order_id,
            }
            if f.fee < 0:  # a maker rebate
                row["makerReward"] = _num(-f.fee)
                row["makerRewardCurrency"] = f.fee_asset
            else:
                row["fee"] = _num(f.fee)
                row["feeCurrency"] = f.fee_asset
            body.append(row)
        return Reply(200, body)

    def fees(self, request: Request, match: re.Match[str]) -> Reply:
        tier = self.core.tiers[_account(request).tier]
        body = []
        for pair in self.core.markets:
            maker, taker = tier.rates(pair)
            body.append(
                {
                    "currencyPair": pair,
                    "makerPercentage": _num(maker * 100),
                    "takerPercentage": _num(taker * 100),
                    "simplePercentage": "1.6",
                }
            )
        return Reply(200, body)

    def key_info(self, request: Request, match: re.Match[str]) -> Reply:
        account = _account(request)
        body = {
            "label": "local venue key",
            "permissions": list(account.permissions),
            "addedAt": "2026-01-01T00:00:00.000000Z",
            "allowedIpAddressCidr": "127.0.0.1/32",
        }
        return Reply(200, body)

    # -- orders ---------------------------------------------------------------------

    def place(self, request: Request, match: re.Match[str]) -> Reply:
        account = _account(request)
        raw = request.json()
        kind: OrderKind = "limit" if request.path.endswith("/limit") else "market"
        side = str(raw.get("side", "")).lower()
        if side not in ("buy", "sell"):
            raise VenueReject("invalid_order", "Side must be BUY or SELL")
        cid = raw.get("customerOrderId")
        if cid is not None and not CUSTOMER_ORDER_ID.fullmatch(str(cid)):
            raise VenueReject(
                "invalid_order", "customerOrderId must be 1-50 letters, digits or dashes"
            )
        if kind == "limit":
            qty: Decimal | None = _dec(raw, "quantity")
            price: Decimal | None = _dec(raw, "price")
            quote: Decimal | None = None
        else:
            qty = _dec(raw, "baseAmount") if "baseAmount" in raw else None
            quote = _dec(raw, "quoteAmount") if "quoteAmount" in raw else None
            price = None
        order = self.core.place(
            account,
            OrderRequest(
                pair=str(raw.get("pair", "")),
                side="buy" if side == "buy" else "sell",
                kind=kind,
                qty=qty,
                price=price,
                quote_amount=quote,
                post_only=bool(raw.get("postOnly", False)),
                customer_order_id=None if cid is None else str(cid),
                time_in_force=str(raw.get("timeInForce", "GTC")),
            ),
        )
        return Reply(202, {"id": order.order_id})

    def cancel(self, request: Request, match: re.Match[str]) -> Reply:
        raw = request.json()
        cid, oid = raw.get("customerOrderId"), raw.get("orderId")
        self.core.cancel(
            _account(request),
            str(raw.get("pair", "")),
            customer_order_id=None if cid is None else str(cid),
            order_id=None if oid is None else str(oid),
        )
        return Reply(202, text="")

    def order_status(self, request: Request, match: re.Match[str]) -> Reply:
        by = match["by"]
        ident = unquote(match["ident"])
        order = self.core.find(
            _account(request),
            match["pair"],
            customer_order_id=ident if by == "customerorderid" else None,
            order_id=ident if by == "orderid" else None,
        )
        with self.core.lock:
            return Reply(200, _status_row(order))

    def open_orders(self, request: Request, match: re.Match[str]) -> Reply:
        with self.core.lock:
            body = [_open_row(o) for o in self.core.open_orders(_account(request))]
        return Reply(200, body)


def _status_row(order: VenueOrderState) -> dict[str, Any]:
    kind = order.kind if not order.post_only else "post-only limit"
    return {
        "orderId": order.order_id,
        "orderStatusType": _STATUS_WORDS[order.status],
        "currencyPair": order.pair,
        "originalPrice": _num(order.price) if order.price is not None else "0",
        "remainingQuantity": _num(order.remaining),
        "originalQuantity": _num(order.qty),
        "orderSide": order.side,
        "orderType": kind,
        "failedReason": order.failed_reason,
        "orderUpdatedAt": _when(order.updated),
        "orderCreatedAt": _when(order.created),
        "customerOrderId": order.customer_order_id,
        "timeInForce": order.time_in_force,
    }


def _open_row(order: VenueOrderState) -> dict[str, Any]:
    filled = (order.filled_qty / order.qty * 100) if order.qty else ZERO
    row = {
        "orderId": order.order_id,
        "side": order.side,
        "remainingQuantity": _num(order.remaining),
        "price": _num(order.price) if order.price is not None else "0",
        "currencyPair": order.pair,
        "createdAt": _when(order.created),
        "originalQuantity": _num(order.qty),
        "filledPercentage": f"{filled:.2f}",
        "updatedAt": _when(order.updated),
        "status": _STATUS_WORDS[order.status],
        "type": order.kind if not order.post_only else "post-only limit",
        "timeInForce": order.time_in_force,
        "allowMargin": False,
    }
    if order.customer_order_id is not None:
        row["customerOrderId"] = order.customer_order_id
    return row


def _account(request: Request) -> Account:
    assert request.account is not None, "private route reached without authentication"
    return request.account


def _int(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw is not None else default
    except ValueError:
        return default


def _dec(raw: dict[str, Any], key: str) -> Decimal:
    value = raw.get(key)
    try:
        parsed = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise VenueReject("invalid_order", f"{key} must be a decimal number") from exc
    if not parsed.is_finite() or parsed <= 0:
        raise VenueReject("invalid_order", f"{key} must be a positive number")
    return parsed


_PAIR = r"(?P<pair>[A-Z0-9]+)"
_STATUS_PATH = re.compile(rf"/v1/orders/{_PAIR}/(?P<by>customerorderid|orderid)/(?P<ident>[^/]+)")
_ROUTES: tuple[_Route, ...] = (
    _Route("GET", re.compile(r"/v1/public/pairs"), ValrServer.pairs, False, public_limit=True),
    _Route(
        "GET",
        re.compile(rf"/v1/public/{_PAIR}/marketsummary"),
        ValrServer.summary,
        False,
        public_limit=True,
    ),
    _Route(
        "GET",
        re.compile(rf"/v1/public/{_PAIR}/orderbook"),
        ValrServer.orderbook,
        False,
        public_limit=True,
    ),
    _Route(
        "GET",
        re.compile(rf"/v1/public/{_PAIR}/trades"),
        ValrServer.trades,
        False,
        public_limit=True,
    ),
    _Route("GET", re.compile(rf"/v1/public/{_PAIR}/buckets"), ValrServer.buckets, False),
    _Route("GET", re.compile(rf"/v1/marketdata/{_PAIR}/orderbook"), ValrServer.orderbook, True),
    _Route("GET", re.compile(rf"/v1/marketdata/{_PAIR}/tradehistory"), ValrServer.trades, True),
    _Route("GET", re.compile(r"/v1/account/balances"), ValrServer.balances, True),
    _Route("GET", re.compile(r"/v1/account/fees/trade"), ValrServer.fees, True),
    _Route("GET", re.compile(r"/v1/account/api-keys/current"), ValrServer.key_info, True),
    _Route(
        "GET", re.compile(rf"/v1/account/{_PAIR}/tradehistory"), ValrServer.account_trades, True
    ),
    _Route("POST", re.compile(r"/v1/orders/(limit|market)"), ValrServer.place, True, trade=True),
    _Route("DELETE", re.compile(r"/v1/orders/order"), ValrServer.cancel, True, trade=True),
    _Route("GET", re.compile(r"/v1/orders/open"), ValrServer.open_orders, True),
    _Route(
        "GET",
        _STATUS_PATH,
        ValrServer.order_status,
        True,
    ),
)


# ---------------------------------------------------------------------------- building


def make_valr_venue(
    *,
    feed: BookFeed | None = None,
    tiers: dict[str, FeeTier] | None = None,
    limits: ValrLimits | None = None,
    clock: Callable[[], float] = time.time,
    recv_window_s: float = 60.0,
) -> ValrServer:
    """A VALR venue over the seeded sim market (BTC/ZAR, ETH/ZAR, XRP/ZAR) by default."""
    core = VenueCore(
        feed or SimFeed(SimConfig(seed=7)),
        tiers=tiers or VALR_TIERS,
        pair_id=valr_pair,
        clock=clock,
    )
    return ValrServer(core, limits=limits, recv_window_s=recv_window_s)


def main(argv: list[str] | None = None) -> None:
    """`python -m amarktai.venues.valr_server --port 8765`: a local VALR on 127.0.0.1."""
    import uvicorn

    parser = argparse.ArgumentParser(description="A local VALR venue for demos and benchmarks")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--key", default="local-key")
    parser.add_argument("--secret", default="local-secret")
    parser.add_argument("--zar", default="1000000", help="the account's starting ZAR")
    parser.add_argument("--step-s", type=float, default=1.0, help="seconds between books")
    parser.add_argument("--replay", type=Path, help="JSON-lines books/prints instead of sim")
    parser.add_argument(
        "--unlimited", action="store_true", help="no rate limits (benchmarks measure latency)"
    )
    args = parser.parse_args(argv)
    feed: BookFeed = (
        ReplayFeed(args.replay, SIM_INSTRUMENTS)
        if args.replay
        else SimFeed(SimConfig(seed=args.seed))
    )
    limits = ValrLimits(10**9, 10**9, 10**9) if args.unlimited else None
    server = make_valr_venue(feed=feed, limits=limits)
    server.core.add_account(args.key, args.secret, {"ZAR": Decimal(args.zar)})

    def step() -> None:
        while True:
            time.sleep(args.step_s)
            server.core.advance()

    threading.Thread(target=step, daemon=True, name="venue-feed").start()
    print(f"local VALR on http://127.0.0.1:{args.port} key={args.key} secret={args.secret}")
    uvicorn.run(server, host="127.0.0.1", port=args.port, log_level="warning", lifespan="off")


if __name__ == "__main__":
    main()
