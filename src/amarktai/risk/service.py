"""Circuit breakers at bot, user and platform level, judged on ledger figures.

A level's figures are read from the ledger (``LedgerService.mark_to_market``: total PnL =
realised + unrealised - fees, and equity) and from the trading tables (closed-trade PnL,
decisions that ended in error), never from a bot's in-memory state. ``risk_state`` keeps
only the day-start and peak PnL that earlier evaluations read from the ledger, so no bar
has to replay the journal.

A trip records a ``risk_events`` row (active until reset), halts every running or paused
bot of its level through the lifecycle's ``halt`` with the reason, and yields an "alert"
event for the engine's listeners. While any trip covers a bot, the engine's pre-trade
check denies its orders. Resets: by hand (``reset``), or by rule (``apply_reset_rules``:
a daily-loss trip at the next UTC day, an error burst once its window has passed). A reset
releases the level's halted bots to ``paused``; the owner starts them again.

Never commits: the caller's unit of work does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from amarktai.engine.lifecycle import next_status
from amarktai.engine.models import Bot
from amarktai.execution.paper import PaperVenue
from amarktai.kit.clock import Clock
from amarktai.kit.errors import DomainError, NotFound
from amarktai.kit.ids import new_id
from amarktai.kit.money import ZERO
from amarktai.ledger.service import LedgerService
from amarktai.risk.breakers import BreakerCheck, BreakerLimits, Figures, evaluate
from amarktai.risk.models import PLATFORM, RiskEvent, RiskState
from amarktai.risk.repository import RiskRepository

Scope = Literal["bot", "user", "platform"]
Price = Callable[[str], Decimal]
Event = tuple[str, str, dict[str, Any]]
STREAK_LOOKBACK = 100
PLATFORM_EVERY_S = 10
HALTABLE = ("running", "paused")


@dataclass(frozen=True, slots=True)
class Level:
    """Where a breaker sits: a bot, a user, or the whole platform."""

    scope: Scope
    owner_id: str
    user_id: str | None = None

    @classmethod
    def of_bot(cls, bot: Bot) -> Level:
        return cls("bot", bot.id, bot.user_id)

    @classmethod
    def of_user(cls, user_id: str) -> Level:
        return cls("user", user_id, user_id)

    @classmethod
    def platform(cls) -> Level:
        return cls("platform", PLATFORM, None)


@dataclass
class Outcome:
    """What an evaluation or a reset did, for the trace, the response and the listeners."""

    checks: list[dict[str, Any]] = field(default_factory=list)
    events: list[RiskEvent] = field(default_factory=list)
    halted: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    alerts: list[Event] = field(default_factory=list)

    def merge(self, other: Outcome) -> None:
        self.checks += other.checks
        self.events += other.events
        self.halted += other.halted
        self.released += other.released
        self.alerts += other.alerts


@dataclass
class PreTrade(Outcome):
    blocked: bool = False
    reason: str = ""


def event_dict(row: RiskEvent) -> dict[str, Any]:
    return {
        "id": row.id,
        "scope": row.scope,
        "owner_id": row.owner_id,
        "user_id": row.user_id,
        "kind": row.kind,
        "breaker": row.breaker,
        "reason": row.reason,
        "figures": row.figures,
        "reset_rule": row.reset_rule,
        "active": row.active,
        "created_at": row.created_at.isoformat(),
        "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
    }


class RiskService:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.s = session
        self.clock = clock
        self.repo = RiskRepository(session)
        self.ledger = LedgerService(session, clock)

    # -- limits -----------------------------------------------------------------------
    async def limits(self, level: Level, bot: Bot | None = None) -> BreakerLimits:
        if level.scope == "bot":
            settings = (bot.risk or {}) if bot is not None else {}
            return BreakerLimits.from_dict(settings.get("breakers"))
        return BreakerLimits.from_dict(await self.repo.limits(level.scope, level.owner_id))

    async def set_limits(self, level: Level, settings: dict[str, Any]) -> BreakerLimits:
        """Validate first, then store: a bad setting writes nothing."""
        limits = BreakerLimits.from_dict(settings)
        await self.repo.save_limits(level.scope, level.owner_id, settings, self.clock.now())
        return limits

    # -- figures, all from the ledger -------------------------------------------------
    async def pnl(self, level: Level, price: Price) -> tuple[Decimal, Decimal]:
        """(equity, total PnL) of a level, marked at ``price``."""
        if level.scope == "platform":
            totals = [await self.pnl(Level.of_user(u), price) for u in await self.repo.traders()]
            return sum((t[0] for t in totals), ZERO), sum((t[1] for t in totals), ZERO)
        assert level.user_id is not None
        bot_id = level.owner_id if level.scope == "bot" else None
        point = await self.ledger.mark_to_market(level.user_id, price, bot_id=bot_id)
        return point.equity, point.realised_pnl + point.unrealised_pnl - point.fees

    async def figures(self, level: Level, limits: BreakerLimits, price: Price) -> Figures:
        equity, pnl = await self.pnl(level, price)
        state = await self._roll_state(level, pnl)
        user_id = None if level.scope == "platform" else level.user_id
        bot_id = level.owner_id if level.scope == "bot" else None
        since = self.clock.now() - timedelta(seconds=limits.error_burst_window_s)
        return Figures(
            equity=equity,
            pnl=pnl,
            day_start_pnl=state.day_start_pnl,
            peak_pnl=state.peak_pnl,
            recent_realised=await self.repo.recent_realised(user_id, bot_id, STREAK_LOOKBACK),
            recent_errors=await self.repo.error_count(user_id, bot_id, since),
        )

    async def _roll_state(self, level: Level, pnl: Decimal) -> RiskState:
        """Start a new day at the first evaluation of each UTC day; raise the peak."""
        now = self.clock.now()
        today = now.date().isoformat()
        state = await self.repo.state(level.scope, level.owner_id)
        if state is None:
            state = RiskState(
                id=new_id(), scope=level.scope, owner_id=level.owner_id, day=today,
                day_start_pnl=pnl, peak_pnl=pnl, updated_at=now,
            )  # fmt: skip
            self.repo.add(state)
            await self.s.flush()  # the sessions do not autoflush; later reads must see it
        if state.day != today:
            state.day, state.day_start_pnl = today, pnl
        state.peak_pnl = max(state.peak_pnl, pnl)
        state.updated_at = now
        return state

    # -- evaluation and trips ---------------------------------------------------------
    async def evaluate(self, level: Level, price: Price, bot: Bot | None = None) -> Outcome:
        """Evaluate every enabled rule; trip the ones over their limit (once each)."""
        out = Outcome()
        limits = await self.limits(level, bot)
        if not limits.any_enabled:
            return out
        figures = await self.figures(level, limits, price)
        checks = evaluate(figures, limits)
        out.checks = [{"level": level.scope, **c.to_dict()} for c in checks]
        active = {e.breaker for e in await self._active_at(level)}
        for check in checks:
            if check.tripped and check.name not in active:
                out.merge(await self.trip(level, check, figures))
        return out

    async def _active_at(self, level: Level) -> list[RiskEvent]:
        rows = await self.repo.active()
        return [r for r in rows if r.scope == level.scope and r.owner_id == level.owner_id]

    async def trip(self, level: Level, check: BreakerCheck, figures: Figures) -> Outcome:
        reason = f"{check.name} breaker tripped: {check.detail} (limit {check.limit})"
        row = self._event(level, "trip", reason, check.name, check.reset_rule, figures.to_dict())
        row.active = True
        await self.s.flush()
        out = Outcome(events=[row], halted=await self.halt(level, reason))
        out.alerts.append(self._alert(row))
        return out

    def _event(
        self,
        level: Level,
        kind: str,
        reason: str,
        breaker: str | None,
        rule: str | None,
        figures: dict[str, Any],
    ) -> RiskEvent:
        row = RiskEvent(
            id=new_id(), scope=level.scope, owner_id=level.owner_id, user_id=level.user_id,
            kind=kind, breaker=breaker, reason=reason, figures=figures, reset_rule=rule,
            active=False, created_at=self.clock.now(), resolved_at=None,
        )  # fmt: skip
        self.repo.add(row)
        return row

    def record(
        self, level: Level, kind: str, reason: str, figures: dict[str, Any], *, active: bool
    ) -> RiskEvent:
        """An event with no breaker behind it (an emergency stop), lifted by hand only."""
        row = self._event(level, kind, reason, None, "manual", figures)
        row.active = active
        return row

    def alert(self, row: RiskEvent) -> Event:
        return self._alert(row)

    def _alert(self, row: RiskEvent) -> Event:
        """The event in the shape of the real-time `alert` / `risk` messages (their required
        fields first, the full risk event alongside), so the bus accepts and delivers it."""
        bot_id = row.owner_id if row.scope == "bot" else None
        rule = row.breaker or row.kind
        if row.kind in ("trip", "emergency_stop"):
            data = {
                "level": "critical",
                "code": f"{row.kind}.{rule}",
                "message": row.reason,
                "bot_id": bot_id,
                **event_dict(row),
            }
            return (row.user_id or PLATFORM, "alert", data)
        data = {
            "rule": rule,
            "outcome": row.kind,
            "message": row.reason,
            "bot_id": bot_id,
            **event_dict(row),
        }
        return (row.user_id or PLATFORM, "risk", data)

    async def bots_of(self, level: Level) -> list[Bot]:
        if level.scope == "bot":
            return await self.repo.bots(level.user_id, level.owner_id)
        return await self.repo.bots(level.user_id if level.scope == "user" else None)

    async def halt(self, level: Level, reason: str) -> list[str]:
        """Halt every running or paused bot of the level, saying why."""
        halted = []
        for bot in await self.bots_of(level):
            if bot.status in HALTABLE:
                bot.status = next_status(bot.status, "halt")
                bot.status_reason = reason[:500]
                bot.updated_at = self.clock.now()
                halted.append(bot.id)
        return halted

    async def cancel_orders(
        self, bot_ids: list[str], venues: Mapping[str, PaperVenue], reason: str
    ) -> list[str]:
        """Cancel the bots' open orders in their venue and in the database, at once."""
        orders = await self.repo.open_orders(bot_ids)
        now = self.clock.now()
        for row in orders:
            for venue in venues.values():
                with suppress(DomainError):  # the order lives in one venue only
                    venue.cancel(row.id, reason=reason)
            row.status, row.reason, row.updated_at = "cancelled", reason, now
        return [row.id for row in orders]

    # -- the engine's pre-trade check -------------------------------------------------
    async def pre_trade(self, bot: Bot, price: Price) -> PreTrade:
        """Evaluate the bot's, its user's and (throttled) the platform's breakers, then
        block if any active trip or emergency stop covers the bot."""
        out = PreTrade()
        out.merge(await self.evaluate(Level.of_bot(bot), price, bot))
        out.merge(await self.evaluate(Level.of_user(bot.user_id), price))
        if await self._platform_due():
            out.merge(await self.evaluate(Level.platform(), price))
        covering = await self.repo.active_covering(bot.user_id, bot.id)
        covering += [e for e in out.events if e.active and e not in covering]
        out.blocked = bool(covering)
        out.reason = "; ".join(e.reason for e in covering)
        out.checks.append(
            {
                "level": "all",
                "name": "circuit_breakers",
                "tripped": out.blocked,
                "detail": out.reason or "no active breaker",
            }
        )
        return out

    async def _platform_due(self) -> bool:
        limits = await self.limits(Level.platform())
        if not limits.any_enabled:
            return False
        state = await self.repo.state("platform", PLATFORM)
        if state is None:
            return True
        return (self.clock.now() - state.updated_at).total_seconds() >= PLATFORM_EVERY_S

    # -- resets -----------------------------------------------------------------------
    async def reset(self, level: Level, *, by: str) -> Outcome:
        """Reset every active trip (and emergency stop) at a level by hand."""
        rows = await self._active_at(level)
        if not rows:
            raise NotFound("nothing is tripped at this level", code="no_active_breaker")
        return await self._resolve(rows, f"reset by hand by {by}")

    async def apply_reset_rules(self) -> Outcome:
        """Resolve trips whose rule says they are over (new UTC day, burst window past)."""
        now = self.clock.now()
        due = [row for row in await self.repo.active() if await self._rule_met(row, now)]
        return await self._resolve(due, "reset by rule") if due else Outcome()

    async def _rule_met(self, row: RiskEvent, now: datetime) -> bool:
        if row.reset_rule == "next_utc_day":
            return row.created_at.date() < now.date()
        if row.reset_rule == "window":
            level = Level(row.scope, row.owner_id, row.user_id)  # type: ignore[arg-type]
            bots = await self.bots_of(level) if level.scope == "bot" else []
            limits = await self.limits(level, bots[0] if bots else None)
            return (now - row.created_at).total_seconds() >= limits.error_burst_window_s
        return False

    async def _resolve(self, rows: list[RiskEvent], why: str) -> Outcome:
        out = Outcome()
        now = self.clock.now()
        for row in rows:
            row.active, row.resolved_at = False, now
            level = Level(row.scope, row.owner_id, row.user_id)  # type: ignore[arg-type]
            reason = f"{row.breaker or row.kind} {why}"
            reset = self._event(level, "reset", reason, row.breaker, None, {"trip_id": row.id})
            out.events.append(reset)
            out.alerts.append(self._alert(reset))
        await self.s.flush()
        for row in rows:
            out.released += await self._release(Level(row.scope, row.owner_id, row.user_id))  # type: ignore[arg-type]
        return out

    async def _release(self, level: Level) -> list[str]:
        """Halted bots of the level go to paused, unless another trip still covers them."""
        released = []
        for bot in await self.bots_of(level):
            if bot.status == "halted" and not await self.repo.active_covering(bot.user_id, bot.id):
                bot.status = next_status(bot.status, "release")
                bot.status_reason = "breaker reset; start the bot to trade again"
                bot.updated_at = self.clock.now()
                released.append(bot.id)
        return released

    # -- reading ----------------------------------------------------------------------
    async def status(self, user_id: str, price: Price) -> dict[str, Any]:
        """Limits, live figures and active trips of the user's levels (and the platform)."""
        levels = [Level.of_user(user_id), Level.platform()]
        bots = await self.repo.bots(user_id)
        result: dict[str, Any] = {"levels": [], "active": []}
        for level, bot in [*((lv, None) for lv in levels), *((Level.of_bot(b), b) for b in bots)]:
            limits = await self.limits(level, bot)
            entry: dict[str, Any] = {
                "scope": level.scope,
                "owner_id": level.owner_id,
                "limits": limits.to_dict(),
                "checks": [],
            }
            if limits.any_enabled and level.scope != "platform":
                figures = await self.figures(level, limits, price)
                entry["figures"] = figures.to_dict()
                entry["checks"] = [c.to_dict() for c in evaluate(figures, limits)]
            result["levels"].append(entry)
        covering = await self.repo.active_covering(user_id, None)
        own_bots = {b.id for b in bots}
        covering += [e for e in await self.repo.active() if e.owner_id in own_bots]
        result["active"] = [event_dict(e) for e in covering]
        return result
