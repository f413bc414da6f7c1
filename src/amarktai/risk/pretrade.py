"""The engine's risk gate, run at every candle close before a bot's order is planned.

* Circuit breakers (``RiskService.pre_trade``): a trip at the bot's, its user's or the
  platform's level denies the order; the breaker checks land in the decision trace.
* Trade-level exits: stop-loss, take-profit, trailing stop and chandelier from the bot's
  risk settings, measured against the position's entry price as the ledger keeps it
  (cost basis / quantity). The highest high and the ATR since entry are per-runner state
  (they are market facts, not money), restarted from the ledger's entry after a restart.
* Inputs the planner needs: the bot's closed-trade returns (Kelly sizing) and the user's
  exposure against its cap, both from the ledger.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from amarktai.engine.models import Bot
from amarktai.engine.planner import Exposure, Limits
from amarktai.execution.paper import PaperVenue
from amarktai.kit.clock import Clock
from amarktai.kit.money import ZERO
from amarktai.ledger.service import LedgerService
from amarktai.markets.types import Candle, Instrument
from amarktai.risk.breakers import BreakerLimits
from amarktai.risk.exits import Bar, ExitRules, PositionState, advance, check_exit, open_position
from amarktai.risk.models import PLATFORM
from amarktai.risk.portfolio import QUOTE, load_portfolio, price_book
from amarktai.risk.repository import GateLevels, RiskRepository
from amarktai.risk.service import Event, Level, PreTrade, RiskService
from amarktai.strategies.base import Decision


@dataclass
class Gate:
    pre: PreTrade
    trade_returns: list[float] = field(default_factory=list)
    exposure: Exposure | None = None

    @property
    def blocked(self) -> bool:
        return self.pre.blocked

    @property
    def alerts(self) -> list[Event]:
        return self.pre.alerts

    def denied_trace(self, candle: Candle) -> dict[str, Any]:
        return {
            "rule": "circuit_breaker",
            "bar": {"ts": candle.ts.isoformat(), "close": str(candle.close)},
            "risk": {
                "outcome": "denied",
                "checks": self.pre.checks,
                "note": self.pre.reason,
            },
        }


async def gate(
    s: AsyncSession,
    clock: Clock,
    bot: Bot,
    limits: Limits,
    last_prices: Mapping[str, Decimal],
    venues: Mapping[str, PaperVenue],
) -> Gate:
    """Breakers first (a blocked bot is halted and its resting orders cancelled), then
    the ledger inputs the planner needs."""
    risk = RiskService(s, clock)
    price = price_book(last_prices)
    pre = await risk.pre_trade(bot, price)
    if pre.halted:
        await risk.cancel_orders(pre.halted, venues, "circuit_breaker")
    result = Gate(pre)
    if pre.blocked:
        return result
    if limits.sizing == "kelly":
        result.trade_returns = await RiskRepository(s).trade_returns(bot.id)
    user_limits = await risk.limits(Level.of_user(bot.user_id))
    result.exposure = await _exposure(risk.ledger, bot.user_id, user_limits, price)
    return result


class Trader(Protocol):
    """What the quick gate and the exits read of a bot: an ORM `Bot` or the engine's
    per-close `BotState`."""

    @property
    def id(self) -> str: ...

    @property
    def user_id(self) -> str: ...

    @property
    def risk(self) -> dict[str, Any]: ...


@dataclass
class GateCache:
    """What the gate reads that is the same for every bot of a candle close: the user and
    platform limits and the levels of the active trips. With no breaker enabled, no
    exposure cap, no Kelly sizing and no active trip covering a bot, the gate's answer is
    known without a query (and writes nothing); any other bot takes the full `gate`, after
    which the cache is reloaded if that gate tripped or halted anything. Loaded inside
    the close's transaction, never kept across closes."""

    platform: BreakerLimits
    users: dict[str, BreakerLimits]
    active: list[tuple[str, str]]  # (scope, owner_id) of each active trip or stop
    _free_users: frozenset[str] = field(init=False)  # users with no limit the gate applies
    _covered: frozenset[tuple[str, str]] = field(init=False)
    _platform_tripped: bool = field(init=False)

    def __post_init__(self) -> None:
        self._free_users = frozenset(
            u for u, lim in self.users.items() if not lim.any_enabled and lim.max_exposure is None
        )
        self._covered = frozenset(self.active)
        self._platform_tripped = any(scope == PLATFORM for scope, _ in self.active)

    @classmethod
    async def load(cls, s: AsyncSession, user_ids: Iterable[str]) -> GateCache:
        return cls.of(await RiskRepository(s).gate_levels(list(user_ids)))

    @classmethod
    def of(cls, levels: GateLevels) -> GateCache:
        found, active = levels
        users = {
            owner: BreakerLimits.from_dict(settings)
            for (scope, owner), settings in found.items()
            if scope == "user"
        }
        return cls(BreakerLimits.from_dict(found[(PLATFORM, PLATFORM)]), users, active)

    def quick(self, bot: Trader, limits: Limits) -> Gate | None:
        """The gate's result for a bot nothing binds, or None: run the full gate (also
        for a bot whose owner's limits this cache did not load)."""
        if bot.user_id not in self._free_users or limits.sizing == "kelly":
            return None
        breakers = (bot.risk or {}).get("breakers")
        if (breakers and BreakerLimits.from_dict(breakers).any_enabled) or self._binds(bot):
            return None
        return _passed()

    def _binds(self, bot: Trader) -> bool:
        """A platform breaker, or an active trip or stop covering the bot."""
        covered = self._covered
        return (
            self.platform.any_enabled
            or self._platform_tripped
            or ("user", bot.user_id) in covered
            or ("bot", bot.id) in covered
        )


def _passed() -> Gate:
    """A fresh result per bot (its lists are the step's to extend)."""
    pre = PreTrade()
    detail = "no active breaker"
    pre.checks.append(
        {"level": "all", "name": "circuit_breakers", "tripped": False, "detail": detail}
    )
    return Gate(pre)


async def _exposure(
    ledger: LedgerService, user_id: str, limits: BreakerLimits, price: Any
) -> Exposure | None:
    if limits.max_exposure is None:
        return None
    portfolio = await load_portfolio(ledger, user_id, price)
    held = sum((h.value for h in portfolio.holdings if h.asset != QUOTE), ZERO)
    return Exposure(current=held, limit=limits.max_exposure)


async def trade_exit(
    ledger: LedgerService,
    bot: Trader,
    instrument: Instrument,
    state: PositionState | None,
    rules: ExitRules | None,
    candle: Candle,
) -> tuple[Decision | None, PositionState | None]:
    """An exit decision when this bar hits a level, and the state after the bar."""
    if rules is None:
        return None, None
    position = await ledger.position(bot.user_id, bot.id, instrument.base, instrument.quote)
    if position.qty <= 0:
        return None, None
    entry = float(position.cost / position.qty)
    bar = Bar(float(candle.open), float(candle.high), float(candle.low), float(candle.close))
    if state is None:
        return None, advance(open_position("long", entry), bar, rules)
    state = replace(state, entry_price=entry)
    hit = check_exit(state, bar, rules)
    if not hit.should_exit or hit.reason is None:
        return None, advance(state, bar, rules)
    decision = Decision(
        rule=hit.reason,
        signal=-1.0,
        target=0.0,
        inputs={"entry_price": entry, "level": float(hit.level or 0.0), "low": bar.low},
    )
    return decision, None
