"""Analytics use cases: equity curves, performance, closed trades, positions, track records.

Figures come from the ledger (balances, flows, PnL) and the recorded fills, never from a
bot's memory. Past prices, needed to mark positions to market at earlier instants, come
from the engine's in-memory 1-second price ring while it still covers the instant, and
otherwise from the last fill the platform recorded on that symbol at or before it (the
last price the bot actually traded at). Fills are durable and exist for every instant a
position was held, so curves survive restarts; the ring only sharpens recent marks.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncSession

from amarktai.analytics import track_record
from amarktai.analytics.equity import CurvePoint, equity_curve, sample_instants, span
from amarktai.analytics.metrics import compute_metrics
from amarktai.analytics.repository import AnalyticsRepository
from amarktai.analytics.trades import RoundTrip, mul, round_trips
from amarktai.engine.models import Bot, FillRow
from amarktai.engine.repository import TradingRepository
from amarktai.kit.clock import Clock
from amarktai.kit.errors import ValidationFailed
from amarktai.ledger.journal import ZERO, Entry, decimal_text, exact
from amarktai.ledger.service import LedgerService
from amarktai.markets.history import PriceHistory
from amarktai.markets.instruments import InstrumentRegistry

DEFAULT_POINTS = 200
MAX_POINTS = 2000


@dataclass(frozen=True)
class Curve:
    quote: str
    points: list[CurvePoint]


@dataclass(frozen=True)
class OpenPosition:
    bot_id: str
    symbol: str
    qty: Decimal
    cost: Decimal
    avg_cost: Decimal
    last_price: Decimal | None

    @property
    def unrealised_pnl(self) -> Decimal | None:
        if self.last_price is None:
            return None
        return exact(self.qty * self.last_price - self.cost)


class PriceBook:
    """`price(asset, instant)` for marking: the engine's ring first, then recorded fills."""

    def __init__(
        self,
        symbols: Mapping[str, str],
        fills: Sequence[FillRow],
        history: PriceHistory | None,
        last_prices: Mapping[str, Decimal],
    ) -> None:
        self.symbols, self.history, self.last_prices = symbols, history, last_prices
        self.trades: dict[str, tuple[list[datetime], list[Decimal]]] = {}
        for fill in sorted(fills, key=lambda f: (f.ts, f.id)):
            times, prices = self.trades.setdefault(fill.symbol, ([], []))
            times.append(fill.ts)
            prices.append(fill.price)

    def __call__(self, asset: str, when: datetime) -> Decimal:
        symbol = self.symbols.get(asset)
        if symbol is None:
            raise KeyError(asset)
        if self.history is not None:
            recent = self.history.price_at(symbol, when)
            if recent is not None:
                return recent
        times, prices = self.trades.get(symbol, ([], []))
        index = bisect.bisect_right(times, when) - 1
        if index >= 0:
            return prices[index]
        if prices:
            return prices[0]
        if symbol in self.last_prices:
            return self.last_prices[symbol]
        raise KeyError(asset)

    def last(self, symbol: str) -> Decimal | None:
        if symbol in self.last_prices:
            return self.last_prices[symbol]
        prices = self.trades.get(symbol, ([], []))[1]
        return prices[-1] if prices else None


class AnalyticsService:
    def __init__(
        self,
        session: AsyncSession,
        clock: Clock,
        registry: InstrumentRegistry,
        *,
        history: PriceHistory | None = None,
        last_prices: Mapping[str, Decimal] | None = None,
    ) -> None:
        self.clock, self.registry, self.history = clock, registry, history
        self.last_prices: Mapping[str, Decimal] = last_prices or {}
        self.ledger = LedgerService(session, clock)
        self.trading = TradingRepository(session)
        self.repo = AnalyticsRepository(session)

    # -- curves and performance -----------------------------------------------------------

    async def bot_curve(self, user_id: str, bot_id: str, points: int = DEFAULT_POINTS) -> Curve:
        bot = await self.trading.bot(user_id, bot_id)
        return await self._curve(user_id, [bot], bot, points)

    async def user_curve(self, user_id: str, points: int = DEFAULT_POINTS) -> Curve:
        bots = await self.trading.user_bots(user_id)
        return await self._curve(user_id, bots, None, points)

    async def bot_performance(
        self, user_id: str, bot_id: str, points: int = DEFAULT_POINTS
    ) -> dict[str, Any]:
        bot = await self.trading.bot(user_id, bot_id)
        curve = await self._curve(user_id, [bot], bot, points)
        fills = await self.trading.all_fills(user_id, bot.id)
        trips = round_trips(fills, curve.quote)
        return {"bot_id": bot.id, "name": bot.name, **performance(curve, trips, len(fills))}

    async def user_performance(self, user_id: str, points: int = DEFAULT_POINTS) -> dict[str, Any]:
        """The user's whole book (free cash included), and one summary per bot."""
        bots = await self.trading.user_bots(user_id)
        fills = await self.trading.all_fills(user_id)
        curve = await self._curve(user_id, bots, None, points, fills)
        all_trips: list[RoundTrip] = []
        per_bot = []
        for bot in bots:
            bot_curve = await self._curve(user_id, bots, bot, points, fills)
            own = [f for f in fills if f.bot_id == bot.id]
            trips = round_trips(own, bot_curve.quote)
            all_trips.extend(trips)
            summary = performance(bot_curve, trips, len(own))
            per_bot.append({"bot_id": bot.id, "name": bot.name, "status": bot.status, **summary})
        return {"user": performance(curve, all_trips, len(fills)), "bots": per_bot}

    async def _curve(
        self,
        user_id: str,
        bots: Sequence[Bot],
        bot: Bot | None,
        points: int,
        fills: Sequence[FillRow] | None = None,
    ) -> Curve:
        if not 2 <= points <= MAX_POINTS:
            raise ValidationFailed(
                f"points must be between 2 and {MAX_POINTS}", code="invalid_points"
            )
        quote = self._quote(bot) if bot is not None else "ZAR"
        entries = await self.entries(user_id, bot.id if bot is not None else None)
        fills = fills if fills is not None else await self.trading.all_fills(user_id)
        window = span(entries, self.clock.now().astimezone(UTC))
        if window is None:
            return Curve(quote, [])
        mine = [f for f in fills if bot is None or f.bot_id == bot.id]
        instants = sample_instants(*window, [f.ts for f in mine], points)
        book = PriceBook(self._symbols(bots, quote), fills, self.history, self.last_prices)
        try:
            curve = equity_curve(
                entries, instants, book, bot_id=bot.id if bot else None, quote=quote
            )
        except KeyError as exc:
            raise ValidationFailed(f"no price for {exc.args[0]}", code="missing_price") from exc
        return Curve(quote, curve)

    async def entries(self, user_id: str, bot_id: str | None) -> list[Entry]:
        """Every entry of the user (or touching one bot), oldest first."""
        return await self.repo.entries(user_id, bot_id)

    def _quote(self, bot: Bot) -> str:
        return self.registry.get(bot.exchange, bot.symbol).quote

    def _symbols(self, bots: Sequence[Bot], quote: str) -> dict[str, str]:
        """Which symbol prices each base asset in `quote`, from the user's own bots."""
        symbols: dict[str, str] = {}
        for bot in bots:
            inst = self.registry.get(bot.exchange, bot.symbol)
            if inst.quote == quote:
                symbols.setdefault(inst.base, inst.symbol)
        return symbols

    # -- trades and positions -------------------------------------------------------------

    async def trades(self, user_id: str, bot_id: str) -> list[RoundTrip]:
        bot = await self.trading.bot(user_id, bot_id)
        return round_trips(await self.trading.all_fills(user_id, bot.id), self._quote(bot))

    async def positions(self, user_id: str) -> list[OpenPosition]:
        """Open positions of every bot of the user, marked at the latest known price."""
        bots = await self.trading.user_bots(user_id)
        fills = await self.trading.all_fills(user_id)
        book = PriceBook({}, fills, None, self.last_prices)
        found = []
        for bot in bots:
            inst = self.registry.get(bot.exchange, bot.symbol)
            held = await self.ledger.position(user_id, bot.id, inst.base, inst.quote)
            if held.qty > 0:
                avg = exact(held.cost / held.qty)
                last = book.last(bot.symbol)
                found.append(OpenPosition(bot.id, bot.symbol, held.qty, held.cost, avg, last))
        return found

    # -- verifiable track record ----------------------------------------------------------

    async def track_record(
        self, user_id: str, bot_id: str, key: Ed25519PrivateKey
    ) -> dict[str, Any]:
        bot = await self.trading.bot(user_id, bot_id)
        return await self.export_bot(bot, key)

    async def export_bot(self, bot: Bot, key: Ed25519PrivateKey) -> dict[str, Any]:
        """The bot's entries, the chain links covering them, and its fills, signed with
        the platform's `key` (see ``amarktai.analytics.track_record``): the key is an
        argument, not an option, so no caller can hand out an unsigned export. Operators
        export any bot via the CLI."""
        entries = await self.entries(bot.user_id, bot.id)
        links = await self.repo.links_from(entries[0].seq) if entries else []
        fills = await self.trading.all_fills(bot.user_id, bot.id)
        return track_record.build(
            _bot_info(bot),
            entries,
            links,
            [fill_record(f) for f in fills],
            self.clock.now().astimezone(UTC),
            key,
        )


def performance(curve: Curve, trips: Sequence[RoundTrip], n_fills: int) -> dict[str, Any]:
    """Money figures (decimal text) at the curve's end, and the metrics of its index.

    ``metrics.n_trades`` counts closed round trips (a position opened and closed); a bot
    can have fills and none closed yet, so ``n_fills`` is given beside it."""
    pts = curve.points
    last = pts[-1] if pts else None
    stamps = np.array([p.ts.astimezone(UTC).replace(tzinfo=None) for p in pts], "datetime64[ns]")
    metrics = compute_metrics(
        stamps,
        [p.index for p in pts],
        [float(t.net_pnl) for t in trips],
        in_market=[p.in_market for p in pts],
    )
    realised = last.realised_pnl if last else ZERO
    unrealised = last.unrealised_pnl if last else ZERO
    fees = last.fees if last else ZERO
    return {
        "quote": curve.quote,
        "as_of": last.ts.isoformat() if last else None,
        "equity": decimal_text(last.equity if last else ZERO),
        "realised_pnl": decimal_text(realised),
        "unrealised_pnl": decimal_text(unrealised),
        "fees": decimal_text(fees),
        "net_pnl": decimal_text(exact(realised + unrealised - fees)),
        "net_flows": decimal_text(exact(sum((p.flow for p in pts), ZERO))),
        "n_fills": n_fills,
        "metrics": metrics.to_dict(),
    }


def fill_record(fill: FillRow) -> dict[str, Any]:
    """A fill as text fields (CSV rows and the track-record export share it)."""
    return {
        "id": fill.id,
        "ts": fill.ts.astimezone(UTC).isoformat(),
        "bot_id": fill.bot_id,
        "order_id": fill.order_id,
        "symbol": fill.symbol,
        "side": fill.side,
        "price": str(fill.price),
        "qty": str(fill.qty),
        "notional": str(mul(fill.price, fill.qty)),
        "fee": str(fill.fee),
        "fee_asset": fill.fee_asset,
        "liquidity": fill.liquidity,
        "realised_pnl": "" if fill.realised_pnl is None else str(fill.realised_pnl),
        "ledger_entry_id": fill.ledger_entry_id or "",
    }


def _bot_info(bot: Bot) -> dict[str, Any]:
    return {
        "id": bot.id,
        "name": bot.name,
        "strategy": bot.strategy,
        "params": bot.params,
        "exchange": bot.exchange,
        "symbol": bot.symbol,
        "timeframe_s": bot.timeframe_s,
        "mode": bot.mode,
        "created_at": bot.created_at.astimezone(UTC).isoformat(),
    }
