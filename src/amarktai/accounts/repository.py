"""Account queries, always scoped to the caller where a user owns the row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from amarktai.accounts.models import (
    ApiKey,
    AuthSession,
    LoginAttempt,
    RecoveryCode,
    RefreshToken,
    User,
)


class AccountsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def user_by_email(self, email: str) -> User | None:
        return (
            await self.s.execute(select(User).where(User.email == email.lower()))
        ).scalar_one_or_none()

    async def user(self, user_id: str) -> User | None:
        return await self.s.get(User, user_id)

    async def count_users(self) -> int:
        return int((await self.s.execute(select(func.count(User.id)))).scalar_one())

    async def list_users(self) -> list[User]:
        return list((await self.s.execute(select(User).order_by(User.created_at))).scalars())

    async def login_attempt(self, email: str) -> LoginAttempt | None:
        return await self.s.get(LoginAttempt, email.lower())

    async def token_by_hash(self, token_hash: str) -> RefreshToken | None:
        return (
            await self.s.execute(select(RefreshToken).where(RefreshToken.token_hash == token_hash))
        ).scalar_one_or_none()

    async def session_of_user(self, user_id: str, session_id: str) -> AuthSession | None:
        return (
            await self.s.execute(
                select(AuthSession).where(
                    AuthSession.id == session_id, AuthSession.user_id == user_id
                )
            )
        ).scalar_one_or_none()

    async def active_sessions(self, user_id: str, now: datetime) -> list[AuthSession]:
        rows = await self.s.execute(
            select(AuthSession)
            .where(
                AuthSession.user_id == user_id,
                AuthSession.revoked_at.is_(None),
                AuthSession.expires_at > now,
            )
            .order_by(AuthSession.created_at.desc())
        )
        return list(rows.scalars())

    async def revoke_sessions(
        self, user_id: str, now: datetime, reason: str, only: str | None = None
    ) -> int:
        stmt = update(AuthSession).where(
            AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
        )
        if only is not None:
            stmt = stmt.where(AuthSession.id == only)
        result = await self.s.execute(stmt.values(revoked_at=now, revoke_reason=reason))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def unused_recovery_codes(self, user_id: str) -> list[RecoveryCode]:
        rows = await self.s.execute(
            select(RecoveryCode).where(
                RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
            )
        )
        return list(rows.scalars())

    async def delete_recovery_codes(self, user_id: str) -> None:
        for code in (
            await self.s.execute(select(RecoveryCode).where(RecoveryCode.user_id == user_id))
        ).scalars():
            await self.s.delete(code)

    async def api_keys(self, user_id: str) -> list[ApiKey]:
        rows = await self.s.execute(
            select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.created_at)
        )
        return list(rows.scalars())

    async def api_key(self, user_id: str, key_id: str) -> ApiKey | None:
        return (
            await self.s.execute(
                select(ApiKey).where(ApiKey.id == key_id, ApiKey.user_id == user_id)
            )
        ).scalar_one_or_none()

    async def all_api_keys(self) -> list[ApiKey]:
        return list((await self.s.execute(select(ApiKey))).scalars())

    async def users_with_totp(self) -> list[User]:
        return list(
            (await self.s.execute(select(User).where(User.totp_secret_enc.is_not(None)))).scalars()
        )
