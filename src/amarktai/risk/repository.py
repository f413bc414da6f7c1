"""Queries of risk management: limits, breaker state, risk events, and the trading facts
breakers are judged on (closed-trade PnL, error decisions). Only this module runs SQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, Table, bindparam, func, literal, null, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from amarktai.engine.models import Bot, DecisionTrace, FillRow, OrderRow
from amarktai.kit.ids import new_id
from amarktai.risk.models import PLATFORM, RiskEvent, RiskLimits, RiskState

ERROR_OUTCOMES = ("error", "rejected")
OPEN_STATUSES = ("new", "open", "partially_filled")
LevelKey = tuple[str, str]  # (scope, owner_id)
GateLevels = tuple[dict[LevelKey, dict[str, Any]], list[LevelKey]]  # limits per level, active trips
_LIMITS: Table = RiskLimits.__table__  # type: ignore[assignment]
_EVENTS: Table = RiskEvent.__table__  # type: ignore[assignment]

# The gate's reads as (tag, scope, owner_id, NULL, settings) rows, so the engine can run
# them in the same statement as its bot rows (tag 0): tag 1 the platform's and the
# `GATE_USERS` users' limits, tag 2 the level of each active trip or stop. Built once:
# the statement's shape never changes, only the expanding user list.
GATE_USERS = "gate_users"
GATE_LIMITS = select(
    literal(1), _LIMITS.c.scope, _LIMITS.c.owner_id, null(), _LIMITS.c.settings
).where(
    ((_LIMITS.c.scope == PLATFORM) & (_LIMITS.c.owner_id == PLATFORM))
    | ((_LIMITS.c.scope == "user") & _LIMITS.c.owner_id.in_(bindparam(GATE_USERS, expanding=True)))
)
GATE_TRIPS = select(literal(2), _EVENTS.c.scope, _EVENTS.c.owner_id, null(), null()).where(
    _EVENTS.c.active.is_(True)
)
GATE_LEVELS = union_all(GATE_LIMITS, GATE_TRIPS)


def gate_levels(rows: Iterable[Sequence[Any]], user_ids: Iterable[str]) -> GateLevels:
    """Limits per level (the platform's and each user's, {} when unset) and the levels of
    the active trips, from the tagged rows above (other tags are skipped)."""
    found: dict[LevelKey, dict[str, Any]] = {}
    active: list[LevelKey] = []
    for tag, scope, owner, _, settings in rows:
        if tag == 1:
            found[(scope, owner)] = dict(settings or {})
        elif tag == 2:
            active.append((scope, owner))
    levels = [(PLATFORM, PLATFORM), *(("user", u) for u in sorted(set(user_ids)))]
    return {level: found.get(level, {}) for level in levels}, active


class RiskRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    # -- limits and state -----------------------------------------------------------
    async def limits(self, scope: str, owner_id: str) -> dict[str, Any]:
        row = await self._limits_row(scope, owner_id)
        return dict(row.settings) if row else {}

    async def gate_levels(self, user_ids: Sequence[str]) -> GateLevels:
        """The platform's and these users' limit settings (absent levels map to {}), and
        the levels of every active trip or stop: what the engine's pre-trade gate reads at
        each candle close, in one round trip and without building ORM rows."""
        users = sorted(set(user_ids))
        rows = await self.s.execute(GATE_LEVELS, {GATE_USERS: users})
        return gate_levels(rows, users)

    async def save_limits(
        self, scope: str, owner_id: str, settings: dict[str, Any], now: datetime
    ) -> None:
        row = await self._limits_row(scope, owner_id)
        if row is None:
            row = RiskLimits(id=new_id(), scope=scope, owner_id=owner_id)
            self.s.add(row)
        row.settings, row.updated_at = dict(settings), now

    async def _limits_row(self, scope: str, owner_id: str) -> RiskLimits | None:
        stmt = select(RiskLimits).where(RiskLimits.scope == scope, RiskLimits.owner_id == owner_id)
        return (await self.s.execute(stmt)).scalar_one_or_none()

    async def state(self, scope: str, owner_id: str) -> RiskState | None:
        stmt = select(RiskState).where(RiskState.scope == scope, RiskState.owner_id == owner_id)
        return (await self.s.execute(stmt)).scalar_one_or_none()

    def add(self, row: RiskState | RiskEvent) -> None:
        self.s.add(row)

    # -- events ---------------------------------------------------------------------
    async def active_covering(self, user_id: str, bot_id: str | None) -> list[RiskEvent]:
        """Active trips and stops that bind a bot (its own, its user's, the platform's)."""
        levels = [
            (RiskEvent.scope == "user") & (RiskEvent.owner_id == user_id),
            RiskEvent.scope == PLATFORM,
        ]
        if bot_id is not None:
            levels.append((RiskEvent.scope == "bot") & (RiskEvent.owner_id == bot_id))
        stmt = select(RiskEvent).where(RiskEvent.active.is_(True), or_(*levels))
        return list((await self.s.execute(stmt.order_by(RiskEvent.id))).scalars())

    async def active(self) -> list[RiskEvent]:
        stmt = select(RiskEvent).where(RiskEvent.active.is_(True)).order_by(RiskEvent.id)
        return list((await self.s.execute(stmt)).scalars())

    async def events(self, user_id: str | None, limit: int) -> list[RiskEvent]:
        stmt: Select[Any] = select(RiskEvent)
        if user_id is not None:
            stmt = stmt.where(or_(RiskEvent.user_id == user_id, RiskEvent.scope == PLATFORM))
        rows = await self.s.execute(stmt.order_by(RiskEvent.id.desc()).limit(limit))
        return list(rows.scalars())

    # -- trading facts --------------------------------------------------------------
    async def recent_realised(
        self, user_id: str | None, bot_id: str | None, limit: int
    ) -> tuple[Decimal, ...]:
        """Realised PnL of the latest closed trades (sell fills), newest first."""
        stmt = select(FillRow.realised_pnl).where(FillRow.realised_pnl.is_not(None))
        stmt = _scoped(stmt, FillRow, user_id, bot_id)
        rows = await self.s.execute(stmt.order_by(FillRow.id.desc()).limit(limit))
        return tuple(value for value in rows.scalars() if value is not None)

    async def trade_returns(self, bot_id: str, limit: int = 500) -> list[float]:
        """Per closed trade, realised PnL over the cost it released (for Kelly sizing)."""
        stmt = select(FillRow.realised_pnl, FillRow.price, FillRow.qty).where(
            FillRow.bot_id == bot_id, FillRow.realised_pnl.is_not(None)
        )
        rows = await self.s.execute(stmt.order_by(FillRow.id.desc()).limit(limit))
        out = []
        for realised, price, qty in rows:
            if realised is None:
                continue
            cost = price * qty - realised
            if cost > 0:
                out.append(float(realised / cost))
        return out[::-1]

    async def error_count(self, user_id: str | None, bot_id: str | None, since: datetime) -> int:
        stmt = select(func.count()).select_from(DecisionTrace)
        stmt = stmt.where(DecisionTrace.outcome.in_(ERROR_OUTCOMES), DecisionTrace.ts >= since)
        stmt = _scoped(stmt, DecisionTrace, user_id, bot_id)
        return int((await self.s.execute(stmt)).scalar_one())

    async def bots(self, user_id: str | None, bot_id: str | None = None) -> list[Bot]:
        stmt = _scoped(select(Bot), Bot, user_id, None)
        if bot_id is not None:
            stmt = stmt.where(Bot.id == bot_id)
        return list((await self.s.execute(stmt.order_by(Bot.id))).scalars())

    async def open_orders(self, bot_ids: Sequence[str]) -> list[OrderRow]:
        if not bot_ids:
            return []
        stmt = select(OrderRow).where(
            OrderRow.status.in_(OPEN_STATUSES), OrderRow.bot_id.in_(list(bot_ids))
        )
        return list((await self.s.execute(stmt)).scalars())

    async def traders(self) -> list[str]:
        """Users who own a bot: the platform's PnL is the sum of theirs."""
        rows = await self.s.execute(select(Bot.user_id).distinct().order_by(Bot.user_id))
        return list(rows.scalars())


def _scoped(stmt: Select[Any], model: Any, user_id: str | None, bot_id: str | None) -> Select[Any]:
    if user_id is not None:
        stmt = stmt.where(model.user_id == user_id)
    if bot_id is not None:
        stmt = stmt.where(model.bot_id == bot_id)
    return stmt
