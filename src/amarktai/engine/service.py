"""Bot use cases: create/update/delete, lifecycle actions, capital allocation.

Never commits: the request's unit of work does. Money moves only through the ledger,
so "a bot has capital" always means "the ledger says its cash account holds some".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from amarktai.engine.lifecycle import Action, next_status
from amarktai.engine.models import Bot
from amarktai.engine.planner import Limits
from amarktai.engine.repository import TradingRepository
from amarktai.kit.clock import Clock
from amarktai.kit.errors import Conflict, ValidationFailed
from amarktai.kit.ids import new_id
from amarktai.ledger import journal
from amarktai.ledger.service import LedgerService
from amarktai.markets.instruments import InstrumentRegistry
from amarktai.strategies.registry import create_strategy

PAPER_MODES = ("paper_public", "paper_verified")
MODES = (*PAPER_MODES, "live")
MIN_TIMEFRAME_S = 1
MAX_TIMEFRAME_S = 7 * 24 * 3600


@dataclass(frozen=True)
class BotSpec:
    name: str
    strategy: str
    params: dict[str, Any]
    exchange: str
    symbol: str
    timeframe_s: int
    mode: str
    risk: dict[str, Any]


class BotService:
    def __init__(self, session: AsyncSession, clock: Clock, registry: InstrumentRegistry) -> None:
        self.s = session
        self.clock = clock
        self.registry = registry
        self.repo = TradingRepository(session)
        self.ledger = LedgerService(session, clock)

    def validate(self, spec: BotSpec) -> None:
        """Every field checked before anything is written."""
        strategy = create_strategy(spec.strategy, spec.params)  # unknown/out-of-range → 4xx
        self.registry.get(spec.exchange, spec.symbol)  # unknown symbol → 404
        if spec.mode not in MODES:
            raise ValidationFailed(f"mode must be one of {', '.join(MODES)}", code="invalid_mode")
        if spec.mode == "live":
            raise Conflict(
                "live trading needs a connected exchange account; start on paper first",
                code="live_not_available",
            )
        if not MIN_TIMEFRAME_S <= spec.timeframe_s <= MAX_TIMEFRAME_S:
            raise ValidationFailed(
                f"timeframe_s must be between {MIN_TIMEFRAME_S} and {MAX_TIMEFRAME_S}",
                code="invalid_timeframe",
            )
        Limits.from_dict(spec.risk)
        del strategy

    async def create(self, user_id: str, spec: BotSpec) -> Bot:
        self.validate(spec)
        now = self.clock.now()
        params = create_strategy(spec.strategy, spec.params).params.to_dict()
        bot = Bot(
            id=new_id(),
            user_id=user_id,
            name=spec.name,
            strategy=spec.strategy,
            params=params,
            exchange=spec.exchange,
            symbol=spec.symbol,
            timeframe_s=spec.timeframe_s,
            mode=spec.mode,
            status="created",
            status_reason=None,
            risk=dict(spec.risk),
            created_at=now,
            updated_at=now,
        )
        self.s.add(bot)
        await self.s.flush()
        return bot

    async def update(self, user_id: str, bot_id: str, changes: dict[str, Any]) -> Bot:
        bot = await self.repo.bot(user_id, bot_id)
        if bot.status == "running" and set(changes) - {"name"}:
            raise Conflict(
                "pause or stop the bot before changing its strategy or settings",
                code="bot_running",
                details={"current_status": bot.status},
            )
        spec = BotSpec(
            name=changes.get("name", bot.name),
            strategy=changes.get("strategy", bot.strategy),
            params=changes.get("params", bot.params),
            exchange=bot.exchange,
            symbol=changes.get("symbol", bot.symbol),
            timeframe_s=changes.get("timeframe_s", bot.timeframe_s),
            mode=changes.get("mode", bot.mode),
            risk=changes.get("risk", bot.risk),
        )
        self.validate(spec)
        bot.name, bot.strategy, bot.symbol = spec.name, spec.strategy, spec.symbol
        bot.params = create_strategy(spec.strategy, spec.params).params.to_dict()
        bot.timeframe_s, bot.mode, bot.risk = spec.timeframe_s, spec.mode, dict(spec.risk)
        bot.updated_at = self.clock.now()
        return bot

    async def act(self, user_id: str, bot_id: str, action: Action) -> Bot:
        bot = await self.repo.bot(user_id, bot_id)
        target = next_status(bot.status, action)
        if action == "start":
            await self._require_capital(bot)
        bot.status = target
        bot.status_reason = None
        bot.updated_at = self.clock.now()
        return bot

    async def _require_capital(self, bot: Bot) -> None:
        quote = self.registry.get(bot.exchange, bot.symbol).quote
        cash = await self.cash(bot, quote)
        position = await self.ledger.position(
            bot.user_id, bot.id, self.registry.get(bot.exchange, bot.symbol).base, quote
        )
        if cash <= 0 and position.qty <= 0:
            raise Conflict(
                "Allocate capital to the bot before starting it: it has no cash and no position.",
                code="no_allocated_capital",
                details={"current_status": bot.status, "allocated": "0", "asset": quote},
            )

    async def cash(self, bot: Bot, asset: str) -> Decimal:
        account = journal.bot_account(bot.id, "cash")
        return (
            (await self.ledger.balances(bot.user_id, account=account))
            .get(account, {})
            .get(asset, journal.ZERO)
        )

    async def allocate(self, user_id: str, bot_id: str, amount: Decimal) -> Bot:
        bot = await self.repo.bot(user_id, bot_id)
        asset = self.registry.get(bot.exchange, bot.symbol).quote
        await self.ledger.post(
            journal.allocate(user_id, bot.id, asset, amount, description=f"allocate to {bot.name}")
        )
        return bot

    async def deallocate(self, user_id: str, bot_id: str, amount: Decimal) -> Bot:
        bot = await self.repo.bot(user_id, bot_id)
        asset = self.registry.get(bot.exchange, bot.symbol).quote
        await self.ledger.post(
            journal.deallocate(
                user_id, bot.id, asset, amount, description=f"return from {bot.name}"
            )
        )
        return bot

    async def delete(self, user_id: str, bot_id: str) -> None:
        """Only bots that never traded can be deleted; others keep their record (stop them)."""
        bot = await self.repo.bot(user_id, bot_id)
        if bot.status not in ("created", "stopped"):
            raise Conflict(
                f"stop the bot before deleting it (it is {bot.status})",
                code="bot_not_stopped",
                details={"current_status": bot.status},
            )
        entries = await self.ledger.entries(user_id, bot_id=bot.id, limit=1)
        if entries.items:
            raise Conflict(
                "this bot has ledger history; stop it instead of deleting it",
                code="bot_has_history",
            )
        await self.s.delete(bot)
