"""Emergency stop: one action cancels every open order and halts every bot in scope.

Everything is written in the caller's single transaction (one query for the bots, one for
their open orders), so stopping a hundred bots is a handful of round trips, not a hundred
transactions. The stop is recorded as an active ``risk_events`` row at its level: while it
stands, the engine's pre-trade check denies new orders there, and it is lifted like a
breaker trip (``POST /api/v1/risk/breakers/reset``).

With ``flatten`` every long position in scope is sold at market through the bot's paper
venue, and the fill is booked to the ledger like any other. The positions are read in one
query per user, the fills booked in one batched ledger call and the rows written in one
flush, so flattening a hundred bots is a handful of round trips too. Without a running engine in
this process (the CLI) there is no market to sell into: the positions are reported as not
flattened, and the orders and bots are still stopped in the database (the serving engine
drops halted bots, and their resting venue orders, at its next resync).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from time import perf_counter
from typing import Any, Final, Literal

from amarktai.engine.models import Bot, DecisionTrace, FillRow, OrderRow
from amarktai.engine.runner import Engine
from amarktai.execution.orders import Fill, Order, new_order
from amarktai.execution.paper import Execution
from amarktai.kit.errors import DomainError
from amarktai.kit.ids import new_id
from amarktai.ledger import journal
from amarktai.markets.instruments import InstrumentRegistry
from amarktai.markets.types import Instrument
from amarktai.risk.service import Level, RiskService, event_dict

StopScope = Literal["user", "platform"]
_KEYS_PER_QUERY: Final[int] = 200
"""Positions read per balance query (one scalar subquery each; SQLite caps a query's size)."""


@dataclass
class StopReport:
    scope: str
    event: dict[str, Any]
    bots_halted: list[str] = field(default_factory=list)
    orders_cancelled: list[str] = field(default_factory=list)
    flattened: list[dict[str, Any]] = field(default_factory=list)
    not_flattened: list[dict[str, Any]] = field(default_factory=list)
    elapsed_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "event": self.event,
            "bots_halted": self.bots_halted,
            "orders_cancelled": self.orders_cancelled,
            "flattened": self.flattened,
            "not_flattened": self.not_flattened,
            "elapsed_ms": round(self.elapsed_ms, 3),
        }


async def emergency_stop(
    risk: RiskService,
    level: Level,
    *,
    engine: Engine | None,
    registry: InstrumentRegistry,
    flatten: bool,
    by: str,
) -> StopReport:
    started = perf_counter()
    bots = await risk.bots_of(level)
    reason = f"emergency stop by {by}"
    row = risk.record(level, "emergency_stop", reason, {"flatten": flatten}, active=True)
    report = StopReport(level.scope, {})
    venues = engine.venues if engine is not None else {}
    bot_ids = [b.id for b in bots]
    report.orders_cancelled = await risk.cancel_orders(bot_ids, venues, "emergency_stop")
    report.bots_halted = await risk.halt(level, reason)
    if engine is not None:
        for bot_id in report.bots_halted:
            engine.runners.pop(bot_id, None)
    if flatten:
        await _flatten(risk, bots, engine, registry, report)
    await risk.s.flush()
    report.event = event_dict(row)
    report.elapsed_ms = (perf_counter() - started) * 1000
    return report


async def _flatten(
    risk: RiskService,
    bots: list[Bot],
    engine: Engine | None,
    registry: InstrumentRegistry,
    report: StopReport,
) -> None:
    """Sell every long position in scope at market in a fixed number of round trips: one
    balance query per user for every bot's position, every sell submitted to its venue, all
    the fills booked by one batched ``LedgerService.post_fills`` (each a real paper fill,
    booked exactly as ``post_fill`` would: same entries, same hash chain), and the order,
    fill and trace rows written by the transaction's final flush."""
    positions = await _positions(risk, bots, registry)
    sells: list[tuple[Bot, Instrument, Execution]] = []
    now = risk.clock.now()
    for bot in bots:
        inst, qty = positions[bot.id]
        if qty <= 0:
            continue
        if engine is None or inst.symbol not in engine.last_prices:
            report.not_flattened.append({"bot_id": bot.id, "qty": str(qty), "reason": "no market"})
            continue
        try:
            execution = engine.venues[bot.mode].submit(_sell_order(bot, qty, now))
        except DomainError as exc:
            report.flattened.append({"bot_id": bot.id, "qty": str(qty), "error": exc.code})
            continue
        sells.append((bot, inst, execution))
        report.flattened.append(_sold(bot, execution))
    if not sells:
        return
    risk.s.add_all([_order_row(ex.order, bot.user_id, now) for bot, _, ex in sells])
    await risk.s.flush()  # one executemany; the fills and traces reference these rows
    booked = await risk.ledger.post_fills(
        [[(bot.user_id, _ledger_fill(f, bot, inst)) for f in ex.fills] for bot, inst, ex in sells]
    )
    for (bot, _, execution), entries in zip(sells, booked, strict=True):
        if isinstance(entries, DomainError):
            raise entries  # as a one-by-one post would: the whole stop rolls back
        risk.s.add_all(
            [_fill_row(f, e, bot) for f, e in zip(execution.fills, entries, strict=True)]
        )
        risk.s.add(
            DecisionTrace(
                id=new_id(), user_id=bot.user_id, bot_id=bot.id, ts=now, rule="emergency_stop",
                signal=0.0, outcome="order", trace={"rule": "emergency_stop", "flatten": True},
                order_id=execution.order.id,
            )
        )  # fmt: skip


async def _positions(
    risk: RiskService, bots: list[Bot], registry: InstrumentRegistry
) -> dict[str, tuple[Instrument, Decimal]]:
    """bot id -> (instrument, base position) from the ledger's running balances: one query
    per user (per ``_KEYS_PER_QUERY`` bots), not one per bot."""
    keys: dict[str, list[tuple[Bot, Instrument, tuple[str, str]]]] = {}
    for bot in bots:
        inst = registry.get(bot.exchange, bot.symbol)
        key = (journal.bot_account(bot.id, "position"), inst.base)
        keys.setdefault(bot.user_id, []).append((bot, inst, key))
    out: dict[str, tuple[Instrument, Decimal]] = {}
    for user_id, wanted in keys.items():
        for i in range(0, len(wanted), _KEYS_PER_QUERY):
            chunk = wanted[i : i + _KEYS_PER_QUERY]
            found = await risk.ledger.repo.latest_balances(user_id, [k for _, _, k in chunk])
            for bot, inst, key in chunk:
                out[bot.id] = (inst, found[key] or journal.ZERO)
    return out


def _sell_order(bot: Bot, qty: Decimal, now: datetime) -> Order:
    return new_order(
        client_order_id=f"estop-{now:%Y%m%dT%H%M%S%f}",
        bot_id=bot.id,
        symbol=bot.symbol,
        side="sell",
        type="market",
        qty=qty,
        created_at=now,
    )


def _order_row(order: Order, user_id: str, now: datetime) -> OrderRow:
    """The row ``Recorder.save_order`` would insert for this new order, without its
    per-order lookup and flush (these ids are fresh, so there is nothing to look up)."""
    return OrderRow(
        id=order.id, user_id=user_id, bot_id=order.bot_id,
        client_order_id=order.client_order_id, symbol=order.symbol, side=order.side,
        type=order.type, time_in_force=order.time_in_force, qty=order.qty,
        limit_price=order.limit_price, stop_price=order.stop_price, created_at=order.created_at,
        status=order.status, filled_qty=order.filled_qty, avg_price=order.avg_price,
        fees=order.fees, reason=order.reason, updated_at=now,
    )  # fmt: skip


def _ledger_fill(fill: Fill, bot: Bot, inst: Instrument) -> journal.Fill:
    return journal.Fill(
        bot_id=bot.id, side=fill.side, base=inst.base, quote=inst.quote, qty=fill.qty,
        price=fill.price, fee=fill.fee, fee_asset=fill.fee_asset, ref=fill.id,
    )  # fmt: skip


def _fill_row(fill: Fill, entry: journal.Entry, bot: Bot) -> FillRow:
    """The row ``Recorder.save_fill`` keeps, realised PnL as the ledger booked it."""
    pnl_account = journal.bot_account(bot.id, "pnl")
    booked = sum((p.amount for p in entry.postings if p.account == pnl_account), journal.ZERO)
    return FillRow(
        id=fill.id, order_id=fill.order_id, user_id=bot.user_id, bot_id=bot.id, ts=fill.ts,
        symbol=fill.symbol, side=fill.side, price=fill.price, qty=fill.qty, fee=fill.fee,
        fee_asset=fill.fee_asset, liquidity=fill.liquidity,
        realised_pnl=-booked if fill.side == "sell" else None, ledger_entry_id=entry.id,
    )  # fmt: skip


def _sold(bot: Bot, execution: Execution) -> dict[str, Any]:
    order = execution.order
    return {
        "bot_id": bot.id,
        "order_id": order.id,
        "qty": str(order.filled_qty),
        "avg_price": str(order.avg_price) if order.avg_price else None,
    }
