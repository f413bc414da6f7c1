"""Admin: users and roles, and the audit log with its chain check."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field
from sqlalchemy import select

from amarktai.accounts import audit
from amarktai.accounts.models import AuditEntry
from amarktai.api.deps import AccountsDep, AdminDep, SessionDep
from amarktai.api.routes.auth import UserOut
from amarktai.api.schemas import RequestModel, ResponseModel
from amarktai.kit.pagination import clamp_limit

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


class UserPatch(RequestModel):
    role: Literal["admin", "trader", "viewer"] | None = None
    is_active: bool | None = None


class AuditOut(ResponseModel):
    seq: int
    ts: datetime
    event: str
    user_id: str | None
    actor_id: str | None
    ip: str | None
    details: dict[str, Any]
    hash: str


class AuditPage(ResponseModel):
    items: list[AuditOut]
    next_cursor: int | None = Field(description="pass as `before` for the next (older) page")


@router.get("/users", response_model=list[UserOut])
async def list_users(_: AdminDep, accounts: AccountsDep) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in await accounts.repo.list_users()]


@router.patch("/users/{user_id}", response_model=UserOut)
async def patch_user(
    user_id: str, body: UserPatch, admin: AdminDep, accounts: AccountsDep
) -> UserOut:
    user = None
    if body.role is not None:
        user = await accounts.set_role(admin.user, user_id, body.role)
    if body.is_active is not None:
        user = await accounts.set_active(admin.user, user_id, body.is_active)
    if user is None:
        user = await accounts.get_user(user_id)
    return UserOut.model_validate(user)


@router.get("/audit", response_model=AuditPage)
async def audit_log(
    _: AdminDep,
    session: SessionDep,
    before: int | None = Query(default=None, ge=1),
    limit: int = Query(default=50),
) -> AuditPage:
    stmt = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(clamp_limit(limit))
    if before is not None:
        stmt = stmt.where(AuditEntry.seq < before)
    rows = list((await session.execute(stmt)).scalars())
    nxt = rows[-1].seq if len(rows) == limit and rows[-1].seq > 1 else None
    return AuditPage(items=[AuditOut.model_validate(r) for r in rows], next_cursor=nxt)


@router.get("/audit/verify")
async def audit_verify(_: AdminDep, session: SessionDep) -> dict[str, Any]:
    count, broken = await audit.verify(session)
    if broken is None:
        return {"ok": True, "entries": count, "first_broken": None}
    return {
        "ok": False,
        "entries": count,
        "first_broken": {"seq": broken.entry_id, "reason": broken.reason},
    }
