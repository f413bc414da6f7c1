"""Decimal book-keeping for one instrument's sub-account: cash, position, average cost,
fees, and the round trips (flat → long → flat) the result reports as trades.

Realised PnL uses average cost (the ledger's and the SA weighted-average tax method);
fees are kept apart and subtracted per trade, so ``sum(trade.pnl)`` plus nothing else
equals the change in equity.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal

from amarktai.backtest.models import TradeRecord
from amarktai.execution.orders import Fill
from amarktai.kit.money import ZERO


@dataclasses.dataclass(slots=True)
class _OpenTrade:
    entry_bar: int
    entry_time: datetime
    buy_value: Decimal = ZERO
    buy_qty: Decimal = ZERO
    sell_value: Decimal = ZERO
    sell_qty: Decimal = ZERO
    realised: Decimal = ZERO
    fees: Decimal = ZERO


@dataclasses.dataclass(slots=True)
class Book:
    symbol: str
    cash: Decimal
    qty: Decimal = ZERO
    avg_cost: Decimal = ZERO
    fees: Decimal = ZERO
    realised: Decimal = ZERO
    cash_f: float = 0.0
    qty_f: float = 0.0
    trades: list[TradeRecord] = dataclasses.field(default_factory=list)
    fills: list[Fill] = dataclasses.field(default_factory=list)
    _open: _OpenTrade | None = None

    def __post_init__(self) -> None:
        self._sync()

    def _sync(self) -> None:
        """Float mirrors for the per-bar mark to market (the ledger itself stays Decimal)."""
        self.cash_f = float(self.cash)
        self.qty_f = float(self.qty)

    def apply(self, fill: Fill, bar: int) -> None:
        if self._open is None:
            self._open = _OpenTrade(bar, fill.ts)
        trade = self._open
        notional = fill.price * fill.qty
        trade.fees += fill.fee
        self.fees += fill.fee
        if fill.side == "buy":
            self.avg_cost = (self.avg_cost * self.qty + notional) / (self.qty + fill.qty)
            self.qty += fill.qty
            self.cash -= notional + fill.fee
            trade.buy_value += notional
            trade.buy_qty += fill.qty
        else:
            gain = (fill.price - self.avg_cost) * fill.qty
            self.realised += gain
            trade.realised += gain
            self.qty -= fill.qty
            self.cash += notional - fill.fee
            trade.sell_value += notional
            trade.sell_qty += fill.qty
            if self.qty == 0:
                self.avg_cost = ZERO
                self.trades.append(self._record(trade, bar, fill.ts, None))
                self._open = None
        self.fills.append(fill)
        self._sync()

    def _record(
        self, trade: _OpenTrade, bar: int | None, when: datetime | None, mark: Decimal | None
    ) -> TradeRecord:
        unrealised = ZERO if mark is None else (mark - self.avg_cost) * self.qty
        return TradeRecord(
            symbol=self.symbol,
            entry_bar=trade.entry_bar,
            entry_time=trade.entry_time,
            entry_price=trade.buy_value / trade.buy_qty,
            qty=trade.buy_qty,
            exit_bar=bar,
            exit_time=when,
            exit_price=trade.sell_value / trade.sell_qty if bar is not None else None,
            pnl=trade.realised + unrealised - trade.fees,
            fees=trade.fees,
        )

    def all_trades(self, last_close: Decimal) -> tuple[TradeRecord, ...]:
        """Closed trades, then the open one marked at the last close (no exit fee)."""
        if self._open is None:
            return tuple(self.trades)
        return (*self.trades, self._record(self._open, None, None, last_close))
