"""OVEX (South Africa, ZAR) spot connector, written from what OVEX publishes.

Sources (read 2026-12): OVEX's published Postman collection "OVEX Public API"
(docs.ovex.io), and OVEX's own Python SDK `ovex-py` 0.1.0 on PyPI.

Confirmed:
- Base URL `https://www.ovex.io/api/v2`; market ids `xxxyyy` lower case (`btczar`).
- Authentication is a bearer API key: `Authorization: Bearer {API_KEY}` (keys expire
  after 365 days). There is NO request signing, nonce or timestamp: the historical
  Peatio `access_key`/`tonce`/HMAC-SHA256 scheme is not what OVEX documents today, so
  we do not send it (the secret in `Credentials` is unused).
- Global limit on every endpoint: 100 requests / 10 s, 400 / 60 s, 3000 / 10 min.
- `GET /markets` (public; the list depends on jurisdiction), `GET /accounts`
  (balances: currency, balance, locked), `GET /trades/history` (own trades: limit,
  order_by, timestamp, from, to), `GET /fees/withdraw|deposit`, `GET /currencies`.
- Error replies carry `error` and `error_code` (the SDK's check).

NOT confirmed (OVEX's v2 follows Peatio's v2 layout; these routes and field names are
Peatio's, used because nothing OVEX publishes contradicts them — verify before live
trading): `GET /tickers/{market}`, `GET /depth?market=&limit=`, `GET /trades?market=`,
`GET /k?market=&period=(minutes)&timestamp=&limit=`, `POST /orders` (market, side,
volume, price, ord_type), `GET /order?id=`, `POST /order/delete`, `GET /orders?market=
&state=wait`, `GET /fees/trading`, and the market fields `base_unit`, `quote_unit`,
`amount_precision`, `price_precision`, `min_amount`, `min_price`. A market without
precision fields gets step 0 ("venue did not say"), so our grid check is skipped rather
than invented.

Client order ids: OVEX documents none. We keep our id → OVEX's order id in this
process only; `fetch_order`/`cancel_order` for an id we did not place here raise a
non-retryable `ExchangeError`, never `OrderNotFound`, so `retry.place_once` can never
resend an order that might exist. Orders are therefore sent once, without retries.
Key permissions: OVEX documents no endpoint; `key_permissions()` proves only that the
key can read (a private read succeeds) and reports trade/withdraw as unknown (None).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

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
from amarktai.exchanges.retry import retry_read
from amarktai.exchanges.symbols import SymbolBook
from amarktai.kit.errors import ValidationFailed
from amarktai.markets.types import BookLevel, Candle, Instrument, OrderBook, Trade

VENUE = "ovex"
BASE_URL = "https://www.ovex.io/api/v2"

# OVEX: 100 / 10 s, 400 / 60 s, 3000 / 10 min, globally. A bucket of burst 10 at
# 4.5/s allows at most 55 in 10 s, 280 in 60 s and 2710 in 10 min: under all three.
RATE_PER_S = 4.5
BURST = 10.0

# Peatio's candle periods, in minutes (unconfirmed for OVEX, see the module docstring).
K_PERIODS_MIN = (1, 5, 15, 30, 60, 120, 240, 360, 720, 1440, 4320, 10080)

_ORDER_STATE: dict[str, OrderStatus] = {
    "wait": "open",
    "pending": "open",
    "done": "filled",
    "cancel": "cancelled",
    "reject": "rejected",
}


def _venue_words(reply: VenueReply) -> tuple[str, int | None]:
    """OVEX's SDK reads `{"error": "...", "error_code": n}`; Peatio nests
    `{"error": {"code": n, "message": "..."}}`. Both are accepted."""
    body = reply.body
    if isinstance(body, dict):
        error = body.get("error")
        code = body.get("error_code")
        if isinstance(error, dict):
            code = error.get("code", code)
            error = error.get("message")
        message = str(error) if error else reply.text
        try:
            return message, int(code) if code is not None else None
        except (TypeError, ValueError):
            return message, None
    return reply.text, None


def map_ovex_error(reply: VenueReply) -> ExchangeError:
    message, _code = _venue_words(reply)
    lower = message.lower()
    if reply.status in (401, 403) or "authoriz" in lower or "api key" in lower:
        return ExchangeAuthError("OVEX refused the API key", venue=VENUE, venue_message=message)
    if reply.status == 429:
        return VenueRateLimited(
            "OVEX is rate limiting us",
            venue=VENUE,
            venue_message=message,
            retry_after_s=retry_after_s(reply.headers),
        )
    if reply.status >= 500:
        return VenueUnavailable(
            f"OVEX answered HTTP {reply.status}", venue=VENUE, venue_message=message
        )
    if "insufficient" in lower or "not enough" in lower:
        return InsufficientFunds("OVEX: insufficient balance", venue=VENUE, venue_message=message)
    if "tonce" in lower or "nonce" in lower or "timestamp" in lower:
        return NonceError("OVEX refused our request time", venue=VENUE, venue_message=message)
    if "market" in lower and ("invalid" in lower or "not found" in lower):
        return UnknownSymbol("OVEX does not list that market", venue=VENUE, venue_message=message)
    if reply.status == 404 or "not found" in lower or "doesn't exist" in lower:
        return OrderNotFound("OVEX does not have that order", venue=VENUE, venue_message=message)
    if reply.path.startswith(("/orders", "/order/")) and reply.status in (400, 422):
        return InvalidOrder("OVEX refused the order", venue=VENUE, venue_message=message)
    return default_error(VENUE, reply, message)


def _side(value: str, rec: Record) -> Side:
    lowered = value.lower()
    if lowered in ("buy", "bid", "up"):
        return "buy"
    if lowered in ("sell", "ask", "down"):
        return "sell"
    raise bad_reply(VENUE, f"{rec.what}: unknown side {value!r}", rec.raw)


class OvexClient:
    """`ExchangeClient` for OVEX; public data without a key, private calls with one."""

    venue = VENUE

    def __init__(
        self,
        *,
        http_client: httpx.AsyncClient,
        credentials: Credentials | None = None,
        budgets: Sequence[RequestBudget] = (),
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        instruments: Sequence[Instrument] | None = None,
        base_url: str = BASE_URL,
        timeout_s: float = 10.0,
        read_attempts: int = 3,
        known_orders: Mapping[str, str] | None = None,
    ) -> None:
        """`known_orders` (our client order id → OVEX order id) lets a restarted
        process find the orders it placed before, from our own order records."""
        self._client = http_client
        self._credentials = credentials
        self._clock = clock
        self._sleep = sleep
        self._attempts = read_attempts
        self._http = VenueHttp(
            venue=VENUE,
            base_url=base_url,
            client=http_client,
            budgets=tuple(budgets),
            map_error=map_ovex_error,
            timeout_s=timeout_s,
        )
        self._symbols = SymbolBook(VENUE, "OVEX", lambda i: f"{i.base}{i.quote}".lower())
        # our client order id → OVEX order id, for orders placed by this process
        self._order_ids: dict[str, str] = dict(known_orders or {})
        if instruments is not None:
            self._remember(instruments)

    # -- plumbing ------------------------------------------------------------

    def _remember(
        self, instruments: Sequence[Instrument], market_ids: dict[str, str] | None = None
    ) -> None:
        """Ours `BTC/ZAR` ↔ OVEX's `btczar`."""
        self._symbols.remember(instruments, market_ids)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    async def _read(self, call: Callable[[], Awaitable[Any]]) -> Any:
        return await retry_read(call, attempts=self._attempts, sleep=self._sleep)

    async def _call(
        self,
        verb: str,
        path: str,
        query: Sequence[tuple[str, str]] = (),
        body: dict[str, Any] | None = None,
        *,
        auth: bool,
    ) -> Any:
        headers: dict[str, str] = {}
        if auth:
            if self._credentials is None:
                raise ExchangeAuthError(
                    f"{verb} {path} needs an OVEX API key and none is configured", venue=VENUE
                )
            headers["Authorization"] = f"Bearer {self._credentials.api_key}"
        text = None
        if body is not None:
            text = json.dumps(body, separators=(",", ":"))
            headers["Content-Type"] = "application/json"
        full = f"{path}?{urlencode(list(query))}" if query else path
        return await self._http.request(verb, full, body=text, headers=headers)

    async def _instrument(self, symbol: str) -> Instrument:
        if not self._symbols.loaded:
            await self.instruments()
        return self._symbols.instrument(symbol)

    async def _market(self, symbol: str) -> str:
        await self._instrument(symbol)
        return self._symbols.venue_id(symbol)

    def _symbol_of(self, venue_id: str, rec: Record) -> str:
        return self._symbols.symbol_of(venue_id, rec.what, rec.raw)

    # -- market data ---------------------------------------------------------

    async def instruments(self) -> Sequence[Instrument]:
        """OVEX's markets, ZAR first. With a key the request is authenticated, because
        OVEX lists only the markets of the key's jurisdiction that way."""
        raw = await self._read(
            lambda: self._call("GET", "/markets", auth=self._credentials is not None)
        )
        fees: dict[str, tuple[Decimal, Decimal]] = {}
        if self._credentials is not None:
            fees = await self._trading_fees()
        market_ids: dict[str, str] = {}
        found: list[Instrument] = []
        for rec in records(VENUE, raw, "market"):
            instrument = parse_market(rec, fees)
            if instrument is not None:
                found.append(instrument)
                market_ids[instrument.symbol] = rec.text("id")
        result = sorted(found, key=lambda i: (i.quote != "ZAR", i.symbol))
        self._remember(result, market_ids)
        return result

    async def ticker(self, symbol: str) -> Ticker:
        market = await self._market(symbol)
        raw = await self._read(lambda: self._call("GET", f"/tickers/{market}", auth=False))
        rec = Record(VENUE, raw, "ticker")
        tick = Record(VENUE, rec.raw.get("ticker"), "ticker")
        return Ticker(
            symbol=symbol,
            ts=rec.opt_ts("at") or self._now(),
            bid=tick.opt_dec("buy"),
            ask=tick.opt_dec("sell"),
            last=tick.opt_dec("last"),
        )

    async def order_book(self, symbol: str, depth: int = 50) -> OrderBook:
        market = await self._market(symbol)
        query = [("market", market), ("limit", str(depth))]
        raw = await self._read(lambda: self._call("GET", "/depth", query, auth=False))
        rec = Record(VENUE, raw, "depth")

        def levels(key: str) -> list[BookLevel]:
            rows = rec.raw.get(key)
            if not isinstance(rows, list):
                raise bad_reply(VENUE, f"depth: field {key!r} is not a list", raw)
            result = []
            for row in rows:
                if not (isinstance(row, list) and len(row) >= 2):
                    raise bad_reply(VENUE, f"depth: a {key} level is not [price, volume]", raw)
                lv = Record(VENUE, {"price": row[0], "volume": row[1]}, f"depth {key}")
                result.append(BookLevel(price=lv.dec("price"), qty=lv.dec("volume")))
            return result

        # Peatio lists asks highest first; sort both sides ourselves.
        bids = sorted(levels("bids"), key=lambda lv: lv.price, reverse=True)[:depth]
        asks = sorted(levels("asks"), key=lambda lv: lv.price)[:depth]
        return OrderBook(
            ts=rec.opt_ts("timestamp") or self._now(),
            symbol=symbol,
            bids=tuple(bids),
            asks=tuple(asks),
        )

    async def trades(self, symbol: str, limit: int = 100) -> Sequence[Trade]:
        market = await self._market(symbol)
        query = [("market", market), ("limit", str(limit))]
        raw = await self._read(lambda: self._call("GET", "/trades", query, auth=False))
        result = [
            Trade(
                ts=r.ts("created_at"),
                symbol=symbol,
                price=r.dec("price"),
                qty=r.dec("volume"),
                side=_side(r.text("side"), r),
                trade_id=r.opt_text("id"),
            )
            for r in records(VENUE, raw, "trade")
        ]
        return sorted(result, key=lambda t: t.ts)

    async def ohlcv(
        self, symbol: str, timeframe_s: int, since: datetime | None = None, limit: int = 500
    ) -> Sequence[Candle]:
        minutes, rest = divmod(timeframe_s, 60)
        if rest or minutes not in K_PERIODS_MIN:
            raise ValidationFailed(
                f"OVEX has no {timeframe_s} s candles; it offers "
                f"{[m * 60 for m in K_PERIODS_MIN]} s",
                code="unsupported_timeframe",
            )
        market = await self._market(symbol)
        query = [("market", market), ("period", str(minutes)), ("limit", str(limit))]
        if since is not None:
            query.append(("timestamp", str(int(since.timestamp()))))
        raw = await self._read(lambda: self._call("GET", "/k", query, auth=False))
        if not isinstance(raw, list):
            raise bad_reply(
                VENUE, "k: expected a list of [time, open, high, low, close, volume]", raw
            )
        candles = []
        for row in raw:
            if not (isinstance(row, list) and len(row) >= 6):
                raise bad_reply(VENUE, "k: a candle is not [time, o, h, l, c, v]", raw)
            rec = Record(VENUE, dict(zip(("t", "o", "h", "l", "c", "v"), row, strict=False)), "k")
            candles.append(
                Candle(
                    ts=rec.ts("t"),
                    symbol=symbol,
                    open=rec.dec("o"),
                    high=rec.dec("h"),
                    low=rec.dec("l"),
                    close=rec.dec("c"),
                    volume=rec.dec("v"),
                    timeframe=timeframe_s,
                )
            )
        candles.sort(key=lambda c: c.ts)
        return candles[-limit:] if limit > 0 else candles

    # -- account -------------------------------------------------------------

    async def balances(self) -> Sequence[Balance]:
        raw = await self._read(lambda: self._call("GET", "/accounts", auth=True))
        return [
            Balance(asset=r.text("currency").upper(), free=r.dec("balance"), locked=r.dec("locked"))
            for r in records(VENUE, raw, "account")
        ]

    async def _trading_fees(self) -> dict[str, tuple[Decimal, Decimal]]:
        raw = await self._read(lambda: self._call("GET", "/fees/trading", auth=True))
        result: dict[str, tuple[Decimal, Decimal]] = {}
        for rec in records(VENUE, raw, "trading fee"):
            result[rec.text("market_id")] = (rec.dec("maker"), rec.dec("taker"))
        return result

    async def fees(self, symbol: str) -> FeeSchedule:
        market = await self._market(symbol)
        found = (await self._trading_fees()).get(market)
        if found is None:
            raise UnknownSymbol(
                f"OVEX returned no trading fee for {symbol!r}",
                venue=VENUE,
                details={"symbol": symbol},
            )
        return FeeSchedule(symbol=symbol, maker=found[0], taker=found[1])

    async def key_permissions(self) -> KeyPermissions:
        await self._read(lambda: self._call("GET", "/accounts", auth=True))
        return KeyPermissions(read=True, trade=None, withdraw=None)

    # -- orders --------------------------------------------------------------

    def _parse_order(self, rec: Record, symbol: str | None = None) -> VenueOrder:
        state = _ORDER_STATE.get(rec.text("state").lower())
        if state is None:
            raise bad_reply(VENUE, f"order: unknown state {rec.raw.get('state')!r}", rec.raw)
        qty = rec.dec("volume")
        filled = rec.opt_dec("executed_volume")
        if filled is None:
            filled = qty - rec.dec("remaining_volume")
        if state == "open" and filled > 0:
            state = "partially_filled"
        venue_id = rec.text("id")
        ours = next((c for c, v in self._order_ids.items() if v == venue_id), None)
        avg = rec.opt_dec("avg_price")
        return VenueOrder(
            symbol=symbol or self._symbol_of(rec.text("market"), rec),
            side=_side(rec.text("side"), rec),
            type="market" if rec.text("ord_type").lower() == "market" else "limit",
            status=state,
            qty=qty,
            filled_qty=filled,
            price=rec.opt_dec("price"),
            avg_fill_price=avg if avg else None,
            venue_order_id=venue_id,
            client_order_id=ours,
            ts=rec.ts("created_at"),
        )

    def _venue_id(self, client_order_id: str) -> str:
        found = self._order_ids.get(client_order_id)
        if found is None:
            raise ExchangeError(
                f"order {client_order_id!r} was not placed by this process, and OVEX has no "
                "client order id to find it by: look it up in OVEX's open orders or history",
                venue=VENUE,
                code="exchange_order_unknown_locally",
            )
        return found

    async def create_order(self, order: OrderRequest) -> VenueOrder:
        """Checked against OVEX's market rules, then sent exactly once: OVEX has no client
        order id, so after a timeout nobody could tell whether a resend would double it."""
        instrument = await self._instrument(order.symbol)
        market = self._symbols.venue_id(order.symbol)
        if order.client_order_id in self._order_ids:
            raise InvalidOrder(
                f"client order id {order.client_order_id!r} was already used",
                venue=VENUE,
                code="duplicate_client_order_id",
            )
        if order.type == "limit" and order.price is None:
            raise InvalidOrder("a limit order needs a price", venue=VENUE, code="missing_price")
        if order.post_only:
            raise InvalidOrder(
                "OVEX documents no post-only orders", venue=VENUE, code="post_only_unsupported"
            )
        try:
            instrument.check_order(order.qty, order.price if order.type == "limit" else None)
        except ValidationFailed as exc:
            raise InvalidOrder(
                exc.message, venue=VENUE, code=exc.code, details={"checked_before_sending": True}
            ) from exc
        body: dict[str, Any] = {
            "market": market,
            "side": order.side,
            "volume": fmt(order.qty),
            "ord_type": order.type,
        }
        if order.type == "limit":
            assert order.price is not None
            body["price"] = fmt(order.price)
        raw = await self._call("POST", "/orders", body=body, auth=True)
        rec = Record(VENUE, raw, "order")
        self._order_ids[order.client_order_id] = rec.text("id")
        return self._parse_order(rec, order.symbol)

    async def fetch_order(self, symbol: str, client_order_id: str) -> VenueOrder:
        await self._market(symbol)
        venue_id = self._venue_id(client_order_id)
        raw = await self._read(lambda: self._call("GET", "/order", [("id", venue_id)], auth=True))
        return self._parse_order(Record(VENUE, raw, "order"), symbol)

    async def cancel_order(self, symbol: str, client_order_id: str) -> VenueOrder:
        await self._market(symbol)
        venue_id = self._venue_id(client_order_id)
        raw = await self._call("POST", "/order/delete", body={"id": venue_id}, auth=True)
        return self._parse_order(Record(VENUE, raw, "order"), symbol)

    async def open_orders(self, symbol: str | None = None) -> Sequence[VenueOrder]:
        if not self._symbols.loaded:
            await self.instruments()
        query = [("state", "wait")]
        if symbol is not None:
            query.insert(0, ("market", await self._market(symbol)))
        raw = await self._read(lambda: self._call("GET", "/orders", query, auth=True))
        return [self._parse_order(rec) for rec in records(VENUE, raw, "order")]

    async def my_trades(
        self, symbol: str, since: datetime | None = None, limit: int = 100
    ) -> Sequence[VenueFill]:
        """OVEX's `/trades/history` (confirmed) returns the key's trades across markets;
        we keep `symbol`'s, and `since` filters them."""
        market = await self._market(symbol)
        query = [("limit", str(limit)), ("order_by", "desc")]
        raw = await self._read(lambda: self._call("GET", "/trades/history", query, auth=True))
        fills: list[VenueFill] = []
        for rec in records(VENUE, raw, "trade"):
            if rec.opt_text("market") not in (None, market):
                continue
            venue_order = rec.text("order_id")
            ours = next((c for c, v in self._order_ids.items() if v == venue_order), None)
            fill = VenueFill(
                venue_trade_id=rec.text("id"),
                venue_order_id=venue_order,
                client_order_id=ours,
                symbol=symbol,
                side=_side(rec.text("side"), rec),
                price=rec.dec("price"),
                qty=rec.dec("volume"),
                fee=rec.opt_dec("fee") or Decimal(0),
                fee_asset=(rec.opt_text("fee_currency") or "").upper(),
                liquidity=None,
                ts=rec.ts("created_at"),
            )
            if since is None or fill.ts >= since:
                fills.append(fill)
        fills.sort(key=lambda f: f.ts)
        return fills

    async def close(self) -> None:
        await self._client.aclose()


def parse_market(rec: Record, fees: dict[str, tuple[Decimal, Decimal]]) -> Instrument | None:
    """One OVEX market → our Instrument; None for a market OVEX marks disabled."""
    state = rec.opt_text("state")
    if state is not None and state.lower() not in ("enabled", "active"):
        return None
    base = rec.opt_text("base_unit")
    quote = rec.opt_text("quote_unit")
    if base is None or quote is None:
        name = rec.text("name")
        if "/" not in name:
            raise bad_reply(
                VENUE, "market: no base_unit/quote_unit and no BASE/QUOTE name", rec.raw
            )
        base, quote = name.split("/", 1)
    base, quote = base.upper(), quote.upper()
    amount_places = rec.raw.get("amount_precision")
    price_places = rec.raw.get("price_precision")
    maker, taker = fees.get(rec.text("id"), (Decimal(0), Decimal(0)))
    return Instrument(
        symbol=f"{base}/{quote}",
        base=base,
        quote=quote,
        price_step=step_from_places(rec.whole("price_precision"))
        if price_places is not None
        else Decimal(0),
        qty_step=step_from_places(rec.whole("amount_precision"))
        if amount_places is not None
        else Decimal(0),
        min_qty=rec.opt_dec("min_amount") or Decimal(0),
        min_notional=rec.opt_dec("min_total") or Decimal(0),
        maker_fee=maker,
        taker_fee=taker,
        exchange=VENUE,
    )


def make_ovex_client(
    credentials: Credentials | None, *, http_client: httpx.AsyncClient | None = None, **kw: Any
) -> OvexClient:
    """An OVEX client drawing on this process's one OVEX budget: OVEX's limit is global,
    so every bot and key on OVEX shares it."""
    return OvexClient(
        http_client=http_client or httpx.AsyncClient(),
        credentials=credentials,
        budgets=(shared_budget(VENUE, "global", RATE_PER_S, BURST),),
        **kw,
    )
