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

The report carries the real-time events to publish once the stop has committed
(``StopReport.events``): one critical ``alert`` for each user whose bots it stopped (and
for the user who asked), and each halted bot's ``bot_status``, in the shapes the bus
validates, so the dashboards show the stop and the halted bots at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from time import perf_counter
from typing import Any, Final, Literal

from amarktai.engine.models import Bot, DecisionTrace, FillRow, OrderRow
from amarktai.engine.recorder import fill_values, ledger_fill, order_values
from amarktai.engine.runner import Engine
from amarktai.execution.orders import Order, new_order
from amarktai.execution.paper import Execution
from amarktai.kit.errors import DomainError
from amarktai.kit.ids import new_id
from amarktai.ledger import journal
from amarktai.markets.instruments import InstrumentRegistry
from amarktai.markets.types import Instrument
from amarktai.risk.models import RiskEvent
from amarktai.risk.service import Event, Level, RiskService, event_dict

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
    events: list[Event] = field(default_factory=list)
    """(user id, message type, data) for the bus, after the commit: not in `to_dict`."""

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
    actor_id: str | None = None,
) -> StopReport:
    """`actor_id`: the user who asked, told of the stop even when none of the bots are
    theirs (an admin's platform stop)."""
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
    report.events = _events(risk, row, bots, report.bots_halted, level, actor_id)
    report.elapsed_ms = (perf_counter() - started) * 1000
    return report


def _events(
    risk: RiskService,
    row: RiskEvent,
    bots: list[Bot],
    halted: list[str],
    level: Level,
    actor_id: str | None,
) -> list[Event]:
    """The stop's alert for every user it concerns, then each halted bot's new status.
    (A platform stop's alert is addressed to each user, not to the `platform` owner id,
    which no WebSocket listens on.)"""
    _, kind, data = risk.alert(row)
    users = dict.fromkeys(
        u for u in (actor_id, level.user_id, *(b.user_id for b in bots)) if u is not None
    )
    events: list[Event] = [(user_id, kind, data) for user_id in users]
    by_id = {b.id: b for b in bots}
    for bot in (by_id[b] for b in halted if b in by_id):
        status = {"bot_id": bot.id, "status": bot.status, "reason": bot.status_reason}
        events.append((bot.user_id, "bot_status", status))
    return events


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
    risk.s.add_all([OrderRow(**order_values(ex.order, bot.user_id, now)) for bot, _, ex in sells])
    await risk.s.flush()  # one executemany; the fills and traces reference these rows
    booked = await risk.ledger.post_fills(
        [[(bot.user_id, ledger_fill(f, bot.id, inst)) for f in ex.fills] for bot, inst, ex in sells]
    )
    for (bot, _, execution), entries in zip(sells, booked, strict=True):
        if isinstance(entries, DomainError):
            raise entries  # as a one-by-one post would: the whole stop rolls back
        risk.s.add_all(
            [
                FillRow(**fill_values(f, bot.user_id, bot.id, e))
                for f, e in zip(execution.fills, entries, strict=True)
            ]
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


def _sold(bot: Bot, execution: Execution) -> dict[str, Any]:
    order = execution.order
    return {
        "bot_id": bot.id,
        "order_id": order.id,
        "qty": str(order.filled_qty),
        "avg_price": str(order.avg_price) if order.avg_price else None,
    }
