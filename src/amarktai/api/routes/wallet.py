"""Wallet and ledger: paper deposits and withdrawals, balances (also as of any past
instant), free vs allocated capital, journal entries and the chain check."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Query, status
from pydantic import Field

from amarktai.api.deps import CallerDep, LedgerDep, TraderDep
from amarktai.api.schemas import RequestModel, ResponseModel
from amarktai.ledger import journal

router = APIRouter(prefix="/api/v1", tags=["wallet"])


class MoneyIn(RequestModel):
    asset: str = Field(default="ZAR", pattern=r"^[A-Z0-9]{1,16}$")
    amount: Decimal = Field(gt=0, max_digits=38, decimal_places=18)
    reference: str | None = Field(
        default=None, max_length=64, description="idempotency key: the same reference posts once"
    )


class PostingOut(ResponseModel):
    account: str
    asset: str
    amount: Decimal
    balance: Decimal


class EntryOut(ResponseModel):
    id: str
    seq: int
    ts: datetime
    kind: str
    bot_id: str | None
    description: str
    reverses_id: str | None
    ref: str | None
    hash: str
    postings: list[PostingOut]


class EntryPage(ResponseModel):
    items: list[EntryOut]
    next_cursor: str | None


def _entry(e: journal.Entry) -> EntryOut:
    return EntryOut(
        id=e.id,
        seq=e.seq,
        ts=e.ts,
        kind=str(e.kind),
        bot_id=e.bot_id,
        description=e.description,
        reverses_id=e.reverses_id,
        ref=e.ref,
        hash=e.hash,
        postings=[
            PostingOut(account=p.account, asset=p.asset, amount=p.amount, balance=p.balance)
            for p in e.postings
        ],
    )


@router.post("/wallet/deposits", status_code=status.HTTP_201_CREATED, response_model=EntryOut)
async def deposit(body: MoneyIn, caller: TraderDep, ledger: LedgerDep) -> EntryOut:
    """Paper capital arriving in the user's free cash."""
    ref = f"deposit:{caller.id}:{body.reference}" if body.reference else None
    return _entry(await ledger.post(journal.deposit(caller.id, body.asset, body.amount, ref=ref)))


@router.post(
    "/wallet/withdrawals",
    status_code=status.HTTP_201_CREATED,
    response_model=EntryOut,
    responses={409: {"description": "not enough free (unallocated) cash"}},
)
async def withdraw(body: MoneyIn, caller: TraderDep, ledger: LedgerDep) -> EntryOut:
    ref = f"withdrawal:{caller.id}:{body.reference}" if body.reference else None
    draft = journal.withdrawal(caller.id, body.asset, body.amount, ref=ref)
    return _entry(await ledger.post(draft))


@router.get("/wallet/balances")
async def balances(
    caller: CallerDep,
    ledger: LedgerDep,
    bot_id: str | None = None,
    as_of: datetime | None = Query(default=None, description="point-in-time view (ISO 8601)"),
) -> dict[str, Any]:
    """{account: {asset: balance}} derived from the ledger."""
    data = await ledger.balances(caller.id, bot_id=bot_id, as_of=as_of)
    return {
        "as_of": as_of,
        "balances": {a: {k: str(v) for k, v in b.items()} for a, b in data.items()},
    }


@router.get("/wallet/capital")
async def capital(
    caller: CallerDep, ledger: LedgerDep, as_of: datetime | None = None
) -> dict[str, Any]:
    """Free vs allocated capital per asset (allocated = bots' cash + open positions at cost)."""
    data = await ledger.capital(caller.id, as_of=as_of)
    return {
        asset: {
            "free": str(c.free),
            "allocated_cash": str(c.allocated_cash),
            "invested_cost": str(c.invested_cost),
            "allocated": str(c.allocated),
            "total": str(c.total),
        }
        for asset, c in data.items()
    }


@router.get("/ledger/entries", response_model=EntryPage)
async def entries(
    caller: CallerDep,
    ledger: LedgerDep,
    bot_id: str | None = None,
    as_of: datetime | None = None,
    cursor: str | None = None,
    limit: int = Query(default=50),
) -> EntryPage:
    page = await ledger.entries(caller.id, bot_id=bot_id, as_of=as_of, cursor=cursor, limit=limit)
    return EntryPage(items=[_entry(e) for e in page.items], next_cursor=page.next_cursor)


class BrokenEntryOut(ResponseModel):
    entry_id: str
    reason: str


class VerifyOut(ResponseModel):
    ok: bool = Field(description="the whole platform's journal chain recomputes intact")
    entries: int | None = Field(
        default=None, description="entries checked (platform-wide): admins only"
    )
    first_broken: BrokenEntryOut | None = Field(
        default=None, description="the first entry that fails the check: admins only"
    )


@router.get("/ledger/verify", response_model=VerifyOut, response_model_exclude_none=False)
async def verify(caller: CallerDep, ledger: LedgerDep) -> VerifyOut:
    """Recompute the journal's hash chain (one chain for the whole platform).

    Everyone learns whether it is intact; the entry count and the broken entry's id are
    for admins only, as both describe other users' activity."""
    count, broken = await ledger.verify()
    if not caller.is_admin:
        return VerifyOut(ok=broken is None)
    return VerifyOut(
        ok=broken is None,
        entries=count,
        first_broken=None
        if broken is None
        else BrokenEntryOut(entry_id=str(broken.entry_id), reason=broken.reason),
    )
