"""Start-up steps shared by `amarktai serve` and the CLI: migrate, first admin, demo user."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from amarktai.accounts.service import AccountsService
from amarktai.db.engine import transaction
from amarktai.db.migrate import upgrade
from amarktai.runtime import Runtime


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str | None
    created: bool


def accounts(runtime: Runtime, session: AsyncSession) -> AccountsService:

    return AccountsService(
        session,
        passwords=runtime.passwords,
        tokens=runtime.tokens,
        vault=runtime.vault,
        clock=runtime.clock,
    )


async def migrate(runtime: Runtime) -> None:
    await upgrade(runtime.engine)


async def ensure_admin_from_env(runtime: Runtime) -> str | None:
    s = runtime.settings
    if not s.admin_email or not s.admin_password:
        return None
    async with transaction(runtime.sessions) as session:
        user, _ = await accounts(runtime, session).ensure_admin(
            s.admin_email, s.admin_password.get_secret_value()
        )
        return user.email


async def ensure_demo_user(runtime: Runtime) -> DemoLogin:
    """Demo credentials from the environment, else generated once (the caller prints them)."""
    s = runtime.settings
    email = (s.demo_email or "demo@example.com").lower()
    async with transaction(runtime.sessions) as session:
        svc = accounts(runtime, session)
        if await svc.repo.user_by_email(email):
            return DemoLogin(email, None, created=False)
        password = (
            s.demo_password.get_secret_value() if s.demo_password else secrets.token_urlsafe(12)
        )
        await svc.register(email, password, role="trader")
        return DemoLogin(email, password, created=True)
