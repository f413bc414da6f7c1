"""Admin: users and roles, and the audit log with its chain check."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field
from sqlalchemy import select

from amarktai.accounts import audit, features
from amarktai.accounts.models import AuditEntry
from amarktai.api.deps import AccountsDep, AdminDep, RuntimeDep, SessionDep
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


# -- feature show/hide ------------------------------------------------------------------
class FeatureOut(ResponseModel):
    name: str
    label: str
    description: str
    hidden_for: list[str] = Field(description="scopes it is hidden for: `all` or role names")


class FeaturesOut(ResponseModel):
    scopes: list[str] = Field(description="`all` (the installation, admins too) and each role")
    features: list[FeatureOut]


class FeatureVisibilityIn(RequestModel):
    feature: str = Field(max_length=40, description="a name from GET /api/v1/admin/features")
    scope: Literal["all", "admin", "trader", "viewer"]
    hidden: bool


def _features_out(hidden: dict[str, frozenset[str]]) -> FeaturesOut:
    return FeaturesOut(
        scopes=list(features.SCOPES),
        features=[
            FeatureOut(
                name=f.name,
                label=f.label,
                description=f.description,
                hidden_for=[s for s in features.SCOPES if f.name in hidden[s]],
            )
            for f in features.CATALOGUE
        ],
    )


@router.get("/features", response_model=FeaturesOut)
async def list_features(_: AdminDep, session: SessionDep) -> FeaturesOut:
    """Every feature an admin can hide, and for whom it is hidden now."""
    return _features_out(await features.Features(session).hidden())


@router.put(
    "/features",
    response_model=FeaturesOut,
    responses={404: {"description": "unknown feature"}},
)
async def set_feature_visibility(
    body: FeatureVisibilityIn, admin: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> FeaturesOut:
    """Hide or show one feature for one role, or for the whole installation (`all`).
    The API refuses a hidden feature with 403 `feature_hidden`; the change is audited."""
    hidden = await features.Features(session).set_hidden(
        body.feature, body.scope, body.hidden, actor_id=admin.id, now=runtime.clock.now()
    )
    return _features_out(hidden)
