"""Account queries, always scoped to the caller where a user owns the row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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

    async def reserve_login_attempt(self, email: str, now: datetime) -> int | None:
        """Count one more login attempt for `email` before its password is checked, in one
        upsert conditional on the address not being locked out at `now`; answers the new
        count, or None when it is locked (nothing changed).

        Counting before the check, not after it, is what bounds the password checks: the
        statement is atomic (no read-then-write, no racing first INSERT), and the row it
        writes stays locked until this transaction ends (a row lock on PostgreSQL, the
        database's write lock on SQLite), so parallel attempts for one address take their
        turns and each sees the count and lockout its predecessors committed."""
        insert = pg_insert if self.s.get_bind().dialect.name == "postgresql" else sqlite_insert
        stmt = (
            insert(LoginAttempt)
            .values(email=email.lower(), failures=1)
            .on_conflict_do_update(
                index_elements=[LoginAttempt.email],
                set_={"failures": LoginAttempt.failures + 1},
                where=or_(LoginAttempt.locked_until.is_(None), LoginAttempt.locked_until <= now),
            )
            .returning(LoginAttempt.failures)
        )
        failures = (await self.s.execute(stmt)).scalar_one_or_none()
        return None if failures is None else int(failures)

    async def record_login_failure(
        self, email: str, now: datetime, locked_until: datetime | None
    ) -> None:
        """Stamp a failed attempt already counted by `reserve_login_attempt` (whose row
        lock this transaction still holds), locking the address out when asked."""
        values: dict[str, datetime] = {"last_failure_at": now}
        if locked_until is not None:
            values["locked_until"] = locked_until
        await self.s.execute(
            update(LoginAttempt).where(LoginAttempt.email == email.lower()).values(**values)
        )

    async def clear_login_attempts(self, email: str) -> None:
        await self.s.execute(delete(LoginAttempt).where(LoginAttempt.email == email.lower()))

    async def token_by_hash(self, token_hash: str) -> RefreshToken | None:
        return (
            await self.s.execute(select(RefreshToken).where(RefreshToken.token_hash == token_hash))
        ).scalar_one_or_none()

    async def use_refresh_token(self, token_id: str, now: datetime) -> bool:
        """Mark a refresh token used, only if it is not yet: True for the one caller that
        did it. Two parallel refreshes of one token both read it unused; this conditional
        UPDATE lets exactly one of them rotate it (the other waits for the winner's row
        lock, then matches nothing)."""
        result = await self.s.execute(
            update(RefreshToken)
            .where(RefreshToken.id == token_id, RefreshToken.used_at.is_(None))
            .values(used_at=now)
        )
        return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]

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

    async def use_recovery_code(self, code_id: str, now: datetime) -> bool:
        """Mark a recovery code used, only if it is not yet: True for the one caller that
        did it, so a code submitted twice in parallel passes once."""
        result = await self.s.execute(
            update(RecoveryCode)
            .where(RecoveryCode.id == code_id, RecoveryCode.used_at.is_(None))
            .values(used_at=now)
        )
        return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]

    async def accept_totp_step(self, user_id: str, step: int) -> bool:
        """Record `step` as the user's last accepted TOTP step if it is later than the one
        stored: True when it was, i.e. the code may pass. Conditional in the UPDATE itself,
        so of two parallel requests carrying one code only one passes (the other waits for
        the row and then matches nothing)."""
        result = await self.s.execute(
            update(User)
            .where(
                User.id == user_id,
                or_(User.totp_last_step.is_(None), User.totp_last_step < step),
            )
            .values(totp_last_step=step)
        )
        return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]

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
