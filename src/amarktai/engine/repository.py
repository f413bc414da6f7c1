"""Queries of the trading core; every read a user can trigger is scoped to that user."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from amarktai.engine.models import Bot, DecisionTrace, FillRow, OrderRow
from amarktai.kit.errors import NotFound, ValidationFailed
from amarktai.kit.pagination import Page, clamp_limit, decode_cursor, encode_cursor

Row = TypeVar("Row", Bot, OrderRow, FillRow, DecisionTrace)


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

    async def bots_by_id(self, bot_ids: Sequence[str]) -> dict[str, Bot]:
        """For the engine: many bots of any users in one query (missing ids are absent)."""
        if not bot_ids:
            return {}
        rows = await self.s.execute(select(Bot).where(Bot.id.in_(list(set(bot_ids)))))
        return {bot.id: bot for bot in rows.scalars()}

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

    async def open_orders(self, user_id: str | None = None) -> list[OrderRow]:
        stmt = select(OrderRow).where(OrderRow.status.in_(("new", "open", "partially_filled")))
        if user_id is not None:
            stmt = stmt.where(OrderRow.user_id == user_id)
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
