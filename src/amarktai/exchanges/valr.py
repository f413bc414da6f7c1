"""VALR (South Africa, ZAR first) spot connector, written from VALR's public API docs.

Sources (read 2026-12): docs.valr.com (the published Postman collection) and its
operation-by-operation mirror api-docs.rooibos.dev; VALR's documented signing test
vectors, which `tests/unit/exchanges/test_valr.py` pins.

Confirmed from the docs:
- Signing: `X-VALR-SIGNATURE` = hex HMAC-SHA512(secret, timestamp_ms + VERB + path-with-
  query + body [+ sub-account id]); `X-VALR-API-KEY`, `X-VALR-TIMESTAMP` (ms) beside it;
  JSON bodies, so the exact bytes we sign are the bytes we send.
- Endpoints: `/v1/public/pairs`, `/v1/public/{pair}/marketsummary`, `/orderbook`,
  `/trades`, `/buckets` (OHLC; periods 60 … 86400 s, ≤ 300 per call);
  `/v1/marketdata/{pair}/orderbook|tradehistory` (the authenticated twins, with looser
  limits); `/v1/account/balances`, `/v1/account/{pair}/tradehistory` (≤ 100),
  `/v1/account/fees/trade` (percentages), `/v1/account/api-keys/current` (permissions
  "View access" / "Trade" / "Withdraw"); `POST /v1/orders/limit|market` (202 + id: the
  order is *accepted*, placement failures arrive later as status "Failed"),
  `DELETE /v1/orders/order` (by customerOrderId + pair), `GET /v1/orders/{pair}/
  customerorderid/{id}`, `GET /v1/orders/open`.
- customerOrderId: alphanumeric and dashes, ≤ 50 characters, unique among open orders.
- Limits: 2000 calls/min per key and 1200/min per IP at once, 429 with
  `x-valr-ratelimited: true`; `/v1/public/*` additionally 30/min (buckets 20/s).
- Error bodies `{"code": -12007, "message": "Minimum order size not met …"}`.

Not confirmed (handled defensively): the exact status/words VALR uses for an unknown
customerOrderId (we treat 404, and code -1 on an order route, as "not found"), and the
wording of clock-skew refusals (matched on "expired"/"timestamp").
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from amarktai.exchanges.budget import RequestBudget, shared_budget
from amarktai.exchanges.client import (
    Balance,
    Credentials,
    FeeSchedule,
    KeyPermissions,
    OrderRequest,
    OrderStatus,
    Side,
    Ticker,
    VenueFill,
    VenueOrder,
)
from amarktai.exchanges.errors import (
    ExchangeAuthError,
    ExchangeError,
    InsufficientFunds,
    InvalidOrder,
    NonceError,
    OrderNotFound,
    UnknownSymbol,
    VenueRateLimited,
    VenueUnavailable,
)
from amarktai.exchanges.http import VenueHttp, VenueReply, bad_reply, default_error, retry_after_s
from amarktai.exchanges.parsing import Record, fmt, records, step_from_places
from amarktai.exchanges.retry import place_once, retry_read
from amarktai.exchanges.symbols import SymbolBook
from amarktai.kit.errors import ValidationFailed
from amarktai.markets.types import BookLevel, Candle, Instrument, OrderBook, Trade

VENUE = "valr"
BASE_URL = "https://api.valr.com"

# VALR enforces 1200 calls/min per IP *and* 2000/min per key, counted per calendar
# minute. Every bot on this host shares one IP, so one bucket per process, sized so
# that burst + rate x 60 s = 20 + 19 x 60 = 1160 stays under 1200 in any minute.
IP_RATE_PER_S = 19.0
IP_BURST = 20.0
# `/v1/public/*` (pairs, market summary, unauthenticated book and trades) is limited to
# 30 calls/min on top: 3 + 0.45 x 60 = 30. Buckets (OHLC) have their own 20/s limit,
# so they draw only on the IP bucket.
PUBLIC_RATE_PER_S = 0.45
PUBLIC_BURST = 3.0

BUCKET_PERIODS_S = (60, 300, 900, 1800, 3600, 21600, 86400)
MAX_BUCKETS = 300
MAX_TRADES = 100
CUSTOMER_ORDER_ID = re.compile(r"^[A-Za-z0-9-]{1,50}$")

# VALR's published tier-1 spot fees (percent), used only when no key can ask
# `/v1/account/fees/trade` for the account's real tier: fiat quote 0.18/0.35, crypto
# quote 0.08/0.10, stable-to-stable 0.05/0.10 (maker/taker).
_FIAT = frozenset({"ZAR", "USD", "EUR", "GBP"})
_STABLE = frozenset({"USDC", "USDT"})


def _published_fee(base: str, quote: str) -> tuple[Decimal, Decimal]:
    if quote in _FIAT:
        return Decimal("0.0018"), Decimal("0.0035")
    if quote in _STABLE and base in _STABLE:
        return Decimal("0.0005"), Decimal("0.0010")
    return Decimal("0.0008"), Decimal("0.0010")


def sign(
    secret: str, timestamp_ms: int, verb: str, path: str, body: str = "", subaccount_id: str = ""
) -> str:
    """VALR's request signature: hex HMAC-SHA512 over timestamp + VERB + path (with its
    query string) + body + sub-account id, keyed by the API secret."""
    payload = f"{timestamp_ms}{verb.upper()}{path}{body}{subaccount_id}"
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha512).hexdigest()


def _venue_words(reply: VenueReply) -> tuple[str, int | None]:
    body = reply.body
    if isinstance(body, dict):
        message = body.get("message") or body.get("error") or reply.text
        code = body.get("code")
        try:
            return str(message), int(code) if code is not None else None
        except (TypeError, ValueError):
            return str(message), None
    return reply.text, None


def map_valr_error(reply: VenueReply) -> ExchangeError:
    """VALR's status and words → our typed error; words win over status when they are
    specific (an insufficient balance is a 400, not a generic refusal)."""
    message, code = _venue_words(reply)
    lower = message.lower()
    on_order_route = reply.path.startswith("/v1/orders")
    if reply.status in (401, 403):
        return ExchangeAuthError(
            "VALR refused the API key or its signature", venue=VENUE, venue_message=message
        )
    if reply.status == 429 or reply.headers.get("x-valr-ratelimited") == "true":
        return VenueRateLimited(
            "VALR is rate limiting us",
            venue=VENUE,
            venue_message=message,
            retry_after_s=retry_after_s(reply.headers),
        )
    if reply.status >= 500:
        return VenueUnavailable(
            f"VALR answered HTTP {reply.status}", venue=VENUE, venue_message=message
        )
    if "insufficient" in lower:
        return InsufficientFunds("VALR: insufficient balance", venue=VENUE, venue_message=message)
    if "expired" in lower or "timestamp" in lower or "nonce" in lower:
        return NonceError(
            "VALR refused our request timestamp (clock skew?)", venue=VENUE, venue_message=message
        )
    if reply.status == 404 or "not found" in lower or (code == -1 and on_order_route):
        return OrderNotFound("VALR does not have that order", venue=VENUE, venue_message=message)
    if "currency pair" in lower and any(
        w in lower for w in ("invalid", "unknown", "not supported")
    ):
        return UnknownSymbol("VALR does not list that pair", venue=VENUE, venue_message=message)
    if code in (-12007, -11502) or (reply.status == 400 and on_order_route):
        return InvalidOrder("VALR refused the order", venue=VENUE, venue_message=message)
    return default_error(VENUE, reply, message)


_ORDER_STATUS: dict[str, OrderStatus] = {
    "placed": "open",
    "active": "open",
    "partially filled": "partially_filled",
    "filled": "filled",
    "cancelled": "cancelled",
    "failed": "rejected",
    "expired": "expired",
}


def _side(value: str, rec: Record) -> Side:
    lowered = value.lower()
    if lowered in ("buy", "sell"):
        return "buy" if lowered == "buy" else "sell"
    raise bad_reply(VENUE, f"{rec.what}: unknown side {value!r}", rec.raw)


class ValrClient:
    """`ExchangeClient` for VALR. Give it credentials for private calls; without them
    the public market data works and private calls raise `ExchangeAuthError`."""

    venue = VENUE

    def __init__(
        self,
        *,
        http_client: httpx.AsyncClient,
        credentials: Credentials | None = None,
        budgets: Sequence[RequestBudget] = (),
        public_budgets: Sequence[RequestBudget] = (),
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        instruments: Sequence[Instrument] | None = None,
        subaccount_id: str | None = None,
        base_url: str = BASE_URL,
        timeout_s: float = 10.0,
        read_attempts: int = 3,
    ) -> None:
        self._client = http_client
        self._credentials = credentials
        self._clock = clock
        self._sleep = sleep
        self._subaccount_id = subaccount_id or ""
        self._public_budgets = tuple(public_budgets)
        self._attempts = read_attempts
        self._http = VenueHttp(
            venue=VENUE,
            base_url=base_url,
            client=http_client,
            budgets=tuple(budgets),
            map_error=map_valr_error,
            timeout_s=timeout_s,
            default_headers={"Content-Type": "application/json"},
        )
        self._symbols = SymbolBook(VENUE, "VALR", lambda i: f"{i.base}{i.quote}")
        if instruments is not None:
            self._remember(instruments)

    # -- plumbing ------------------------------------------------------------

    def _remember(
        self, instruments: Sequence[Instrument], venue_ids: dict[str, str] | None = None
    ) -> None:
        """Ours `BTC/ZAR` ↔ VALR's `BTCZAR`: taken from VALR's own pair list when we
        have it, else base + quote (VALR's spelling for every spot pair)."""
        self._symbols.remember(instruments, venue_ids)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    async def _read(self, call: Callable[[], Awaitable[Any]]) -> Any:
        return await retry_read(call, attempts=self._attempts, sleep=self._sleep)

    @staticmethod
    def _path(path: str, query: Sequence[tuple[str, str]]) -> str:
        return f"{path}?{urlencode(list(query))}" if query else path

    async def _public(
        self, path: str, query: Sequence[tuple[str, str]] = (), *, public_limit: bool = True
    ) -> Any:
        extra = self._public_budgets if public_limit else ()
        return await self._http.request("GET", self._path(path, query), extra_budgets=extra)

    async def _private(
        self,
        verb: str,
        path: str,
        query: Sequence[tuple[str, str]] = (),
        body: dict[str, Any] | None = None,
    ) -> Any:
        if self._credentials is None:
            raise ExchangeAuthError(
                f"{verb} {path} needs a VALR API key and none is configured", venue=VENUE
            )
        full = self._path(path, query)
        text = json.dumps(body, separators=(",", ":")) if body is not None else ""
        stamp = round(self._clock() * 1000)
        headers = {
            "X-VALR-API-KEY": self._credentials.api_key,
            "X-VALR-SIGNATURE": sign(
                self._credentials.api_secret, stamp, verb, full, text, self._subaccount_id
            ),
            "X-VALR-TIMESTAMP": str(stamp),
        }
        if self._subaccount_id:
            headers["X-VALR-SUB-ACCOUNT-ID"] = self._subaccount_id
        return await self._http.request(
            verb, full, body=text if body is not None else None, headers=headers
        )

    async def _instrument(self, symbol: str) -> Instrument:
        if not self._symbols.loaded:
            await self.instruments()
        return self._symbols.instrument(symbol)

    async def _pair(self, symbol: str) -> str:
        await self._instrument(symbol)
        return self._symbols.venue_id(symbol)

    def _symbol_of(self, venue_id: str, rec: Record) -> str:
        return self._symbols.symbol_of(venue_id, rec.what, rec.raw)

    # -- market data ---------------------------------------------------------

    async def instruments(self) -> Sequence[Instrument]:
        """Active spot pairs, ZAR-quoted first; fees are the account's own tier when a
        key is configured, else VALR's published tier-1 schedule."""
        raw = await self._read(lambda: self._public("/v1/public/pairs"))
        fees: dict[str, tuple[Decimal, Decimal]] = {}
        if self._credentials is not None:
            for rec in records(VENUE, await self._read(self._fee_rows), "fee"):
                if rec.has("makerPercentage") and rec.has("takerPercentage"):
                    fees[rec.text("currencyPair")] = (
                        rec.dec("makerPercentage") / 100,
                        rec.dec("takerPercentage") / 100,
                    )
        venue_ids: dict[str, str] = {}
        found: list[Instrument] = []
        for rec in records(VENUE, raw, "pair"):
            instrument = parse_pair(rec, fees)
            if instrument is not None:
                found.append(instrument)
                venue_ids[instrument.symbol] = rec.text("symbol")
        result = sorted(found, key=lambda i: (i.quote != "ZAR", i.symbol))
        self._remember(result, venue_ids)
        return result

    async def ticker(self, symbol: str) -> Ticker:
        pair = await self._pair(symbol)
        raw = await self._read(lambda: self._public(f"/v1/public/{pair}/marketsummary"))
        rec = Record(VENUE, raw, "market summary")
        return Ticker(
            symbol=symbol,
            ts=rec.opt_ts("created") or self._now(),
            bid=rec.opt_dec("bidPrice"),
            ask=rec.opt_dec("askPrice"),
            last=rec.opt_dec("lastTradedPrice"),
        )

    async def order_book(self, symbol: str, depth: int = 50) -> OrderBook:
        """VALR returns the top 40 aggregated levels a side; we cut to `depth`. With a key
        the authenticated route is used, which VALR limits far less."""
        pair = await self._pair(symbol)
        if self._credentials is not None:
            raw = await self._read(lambda: self._private("GET", f"/v1/marketdata/{pair}/orderbook"))
        else:
            raw = await self._read(lambda: self._public(f"/v1/public/{pair}/orderbook"))
        rec = Record(VENUE, raw, "order book")

        def levels(key: str) -> list[BookLevel]:
            side = rec.raw.get(key)
            return [
                BookLevel(price=r.dec("price"), qty=r.dec("quantity"))
                for r in records(VENUE, [] if side is None else side, f"order book {key}")
            ]

        bids = sorted(levels("Bids"), key=lambda lv: lv.price, reverse=True)[:depth]
        asks = sorted(levels("Asks"), key=lambda lv: lv.price)[:depth]
        return OrderBook(
            ts=rec.opt_ts("LastChange") or self._now(),
            symbol=symbol,
            bids=tuple(bids),
            asks=tuple(asks),
        )

    async def trades(self, symbol: str, limit: int = 100) -> Sequence[Trade]:
        pair = await self._pair(symbol)
        query = [("limit", str(min(limit, MAX_TRADES)))]
        if self._credentials is not None:
            path = f"/v1/marketdata/{pair}/tradehistory"
            raw = await self._read(lambda: self._private("GET", path, query))
        else:
            raw = await self._read(lambda: self._public(f"/v1/public/{pair}/trades", query))
        result = [
            Trade(
                ts=r.ts("tradedAt"),
                symbol=symbol,
                price=r.dec("price"),
                qty=r.dec("quantity"),
                side=_side(r.text("takerSide"), r),
                trade_id=r.opt_text("id"),
            )
            for r in records(VENUE, raw, "trade")
        ]
        return sorted(result, key=lambda t: t.ts)

    async def ohlcv(
        self, symbol: str, timeframe_s: int, since: datetime | None = None, limit: int = 500
    ) -> Sequence[Candle]:
        """VALR's buckets: only its seven periods, at most 300 per call (we ask for no
        more, so a window never spans more buckets than VALR allows)."""
        if timeframe_s not in BUCKET_PERIODS_S:
            raise ValidationFailed(
                f"VALR has no {timeframe_s} s candles; it offers {list(BUCKET_PERIODS_S)}",
                code="unsupported_timeframe",
            )
        pair = await self._pair(symbol)
        count = max(1, min(limit, MAX_BUCKETS))
        query = [("periodSeconds", str(timeframe_s))]
        if since is not None:
            start = int(since.timestamp())
            end = min(int(self._clock()), start + timeframe_s * count)
            query += [("startTime", str(start)), ("endTime", str(end))]
        query.append(("limit", str(count)))
        path = f"/v1/public/{pair}/buckets"
        raw = await self._read(lambda: self._public(path, query, public_limit=False))
        candles = [
            Candle(
                ts=r.ts("startTime"),
                symbol=symbol,
                open=r.dec("open"),
                high=r.dec("high"),
                low=r.dec("low"),
                close=r.dec("close"),
                volume=r.dec("volume"),
                timeframe=timeframe_s,
            )
            for r in records(VENUE, raw, "bucket")
        ]
        candles.sort(key=lambda c: c.ts)
        return candles[-count:]

    # -- account -------------------------------------------------------------

    async def balances(self) -> Sequence[Balance]:
        raw = await self._read(lambda: self._private("GET", "/v1/account/balances"))
        return [
            Balance(asset=r.text("currency"), free=r.dec("available"), locked=r.dec("reserved"))
            for r in records(VENUE, raw, "balance")
        ]

    async def _fee_rows(self) -> Any:
        return await self._private("GET", "/v1/account/fees/trade")

    async def fees(self, symbol: str) -> FeeSchedule:
        pair = await self._pair(symbol)
        for rec in records(VENUE, await self._read(self._fee_rows), "fee"):
            if rec.opt_text("currencyPair") != pair:
                continue
            if not (rec.has("makerPercentage") and rec.has("takerPercentage")):
                raise InvalidOrder(
                    f"VALR offers {symbol} for simple buy/sell only, not on the order book",
                    venue=VENUE,
                )
            return FeeSchedule(
                symbol=symbol,
                maker=rec.dec("makerPercentage") / 100,
                taker=rec.dec("takerPercentage") / 100,
            )
        raise UnknownSymbol(
            f"VALR returned no trading fee for {symbol!r}", venue=VENUE, details={"symbol": symbol}
        )

    async def key_permissions(self) -> KeyPermissions:
        raw = await self._read(lambda: self._private("GET", "/v1/account/api-keys/current"))
        rec = Record(VENUE, raw, "api key")
        perms = rec.raw.get("permissions")
        if not isinstance(perms, list):
            raise bad_reply(VENUE, "api key: field 'permissions' is not a list", raw)
        names = {str(p).strip().lower() for p in perms}
        return KeyPermissions(
            read="view access" in names, trade="trade" in names, withdraw="withdraw" in names
        )

    # -- orders --------------------------------------------------------------

    async def create_order(self, order: OrderRequest) -> VenueOrder:
        """Checked against VALR's pair rules before anything is sent; sent at most until
        VALR has it (a timeout is followed by a lookup by customerOrderId, and the same id
        is resent only if VALR says it has no such order). VALR answers 202 Accepted: the
        order is returned `open` and a later `fetch_order` tells whether it failed."""
        instrument = await self._instrument(order.symbol)
        pair = self._symbols.venue_id(order.symbol)
        if not CUSTOMER_ORDER_ID.match(order.client_order_id):
            raise InvalidOrder(
                f"client order id {order.client_order_id!r} is not 1-50 letters, digits or "
                "dashes, which VALR requires",
                venue=VENUE,
                code="bad_client_order_id",
            )
        if order.type == "limit" and order.price is None:
            raise InvalidOrder("a limit order needs a price", venue=VENUE, code="missing_price")
        if order.type == "market" and order.post_only:
            raise InvalidOrder(
                "a market order cannot be post-only", venue=VENUE, code="post_only_market"
            )
        try:
            instrument.check_order(order.qty, order.price if order.type == "limit" else None)
        except ValidationFailed as exc:
            raise InvalidOrder(
                exc.message, venue=VENUE, code=exc.code, details={"checked_before_sending": True}
            ) from exc
        body: dict[str, Any]
        if order.type == "limit":
            assert order.price is not None
            body = {
                "side": order.side.upper(),
                "quantity": fmt(order.qty),
                "price": fmt(order.price),
                "pair": pair,
                "postOnly": order.post_only,
                "customerOrderId": order.client_order_id,
                "timeInForce": "GTC",
            }
            path = "/v1/orders/limit"
        else:
            body = {
                "side": order.side.upper(),
                "baseAmount": fmt(order.qty),
                "pair": pair,
                "customerOrderId": order.client_order_id,
            }
            path = "/v1/orders/market"

        async def submit() -> VenueOrder:
            raw = await self._private("POST", path, body=body)
            rec = Record(VENUE, raw, "order accepted")
            return VenueOrder(
                symbol=order.symbol,
                side=order.side,
                type=order.type,
                status="open",
                qty=order.qty,
                filled_qty=Decimal(0),
                price=order.price if order.type == "limit" else None,
                avg_fill_price=None,
                venue_order_id=rec.text("id"),
                client_order_id=order.client_order_id,
                ts=self._now(),
            )

        async def lookup() -> VenueOrder:
            return await self._order_status(order.symbol, pair, order.client_order_id)

        return await place_once(submit, lookup, sleep=self._sleep)

    async def _order_status(self, symbol: str, pair: str, client_order_id: str) -> VenueOrder:
        path = f"/v1/orders/{pair}/customerorderid/{quote(client_order_id, safe='')}"
        raw = await self._private("GET", path)
        return self._parse_status(Record(VENUE, raw, "order status"), symbol)

    def _parse_status(self, rec: Record, symbol: str) -> VenueOrder:
        status = _ORDER_STATUS.get(rec.text("orderStatusType").lower())
        if status is None:
            raise bad_reply(
                VENUE, f"order status: unknown status {rec.raw.get('orderStatusType')!r}", rec.raw
            )
        qty = rec.dec("originalQuantity")
        remaining = rec.dec("remainingQuantity")
        price = rec.opt_dec("originalPrice")
        kind = rec.text("orderType").lower()
        return VenueOrder(
            symbol=symbol,
            side=_side(rec.text("orderSide"), rec),
            type="market" if "market" in kind or kind == "simple" else "limit",
            status=status,
            qty=qty,
            filled_qty=qty - remaining,
            price=price if price else None,
            avg_fill_price=rec.opt_dec("averagePrice"),
            venue_order_id=rec.text("orderId"),
            client_order_id=rec.opt_text("customerOrderId"),
            ts=rec.ts("orderUpdatedAt") if rec.has("orderUpdatedAt") else rec.ts("orderCreatedAt"),
        )

    async def fetch_order(self, symbol: str, client_order_id: str) -> VenueOrder:
        pair = await self._pair(symbol)
        return await self._read(lambda: self._order_status(symbol, pair, client_order_id))

    async def cancel_order(self, symbol: str, client_order_id: str) -> VenueOrder:
        """VALR accepts a cancel (202) and applies it asynchronously; the order's status
        right after is returned, which may still read `open` for a moment."""
        pair = await self._pair(symbol)
        await self._private(
            "DELETE", "/v1/orders/order", body={"customerOrderId": client_order_id, "pair": pair}
        )
        return await self._read(lambda: self._order_status(symbol, pair, client_order_id))

    async def open_orders(self, symbol: str | None = None) -> Sequence[VenueOrder]:
        wanted = await self._pair(symbol) if symbol is not None else None
        if not self._symbols.loaded:
            await self.instruments()
        raw = await self._read(lambda: self._private("GET", "/v1/orders/open"))
        result: list[VenueOrder] = []
        for rec in records(VENUE, raw, "open order"):
            pair = rec.text("currencyPair")
            if wanted is not None and pair != wanted:
                continue
            qty = rec.dec("originalQuantity")
            status = _ORDER_STATUS.get(rec.text("status").lower(), "open")
            kind = rec.text("type").lower()
            result.append(
                VenueOrder(
                    symbol=self._symbol_of(pair, rec),
                    side=_side(rec.text("side"), rec),
                    type="market" if "market" in kind else "limit",
                    status=status,
                    qty=qty,
                    filled_qty=qty - rec.dec("remainingQuantity"),
                    price=rec.opt_dec("price"),
                    avg_fill_price=None,
                    venue_order_id=rec.text("orderId"),
                    client_order_id=rec.opt_text("customerOrderId"),
                    ts=rec.ts("createdAt"),
                )
            )
        return result

    async def my_trades(
        self, symbol: str, since: datetime | None = None, limit: int = 100
    ) -> Sequence[VenueFill]:
        """VALR's per-pair history holds the latest 100 fills; `since` filters them. A
        maker rebate (negative maker rate) is reported as a negative fee."""
        pair = await self._pair(symbol)
        query = [("limit", str(min(limit, MAX_TRADES)))]
        path = f"/v1/account/{pair}/tradehistory"
        raw = await self._read(lambda: self._private("GET", path, query))
        fills: list[VenueFill] = []
        for rec in records(VENUE, raw, "account trade"):
            if rec.has("makerReward"):
                fee = -rec.dec("makerReward")
                fee_asset = rec.text("makerRewardCurrency")
            else:
                fee = rec.opt_dec("fee") or Decimal(0)
                fee_asset = rec.opt_text("feeCurrency") or ""
            fill = VenueFill(
                venue_trade_id=rec.text("id"),
                venue_order_id=rec.text("orderId"),
                client_order_id=rec.opt_text("customerOrderId"),
                symbol=symbol,
                side=_side(rec.text("side"), rec),
                price=rec.dec("price"),
                qty=rec.dec("quantity"),
                fee=fee,
                fee_asset=fee_asset,
                liquidity="maker" if rec.has("makerReward") else None,
                ts=rec.ts("tradedAt"),
            )
            if since is None or fill.ts >= since:
                fills.append(fill)
        fills.sort(key=lambda f: f.ts)
        return fills

    async def close(self) -> None:
        await self._client.aclose()


def parse_pair(rec: Record, fees: dict[str, tuple[Decimal, Decimal]]) -> Instrument | None:
    """One VALR pair → our Instrument; None for inactive or non-spot pairs (futures)."""
    if rec.raw.get("active") is False:
        return None
    kind = rec.opt_text("currencyPairType")
    if kind is not None and kind.upper() != "SPOT":
        return None
    base, quote_ = rec.text("baseCurrency"), rec.text("quoteCurrency")
    maker, taker = fees.get(rec.text("symbol"), _published_fee(base, quote_))
    return Instrument(
        symbol=f"{base}/{quote_}",
        base=base,
        quote=quote_,
        price_step=rec.dec("tickSize"),
        qty_step=step_from_places(rec.whole("baseDecimalPlaces")),
        min_qty=rec.dec("minBaseAmount"),
        min_notional=rec.opt_dec("minQuoteAmount") or Decimal(0),
        maker_fee=maker,
        taker_fee=taker,
        exchange=VENUE,
    )


def make_valr_client(
    credentials: Credentials | None,
    *,
    http_client: httpx.AsyncClient | None = None,
    subaccount_id: str | None = None,
    **kw: Any,
) -> ValrClient:
    """A VALR client drawing on this process's shared VALR budgets (one per IP, plus
    the public-route budget), so every bot on VALR together stays under VALR's limits."""
    return ValrClient(
        http_client=http_client or httpx.AsyncClient(),
        credentials=credentials,
        budgets=(shared_budget(VENUE, "ip", IP_RATE_PER_S, IP_BURST),),
        public_budgets=(shared_budget(VENUE, "ip-public", PUBLIC_RATE_PER_S, PUBLIC_BURST),),
        subaccount_id=subaccount_id,
        **kw,
    )
