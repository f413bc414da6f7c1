"""`ExchangeClient` on ccxt for Luno, Binance, KuCoin and Bybit.

ccxt (pinned in pyproject) already knows each venue's URLs, signing, market metadata
and error codes; this module adapts it to our interface and our rules:

* **Our symbols.** ccxt's unified spot symbols are ours (`BTC/ZAR`): its
  `commonCurrencies` turns Luno's `XBT` into `BTC` both ways, so a symbol is looked up
  in the loaded markets and anything not listed raises `UnknownSymbol`.
* **Decimal money, no floats.** ccxt is told to keep parsed numbers as strings
  (`exchange.number = str`, a supported ccxt mode), so every price, size and fee is the
  venue's own digits as a `Decimal`; orders go to ccxt as decimal strings too.
* **One request budget.** ccxt's `throttle` (called once per HTTP request, with the
  endpoint's weight) is replaced by our shared token bucket for (venue, key), sized from
  ccxt's `rateLimit` so that burst plus sustained rate over the venue's window is its
  published limit; every bot on a key draws from that one bucket and ccxt's own limiter
  never runs beside it.
* **Typed errors.** Every ccxt exception is mapped by `map_ccxt_error` (one place).
* **Safe retries.** Reads go through `retry_read`; an order goes through `place_once`
  with our client order id in the venue's own field, looked up by that id after a
  timeout, so it is never placed twice.
* **No network at construction.** Markets load on the first call that needs them.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar, cast

import ccxt.async_support as ccxt_async
from ccxt.base import errors as cx
from ccxt.base.decimal_to_precision import DECIMAL_PLACES, TICK_SIZE

from amarktai.exchanges.budget import RequestBudget, shared_budget
from amarktai.exchanges.client import (
    Balance,
    Credentials,
    FeeSchedule,
    KeyPermissions,
    OrderRequest,
    OrderStatus,
    Ticker,
    VenueFill,
    VenueOrder,
)
from amarktai.exchanges.errors import (
    BadVenueReply,
    ExchangeAuthError,
    ExchangeError,
    InsufficientFunds,
    InvalidOrder,
    NonceError,
    OrderNotFound,
    UnknownSymbol,
    VenueRateLimited,
    VenueTimeout,
    VenueUnavailable,
)
from amarktai.exchanges.retry import place_once, retry_read
from amarktai.kit.errors import ValidationFailed
from amarktai.markets.types import BookLevel, Candle, Instrument, OrderBook, Trade

T = TypeVar("T")
ZERO = Decimal(0)
CCXT_VENUES = ("luno", "binance", "kucoin", "bybit")


@dataclass(frozen=True, slots=True)
class VenueSpec:
    """What differs per venue: the ccxt class, the field our client order id travels in,
    ccxt options that keep requests to spot and deterministic, and the book depths the
    venue accepts (None: any up to `max_depth`; Luno takes no depth at all)."""

    venue: str
    ccxt_id: str
    client_id_field: str
    options: dict[str, Any] = field(default_factory=dict)
    market_params: dict[str, Any] = field(default_factory=dict)  # for load_markets
    depths: tuple[int, ...] | None = None
    max_depth: int | None = None
    # the window the venue counts its limit over; ccxt's `rateLimit` (ms per weight
    # unit) times it is the published limit for that window (Luno 300 calls a minute,
    # KuCoin 4,000 a 30 s for spot VIP0; Binance and Bybit in ccxt's scaled weights)
    window_s: float = 60.0
    burst_s: float = 1.0  # bucket capacity, in seconds of ccxt's rate


SPECS: dict[str, VenueSpec] = {
    "luno": VenueSpec("luno", "luno", "client_order_id", depths=(), window_s=60.0),
    "binance": VenueSpec(
        "binance",
        "binance",
        "newClientOrderId",
        options={
            "defaultType": "spot",
            "fetchMarkets": {"types": ["spot"]},
            "fetchMargins": False,  # margin pairs: two signed requests we have no use for
            # one open-orders call for every symbol is a heavy weight, and we mean it
            "warnOnFetchOpenOrdersWithoutSymbol": False,
        },
        depths=(5, 10, 20, 50, 100, 500, 1000, 5000),
    ),
    "kucoin": VenueSpec(
        "kucoin",
        "kucoin",
        "clientOid",
        # pinned instead of probed per key (one request each): spot accounts trade on
        # KuCoin's high-frequency (hf) endpoints, not the unified account (uta)
        options={
            "uta": False,
            "hf": True,
            # spot only, without the all-tickers call (its fee rates are the same
            # defaults; `fees()` asks for the key's own)
            "fetchMarkets": {"types": ["spot"], "fetchTickersFees": False},
        },
        market_params={"marginables": False},  # margin pairs: a signed request, unused
        depths=(20, 100),
        window_s=30.0,
    ),
    "bybit": VenueSpec(
        "bybit",
        "bybit",
        "orderLinkId",
        # every new Bybit account is a unified trading account; pinned so no call first
        # probes the account type
        options={
            "defaultType": "spot",
            "fetchMarkets": {"types": ["spot"]},
            "enableUnifiedAccount": True,
            "enableUnifiedMargin": False,
        },
        max_depth=200,
        window_s=5.0,  # Bybit counts per 5 s (600 requests per IP); ccxt's units are finer
    ),
}

_STATUS: dict[str, OrderStatus] = {
    "open": "open",
    "closed": "filled",
    "canceled": "cancelled",
    "cancelled": "cancelled",
    "expired": "expired",
    "rejected": "rejected",
}


# -- conversions ---------------------------------------------------------------------


def dec(value: Any) -> Decimal | None:
    """A ccxt number as an exact Decimal: normally the venue's string; a float (ccxt's
    own defaults, e.g. a fee from its static tables) through its shortest repr."""
    if value is None or value == "":
        return None
    if isinstance(value, float):
        # 1500000.0 -> 1500000: the venue sent an integer, not a one-decimal figure
        return Decimal(int(value)) if value.is_integer() else Decimal(repr(value))
    return Decimal(str(value))


def _dec0(value: Any) -> Decimal:
    found = dec(value)
    return ZERO if found is None else found


def _ts(ms: Any, fallback: datetime) -> datetime:
    if ms is None:
        return fallback
    return datetime.fromtimestamp(int(ms) / 1000, UTC)


def precision_step(value: Any, mode: int) -> Decimal:
    """A ccxt precision as our grid step: TICK_SIZE is the step itself, DECIMAL_PLACES a
    count of decimals (2 -> 0.01). Anything else (significant digits, unknown) is no grid
    (step 0), which `Instrument` treats as unchecked rather than guessing."""
    number = dec(value)
    if number is None:
        return ZERO
    if mode == TICK_SIZE:
        return number.normalize()
    if mode == DECIMAL_PLACES:
        return Decimal(1).scaleb(-int(number))
    return ZERO


def instrument_from_market(venue: str, market: dict[str, Any], mode: int) -> Instrument:
    """One ccxt market as our `Instrument`: steps from its precision, minimum size and
    notional from its limits, maker/taker from its (base-tier) fees."""
    limits = market.get("limits") or {}
    precision = market.get("precision") or {}
    base, quote = str(market["base"]).upper(), str(market["quote"]).upper()
    return Instrument(
        symbol=f"{base}/{quote}",
        base=base,
        quote=quote,
        price_step=precision_step(precision.get("price"), mode),
        qty_step=precision_step(precision.get("amount"), mode),
        min_qty=_dec0((limits.get("amount") or {}).get("min")),
        min_notional=_dec0((limits.get("cost") or {}).get("min")),
        maker_fee=_dec0(market.get("maker")),
        taker_fee=_dec0(market.get("taker")),
        exchange=venue,
    )


def _retry_after(headers: Any, now_ms: int | None = None) -> float | None:
    """Seconds until the venue serves us again, from whichever header it sends: the
    standard Retry-After (seconds), KuCoin's gw-ratelimit-reset (milliseconds from now)
    or Bybit's X-Bapi-Limit-Reset-Timestamp (epoch milliseconds)."""
    if not isinstance(headers, dict):
        return None
    found = {str(k).lower(): v for k, v in headers.items()}
    try:
        if "retry-after" in found:
            return float(found["retry-after"])
        if "gw-ratelimit-reset" in found:
            return float(found["gw-ratelimit-reset"]) / 1000
        if "x-bapi-limit-reset-timestamp" in found and now_ms is not None:
            return max(0.0, (float(found["x-bapi-limit-reset-timestamp"]) - now_ms) / 1000)
    except (TypeError, ValueError):
        return None
    return None


# ordered: a subclass before its parent (OrderNotFound is an InvalidOrder, BadSymbol a
# BadRequest; rate limits, nonce, maintenance and timeouts are all NetworkErrors)
_ERROR_MAP: tuple[tuple[type[Exception], type[ExchangeError], str], ...] = (
    (cx.OrderNotFound, OrderNotFound, "the venue has no such order"),
    (cx.BadSymbol, UnknownSymbol, "the venue does not list this symbol"),
    (cx.InsufficientFunds, InsufficientFunds, "insufficient funds"),
    (cx.InvalidOrder, InvalidOrder, "the venue refused the order"),
    (cx.AuthenticationError, ExchangeAuthError, "the venue refused the key"),
    (cx.AccountSuspended, ExchangeAuthError, "the venue suspended the account"),
    (cx.RateLimitExceeded, VenueRateLimited, "the venue is rate limiting us"),
    (cx.DDoSProtection, VenueRateLimited, "the venue is rate limiting us"),
    (cx.InvalidNonce, NonceError, "the venue refused our nonce or timestamp"),
    (cx.RequestTimeout, VenueTimeout, "no answer from the venue in time"),
    (cx.ExchangeNotAvailable, VenueUnavailable, "the venue is unavailable"),
    (cx.NetworkError, VenueUnavailable, "the venue could not be reached"),
    (cx.BadResponse, BadVenueReply, "the venue's reply could not be read"),
)


# a venue's own error body that ccxt does not know (it raises its plain ExchangeError
# before looking at the HTTP status) is still classified by the status it came with
_BY_STATUS: tuple[tuple[Callable[[int], bool], type[cx.BaseError]], ...] = (
    (lambda s: s in (401, 407), cx.AuthenticationError),
    (lambda s: s in (418, 429), cx.RateLimitExceeded),
    (lambda s: s in (408, 504), cx.RequestTimeout),
    (lambda s: s >= 500, cx.ExchangeNotAvailable),
)


def map_ccxt_error(
    venue: str,
    exc: BaseException,
    response_headers: Any = None,
    status: int | None = None,
    now_ms: int | None = None,
) -> ExchangeError:
    """The one mapping from ccxt's exception classes onto ours; the venue's own words
    stay in `venue_message`. `response_headers` (the failed reply's) give the wait
    before retrying (`now_ms` for venues that send a reset time); `status` (its HTTP
    status) classifies what ccxt left as a plain `ExchangeError`. A bare HTTP 403 stays
    what ccxt makes it (`ExchangeNotAvailable`: a firewall or region block at these
    venues); a refused key arrives as the venue's own error code and maps to auth."""
    message = str(exc) or type(exc).__name__
    if status is not None and type(exc) in (cx.ExchangeError, cx.BadRequest, cx.OperationRejected):
        for matches, ccxt_class in _BY_STATUS:
            if matches(status):
                exc = ccxt_class(message)
                break
    for ccxt_class, ours, text in _ERROR_MAP:
        if isinstance(exc, ccxt_class):
            if ours is VenueRateLimited:
                return VenueRateLimited(
                    text,
                    venue=venue,
                    venue_message=message,
                    retry_after_s=_retry_after(response_headers, now_ms),
                )
            return ours(text, venue=venue, venue_message=message)
    return ExchangeError("the venue refused the request", venue=venue, venue_message=message)


# -- the client ----------------------------------------------------------------------

# the last reply's (HTTP status, headers) in this task: what a failed call is mapped by
_LAST_REPLY: ContextVar[tuple[int, Any] | None] = ContextVar("ccxt_last_reply", default=None)


class CcxtClient:
    """`ExchangeClient` for one venue and one key (or none) on a ccxt exchange object.

    `exchange` is public so tests can swap its transport and fix its clock; nothing else
    should touch it."""

    def __init__(
        self,
        spec: VenueSpec,
        exchange: ccxt_async.Exchange,
        budget: RequestBudget,
        *,
        now: Callable[[], datetime] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        retry_attempts: int = 3,
    ) -> None:
        self.venue = spec.venue
        self.spec = spec
        self.exchange = exchange
        self.budget = budget
        self._now = now or (lambda: datetime.now(UTC))
        self._sleep = sleep
        self._attempts = retry_attempts
        exchange.throttle = self._throttle  # one budget: ours, per HTTP request
        passthrough = exchange.on_rest_response

        def on_rest_response(
            code: int, reason: str, url: str, method: str, headers: Any, *rest: Any
        ) -> Any:
            # ccxt's per-reply hook: keep the status and headers for the error mapping,
            # in the calling task's context so concurrent calls never see each other's
            _LAST_REPLY.set((int(code), headers))
            return passthrough(code, reason, url, method, headers, *rest)

        exchange.on_rest_response = on_rest_response

    async def _throttle(self, cost: Any = None) -> None:
        """Take the endpoint's ccxt weight from the shared bucket (capped at the bucket's
        size: a weight above it would otherwise never be served)."""
        weight = float(cost) if cost else 1.0
        _LAST_REPLY.set(None)  # a new request: no reply yet
        await self.budget.acquire(min(weight, self.budget.capacity))

    async def _call(self, fn: Callable[[], Awaitable[T]]) -> T:
        _LAST_REPLY.set(None)
        try:
            return await fn()
        except ExchangeError:
            raise
        except cx.BaseError as exc:
            status, headers = _LAST_REPLY.get() or (None, None)
            now_ms = int(self._now().timestamp() * 1000)
            raise map_ccxt_error(self.venue, exc, headers, status, now_ms) from exc

    async def _read(self, fn: Callable[[], Awaitable[T]]) -> T:
        return await retry_read(lambda: self._call(fn), attempts=self._attempts, sleep=self._sleep)

    async def _markets(self) -> dict[str, Any]:
        params = self.spec.market_params
        return cast(
            dict[str, Any], await self._read(lambda: self.exchange.load_markets(False, params))
        )

    async def _market(self, symbol: str) -> dict[str, Any]:
        markets = await self._markets()
        market = markets.get(symbol.upper())
        if market is None or not market.get("spot", True):
            raise UnknownSymbol(f"{symbol} is not listed", venue=self.venue)
        return cast(dict[str, Any], market)

    def _our_symbol(self, market: dict[str, Any] | None, fallback: str) -> str:
        if market is None:
            return fallback
        return f"{str(market['base']).upper()}/{str(market['quote']).upper()}"

    # -- market data --------------------------------------------------------------
    async def instruments(self) -> Sequence[Instrument]:
        """Every active spot market, ZAR-quoted pairs first (the platform's home
        currency), then by symbol."""
        markets = await self._markets()
        mode = int(self.exchange.precisionMode)
        found = [
            instrument_from_market(self.venue, m, mode)
            for m in markets.values()
            if m.get("spot", True) and m.get("active") is not False
        ]
        return sorted(found, key=lambda i: (i.quote != "ZAR", i.symbol))

    async def ticker(self, symbol: str) -> Ticker:
        market = await self._market(symbol)
        raw = await self._read(lambda: self.exchange.fetch_ticker(market["symbol"]))
        return Ticker(
            symbol=self._our_symbol(market, symbol),
            ts=_ts(raw.get("timestamp"), self._now()),
            bid=dec(raw.get("bid")),
            ask=dec(raw.get("ask")),
            last=dec(raw.get("last")),
        )

    def _depth_param(self, depth: int) -> int | None:
        if self.spec.depths == ():
            return None
        if self.spec.depths:
            return next((d for d in self.spec.depths if d >= depth), self.spec.depths[-1])
        return min(depth, self.spec.max_depth) if self.spec.max_depth else depth

    async def order_book(self, symbol: str, depth: int = 50) -> OrderBook:
        """The venue's L2 snapshot cut to `depth` levels a side; venues that only serve
        fixed depths are asked for the next one up."""
        market = await self._market(symbol)
        limit = self._depth_param(depth)
        raw = await self._read(lambda: self.exchange.fetch_order_book(market["symbol"], limit))

        def side(levels: list[list[Any]]) -> tuple[BookLevel, ...]:
            out = [BookLevel(_dec0(p), _dec0(q)) for p, q, *_ in levels]
            return tuple(level for level in out if level.qty > 0)[:depth]

        return OrderBook(
            ts=_ts(raw.get("timestamp"), self._now()),
            symbol=self._our_symbol(market, symbol),
            bids=side(raw.get("bids") or []),
            asks=side(raw.get("asks") or []),
        )

    async def trades(self, symbol: str, limit: int = 100) -> Sequence[Trade]:
        market = await self._market(symbol)
        raw = await self._read(lambda: self.exchange.fetch_trades(market["symbol"], None, limit))
        ours = self._our_symbol(market, symbol)
        return [
            Trade(
                ts=_ts(t.get("timestamp"), self._now()),
                symbol=ours,
                price=_dec0(t.get("price")),
                qty=_dec0(t.get("amount")),
                side="sell" if t.get("side") == "sell" else "buy",
                trade_id=None if t.get("id") is None else str(t["id"]),
            )
            for t in raw
        ][-limit:]

    def _timeframe(self, timeframe_s: int) -> str:
        for name in self.exchange.timeframes or {}:
            if int(self.exchange.parse_timeframe(name)) == timeframe_s:
                return str(name)
        raise ValidationFailed(
            f"{self.venue} has no {timeframe_s}s candles", code="unsupported_timeframe"
        )

    async def ohlcv(
        self, symbol: str, timeframe_s: int, since: datetime | None = None, limit: int = 500
    ) -> Sequence[Candle]:
        """Bars of `timeframe_s` seconds; a length the venue does not serve is the
        caller's mistake (`ValidationFailed`, code `unsupported_timeframe`), not a venue
        error, and is refused before anything is sent."""
        market = await self._market(symbol)
        timeframe = self._timeframe(timeframe_s)
        since_ms = None if since is None else int(since.timestamp() * 1000)
        rows = await self._read(
            lambda: self.exchange.fetch_ohlcv(market["symbol"], timeframe, since_ms, limit)
        )
        ours = self._our_symbol(market, symbol)
        return [
            Candle(
                ts=_ts(row[0], self._now()),
                symbol=ours,
                open=_dec0(row[1]),
                high=_dec0(row[2]),
                low=_dec0(row[3]),
                close=_dec0(row[4]),
                volume=_dec0(row[5]),
                timeframe=timeframe_s,
            )
            for row in rows
        ]

    # -- account ------------------------------------------------------------------
    async def balances(self) -> Sequence[Balance]:
        """Every asset with a non-zero balance, in the venue's currency spelled our way
        (Luno's XBT is BTC)."""
        raw = await self._read(self.exchange.fetch_balance)
        free, used = raw.get("free") or {}, raw.get("used") or {}
        out = []
        for asset in sorted(raw.get("total") or {}):
            balance = Balance(asset.upper(), _dec0(free.get(asset)), _dec0(used.get(asset)))
            if balance.total != 0:
                out.append(balance)
        return out

    def _order(
        self,
        raw: dict[str, Any],
        market: dict[str, Any] | None,
        *,
        request: OrderRequest | None = None,
        client_order_id: str | None = None,
        symbol: str = "",
    ) -> VenueOrder:
        """A ccxt order as ours. Acknowledgements (KuCoin, Bybit and Luno answer a new
        order with its ids only) take the rest from our request and are open."""
        qty = dec(raw.get("amount"))
        filled = _dec0(raw.get("filled"))
        status = _STATUS.get(str(raw.get("status")), "open")
        if status == "open" and filled > 0:
            status = "partially_filled"
        elif status == "filled" and qty is not None and filled < qty:
            # ccxt calls every finished order "closed"; one with quantity left was
            # cancelled (Bybit's PartiallyFilledCanceled), not filled
            status = "cancelled"
        side = raw.get("side") or (request.side if request else None)
        kind = raw.get("type") or (request.type if request else None)
        if side not in ("buy", "sell") or raw.get("id") is None:
            raise BadVenueReply("an order without side or id", venue=self.venue)
        price = dec(raw.get("price"))
        if price is None and request is not None:
            price = request.price
        return VenueOrder(
            symbol=self._our_symbol(market, symbol or (request.symbol if request else "")),
            side=side,
            type="market" if kind == "market" else "limit",
            status=status,
            qty=qty if qty is not None else (request.qty if request else ZERO),
            filled_qty=filled,
            price=price,
            avg_fill_price=dec(raw.get("average")),
            venue_order_id=str(raw["id"]),
            # ours first: a Binance cancel reply's clientOrderId is the cancel's own id
            client_order_id=client_order_id
            or (request.client_order_id if request else None)
            or raw.get("clientOrderId"),
            ts=_ts(raw.get("timestamp"), self._now()),
        )

    async def create_order(self, order: OrderRequest) -> VenueOrder:
        """Place an order with our client order id in the venue's field; after a timeout
        it is looked up by that id and only resent (same id) if the venue lacks it."""
        market = await self._market(order.symbol)
        if order.type == "limit" and order.price is None:
            raise InvalidOrder("a limit order needs a price", venue=self.venue)
        if self.venue == "luno" and order.type == "market" and order.side == "buy":
            # Luno sizes market buys in the quote currency (counter_volume); our qty is
            # base, and guessing a price would spend an amount nobody asked for
            raise InvalidOrder(
                "Luno market buys are sized in the quote currency: place a limit order",
                venue=self.venue,
            )
        params: dict[str, Any] = {self.spec.client_id_field: order.client_order_id}
        if order.post_only:
            params["post_only" if self.venue == "luno" else "postOnly"] = True

        async def submit() -> VenueOrder:
            raw = await self._call(
                lambda: self.exchange.create_order(
                    market["symbol"],
                    order.type,
                    order.side,
                    # ccxt takes a decimal string as exactly as a float, minus the float
                    cast(float, format(order.qty, "f")),
                    None if order.price is None else cast(float, format(order.price, "f")),
                    params,
                )
            )
            return self._order(raw, market, request=order)

        async def lookup() -> VenueOrder:  # one attempt: place_once retries it
            raw = await self._call(lambda: self._fetch_raw_order(market, order.client_order_id))
            return self._order(raw, market, request=order)

        return await place_once(submit, lookup, attempts=self._attempts, sleep=self._sleep)

    async def _fetch_raw_order(
        self, market: dict[str, Any], client_order_id: str
    ) -> dict[str, Any]:
        ex, sym = self.exchange, market["symbol"]
        if self.venue == "binance":
            return cast(
                dict[str, Any],
                await ex.fetch_order("", sym, {"origClientOrderId": client_order_id}),
            )
        if self.venue == "kucoin":
            return cast(
                dict[str, Any], await ex.fetch_order(None, sym, {"clientOid": client_order_id})
            )
        if self.venue == "bybit":
            reply = await ex.privateGetV5OrderRealtime(
                {"category": "spot", "symbol": market["id"], "orderLinkId": client_order_id}
            )
            found = ((reply or {}).get("result") or {}).get("list") or []
            if not found:
                raise cx.OrderNotFound(f"bybit has no order {client_order_id}")
            return cast(dict[str, Any], ex.parse_order(found[0], market))
        return await self._luno_order(market, client_order_id)

    async def _luno_order(self, market: dict[str, Any], client_order_id: str) -> dict[str, Any]:
        """Luno's v3 order endpoint is the one that finds an order by client id; ccxt
        (v1 only) lacks it, so it is signed here the way ccxt signs Luno (HTTP basic)
        and sent through ccxt's transport, budget and error handling."""
        ex = self.exchange
        ex.check_required_credentials()
        await self._throttle(1)
        url = "https://api.luno.com/api/exchange/3/order?" + ex.urlencode(
            {"client_order_id": client_order_id}
        )
        auth = ex.string_to_base64(ex.apiKey + ":" + ex.secret)
        raw = await ex.fetch(url, "GET", {"Authorization": "Basic " + auth}, None)
        if not isinstance(raw, dict) or not raw.get("order_id"):
            raise cx.BadResponse(f"luno order reply without order_id: {raw!r}")
        return luno_v3_order(raw, market)

    async def fetch_order(self, symbol: str, client_order_id: str) -> VenueOrder:
        market = await self._market(symbol)
        raw = await self._read(lambda: self._fetch_raw_order(market, client_order_id))
        return self._order(raw, market, client_order_id=client_order_id, symbol=symbol)

    async def cancel_order(self, symbol: str, client_order_id: str) -> VenueOrder:
        """Cancel by our client order id and return the order's state after it. Venues
        that answer a cancel with ids only (all four here do for some path) are asked
        for the order again, so the caller sees fills that raced the cancel."""
        market = await self._market(symbol)
        ex, sym = self.exchange, market["symbol"]
        if self.venue == "luno":
            known = await self._read(lambda: self._luno_order(market, client_order_id))
            venue_id = str(known["id"])
            await self._call(lambda: ex.cancel_order(venue_id, sym))
        else:
            field_ = "origClientOrderId" if self.venue == "binance" else self.spec.client_id_field
            raw = await self._call(
                lambda: ex.cancel_order(
                    "" if self.venue == "binance" else None, sym, {field_: client_order_id}
                )
            )
            if raw.get("status") and raw.get("side") and raw.get("amount") is not None:
                return self._order(raw, market, client_order_id=client_order_id, symbol=symbol)
        return await self.fetch_order(symbol, client_order_id)

    async def open_orders(self, symbol: str | None = None) -> Sequence[VenueOrder]:
        market = None if symbol is None else await self._market(symbol)
        if market is None:
            await self._markets()
        raw = await self._read(
            lambda: self.exchange.fetch_open_orders(None if market is None else market["symbol"])
        )
        markets = self.exchange.markets or {}
        return [self._order(o, market or markets.get(o.get("symbol"))) for o in raw]

    async def my_trades(
        self, symbol: str, since: datetime | None = None, limit: int = 100
    ) -> Sequence[VenueFill]:
        market = await self._market(symbol)
        since_ms = None if since is None else int(since.timestamp() * 1000)
        raw = await self._read(
            lambda: self.exchange.fetch_my_trades(market["symbol"], since_ms, limit)
        )
        ours = self._our_symbol(market, symbol)
        fills = []
        for t in raw:
            fee = t.get("fee") or {}
            liquidity = t.get("takerOrMaker")
            fills.append(
                VenueFill(
                    venue_trade_id=str(t["id"]),
                    venue_order_id=str(t.get("order") or ""),
                    client_order_id=(t.get("info") or {}).get(self.spec.client_id_field)
                    or t.get("clientOrderId"),
                    symbol=ours,
                    side="sell" if t.get("side") == "sell" else "buy",
                    price=_dec0(t.get("price")),
                    qty=_dec0(t.get("amount")),
                    fee=_dec0(fee.get("cost")),
                    fee_asset=str(fee.get("currency") or market["quote"]).upper(),
                    liquidity=liquidity if liquidity in ("maker", "taker") else None,
                    ts=_ts(t.get("timestamp"), self._now()),
                )
            )
        return fills

    async def fees(self, symbol: str) -> FeeSchedule:
        """The key's own maker/taker fractions from the venue (volume tier included)."""
        market = await self._market(symbol)
        raw = await self._read(lambda: self.exchange.fetch_trading_fee(market["symbol"]))
        return FeeSchedule(
            symbol=self._our_symbol(market, symbol),
            maker=_dec0(raw.get("maker", market.get("maker"))),
            taker=_dec0(raw.get("taker", market.get("taker"))),
        )

    async def key_permissions(self) -> KeyPermissions:
        """What the key may do, from the venue's key-information endpoint. Luno has none:
        every answer is None (unknown), never a guess."""
        ex = self.exchange
        if self.venue == "binance":
            r = await self._read(lambda: ex.sapiGetAccountApiRestrictions())
            return KeyPermissions(
                read=bool(r.get("enableReading")),
                trade=bool(r.get("enableSpotAndMarginTrading")),
                withdraw=bool(r.get("enableWithdrawals")),
            )
        if self.venue == "kucoin":
            r = await self._read(lambda: ex.privateGetUserApiKey())
            perms = {
                p.strip().lower()
                for p in str((r.get("data") or {}).get("permission", "")).split(",")
            }
            return KeyPermissions(
                read="general" in perms,
                trade=bool(perms & {"spot", "margin", "futures"}),
                withdraw="withdrawal" in perms,
            )
        if self.venue == "bybit":
            r = await self._read(lambda: ex.privateGetV5UserQueryApi())
            result = r.get("result") or {}
            granted = {p for ps in (result.get("permissions") or {}).values() for p in ps or []}
            read_only = str(result.get("readOnly")) == "1"
            return KeyPermissions(
                read=True,
                trade=not read_only and bool(granted & {"SpotTrade", "ContractTrade", "Order"}),
                withdraw=not read_only and "Withdraw" in granted,
            )
        return KeyPermissions(read=None, trade=None, withdraw=None)

    async def close(self) -> None:
        await self.exchange.close()


def luno_v3_order(raw: dict[str, Any], market: dict[str, Any]) -> dict[str, Any]:
    """Luno's `GET /api/exchange/3/order` reply in ccxt's order shape. COMPLETE means
    done either way: filled if the whole limit volume traded, else cancelled."""
    base = dec(raw.get("base")) or ZERO
    volume = dec(raw.get("limit_volume"))
    state = str(raw.get("status"))
    kind = str(raw.get("type", "")).lower()
    if state in ("AWAITING", "PENDING"):
        status = "open"
    elif kind == "market" or (volume is not None and base >= volume):
        status = "closed"
    else:
        status = "canceled"
    counter = dec(raw.get("counter"))
    return {
        "id": raw.get("order_id"),
        "clientOrderId": raw.get("client_order_id") or None,
        "timestamp": raw.get("creation_timestamp"),
        "status": status,
        "symbol": market["symbol"],
        "type": "market" if kind == "market" else "limit",
        "side": "buy" if raw.get("side") == "BUY" else "sell",
        "price": raw.get("limit_price") or None,
        "amount": raw.get("limit_volume") or None,
        "filled": raw.get("base"),
        "average": format(counter / base, "f") if counter is not None and base > 0 else None,
    }


def budget_for(spec: VenueSpec, rate_limit_ms: float) -> tuple[float, float]:
    """(rate per second, capacity) of the bucket for a venue. A token bucket lets
    `capacity + rate * T` through in any T seconds, so the sustained rate is lowered by
    the burst: over the venue's window the total is exactly its limit, never above."""
    per_s = 1000.0 / rate_limit_ms
    limit = per_s * spec.window_s
    capacity = max(1.0, per_s * spec.burst_s)
    return (limit - capacity) / spec.window_s, capacity


def make_ccxt_client(
    venue: str,
    credentials: Credentials | None = None,
    *,
    now: Callable[[], datetime] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    timeout_s: float = 10.0,
    budget: RequestBudget | None = None,
) -> CcxtClient:
    """A client for `venue` (luno, binance, kucoin, bybit) with `credentials` or none
    (public data only). Sends nothing: markets load on first use. The request budget is
    the process-wide one for (venue, key), at ccxt's published rate for the venue."""
    spec = SPECS.get(venue)
    if spec is None:
        raise ValueError(f"no ccxt connector for {venue!r}; choose one of {CCXT_VENUES}")
    config: dict[str, Any] = {
        "enableRateLimit": True,  # ccxt then calls `throttle`, which is our budget
        "timeout": int(timeout_s * 1000),
        "options": dict(spec.options),
    }
    if credentials is not None:
        config["apiKey"] = credentials.api_key
        config["secret"] = credentials.api_secret
        if credentials.passphrase:
            config["password"] = credentials.passphrase
    exchange = getattr(ccxt_async, spec.ccxt_id)(config)
    exchange.number = str  # parsed numbers as the venue's own digits, never via float
    # currency metadata costs a request (a signed one on Binance) and nothing here uses it
    exchange.has = {**exchange.has, "fetchCurrencies": False}
    if budget is None:
        key_id = (
            "public"
            if credentials is None
            else hashlib.sha256(credentials.api_key.encode()).hexdigest()[:16]
        )
        rate, capacity = budget_for(spec, float(exchange.rateLimit))
        budget = shared_budget(venue, key_id, rate, capacity)
    return CcxtClient(spec, exchange, budget, now=now, sleep=sleep)
