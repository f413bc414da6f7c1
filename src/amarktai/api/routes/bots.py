"""Bots: CRUD, lifecycle (start / pause / stop), capital allocation, decision traces,
orders and fills."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

from fastapi import APIRouter, BackgroundTasks, Query, status
from pydantic import Field

from amarktai.accounts.features import Features
from amarktai.api.deps import BotsDep, CallerDep, RuntimeDep, TraderDep
from amarktai.api.schemas import RequestModel, ResponseModel
from amarktai.engine.lifecycle import Action
from amarktai.engine.models import Bot, DecisionTrace, FillRow, OrderRow
from amarktai.engine.runner import bot_holdings
from amarktai.engine.service import BotSpec
from amarktai.kit.errors import Conflict
from amarktai.realtime.producers import bus_listener
from amarktai.runtime import Runtime

router = APIRouter(prefix="/api/v1", tags=["bots"])
T = TypeVar("T")

Mode = Literal["paper_public", "paper_verified", "live"]
STATE_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"description": "invalid transition; `details.current_status` says the bot's state"},
    404: {"description": "no such bot of yours"},
}


class BotIn(RequestModel):
    name: str = Field(min_length=1, max_length=100)
    strategy: str = Field(description="see GET /api/v1/strategies", max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)
    exchange: str = Field(default="sim", max_length=32)
    symbol: str = Field(max_length=32, examples=["BTC/ZAR"])
    timeframe_s: int = Field(default=60, description="candle length in seconds")
    mode: Mode = "paper_public"
    risk: dict[str, Any] = Field(
        default_factory=dict, description='e.g. {"max_position_fraction": 0.5}'
    )
    allocation: Decimal | None = Field(
        default=None, gt=0, description="quote-currency capital moved from free cash to the bot"
    )


class BotPatch(RequestModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    strategy: str | None = None
    params: dict[str, Any] | None = None
    symbol: str | None = None
    timeframe_s: int | None = None
    mode: Mode | None = None
    risk: dict[str, Any] | None = None


class AmountIn(RequestModel):
    amount: Decimal = Field(gt=0, max_digits=38, decimal_places=18)


class BotOut(ResponseModel):
    id: str
    name: str
    strategy: str
    params: dict[str, Any]
    exchange: str
    symbol: str
    timeframe_s: int
    mode: str
    status: str
    status_reason: str | None
    risk: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    cash: Decimal | None = None
    position_qty: Decimal | None = None
    equity: Decimal | None = None
    last_price: Decimal | None = None


class OrderOut(ResponseModel):
    id: str
    bot_id: str
    client_order_id: str
    symbol: str
    side: str
    type: str
    time_in_force: str
    qty: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    status: str
    filled_qty: Decimal
    avg_price: Decimal | None
    fees: Decimal
    reason: str | None
    created_at: datetime
    updated_at: datetime
    triggered: bool = Field(
        description="A stop or stop-limit whose stop price has traded: it now acts as a "
        "market (stop) or limit (stop-limit) order"
    )


class FillOut(ResponseModel):
    id: str
    order_id: str
    bot_id: str
    ts: datetime
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    fee: Decimal
    fee_asset: str
    liquidity: str
    realised_pnl: Decimal | None
    ledger_entry_id: str | None


class TraceOut(ResponseModel):
    id: str
    bot_id: str
    ts: datetime
    rule: str
    signal: float
    outcome: str
    trace: dict[str, Any]
    order_id: str | None


class Page(ResponseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


async def _with_money(bots: BotsDep, runtime: Runtime, bot: Bot) -> BotOut:
    out = BotOut.model_validate(bot)
    inst = runtime.instruments.get(bot.exchange, bot.symbol)
    holdings = await bot_holdings(bots.ledger, bot.user_id, bot.id, inst)
    price = runtime.trading.last_prices.get(bot.symbol) if runtime.trading else None
    out.cash, out.position_qty, out.last_price = holdings.cash, holdings.position_qty, price
    out.equity = holdings.equity(price) if price is not None else None
    return out


def _notify(tasks: BackgroundTasks, runtime: Runtime, bot_id: str) -> None:
    """The engine picks the change up after the commit (it also resyncs periodically)."""
    if runtime.trading is not None:
        tasks.add_task(runtime.trading.sync_bot, bot_id)


@router.get("/strategies", tags=["strategies"])
async def strategies(_: CallerDep) -> list[dict[str, Any]]:
    """Built-in strategies with their parameters (type, default, min, max)."""
    from amarktai.strategies.registry import list_strategies

    return list_strategies()


@router.get("/markets/instruments", tags=["markets"])
async def instruments(
    _: CallerDep, runtime: RuntimeDep, exchange: str = "sim"
) -> list[dict[str, Any]]:
    return [
        {
            "exchange": i.exchange,
            "symbol": i.symbol,
            "base": i.base,
            "quote": i.quote,
            "price_step": str(i.price_step),
            "qty_step": str(i.qty_step),
            "min_qty": str(i.min_qty),
            "min_notional": str(i.min_notional),
            "maker_fee": str(i.maker_fee),
            "taker_fee": str(i.taker_fee),
            "last_price": str(runtime.trading.last_prices[i.symbol])
            if runtime.trading and i.symbol in runtime.trading.last_prices
            else None,
        }
        for i in runtime.instruments.for_exchange(exchange)
    ]


@router.post(
    "/bots",
    status_code=status.HTTP_201_CREATED,
    response_model=BotOut,
    responses={
        404: {"description": "unknown strategy or symbol"},
        409: {"description": "not enough free capital for the allocation"},
    },
)
async def create_bot(body: BotIn, caller: TraderDep, bots: BotsDep, runtime: RuntimeDep) -> BotOut:
    if body.mode == "live":
        await Features(bots.s).require("live_trading", caller.user.role)
    spec = BotSpec(
        body.name,
        body.strategy,
        body.params,
        body.exchange,
        body.symbol,
        body.timeframe_s,
        body.mode,
        body.risk,
    )
    bot = await bots.create(caller.id, spec)
    if body.allocation is not None:
        await bots.allocate(caller.id, bot.id, body.allocation)
    return await _with_money(bots, runtime, bot)


@router.get("/bots", response_model=list[BotOut])
async def list_bots(caller: CallerDep, bots: BotsDep, runtime: RuntimeDep) -> list[BotOut]:
    return [await _with_money(bots, runtime, b) for b in await bots.repo.user_bots(caller.id)]


@router.get("/bots/{bot_id}", response_model=BotOut, responses=STATE_ERRORS)
async def get_bot(bot_id: str, caller: CallerDep, bots: BotsDep, runtime: RuntimeDep) -> BotOut:
    return await _with_money(bots, runtime, await bots.repo.bot(caller.id, bot_id))


@router.patch("/bots/{bot_id}", response_model=BotOut, responses=STATE_ERRORS)
async def patch_bot(
    bot_id: str, body: BotPatch, caller: TraderDep, bots: BotsDep, runtime: RuntimeDep
) -> BotOut:
    if body.mode == "live":
        await Features(bots.s).require("live_trading", caller.user.role)
    bot = await bots.update(caller.id, bot_id, body.model_dump(exclude_none=True))
    return await _with_money(bots, runtime, bot)


@router.delete("/bots/{bot_id}", status_code=status.HTTP_204_NO_CONTENT, responses=STATE_ERRORS)
async def delete_bot(bot_id: str, caller: TraderDep, bots: BotsDep) -> None:
    await bots.delete(caller.id, bot_id)


async def _act(
    bot_id: str,
    action: Action,
    caller: TraderDep,
    bots: BotsDep,
    runtime: Runtime,
    tasks: BackgroundTasks,
) -> BotOut:
    bot = await bots.act(caller.id, bot_id, action)
    _notify(tasks, runtime, bot.id)
    status = {"bot_id": bot.id, "status": bot.status, "reason": bot.status_reason}
    tasks.add_task(bus_listener(runtime.bus), caller.id, "bot_status", status)
    return await _with_money(bots, runtime, bot)


@router.post("/bots/{bot_id}/start", response_model=BotOut, responses=STATE_ERRORS)
async def start_bot(
    bot_id: str, caller: TraderDep, bots: BotsDep, runtime: RuntimeDep, tasks: BackgroundTasks
) -> BotOut:
    """409 `no_allocated_capital` when the bot has no capital."""
    return await _act(bot_id, "start", caller, bots, runtime, tasks)


@router.post("/bots/{bot_id}/pause", response_model=BotOut, responses=STATE_ERRORS)
async def pause_bot(
    bot_id: str, caller: TraderDep, bots: BotsDep, runtime: RuntimeDep, tasks: BackgroundTasks
) -> BotOut:
    return await _act(bot_id, "pause", caller, bots, runtime, tasks)


@router.post("/bots/{bot_id}/stop", response_model=BotOut, responses=STATE_ERRORS)
async def stop_bot(
    bot_id: str, caller: TraderDep, bots: BotsDep, runtime: RuntimeDep, tasks: BackgroundTasks
) -> BotOut:
    """Stopping cancels the bot's open orders."""
    return await _act(bot_id, "stop", caller, bots, runtime, tasks)


@router.post("/bots/{bot_id}/allocate", response_model=BotOut, responses=STATE_ERRORS)
async def allocate(
    bot_id: str, body: AmountIn, caller: TraderDep, bots: BotsDep, runtime: RuntimeDep
) -> BotOut:
    """Moves free cash (quote currency) to the bot; 409 when free cash is short."""
    return await _with_money(bots, runtime, await bots.allocate(caller.id, bot_id, body.amount))


@router.post("/bots/{bot_id}/deallocate", response_model=BotOut, responses=STATE_ERRORS)
async def deallocate(
    bot_id: str, body: AmountIn, caller: TraderDep, bots: BotsDep, runtime: RuntimeDep
) -> BotOut:
    bot = await bots.deallocate(caller.id, bot_id, body.amount)
    return await _with_money(bots, runtime, bot)


@router.get("/bots/{bot_id}/decisions", response_model=Page[TraceOut], responses=STATE_ERRORS)
async def decisions(
    bot_id: str,
    caller: CallerDep,
    bots: BotsDep,
    cursor: str | None = None,
    limit: int = Query(default=50),
    outcome: str | None = Query(default=None, description="order, hold, denied, rejected, error"),
) -> Page[TraceOut]:
    await bots.repo.bot(caller.id, bot_id)
    filters: list[Any] = [DecisionTrace.bot_id == bot_id]
    if outcome:
        filters.append(DecisionTrace.outcome == outcome)
    page = await bots.repo.page(
        DecisionTrace, caller.id, cursor=cursor, limit=limit, filters=filters
    )
    return Page[TraceOut](
        items=[TraceOut.model_validate(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.get("/orders", response_model=Page[OrderOut], tags=["orders"])
async def orders(
    caller: CallerDep,
    bots: BotsDep,
    bot_id: str | None = None,
    status_: str | None = Query(default=None, alias="status"),
    cursor: str | None = None,
    limit: int = Query(default=50),
) -> Page[OrderOut]:
    filters: list[Any] = []
    if bot_id:
        filters.append(OrderRow.bot_id == bot_id)
    if status_:
        filters.append(OrderRow.status == status_)
    page = await bots.repo.page(OrderRow, caller.id, cursor=cursor, limit=limit, filters=filters)
    return Page[OrderOut](
        items=[OrderOut.model_validate(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.delete(
    "/orders/{order_id}",
    response_model=OrderOut,
    tags=["orders"],
    responses={
        404: {"description": "no such order of yours"},
        409: {"description": "order already finished"},
    },
)
async def cancel_order(
    order_id: str, caller: TraderDep, bots: BotsDep, runtime: RuntimeDep
) -> OrderOut:
    row = await bots.repo.order(caller.id, order_id)
    if row.status not in ("new", "open", "partially_filled"):
        raise Conflict(
            f"order is already {row.status}",
            code="order_not_open",
            details={"current_status": row.status},
        )
    if runtime.trading is not None:
        venue = runtime.trading.venues.get((await bots.repo.bot(caller.id, row.bot_id)).mode)
        if venue is not None:
            venue.cancel(row.id, reason="user_cancelled")
    row.status, row.reason, row.updated_at = "cancelled", "user_cancelled", runtime.clock.now()
    return OrderOut.model_validate(row)


@router.get("/fills", response_model=Page[FillOut], tags=["orders"])
async def fills(
    caller: CallerDep,
    bots: BotsDep,
    bot_id: str | None = None,
    cursor: str | None = None,
    limit: int = Query(default=50),
) -> Page[FillOut]:
    filters: list[Any] = [FillRow.bot_id == bot_id] if bot_id else []
    page = await bots.repo.page(FillRow, caller.id, cursor=cursor, limit=limit, filters=filters)
    return Page[FillOut](
        items=[FillOut.model_validate(r) for r in page.items], next_cursor=page.next_cursor
    )
