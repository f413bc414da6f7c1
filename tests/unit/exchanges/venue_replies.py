"""Recorded venue replies for the ccxt connector fixtures, one block per venue.

Shapes follow each venue's published API reference examples (Binance spot REST, KuCoin
spot HF, Bybit v5, Luno v1/v3), trimmed to the fields that are parsed; prices are
plausible ZAR figures. `record_ccxt_fixtures` turns them into the JSON fixtures.
"""

from __future__ import annotations

from typing import Any

JSON = {"Content-Type": "application/json"}


def ok(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"status": status, "headers": {**JSON, **(headers or {})}, "body": body}


TIMEOUT = {"timeout": True}


def order(symbol: str, price: str) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "side": "buy",
        "type": "limit",
        "qty": "0.001",
        "price": price,
        "client_order_id": "amk-0001",
    }


SINCE = "2025-12-06T00:00:00+00:00"


def calls(symbol: str, price: str) -> dict[str, dict[str, Any]]:
    """The client call of every fixture; venues differ only in replies."""
    return {
        "instruments": {"method": "instruments"},
        "ticker": {"method": "ticker", "args": {"symbol": symbol}},
        "order_book": {"method": "order_book", "args": {"symbol": symbol, "depth": 2}},
        "trades": {"method": "trades", "args": {"symbol": symbol, "limit": 2}},
        "ohlcv": {
            "method": "ohlcv",
            "args": {"symbol": symbol, "timeframe_s": 60, "since": SINCE, "limit": 2},
        },
        "balances": {"method": "balances"},
        "create_order": {"method": "create_order", "args": {"order": order(symbol, price)}},
        "cancel_order": {
            "method": "cancel_order",
            "args": {"symbol": symbol, "client_order_id": "amk-0001"},
        },
        "fetch_order": {
            "method": "fetch_order",
            "args": {"symbol": symbol, "client_order_id": "amk-0001"},
        },
        "open_orders": {"method": "open_orders", "args": {"symbol": symbol}},
        "my_trades": {
            "method": "my_trades",
            "args": {"symbol": symbol, "since": SINCE, "limit": 2},
        },
        "fees": {"method": "fees", "args": {"symbol": symbol}},
        "key_permissions": {"method": "key_permissions"},
    }


def venue(
    symbol: str,
    price: str,
    replies: dict[str, list[dict[str, Any]]],
    errors: dict[str, tuple[str | dict[str, Any], list[dict[str, Any]], str]],
) -> dict[str, dict[str, Any]]:
    """Fixtures of one venue: `replies` per method (the standard call), then the extra
    cases as (standard call name or an explicit call, replies, expected error or "")."""
    base = calls(symbol, price)
    out: dict[str, dict[str, Any]] = {
        name: {"call": base[name], "responses": responses} for name, responses in replies.items()
    }
    for name, (call, responses, error) in errors.items():
        explicit = call if isinstance(call, dict) else base[call]
        out[name] = {"call": explicit, "responses": responses, "expect_error": error}
    return out


# -- Binance (spot REST, /api/v3 and /sapi/v1) ---------------------------------------------
_BN_ORDER = {
    "symbol": "BTCZAR",
    "orderId": 28457,
    "orderListId": -1,
    "clientOrderId": "amk-0001",
    "price": "1500000.00",
    "origQty": "0.00100000",
    "executedQty": "0.00000000",
    "cummulativeQuoteQty": "0.00000000",
    "status": "NEW",
    "timeInForce": "GTC",
    "type": "LIMIT",
    "side": "BUY",
    "time": 1764999990000,
    "updateTime": 1764999990000,
    "isWorking": True,
    "workingTime": 1764999990000,
    "origQuoteOrderQty": "0.00000000",
}
_BN_FILTERS = [
    {
        "filterType": "PRICE_FILTER",
        "minPrice": "1.00",
        "maxPrice": "10000000.00",
        "tickSize": "1.00",
    },
    {
        "filterType": "LOT_SIZE",
        "minQty": "0.00001000",
        "maxQty": "9000.00000000",
        "stepSize": "0.00001000",
    },
    {
        "filterType": "NOTIONAL",
        "minNotional": "50.00",
        "applyMinToMarket": True,
        "maxNotional": "90000000.00",
        "applyMaxToMarket": False,
        "avgPriceMins": 5,
    },
]


def _bn_symbol(symbol: str, base: str, quote: str) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "status": "TRADING",
        "baseAsset": base,
        "baseAssetPrecision": 8,
        "quoteAsset": quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
        "icebergAllowed": True,
        "ocoAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": _BN_FILTERS,
        "permissions": [],
        "permissionSets": [["SPOT"]],
    }


_BN_ERR = {"Content-Type": "application/json"}
BINANCE = venue(
    "BTC/ZAR",
    "1500000",
    {
        "instruments": [
            ok(
                {
                    "timezone": "UTC",
                    "serverTime": 1765000000000,
                    "rateLimits": [],
                    "exchangeFilters": [],
                    "symbols": [
                        _bn_symbol("BTCUSDT", "BTC", "USDT"),
                        _bn_symbol("BTCZAR", "BTC", "ZAR"),
                    ],
                }
            )
        ],
        "ticker": [
            ok(
                {
                    "symbol": "BTCZAR",
                    "priceChange": "1000.00",
                    "priceChangePercent": "0.067",
                    "weightedAvgPrice": "1500100.00",
                    "prevClosePrice": "1499000.00",
                    "lastPrice": "1500000.00",
                    "lastQty": "0.00100000",
                    "bidPrice": "1499999.00",
                    "bidQty": "0.01000000",
                    "askPrice": "1500001.00",
                    "askQty": "0.02000000",
                    "openPrice": "1499000.00",
                    "highPrice": "1510000.00",
                    "lowPrice": "1490000.00",
                    "volume": "12.50000000",
                    "quoteVolume": "18751250.00",
                    "openTime": 1764913600000,
                    "closeTime": 1764999999999,
                    "firstId": 100,
                    "lastId": 200,
                    "count": 101,
                }
            )
        ],
        "order_book": [
            ok(
                {
                    "lastUpdateId": 1027024,
                    "bids": [
                        ["1499999.00", "0.01000000"],
                        ["1499998.00", "0.50000000"],
                        ["1499990.00", "1.0"],
                    ],
                    "asks": [
                        ["1500001.00", "0.02000000"],
                        ["1500002.00", "0.30000000"],
                        ["1500010.00", "1.0"],
                    ],
                }
            )
        ],
        "trades": [
            ok(
                [
                    {
                        "id": 28457,
                        "price": "1500000.00",
                        "qty": "0.00100000",
                        "quoteQty": "1500.00",
                        "time": 1764999990000,
                        "isBuyerMaker": True,
                        "isBestMatch": True,
                    },
                    {
                        "id": 28458,
                        "price": "1500001.00",
                        "qty": "0.00200000",
                        "quoteQty": "3000.00",
                        "time": 1764999995000,
                        "isBuyerMaker": False,
                        "isBestMatch": True,
                    },
                ]
            )
        ],
        "ohlcv": [
            ok(
                [
                    [
                        1764979200000,
                        "1499000.00",
                        "1501000.00",
                        "1498000.00",
                        "1500000.00",
                        "0.50000000",
                        1764979259999,
                        "750000.00",
                        10,
                        "0.25",
                        "375000.00",
                        "0",
                    ],
                    [
                        1764979260000,
                        "1500000.00",
                        "1502000.00",
                        "1499500.00",
                        "1501500.00",
                        "0.25000000",
                        1764979319999,
                        "375375.00",
                        5,
                        "0.1",
                        "150150.00",
                        "0",
                    ],
                ]
            )
        ],
        "balances": [
            ok(
                {
                    "makerCommission": 10,
                    "takerCommission": 10,
                    "buyerCommission": 0,
                    "sellerCommission": 0,
                    "canTrade": True,
                    "canWithdraw": True,
                    "canDeposit": True,
                    "updateTime": 1764999990000,
                    "accountType": "SPOT",
                    "balances": [
                        {"asset": "BTC", "free": "0.01000000", "locked": "0.00100000"},
                        {"asset": "ZAR", "free": "25000.00", "locked": "1500.00"},
                        {"asset": "ETH", "free": "0.00000000", "locked": "0.00000000"},
                    ],
                    "permissions": ["SPOT"],
                }
            )
        ],
        "create_order": [ok({**_BN_ORDER, "transactTime": 1764999990000, "fills": []})],
        "cancel_order": [
            ok(
                {
                    **_BN_ORDER,
                    "origClientOrderId": "amk-0001",
                    "clientOrderId": "cancel-7",
                    "status": "CANCELED",
                    "transactTime": 1765000000000,
                }
            )
        ],
        "fetch_order": [
            ok(
                {
                    **_BN_ORDER,
                    "executedQty": "0.00040000",
                    "cummulativeQuoteQty": "600.00",
                    "status": "PARTIALLY_FILLED",
                }
            )
        ],
        "open_orders": [ok([_BN_ORDER])],
        "my_trades": [
            ok(
                [
                    {
                        "symbol": "BTCZAR",
                        "id": 28457,
                        "orderId": 100234,
                        "orderListId": -1,
                        "price": "1500000.00",
                        "qty": "0.00040000",
                        "quoteQty": "600.00",
                        "commission": "0.60",
                        "commissionAsset": "ZAR",
                        "time": 1764999990000,
                        "isBuyer": True,
                        "isMaker": True,
                        "isBestMatch": True,
                    },
                ]
            )
        ],
        "fees": [
            ok([{"symbol": "BTCZAR", "makerCommission": "0.001", "takerCommission": "0.001"}])
        ],
        "key_permissions": [
            ok(
                {
                    "ipRestrict": False,
                    "createTime": 1698645219000,
                    "enableReading": True,
                    "enableSpotAndMarginTrading": True,
                    "enableWithdrawals": True,
                    "enableInternalTransfer": False,
                    "enableMargin": False,
                    "enableFutures": False,
                    "permitsUniversalTransfer": False,
                    "enableVanillaOptions": False,
                    "enableFixApiTrade": False,
                    "enableFixReadOnly": False,
                    "enablePortfolioMarginTrading": False,
                }
            )
        ],
    },
    {
        "error_insufficient_funds": (
            "create_order",
            [
                ok(
                    {
                        "code": -2010,
                        "msg": "Account has insufficient balance for requested action.",
                    },
                    400,
                )
            ],
            "InsufficientFunds",
        ),
        "error_invalid_order": (
            "create_order",
            [ok({"code": -1013, "msg": "Filter failure: LOT_SIZE"}, 400)],
            "InvalidOrder",
        ),
        "error_order_not_found": (
            "fetch_order",
            [ok({"code": -2013, "msg": "Order does not exist."}, 400)],
            "OrderNotFound",
        ),
        "error_auth": (
            "balances",
            [ok({"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}, 401)],
            "ExchangeAuthError",
        ),
        "error_nonce": (
            "balances",
            [
                ok(
                    {
                        "code": -1021,
                        "msg": "Timestamp for this request is outside of the recvWindow.",
                    },
                    400,
                )
            ]
            * 3,
            "NonceError",
        ),
        "error_rate_limited": (
            "ticker",
            [
                ok(
                    {
                        "code": -1003,
                        "msg": "Too many requests; current limit is 6000 request weight per 1 MINUTE.",  # noqa: E501
                    },
                    429,
                    {"Retry-After": "7"},
                )
            ]
            * 3,
            "VenueRateLimited",
        ),
        "error_unavailable": (
            "ticker",
            [{"status": 503, "headers": {}, "body": "Service Unavailable"}] * 3,
            "VenueUnavailable",
        ),
        "error_timeout": ("ticker", [TIMEOUT] * 3, "VenueTimeout"),
        "create_order_after_timeout": ("create_order", [TIMEOUT, ok({**_BN_ORDER})], ""),
        # every symbol's open orders in one call (Binance weighs it 40x; ccxt's warning
        # about that is turned off because we mean it)
        "open_orders_all": (
            {"method": "open_orders"},
            [
                ok(
                    [
                        _BN_ORDER,
                        {
                            **_BN_ORDER,
                            "symbol": "BTCUSDT",
                            "orderId": 28460,
                            "clientOrderId": "amk-0002",
                            "price": "86000.00",
                        },
                    ]
                )
            ],
            "",
        ),
        # the lookup after a timeout says "no such order": resent, with the same id
        "create_order_resent": (
            "create_order",
            [
                TIMEOUT,
                ok({"code": -2013, "msg": "Order does not exist."}, 400),
                ok({**_BN_ORDER, "transactTime": 1764999990000, "fills": []}),
            ],
            "",
        ),
    },
)


# -- Luno (api/1, api/exchange/1, api/exchange/3) ---------------------------------------------
_LUNO_V3 = {
    "order_id": "BXMC2CJ7HNB88U4",
    "client_order_id": "amk-0001",
    "pair": "XBTZAR",
    "side": "BUY",
    "type": "LIMIT",
    "status": "PENDING",
    "time_in_force": "GTC",
    "limit_price": "1500000.00",
    "limit_volume": "0.001000",
    "base": "0.000400",
    "counter": "600.00",
    "fee_base": "0.000004",
    "fee_counter": "0.00",
    "creation_timestamp": 1764999990000,
    "completed_timestamp": 0,
    "expiration_timestamp": 0,
}
_LUNO_V1 = {
    "order_id": "BXMC2CJ7HNB88U4",
    "pair": "XBTZAR",
    "type": "BID",
    "state": "PENDING",
    "limit_price": "1500000.00",
    "limit_volume": "0.001000",
    "base": "0.000000",
    "counter": "0.00",
    "fee_base": "0.000000",
    "fee_counter": "0.00",
    "creation_timestamp": 1764999990000,
    "completed_timestamp": 0,
    "expiration_timestamp": 0,
}


def _luno_err(code: str, text: str, status: int = 400) -> dict[str, Any]:
    return ok({"error": text, "error_code": code, "error_action": {}}, status)


LUNO = venue(
    "BTC/ZAR",
    "1500000",
    {
        "instruments": [
            ok(
                {
                    "markets": [
                        {
                            "market_id": "XBTZAR",
                            "trading_status": "ACTIVE",
                            "base_currency": "XBT",
                            "counter_currency": "ZAR",
                            "min_volume": "0.0005",
                            "max_volume": "100",
                            "volume_scale": 6,
                            "min_price": "100",
                            "max_price": "10000000",
                            "price_scale": 0,
                            "fee_scale": 8,
                        },
                        {
                            "market_id": "ETHXBT",
                            "trading_status": "ACTIVE",
                            "base_currency": "ETH",
                            "counter_currency": "XBT",
                            "min_volume": "0.001",
                            "max_volume": "1000",
                            "volume_scale": 4,
                            "min_price": "0.0001",
                            "max_price": "1",
                            "price_scale": 6,
                            "fee_scale": 8,
                        },
                    ]
                }
            )
        ],
        "ticker": [
            ok(
                {
                    "pair": "XBTZAR",
                    "timestamp": 1764999999000,
                    "bid": "1499999.00",
                    "ask": "1500001.00",
                    "last_trade": "1500000.00",
                    "rolling_24_hour_volume": "12.5",
                    "status": "ACTIVE",
                }
            )
        ],
        "order_book": [
            ok(
                {
                    "timestamp": 1764999999000,
                    "bids": [
                        {"price": "1499999.00", "volume": "0.010000"},
                        {"price": "1499998.00", "volume": "0.500000"},
                        {"price": "1499990.00", "volume": "1.000000"},
                    ],
                    "asks": [
                        {"price": "1500001.00", "volume": "0.020000"},
                        {"price": "1500002.00", "volume": "0.300000"},
                        {"price": "1500010.00", "volume": "1.000000"},
                    ],
                }
            )
        ],
        "trades": [
            ok(
                {
                    "trades": [
                        {
                            "sequence": 1001,
                            "timestamp": 1764999990000,
                            "price": "1500000.00",
                            "volume": "0.001000",
                            "is_buy": False,
                        },
                        {
                            "sequence": 1002,
                            "timestamp": 1764999995000,
                            "price": "1500001.00",
                            "volume": "0.002000",
                            "is_buy": True,
                        },
                    ]
                }
            )
        ],
        "ohlcv": [
            ok(
                {
                    "pair": "XBTZAR",
                    "duration": 60,
                    "candles": [
                        {
                            "timestamp": 1764979200000,
                            "open": "1499000.00",
                            "close": "1500000.00",
                            "high": "1501000.00",
                            "low": "1498000.00",
                            "volume": "0.50",
                        },
                        {
                            "timestamp": 1764979260000,
                            "open": "1500000.00",
                            "close": "1501500.00",
                            "high": "1502000.00",
                            "low": "1499500.00",
                            "volume": "0.25",
                        },
                    ],
                }
            )
        ],
        "balances": [
            ok(
                {
                    "balance": [
                        {
                            "account_id": "1224342323",
                            "asset": "XBT",
                            "balance": "0.011000",
                            "reserved": "0.001000",
                            "unconfirmed": "0.000000",
                        },
                        {
                            "account_id": "2997473",
                            "asset": "ZAR",
                            "balance": "26500.00",
                            "reserved": "1500.00",
                            "unconfirmed": "0.00",
                        },
                        {
                            "account_id": "4399283",
                            "asset": "ETH",
                            "balance": "0.00",
                            "reserved": "0.00",
                            "unconfirmed": "0.00",
                        },
                    ]
                }
            )
        ],
        "create_order": [ok({"order_id": "BXMC2CJ7HNB88U4"})],
        "cancel_order": [
            ok(_LUNO_V3),
            ok({"success": True}),
            ok({**_LUNO_V3, "status": "COMPLETE", "completed_timestamp": 1765000000000}),
        ],
        "fetch_order": [ok(_LUNO_V3)],
        "open_orders": [ok({"orders": [_LUNO_V1]})],
        "my_trades": [
            ok(
                {
                    "trades": [
                        {
                            "pair": "XBTZAR",
                            "sequence": 24499,
                            "order_id": "BXMC2CJ7HNB88U4",
                            "type": "BID",
                            "timestamp": 1764999990000,
                            "price": "1500000.00",
                            "volume": "0.000400",
                            "base": "0.000400",
                            "counter": "600.00",
                            "fee_base": "0.000004",
                            "fee_counter": "0.00",
                            "is_buy": True,
                            "client_order_id": "amk-0001",
                        },
                    ]
                }
            )
        ],
        "fees": [ok({"maker_fee": "0.0010", "taker_fee": "0.0060", "thirty_day_volume": "0.5"})],
        "key_permissions": [],
    },
    {
        "error_insufficient_funds": (
            "create_order",
            [_luno_err("ErrInsufficientBalance", "Insufficient balance.")],
            "InsufficientFunds",
        ),
        "error_invalid_order": (
            "create_order",
            [_luno_err("ErrInvalidVolume", "Invalid order volume.")],
            "InvalidOrder",
        ),
        "error_order_not_found": (
            "fetch_order",
            [_luno_err("ErrOrderNotFound", "Cannot find that order", 404)],
            "OrderNotFound",
        ),
        "error_auth": (
            "balances",
            [_luno_err("ErrUnauthorised", "Unauthorised", 401)],
            "ExchangeAuthError",
        ),
        "error_rate_limited": (
            "ticker",
            [_luno_err("ErrTooManyRequests", "Too many requests", 429)] * 3,
            "VenueRateLimited",
        ),
        "error_unavailable": (
            "ticker",
            [_luno_err("ErrInternal", "Something went wrong.", 500)] * 3,
            "VenueUnavailable",
        ),
        "error_timeout": ("ticker", [TIMEOUT] * 3, "VenueTimeout"),
        "create_order_after_timeout": ("create_order", [TIMEOUT, ok(_LUNO_V3)], ""),
    },
)

# -- KuCoin (spot, high-frequency account) ------------------------------------------------------
_KC_ORDER = {
    "id": "670fd33bf9406e0007ab3945",
    "clientOid": "amk-0001",
    "symbol": "BTC-USDT",
    "opType": "DEAL",
    "type": "limit",
    "side": "buy",
    "price": "86000",
    "size": "0.001",
    "funds": "0",
    "dealSize": "0.0004",
    "dealFunds": "34.4",
    "fee": "0.0344",
    "feeCurrency": "USDT",
    "stp": "",
    "timeInForce": "GTC",
    "postOnly": False,
    "hidden": False,
    "iceberg": False,
    "visibleSize": "0",
    "cancelAfter": 0,
    "channel": "API",
    "remark": None,
    "tags": None,
    "cancelExist": False,
    "createdAt": 1764999990000,
    "lastUpdatedAt": 1764999995000,
    "tradeType": "TRADE",
    "inOrderBook": True,
    "cancelledSize": "0",
    "cancelledFunds": "0",
    "remainSize": "0.0006",
    "remainFunds": "51.6",
    "active": True,
}


def _kc(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return ok({"code": "200000", "data": data}, status, headers)


def _kc_err(code: str, msg: str, status: int = 400) -> dict[str, Any]:
    return ok({"code": code, "msg": msg}, status)


_KC_SYMBOL = {
    "symbol": "BTC-USDT",
    "name": "BTC-USDT",
    "baseCurrency": "BTC",
    "quoteCurrency": "USDT",
    "feeCurrency": "USDT",
    "market": "USDS",
    "baseMinSize": "0.00001",
    "quoteMinSize": "0.1",
    "baseMaxSize": "10000000000",
    "quoteMaxSize": "99999999",
    "baseIncrement": "0.00000001",
    "quoteIncrement": "0.000001",
    "priceIncrement": "0.1",
    "priceLimitRate": "0.1",
    "minFunds": "0.1",
    "isMarginEnabled": True,
    "enableTrading": True,
    "feeCategory": 1,
    "makerFeeCoefficient": "1.00",
    "takerFeeCoefficient": "1.00",
    "st": False,
}
KUCOIN = venue(
    "BTC/USDT",
    "86000",
    {
        "instruments": [_kc([_KC_SYMBOL])],
        "ticker": [
            _kc(
                {
                    "time": 1764999999000,
                    "symbol": "BTC-USDT",
                    "buy": "86000.1",
                    "sell": "86000.2",
                    "changeRate": "0.0117",
                    "changePrice": "1000",
                    "high": "87000",
                    "low": "85000",
                    "vol": "1200.5",
                    "volValue": "103000000",
                    "last": "86000.1",
                    "averagePrice": "85500",
                    "takerFeeRate": "0.001",
                    "makerFeeRate": "0.001",
                    "takerCoefficient": "1",
                    "makerCoefficient": "1",
                }
            )
        ],
        "order_book": [
            _kc(
                {
                    "time": 1764999999000,
                    "sequence": "14610502970",
                    "bids": [["86000.1", "0.5"], ["86000", "1.2"], ["85999.9", "2"]],
                    "asks": [["86000.2", "0.4"], ["86000.3", "0.8"], ["86001", "3"]],
                }
            )
        ],
        "trades": [
            _kc(
                [
                    {
                        "sequence": "10976028003549185",
                        "price": "86000.1",
                        "size": "0.001",
                        "side": "sell",
                        "time": 1764999990000000000,
                    },
                    {
                        "sequence": "10976028003549186",
                        "price": "86000.2",
                        "size": "0.002",
                        "side": "buy",
                        "time": 1764999995000000000,
                    },
                ]
            )
        ],
        "ohlcv": [
            _kc(
                [
                    ["1764979260", "86000", "86150", "86200", "85990", "0.25", "21537.5"],
                    ["1764979200", "85900", "86000", "86100", "85800", "0.5", "42975"],
                ]
            )
        ],
        "balances": [
            _kc(
                [
                    {
                        "id": "5bd6e9286d99522a52e458de",
                        "currency": "BTC",
                        "type": "trade_hf",
                        "balance": "0.011",
                        "available": "0.01",
                        "holds": "0.001",
                    },
                    {
                        "id": "5bd6e9216d99522a52e458d6",
                        "currency": "USDT",
                        "type": "trade_hf",
                        "balance": "1086",
                        "available": "1000",
                        "holds": "86",
                    },
                ]
            )
        ],
        "create_order": [_kc({"orderId": "670fd33bf9406e0007ab3945", "clientOid": "amk-0001"})],
        "cancel_order": [
            _kc({"clientOid": "amk-0001"}),
            _kc(
                {
                    **_KC_ORDER,
                    "active": False,
                    "inOrderBook": False,
                    "cancelExist": True,
                    "cancelledSize": "0.0006",
                    "cancelledFunds": "51.6",
                    "remainSize": "0",
                    "remainFunds": "0",
                }
            ),
        ],
        "fetch_order": [_kc(_KC_ORDER)],
        "open_orders": [_kc([_KC_ORDER])],
        "my_trades": [
            _kc(
                {
                    "lastId": 19814995255305,
                    "items": [
                        {
                            "id": 19814995255305,
                            "orderId": "670fd33bf9406e0007ab3945",
                            "counterOrderId": "670fd33bf9406e0007ab3946",
                            "tradeId": 11116472408358913,
                            "symbol": "BTC-USDT",
                            "side": "buy",
                            "liquidity": "maker",
                            "type": "limit",
                            "forceTaker": False,
                            "price": "86000",
                            "size": "0.0004",
                            "funds": "34.4",
                            "fee": "0.0344",
                            "feeRate": "0.001",
                            "feeCurrency": "USDT",
                            "stop": "",
                            "tradeType": "TRADE",
                            "taxRate": "0",
                            "tax": "0",
                            "createdAt": 1764999990000,
                        },
                    ],
                }
            )
        ],
        "fees": [_kc([{"symbol": "BTC-USDT", "takerFeeRate": "0.001", "makerFeeRate": "0.0008"}])],
        "key_permissions": [
            _kc(
                {
                    "remark": "amarktai",
                    "apiKey": "0123456789abcdef01234567",
                    "apiVersion": 3,
                    "permission": "General,Spot",
                    "ipWhitelist": "",
                    "createdAt": 1729176273000,
                    "uid": 165111215,
                    "isMaster": True,
                }
            )
        ],
    },
    {
        "error_insufficient_funds": (
            "create_order",
            [_kc_err("200004", "Balance insufficient!")],
            "InsufficientFunds",
        ),
        "error_invalid_order": (
            "create_order",
            [_kc_err("400100", "Order size below the minimum requirement.")],
            "InvalidOrder",
        ),
        "error_order_not_found": (
            "fetch_order",
            [_kc_err("400100", "order_not_exist_or_not_allow_to_cancel")],
            "OrderNotFound",
        ),
        "error_auth": (
            "balances",
            [_kc_err("400005", "Invalid KC-API-SIGN", 401)],
            "ExchangeAuthError",
        ),
        "error_nonce": (
            "balances",
            [_kc_err("400002", "KC-API-TIMESTAMP Invalid", 401)] * 3,
            "NonceError",
        ),
        "error_rate_limited": (
            "ticker",
            [
                _kc_err("429000", "Too Many Requests", 429)
                | {"headers": {"gw-ratelimit-reset": "1500"}}
            ]
            * 3,
            "VenueRateLimited",
        ),
        "error_unavailable": (
            "ticker",
            [{"status": 502, "headers": {}, "body": "<html>Bad Gateway</html>"}] * 3,
            "VenueUnavailable",
        ),
        "error_timeout": ("ticker", [TIMEOUT] * 3, "VenueTimeout"),
        "create_order_after_timeout": ("create_order", [TIMEOUT, _kc(_KC_ORDER)], ""),
    },
)

# -- Bybit (v5, spot on a unified trading account) ----------------------------------------------
_BB_ORDER = {
    "orderId": "1321003749386327552",
    "orderLinkId": "amk-0001",
    "blockTradeId": "",
    "symbol": "BTCUSDT",
    "price": "86000",
    "qty": "0.001",
    "side": "Buy",
    "isLeverage": "0",
    "positionIdx": 0,
    "orderStatus": "PartiallyFilled",
    "cancelType": "UNKNOWN",
    "rejectReason": "EC_NoError",
    "avgPrice": "86000",
    "leavesQty": "0.0006",
    "leavesValue": "51.6",
    "cumExecQty": "0.0004",
    "cumExecValue": "34.4",
    "cumExecFee": "0.0000004",
    "timeInForce": "GTC",
    "orderType": "Limit",
    "stopOrderType": "",
    "orderIv": "",
    "triggerPrice": "0.00",
    "takeProfit": "0.00",
    "stopLoss": "0.00",
    "tpTriggerBy": "",
    "slTriggerBy": "",
    "triggerDirection": 0,
    "triggerBy": "",
    "lastPriceOnCreated": "",
    "reduceOnly": False,
    "closeOnTrigger": False,
    "smpType": "None",
    "smpGroup": 0,
    "smpOrderId": "",
    "tpslMode": "",
    "tpLimitPrice": "",
    "slLimitPrice": "",
    "placeType": "",
    "createdTime": "1764999990000",
    "updatedTime": "1764999995000",
}


def _bb(result: Any, status: int = 200, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return ok(
        {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": 1765000000000},
        status,
        headers,
    )


def _bb_err(code: int, msg: str, status: int = 200) -> dict[str, Any]:
    return ok(
        {"retCode": code, "retMsg": msg, "result": {}, "retExtInfo": {}, "time": 1765000000000},
        status,
    )


BYBIT = venue(
    "BTC/USDT",
    "86000",
    {
        "instruments": [
            _bb(
                {
                    "category": "spot",
                    "nextPageCursor": "",
                    "list": [
                        {
                            "symbol": "BTCUSDT",
                            "baseCoin": "BTC",
                            "quoteCoin": "USDT",
                            "innovation": "0",
                            "status": "Trading",
                            "marginTrading": "both",
                            "stTag": "0",
                            "lotSizeFilter": {
                                "basePrecision": "0.000001",
                                "quotePrecision": "0.00000001",
                                "minOrderQty": "0.000048",
                                "maxOrderQty": "71.73956243",
                                "minOrderAmt": "1",
                                "maxOrderAmt": "2000000",
                            },
                            "priceFilter": {"tickSize": "0.01"},
                            "riskParameters": {
                                "priceLimitRatioX": "0.01",
                                "priceLimitRatioY": "0.02",
                            },
                        },
                    ],
                }
            )
        ],
        "ticker": [
            _bb(
                {
                    "category": "spot",
                    "list": [
                        {
                            "symbol": "BTCUSDT",
                            "bid1Price": "86000.1",
                            "bid1Size": "0.5",
                            "ask1Price": "86000.2",
                            "ask1Size": "0.4",
                            "lastPrice": "86000.1",
                            "prevPrice24h": "85000",
                            "price24hPcnt": "0.0117",
                            "highPrice24h": "87000",
                            "lowPrice24h": "85000",
                            "turnover24h": "1075001.25",
                            "volume24h": "12.5",
                            "usdIndexPrice": "86010.5",
                        },
                    ],
                }
            )
        ],
        "order_book": [
            _bb(
                {
                    "s": "BTCUSDT",
                    "b": [["86000.1", "0.5"], ["86000", "1.2"]],
                    "a": [["86000.2", "0.4"], ["86000.3", "0.8"]],
                    "ts": 1764999999000,
                    "u": 18521288,
                    "seq": 7961638724,
                    "cts": 1764999998990,
                }
            )
        ],
        "trades": [
            _bb(
                {
                    "category": "spot",
                    "list": [
                        {
                            "execId": "2100000000007764264",
                            "symbol": "BTCUSDT",
                            "price": "86000.2",
                            "size": "0.002",
                            "side": "Buy",
                            "time": "1764999995000",
                            "isBlockTrade": False,
                        },
                        {
                            "execId": "2100000000007764263",
                            "symbol": "BTCUSDT",
                            "price": "86000.1",
                            "size": "0.001",
                            "side": "Sell",
                            "time": "1764999990000",
                            "isBlockTrade": False,
                        },
                    ],
                }
            )
        ],
        "ohlcv": [
            _bb(
                {
                    "category": "spot",
                    "symbol": "BTCUSDT",
                    "list": [
                        ["1764979260000", "86000", "86200", "85990", "86150", "0.25", "21537.5"],
                        ["1764979200000", "85900", "86100", "85800", "86000", "0.5", "42975"],
                    ],
                }
            )
        ],
        "balances": [
            _bb(
                {
                    "list": [
                        {
                            "accountType": "UNIFIED",
                            "totalEquity": "2032",
                            "accountIMRate": "0",
                            "totalMarginBalance": "2032",
                            "totalInitialMargin": "0",
                            "totalAvailableBalance": "2032",
                            "accountMMRate": "0",
                            "totalPerpUPL": "0",
                            "totalWalletBalance": "2032",
                            "accountLTV": "0",
                            "totalMaintenanceMargin": "0",
                            "coin": [
                                {
                                    "coin": "BTC",
                                    "equity": "0.011",
                                    "usdValue": "946",
                                    "walletBalance": "0.011",
                                    "free": "",
                                    "locked": "0.001",
                                    "spotHedgingQty": "0",
                                    "borrowAmount": "0",
                                    "availableToWithdraw": "0.01",
                                    "accruedInterest": "0",
                                    "totalOrderIM": "0",
                                    "totalPositionIM": "0",
                                    "totalPositionMM": "0",
                                    "unrealisedPnl": "0",
                                    "cumRealisedPnl": "0",
                                    "bonus": "0",
                                    "marginCollateral": True,
                                    "collateralSwitch": True,
                                    "availableToBorrow": "",
                                },
                                {
                                    "coin": "USDT",
                                    "equity": "1086",
                                    "usdValue": "1086",
                                    "walletBalance": "1086",
                                    "free": "",
                                    "locked": "86",
                                    "spotHedgingQty": "0",
                                    "borrowAmount": "0",
                                    "availableToWithdraw": "1000",
                                    "accruedInterest": "0",
                                    "totalOrderIM": "0",
                                    "totalPositionIM": "0",
                                    "totalPositionMM": "0",
                                    "unrealisedPnl": "0",
                                    "cumRealisedPnl": "0",
                                    "bonus": "0",
                                    "marginCollateral": True,
                                    "collateralSwitch": True,
                                    "availableToBorrow": "",
                                },
                            ],
                        }
                    ]
                }
            )
        ],
        "create_order": [_bb({"orderId": "1321003749386327552", "orderLinkId": "amk-0001"})],
        "cancel_order": [
            _bb({"orderId": "1321003749386327552", "orderLinkId": "amk-0001"}),
            _bb(
                {
                    "category": "spot",
                    "nextPageCursor": "",
                    "list": [
                        {
                            **_BB_ORDER,
                            "orderStatus": "PartiallyFilledCanceled",
                            "leavesQty": "0",
                            "leavesValue": "0",
                        }
                    ],
                }
            ),
        ],
        "fetch_order": [_bb({"category": "spot", "nextPageCursor": "", "list": [_BB_ORDER]})],
        "open_orders": [_bb({"category": "spot", "nextPageCursor": "", "list": [_BB_ORDER]})],
        "my_trades": [
            _bb(
                {
                    "category": "spot",
                    "nextPageCursor": "",
                    "list": [
                        {
                            "symbol": "BTCUSDT",
                            "orderType": "Limit",
                            "underlyingPrice": "",
                            "orderLinkId": "amk-0001",
                            "side": "Buy",
                            "indexPrice": "",
                            "orderId": "1321003749386327552",
                            "stopOrderType": "",
                            "leavesQty": "0.0006",
                            "execTime": "1764999990000",
                            "feeCurrency": "BTC",
                            "isMaker": True,
                            "execFee": "0.0000004",
                            "feeRate": "0.001",
                            "execId": "2100000000007764263",
                            "tradeIv": "",
                            "blockTradeId": "",
                            "markPrice": "",
                            "execPrice": "86000",
                            "markIv": "",
                            "orderQty": "0.001",
                            "orderPrice": "86000",
                            "execValue": "34.4",
                            "execType": "Trade",
                            "execQty": "0.0004",
                            "closedSize": "",
                            "seq": 4688002127,
                        },
                    ],
                }
            )
        ],
        "fees": [
            _bb(
                {
                    "list": [
                        {
                            "symbol": "BTCUSDT",
                            "baseCoin": "",
                            "takerFeeRate": "0.001",
                            "makerFeeRate": "0.001",
                        }
                    ]
                }
            )
        ],
        "key_permissions": [
            _bb(
                {
                    "id": "13770661",
                    "note": "amarktai",
                    "apiKey": "BYBITKEY0123456789",
                    "readOnly": 0,
                    "secret": "",
                    "permissions": {
                        "ContractTrade": [],
                        "Spot": ["SpotTrade"],
                        "Wallet": ["AccountTransfer", "Withdraw"],
                        "Options": [],
                        "Derivatives": [],
                        "CopyTrading": [],
                        "BlockTrade": [],
                        "Exchange": [],
                        "NFT": [],
                        "Affiliate": [],
                    },
                    "ips": ["*"],
                    "type": 1,
                    "deadlineDay": 83,
                    "expiredAt": "2026-03-01T00:00:00Z",
                    "createdAt": "2025-12-01T00:00:00Z",
                    "unified": 0,
                    "uta": 1,
                    "userID": 24617703,
                    "inviterID": 0,
                    "vipLevel": "No VIP",
                    "mktMakerLevel": "0",
                    "affiliateID": 0,
                    "rsaPublicKey": "",
                    "isMaster": True,
                }
            )
        ],
    },
    {
        "error_insufficient_funds": (
            "create_order",
            [_bb_err(170131, "Insufficient balance.")],
            "InsufficientFunds",
        ),
        "error_invalid_order": (
            "create_order",
            [_bb_err(170136, "Order quantity lower than the minimum.")],
            "InvalidOrder",
        ),
        "error_order_not_found": (
            "fetch_order",
            [_bb({"category": "spot", "nextPageCursor": "", "list": []})],
            "OrderNotFound",
        ),
        "error_auth": (
            "balances",
            [_bb_err(10003, "API key is invalid.", 401)],
            "ExchangeAuthError",
        ),
        "error_nonce": (
            "balances",
            [
                _bb_err(
                    10002,
                    "invalid request, please check your server timestamp or recv_window param",
                )
            ]
            * 3,
            "NonceError",
        ),
        "error_rate_limited": (
            "ticker",
            [
                _bb_err(10006, "Too many visits!", 429)
                | {"headers": {"X-Bapi-Limit-Reset-Timestamp": "1765000002000"}}
            ]
            * 3,
            "VenueRateLimited",
        ),
        "error_unavailable": (
            "ticker",
            [{"status": 503, "headers": {}, "body": "Service Unavailable"}] * 3,
            "VenueUnavailable",
        ),
        "error_timeout": ("ticker", [TIMEOUT] * 3, "VenueTimeout"),
        "create_order_after_timeout": (
            "create_order",
            [TIMEOUT, _bb({"category": "spot", "nextPageCursor": "", "list": [_BB_ORDER]})],
            "",
        ),
    },
)

REPLIES: dict[str, dict[str, dict[str, Any]]] = {
    "luno": LUNO,
    "binance": BINANCE,
    "kucoin": KUCOIN,
    "bybit": BYBIT,
}
