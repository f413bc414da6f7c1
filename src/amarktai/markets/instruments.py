"""Instrument rules and the default instrument tables for the offline markets.

The `sim` pairs carry realistic ZAR prices and South African exchange-like rules (1 ZAR
price tick on BTC/ETH, 8-decimal quantities, a small minimum notional), so orders that
pass here behave like orders that would pass on Luno/VALR. Replay pairs mirror the
Binance rules of the recorded data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from amarktai.kit.errors import NotFound
from amarktai.markets.types import Instrument

D = Decimal


def check_order(instrument: Instrument, qty: Decimal, price: Decimal | None) -> None:
    """Function form of `Instrument.check_order`, for callers holding only a symbol table."""
    instrument.check_order(qty, price)


def _pair(
    exchange: str,
    symbol: str,
    *,
    price_step: str,
    qty_step: str,
    min_qty: str,
    min_notional: str,
    maker: str = "0.0005",
    taker: str = "0.001",
) -> Instrument:
    base, quote = symbol.split("/")
    return Instrument(
        symbol=symbol,
        base=base,
        quote=quote,
        price_step=D(price_step),
        qty_step=D(qty_step),
        min_qty=D(min_qty),
        min_notional=D(min_notional),
        maker_fee=D(maker),
        taker_fee=D(taker),
        exchange=exchange,
    )


SIM_INSTRUMENTS: tuple[Instrument, ...] = (
    _pair(
        "sim", "BTC/ZAR", price_step="1", qty_step="0.00000001", min_qty="0.0001", min_notional="10"
    ),
    _pair(
        "sim", "ETH/ZAR", price_step="1", qty_step="0.00000001", min_qty="0.001", min_notional="10"
    ),
    _pair("sim", "XRP/ZAR", price_step="0.01", qty_step="0.000001", min_qty="1", min_notional="10"),
)

# Typical starting prices for the sim walk (ZAR), near mid-2025 market levels.
SIM_START_PRICES: Mapping[str, Decimal] = {
    "BTC/ZAR": D("1200000"),
    "ETH/ZAR": D("55000"),
    "XRP/ZAR": D("40.00"),
}

REPLAY_INSTRUMENTS: tuple[Instrument, ...] = (
    _pair(
        "replay",
        "BTC/USDT",
        price_step="0.01",
        qty_step="0.00001",
        min_qty="0.00001",
        min_notional="5",
        maker="0.001",
    ),
    _pair(
        "replay",
        "ETH/USDT",
        price_step="0.01",
        qty_step="0.0001",
        min_qty="0.0001",
        min_notional="5",
        maker="0.001",
    ),
    _pair(
        "replay",
        "LTC/USDT",
        price_step="0.01",
        qty_step="0.001",
        min_qty="0.001",
        min_notional="5",
        maker="0.001",
    ),
    _pair(
        "replay",
        "PAXG/USDT",
        price_step="0.01",
        qty_step="0.0001",
        min_qty="0.0001",
        min_notional="5",
        maker="0.001",
    ),
    _pair(
        "replay",
        "ETH/BTC",
        price_step="0.000001",
        qty_step="0.001",
        min_qty="0.001",
        min_notional="0.0001",
        maker="0.001",
    ),
    _pair(
        "replay",
        "LTC/BTC",
        price_step="0.000001",
        qty_step="0.001",
        min_qty="0.001",
        min_notional="0.0001",
        maker="0.001",
    ),
    _pair(
        "replay",
        "XRP/ETH",
        price_step="0.00000001",
        qty_step="1",
        min_qty="1",
        min_notional="0.001",
        maker="0.001",
    ),
    _pair(
        "replay",
        "UNITTEST/BTC",
        price_step="0.00000001",
        qty_step="0.00000001",
        min_qty="0.001",
        min_notional="0.0001",
        maker="0.001",
    ),
)


def generic_instrument(symbol: str, exchange: str = "replay") -> Instrument:
    """Permissive rules for a recorded pair we hold no table for, so it can still be traded
    on paper; the fine grid means replayed prices are never off-precision."""
    return _pair(
        exchange,
        symbol,
        price_step="0.00000001",
        qty_step="0.00000001",
        min_qty="0.00000001",
        min_notional="0",
        maker="0.001",
    )


class InstrumentRegistry:
    """Symbol → instrument lookup per exchange; unknown symbols are a 404, not a KeyError."""

    def __init__(self, instruments: Iterable[Instrument] = ()) -> None:
        self._by_key: dict[tuple[str, str], Instrument] = {}
        for instrument in instruments:
            self.add(instrument)

    def add(self, instrument: Instrument) -> None:
        self._by_key[(instrument.exchange, instrument.symbol)] = instrument

    def get(self, exchange: str, symbol: str) -> Instrument:
        try:
            return self._by_key[(exchange, symbol)]
        except KeyError:
            raise NotFound(
                f"no instrument {symbol!r} on exchange {exchange!r}", code="unknown_instrument"
            ) from None

    def for_exchange(self, exchange: str) -> tuple[Instrument, ...]:
        return tuple(i for (ex, _), i in self._by_key.items() if ex == exchange)


def default_registry() -> InstrumentRegistry:
    """A fresh registry holding the sim and replay tables (fresh so callers may add)."""
    return InstrumentRegistry((*SIM_INSTRUMENTS, *REPLAY_INSTRUMENTS))
