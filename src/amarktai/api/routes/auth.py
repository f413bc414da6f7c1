"""Registration, login, token refresh, logout, sessions and two-factor authentication."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, status
from pydantic import EmailStr, Field

from amarktai.accounts.features import Features
from amarktai.accounts.service import TokenPair
from amarktai.api.deps import AccountsDep, CallerDep, ClientDep, SessionDep
from amarktai.api.schemas import RequestModel, ResponseModel

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

UNAUTH: dict[int | str, dict[str, Any]] = {
    401: {"description": "authentication failed (no detail on which part)"}
}


class RegisterIn(RequestModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=256)


class UserOut(ResponseModel):
    id: str
    email: str
    role: Literal["admin", "trader", "viewer"]
    is_active: bool
    totp_enabled: bool
    created_at: datetime


class LoginIn(RequestModel):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=256)
    otp: str | None = Field(
        default=None, max_length=32, description="TOTP code or a recovery code, when 2FA is on"
    )


class TokensOut(ResponseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="access token lifetime in seconds")
    session_id: str


class RefreshIn(RequestModel):
    refresh_token: str = Field(min_length=1, max_length=512)


class SessionOut(ResponseModel):
    id: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    ip: str | None
    user_agent: str | None
    current: bool = False


class EnrolOut(ResponseModel):
    secret: str
    otpauth_uri: str
    qr_png_base64: str = Field(description="PNG image of the otpauth URI, base64")


class CodeIn(RequestModel):
    code: str = Field(min_length=6, max_length=32)


class DisableIn(RequestModel):
    password: str = Field(min_length=1, max_length=256)
    code: str = Field(min_length=6, max_length=32)


class RecoveryCodesOut(ResponseModel):
    recovery_codes: list[str] = Field(description="shown once; each works one time")


def _tokens(pair: TokenPair) -> TokensOut:
    return TokensOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        session_id=pair.session_id,
    )


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    responses={409: {"description": "e-mail already registered"}},
)
async def register(body: RegisterIn, accounts: AccountsDep, client: ClientDep) -> UserOut:
    user = await accounts.register(body.email, body.password, client=client)
    return UserOut.model_validate(user)


@router.post(
    "/login",
    response_model=TokensOut,
    responses={**UNAUTH, 429: {"description": "locked out; see Retry-After"}},
)
async def login(body: LoginIn, accounts: AccountsDep, client: ClientDep) -> TokensOut:
    """401 `mfa_required` means the password was right and a 2FA code is needed."""
    return _tokens(await accounts.login(body.email, body.password, body.otp, client))


@router.post("/refresh", response_model=TokensOut, responses=UNAUTH)
async def refresh(body: RefreshIn, accounts: AccountsDep, client: ClientDep) -> TokensOut:
    """Rotates the refresh token; presenting an already-used one revokes the whole session."""
    return _tokens(await accounts.refresh(body.refresh_token, client))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=UNAUTH)
async def logout(caller: CallerDep, accounts: AccountsDep, client: ClientDep) -> None:
    await accounts.logout(caller.user, caller.session.id, client)


@router.get("/me", response_model=UserOut, responses=UNAUTH)
async def me(caller: CallerDep) -> UserOut:
    return UserOut.model_validate(caller.user)


@router.get("/sessions", response_model=list[SessionOut], responses=UNAUTH)
async def list_sessions(caller: CallerDep, accounts: AccountsDep) -> list[SessionOut]:
    rows = await accounts.sessions(caller.user)
    out = [SessionOut.model_validate(r) for r in rows]
    for item in out:
        item.current = item.id == caller.session.id
    return out


@router.delete(
    "/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**UNAUTH, 404: {"description": "no such session of yours"}},
)
async def revoke_session(
    session_id: str, caller: CallerDep, accounts: AccountsDep, client: ClientDep
) -> None:
    await accounts.revoke_session(caller.user, session_id, client)


@router.delete("/sessions", responses=UNAUTH)
async def revoke_all_sessions(
    caller: CallerDep, accounts: AccountsDep, client: ClientDep
) -> dict[str, int]:
    """Signs out everywhere, this session included."""
    return {"revoked": await accounts.revoke_all_sessions(caller.user, client)}


@router.post("/2fa/enroll", response_model=EnrolOut, responses=UNAUTH)
async def enrol_2fa(caller: CallerDep, accounts: AccountsDep) -> EnrolOut:
    e = await accounts.enrol_totp(caller.user)
    return EnrolOut(secret=e.secret, otpauth_uri=e.otpauth_uri, qr_png_base64=e.qr_png_base64)


@router.post("/2fa/verify", response_model=RecoveryCodesOut, responses=UNAUTH)
async def verify_2fa(body: CodeIn, caller: CallerDep, accounts: AccountsDep) -> RecoveryCodesOut:
    """Confirms enrolment with a first code; answers the one-time recovery codes."""
    return RecoveryCodesOut(recovery_codes=await accounts.confirm_totp(caller.user, body.code))


@router.post("/2fa/recovery-codes", response_model=RecoveryCodesOut, responses=UNAUTH)
async def new_recovery_codes(
    body: CodeIn, caller: CallerDep, accounts: AccountsDep
) -> RecoveryCodesOut:
    codes = await accounts.regenerate_recovery_codes(caller.user, body.code)
    return RecoveryCodesOut(recovery_codes=codes)


@router.post("/2fa/disable", status_code=status.HTTP_204_NO_CONTENT, responses=UNAUTH)
async def disable_2fa(body: DisableIn, caller: CallerDep, accounts: AccountsDep) -> None:
    await accounts.disable_totp(caller.user, body.password, body.code)


class VisibleFeaturesOut(ResponseModel):
    features: dict[str, bool] = Field(description="feature name → whether you may use it")


@router.get("/features", response_model=VisibleFeaturesOut)
async def my_features(caller: CallerDep, session: SessionDep) -> VisibleFeaturesOut:
    """What the app should show you: an admin may hide features per role or for the
    whole installation (the API refuses a hidden one with 403 `feature_hidden`)."""
    return VisibleFeaturesOut(features=await Features(session).visible_to(caller.user.role))
