"""Queries of the trading core; every read a user can trigger is scoped to that user."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, Table, bindparam, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from amarktai.engine.models import Bot, DecisionTrace, FillRow, OrderRow
from amarktai.kit.errors import NotFound, ValidationFailed
from amarktai.kit.pagination import Page, clamp_limit, decode_cursor, encode_cursor
from amarktai.risk.repository import GATE_LIMITS, GATE_TRIPS, GATE_USERS, GateLevels, gate_levels

Row = TypeVar("Row", Bot, OrderRow, FillRow, DecisionTrace)
_BOTS: Table = Bot.__table__  # type: ignore[assignment]
# The close's read: its bots as tag 0 rows, then the gate's rows (see `GATE_LEVELS`).
_BOT_STATES = select(literal(0), _BOTS.c.id, _BOTS.c.user_id, _BOTS.c.status, _BOTS.c.risk).where(
    _BOTS.c.id.in_(bindparam("bot_ids", expanding=True))
)
_CLOSE_READ = union_all(_BOT_STATES, GATE_LIMITS, GATE_TRIPS)


@dataclass(slots=True)
class BotState:
    """The columns of a bot row a candle close decides on, read in that close's own
    transaction and never kept past it, so a pause, stop or risk change made elsewhere
    counts at the next close. Plain values, not an ORM row: hydrating every bot of a
    stream at every close was a large share of the close; the rare paths that change a
    bot (a strategy error, a breaker) load its ORM row then."""

    id: str
    user_id: str
    status: str
    risk: dict[str, Any]


class TradingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def bot(self, user_id: str, bot_id: str) -> Bot:
        row = (
            await self.s.execute(select(Bot).where(Bot.id == bot_id, Bot.user_id == user_id))
        ).scalar_one_or_none()
        if row is None:
            raise NotFound("bot not found", code="bot_not_found")
        return row

    async def bot_any_user(self, bot_id: str) -> Bot | None:
        """For the engine, which runs every user's bots; never reachable from a request."""
        return await self.s.get(Bot, bot_id)

    async def close_read(
        self, bot_ids: Sequence[str], user_ids: Iterable[str]
    ) -> tuple[dict[str, BotState], GateLevels]:
        """For the engine's candle close: the bots' states (missing ids are absent) and
        what its risk gate reads for the platform and `user_ids` (the owners the engine
        expects; the caller checks the bots' own), in one round trip instead of three and
        with no ORM rows built, inside the caller's transaction like every other read."""
        users = sorted(set(user_ids))
        params = {"bot_ids": sorted(set(bot_ids)), GATE_USERS: users}
        rows = (await self.s.execute(_CLOSE_READ, params)).all()
        bots = {r[1]: BotState(r[1], r[2], r[3], r[4] or {}) for r in rows if r[0] == 0}
        return bots, gate_levels(rows, users)

    async def bots_in(self, statuses: Sequence[str]) -> list[Bot]:
        rows = await self.s.execute(select(Bot).where(Bot.status.in_(statuses)))
        return list(rows.scalars())

    async def user_bots(self, user_id: str) -> list[Bot]:
        rows = await self.s.execute(
            select(Bot).where(Bot.user_id == user_id).order_by(Bot.created_at)
        )
        return list(rows.scalars())

    async def order(self, user_id: str, order_id: str) -> OrderRow:
        row = (
            await self.s.execute(
                select(OrderRow).where(OrderRow.id == order_id, OrderRow.user_id == user_id)
            )
        ).scalar_one_or_none()
        if row is None:
            raise NotFound("order not found", code="order_not_found")
        return row

    async def order_by_id(self, order_id: str) -> OrderRow | None:
        return await self.s.get(OrderRow, order_id)

    async def open_orders(
        self, user_id: str | None = None, *, bot_ids: Sequence[str] | None = None
    ) -> list[OrderRow]:
        stmt = select(OrderRow).where(OrderRow.status.in_(("new", "open", "partially_filled")))
        if user_id is not None:
            stmt = stmt.where(OrderRow.user_id == user_id)
        if bot_ids is not None:
            stmt = stmt.where(OrderRow.bot_id.in_(bot_ids)).order_by(OrderRow.id)
        return list((await self.s.execute(stmt)).scalars())

    async def page(
        self,
        model: type[Row],
        user_id: str,
        *,
        cursor: str | None = None,
        limit: int = 50,
        filters: Sequence[Any] = (),
    ) -> Page[Row]:
        """Newest first by id (ids sort by creation time); the cursor is the last id seen."""
        limit = clamp_limit(limit)
        stmt: Select[Any] = select(model).where(model.user_id == user_id, *filters)
        after = decode_cursor(cursor)
        if after is not None:
            if not isinstance(after, str):
                raise ValidationFailed("cursor is not valid", code="invalid_cursor")
            stmt = stmt.where(model.id < after)
        result = await self.s.execute(stmt.order_by(model.id.desc()).limit(limit))
        rows: list[Row] = list(result.scalars())
        nxt = encode_cursor(rows[-1].id) if len(rows) == limit else None
        return Page(rows, nxt)

    async def all_fills(self, user_id: str, bot_id: str | None = None) -> list[FillRow]:
        stmt = select(FillRow).where(FillRow.user_id == user_id)
        if bot_id is not None:
            stmt = stmt.where(FillRow.bot_id == bot_id)
        return list((await self.s.execute(stmt.order_by(FillRow.id))).scalars())
