"""Emergency stop: one action cancels every open order and halts every bot in scope.

Everything is written in the caller's single transaction (one query for the bots, one for
their open orders), so stopping a hundred bots is a handful of round trips, not a hundred
transactions. The stop is recorded as an active ``risk_events`` row at its level: while it
stands, the engine's pre-trade check denies new orders there, and it is lifted like a
breaker trip (``POST /api/v1/risk/breakers/reset``).

With ``flatten`` every long position in scope is sold at market through the bot's paper
venue, and the fill is booked to the ledger like any other. Without a running engine in
this process (the CLI) there is no market to sell into: the positions are reported as not
flattened, and the orders and bots are still stopped in the database (the serving engine
drops halted bots, and their resting venue orders, at its next resync).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from time import perf_counter
from typing import Any, Literal

from amarktai.engine.models import Bot
from amarktai.engine.recorder import Recorder
from amarktai.engine.runner import Engine, bot_holdings
from amarktai.execution.orders import new_order
from amarktai.kit.errors import DomainError
from amarktai.markets.instruments import InstrumentRegistry
from amarktai.markets.types import Instrument
from amarktai.risk.service import Level, RiskService, event_dict

StopScope = Literal["user", "platform"]


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
    recorder = Recorder(risk.s, risk.ledger)
    for bot in bots:
        inst = registry.get(bot.exchange, bot.symbol)
        holdings = await bot_holdings(risk.ledger, bot.user_id, bot.id, inst)
        if holdings.position_qty <= 0:
            continue
        if engine is None or inst.symbol not in engine.last_prices:
            report.not_flattened.append(
                {"bot_id": bot.id, "qty": str(holdings.position_qty), "reason": "no market"}
            )
            continue
        sold = await _sell_all(risk, recorder, engine, bot, inst, holdings.position_qty)
        report.flattened.append(sold)


async def _sell_all(
    risk: RiskService,
    recorder: Recorder,
    engine: Engine,
    bot: Bot,
    inst: Instrument,
    qty: Decimal,
) -> dict[str, Any]:
    now = risk.clock.now()
    order = new_order(
        client_order_id=f"estop-{now:%Y%m%dT%H%M%S%f}",
        bot_id=bot.id,
        symbol=bot.symbol,
        side="sell",
        type="market",
        qty=qty,
        created_at=now,
    )
    try:
        execution = engine.venues[bot.mode].submit(order)
    except DomainError as exc:
        return {"bot_id": bot.id, "qty": str(qty), "error": exc.code}
    await recorder.save_order(execution.order, bot.user_id, now)
    for fill in execution.fills:
        await recorder.save_fill(fill, bot.user_id, bot.id, inst)
    recorder.save_trace(
        user_id=bot.user_id, bot_id=bot.id, ts=now, rule="emergency_stop", signal=0.0,
        outcome="order", trace={"rule": "emergency_stop", "flatten": True},
        order_id=execution.order.id,
    )  # fmt: skip
    return {
        "bot_id": bot.id,
        "order_id": execution.order.id,
        "qty": str(execution.order.filled_qty),
        "avg_price": str(execution.order.avg_price) if execution.order.avg_price else None,
    }
