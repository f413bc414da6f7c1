"""Analytics and exports: equity curves, performance, closed trades, positions, candles,
CSV exports of fills and ledger postings, and a bot's verifiable track record."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import Field

from amarktai.analytics.repository import AnalyticsRepository, LedgerLine, Window
from amarktai.analytics.service import (
    DEFAULT_POINTS,
    MAX_POINTS,
    AnalyticsService,
    fill_record,
)
from amarktai.analytics.trades import RoundTrip
from amarktai.api.deps import CallerDep, RuntimeDep, SessionDep, require_feature
from amarktai.api.schemas import ResponseModel
from amarktai.kit import signing
from amarktai.kit.errors import ValidationFailed
from amarktai.kit.pagination import clamp_limit, decode_cursor, encode_cursor
from amarktai.ledger.journal import decimal_text
from amarktai.runtime import Runtime

router = APIRouter(prefix="/api/v1", tags=["analytics"])
EXPORTS = require_feature("exports")  # an admin may hide the exports
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such bot of yours"}}
EXPORT_BATCH = 1000
TRADE_COLUMNS = (
    "id", "ts", "bot_id", "order_id", "symbol", "side", "price", "qty", "notional", "fee",
    "fee_asset", "liquidity", "realised_pnl", "ledger_entry_id",
)  # fmt: skip
LEDGER_COLUMNS = (
    "seq", "line", "entry_id", "ts", "kind", "bot_id", "description", "account", "asset",
    "amount", "balance", "hash",
)  # fmt: skip


def analytics_service(session: SessionDep, runtime: RuntimeDep) -> AnalyticsService:
    engine = runtime.trading
    return AnalyticsService(
        session,
        runtime.clock,
        runtime.instruments,
        history=engine.history if engine is not None else None,
        last_prices=engine.last_prices if engine is not None else None,
    )


AnalyticsDep = Annotated[AnalyticsService, Depends(analytics_service)]
Points = Annotated[
    int, Query(description=f"curve points, 2..{MAX_POINTS} (fill times included while they fit)")
]


class CurvePointOut(ResponseModel):
    ts: datetime
    equity: str
    unrealised_pnl: str
    realised_pnl: str
    fees: str
    flow: str
    in_market: bool
    index: float


class CurveOut(ResponseModel):
    bot_id: str | None
    quote: str
    points: list[CurvePointOut]


class TradeOut(ResponseModel):
    id: str
    symbol: str
    entry_ts: datetime
    exit_ts: datetime
    duration_s: float
    qty: str
    entry_price: str
    exit_price: str
    pnl: str
    fees: str
    net_pnl: str
    entry_fills: int


class TradePage(ResponseModel):
    items: list[TradeOut]
    next_cursor: str | None


class PositionOut(ResponseModel):
    bot_id: str
    symbol: str
    qty: str
    avg_cost: str
    cost: str
    last_price: str | None
    unrealised_pnl: str | None


class CandleOut(ResponseModel):
    ts: datetime
    open: str
    high: str
    low: str
    close: str
    volume: str


@router.get("/bots/{bot_id}/equity", response_model=CurveOut, responses=NOT_FOUND)
async def bot_equity(
    bot_id: str, caller: CallerDep, analytics: AnalyticsDep, points: Points = DEFAULT_POINTS
) -> CurveOut:
    """The bot's equity marked to market over time; `index` is the time-weighted growth
    of 1 unit (allocations and withdrawals are flows, not returns)."""
    curve = await analytics.bot_curve(caller.id, bot_id, points)
    return CurveOut(
        bot_id=bot_id,
        quote=curve.quote,
        points=[
            CurvePointOut(
                ts=p.ts,
                equity=decimal_text(p.equity),
                unrealised_pnl=decimal_text(p.unrealised_pnl),
                realised_pnl=decimal_text(p.realised_pnl),
                fees=decimal_text(p.fees),
                flow=decimal_text(p.flow),
                in_market=p.in_market,
                index=p.index,
            )
            for p in curve.points
        ],
    )


@router.get("/bots/{bot_id}/performance", responses=NOT_FOUND)
async def bot_performance(
    bot_id: str, caller: CallerDep, analytics: AnalyticsDep, points: Points = DEFAULT_POINTS
) -> dict[str, Any]:
    """Equity, realised/unrealised PnL, fees, and metrics (return, CAGR, Sharpe, Sortino,
    Calmar, max drawdown, win rate, profit factor, expectancy, exposure).

    `metrics.n_trades` counts closed round trips; `n_fills` counts every fill. Annualised
    figures are null on a young history, with the reason in `metrics.unavailable`
    (volatility, Sharpe, Sortino: 30 periods over a day; CAGR, Calmar: 7 days)."""
    return await analytics.bot_performance(caller.id, bot_id, points)


@router.get("/performance")
async def user_performance(
    caller: CallerDep, analytics: AnalyticsDep, points: Points = DEFAULT_POINTS
) -> dict[str, Any]:
    """`user`: the whole book (free cash included); `bots`: the same summary per bot."""
    return await analytics.user_performance(caller.id, points)


@router.get("/bots/{bot_id}/trades", response_model=TradePage, responses=NOT_FOUND)
async def bot_trades(
    bot_id: str,
    caller: CallerDep,
    analytics: AnalyticsDep,
    cursor: str | None = None,
    limit: int = Query(default=50),
) -> TradePage:
    """Closed trades (each exit fill with the entries it closes), newest first."""
    limit = clamp_limit(limit)
    before = decode_cursor(cursor)
    if before is not None and not isinstance(before, str):
        raise ValidationFailed("cursor is not valid", code="invalid_cursor")
    trips = sorted(await analytics.trades(caller.id, bot_id), key=lambda t: t.id, reverse=True)
    if before is not None:
        trips = [t for t in trips if t.id < before]
    page = trips[:limit]
    more = len(trips) > limit
    return TradePage(
        items=[_trade(t) for t in page], next_cursor=encode_cursor(page[-1].id) if more else None
    )


def _trade(t: RoundTrip) -> TradeOut:
    return TradeOut(
        id=t.id,
        symbol=t.symbol,
        entry_ts=t.entry_ts,
        exit_ts=t.exit_ts,
        duration_s=t.duration_s,
        qty=decimal_text(t.qty),
        entry_price=decimal_text(t.entry_price),
        exit_price=decimal_text(t.exit_price),
        pnl=decimal_text(t.pnl),
        fees=decimal_text(t.fees),
        net_pnl=decimal_text(t.net_pnl),
        entry_fills=t.entry_fills,
    )


@router.get("/positions", response_model=list[PositionOut])
async def positions(caller: CallerDep, analytics: AnalyticsDep) -> list[PositionOut]:
    """Open positions per bot: quantity, average cost, last price, unrealised PnL."""
    return [
        PositionOut(
            bot_id=p.bot_id,
            symbol=p.symbol,
            qty=decimal_text(p.qty),
            avg_cost=decimal_text(p.avg_cost),
            cost=decimal_text(p.cost),
            last_price=None if p.last_price is None else decimal_text(p.last_price),
            unrealised_pnl=None if p.unrealised_pnl is None else decimal_text(p.unrealised_pnl),
        )
        for p in await analytics.positions(caller.id)
    ]


@router.get(
    "/markets/{symbol:path}/candles",
    response_model=list[CandleOut],
    tags=["markets"],
    responses={404: {"description": "unknown symbol"}},
)
async def candles(
    symbol: str,
    _: CallerDep,
    runtime: RuntimeDep,
    exchange: str = "sim",
    timeframe_s: int = Query(default=60, ge=1, le=86_400),
    limit: int = Query(default=200, ge=1, le=2000),
) -> list[CandleOut]:
    """Recent candles from the engine's in-memory history (`BTC/ZAR` or `BTC-ZAR`);
    empty when this process runs no engine or has not seen the symbol trade yet."""
    inst = runtime.instruments.get(exchange, symbol.replace("-", "/"))
    if runtime.trading is None:
        return []
    bars = runtime.trading.history.candles(inst.symbol, timeframe_s, limit)
    return [
        CandleOut(
            ts=c.ts,
            open=decimal_text(c.open),
            high=decimal_text(c.high),
            low=decimal_text(c.low),
            close=decimal_text(c.close),
            volume=decimal_text(c.volume),
        )
        for c in bars
    ]


@router.get(
    "/exports/trades.csv",
    response_class=StreamingResponse,
    dependencies=[EXPORTS],
    responses={200: {"content": {"text/csv": {}}, "description": "CSV, one row per line"}},
)
async def export_trades(
    caller: CallerDep,
    analytics: AnalyticsDep,
    runtime: RuntimeDep,
    bot_id: str | None = None,
    start: datetime | None = Query(default=None, alias="from"),
    end: datetime | None = Query(default=None, alias="to"),
) -> StreamingResponse:
    """Every fill (oldest first) as CSV; decimals as exact text."""
    window = await _window(analytics, caller.id, bot_id, start, end)
    rows = _stream_fills(runtime, window)
    return _csv_response(TRADE_COLUMNS, rows, "trades.csv")


@router.get(
    "/exports/ledger.csv",
    response_class=StreamingResponse,
    dependencies=[EXPORTS],
    responses={200: {"content": {"text/csv": {}}, "description": "CSV, one row per line"}},
)
async def export_ledger(
    caller: CallerDep,
    analytics: AnalyticsDep,
    runtime: RuntimeDep,
    bot_id: str | None = None,
    start: datetime | None = Query(default=None, alias="from"),
    end: datetime | None = Query(default=None, alias="to"),
) -> StreamingResponse:
    """Every posting in journal order with its entry's kind, description and hash."""
    window = await _window(analytics, caller.id, bot_id, start, end)
    rows = _stream_ledger(runtime, window)
    return _csv_response(LEDGER_COLUMNS, rows, "ledger.csv")


@router.get("/exports/track-record", responses=NOT_FOUND, dependencies=[EXPORTS])
async def export_track_record(
    caller: CallerDep, analytics: AnalyticsDep, runtime: RuntimeDep, bot_id: str = Query()
) -> dict[str, Any]:
    """A bot's hash-chained ledger entries, the chain links covering them and its fills,
    signed by the platform's Ed25519 key (`signature`); anyone checks it offline with
    `amarktai ledger verify-export FILE --public-key KEY`, the key taken from
    `GET /api/v1/ledger/public-key`."""
    return await analytics.track_record(caller.id, bot_id, runtime.signing_key)


class PublicKeyOut(ResponseModel):
    alg: str = Field(description="always ed25519")
    key_id: str = Field(description="first 16 hex digits of SHA-256 of the raw public key")
    public_key: str = Field(description="base64 of the 32 raw public-key bytes")
    pem: str = Field(description="the same key as PEM (SubjectPublicKeyInfo)")


@router.get("/ledger/public-key", response_model=PublicKeyOut, tags=["wallet"])
async def public_key(runtime: RuntimeDep) -> PublicKeyOut:
    """The platform's public signing key: what authenticates a track-record export.

    No login needed, on purpose: whoever is shown an export (a prospective copier, an
    auditor) checks it against this key with `amarktai ledger verify-export FILE
    --public-key KEY`. Take the key from here (or the operator), never from the file."""
    key = runtime.signing_key.public_key()
    return PublicKeyOut(
        alg=signing.ALG,
        key_id=signing.key_id(key),
        public_key=signing.public_text(key),
        pem=signing.public_pem(key),
    )


async def _window(
    analytics: AnalyticsService,
    user_id: str,
    bot_id: str | None,
    start: datetime | None,
    end: datetime | None,
) -> Window:
    """Checked before streaming starts, so a bad filter is a clean 4xx, not a cut stream."""
    for value in (start, end):
        if value is not None and value.tzinfo is None:
            raise ValidationFailed("from/to need a timezone (e.g. Z)", code="naive_timestamp")
    if start is not None and end is not None and start > end:
        raise ValidationFailed("from must not be after to", code="invalid_range")
    if bot_id is not None:
        await analytics.trading.bot(user_id, bot_id)  # 404 unless it is the caller's
    return Window(
        user_id,
        bot_id,
        start.astimezone(UTC) if start else None,
        end.astimezone(UTC) if end else None,
    )


async def _stream_fills(runtime: Runtime, window: Window) -> AsyncIterator[list[str]]:
    """Its own read session: the request's unit of work has ended when the body streams."""
    after: str | None = None
    async with runtime.sessions() as session:
        repo = AnalyticsRepository(session)
        while True:
            batch = await repo.fills_after(window, after, EXPORT_BATCH)
            for fill in batch:
                record = fill_record(fill)
                yield [record[c] for c in TRADE_COLUMNS]
            if len(batch) < EXPORT_BATCH:
                return
            after = batch[-1].id


async def _stream_ledger(runtime: Runtime, window: Window) -> AsyncIterator[list[str]]:
    after = (0, -1)
    async with runtime.sessions() as session:
        repo = AnalyticsRepository(session)
        while True:
            batch = await repo.ledger_lines_after(window, after, EXPORT_BATCH)
            for line in batch:
                yield _ledger_row(line)
            if len(batch) < EXPORT_BATCH:
                return
            after = (batch[-1].seq, batch[-1].line)


def _ledger_row(line: LedgerLine) -> list[str]:
    return [
        str(line.seq),
        str(line.line),
        line.entry_id,
        line.ts.astimezone(UTC).isoformat(),
        line.kind,
        line.bot_id or "",
        line.description,
        line.account,
        line.asset,
        str(line.amount),
        str(line.balance),
        line.hash,
    ]


def _csv_response(
    columns: Iterable[str], rows: AsyncIterator[list[str]], filename: str
) -> StreamingResponse:
    async def body() -> AsyncIterator[str]:
        yield _csv_line(list(columns))
        async for row in rows:
            yield _csv_line(row)

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _csv_line(values: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(values)
    return out.getvalue()
