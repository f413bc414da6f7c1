"""FastAPI dependencies: the runtime, one unit of work per request, the caller and roles."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from amarktai.accounts.features import Features, feature
from amarktai.accounts.models import AuthSession, User
from amarktai.accounts.service import AccountsService, ClientInfo
from amarktai.db.engine import transaction
from amarktai.engine.service import BotService
from amarktai.kit.errors import DomainError, Forbidden, Unauthorized
from amarktai.ledger.service import LedgerService
from amarktai.realtime.producers import publish_ended_sessions
from amarktai.runtime import Runtime

log = structlog.get_logger("amarktai.api")

ROLE_RANK = {"viewer": 0, "trader": 1, "admin": 2}
bearer = HTTPBearer(auto_error=False)


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


AfterCommit = Callable[[], Awaitable[None]]


def after_commit(session: AsyncSession, hook: AfterCommit) -> None:
    """Run `hook` once the request's unit of work has committed, never after a rollback:
    what the rest of the platform is told (closed sockets) must match what was stored."""
    session.info.setdefault("after_commit", []).append(hook)


async def _run_after_commit(session: AsyncSession) -> None:
    for hook in session.info.pop("after_commit", []):
        try:
            await hook()
        except Exception:  # the writes stand; a failed side effect is logged, not raised
            log.exception("after_commit_failed")


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """The request's single transaction: committed once after the handler, else rolled back.
    Its after-commit hooks run once it committed, including when an error kept its
    writes (`keeping_writes`: e.g. the revoked family of a reused refresh token)."""
    session: AsyncSession | None = None
    committed = False
    try:
        async with transaction(runtime.sessions) as session:
            yield session
        committed = True
    except DomainError as exc:
        committed = exc.keep_writes
        raise
    finally:
        if committed and session is not None:
            await _run_after_commit(session)


# scope="function": commit before the response is sent, so a client never sees success
# for a write that is not yet visible (or that then fails to commit).
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def client_info(request: Request) -> ClientInfo:
    return ClientInfo(
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


ClientDep = Annotated[ClientInfo, Depends(client_info)]


def accounts_service(session: SessionDep, runtime: RuntimeDep) -> AccountsService:
    """Sessions the service ends are announced on the bus after the commit, so every
    process's hub closes their sockets (logout, revocation, deactivation, token reuse)."""
    accounts = runtime.accounts(session)
    after_commit(session, functools.partial(publish_ended_sessions, runtime.bus, accounts.ended))
    return accounts


AccountsDep = Annotated[AccountsService, Depends(accounts_service)]


@dataclass(frozen=True)
class Caller:
    user: User
    session: AuthSession

    @property
    def id(self) -> str:
        return self.user.id

    @property
    def is_admin(self) -> bool:
        return self.user.role == "admin"


async def current_caller(
    accounts: AccountsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized()
    user, auth = await accounts.authenticate(credentials.credentials)
    return Caller(user, auth)


CallerDep = Annotated[Caller, Depends(current_caller)]


def require_role(minimum: str) -> Callable[[Caller], Coroutine[Any, Any, Caller]]:
    async def check(caller: CallerDep) -> Caller:
        if ROLE_RANK.get(caller.user.role, -1) < ROLE_RANK[minimum]:
            raise Forbidden(f"this action needs the {minimum} role", code="insufficient_role")
        return caller

    return check


TraderDep = Annotated[Caller, Depends(require_role("trader"))]
AdminDep = Annotated[Caller, Depends(require_role("admin"))]


def require_feature(name: str) -> Any:
    """A route dependency: 403 `feature_hidden` when an admin hid `name` for the
    caller's role or for the installation (`accounts.features`)."""
    feature(name)  # a typo in a route fails at import, not at request time

    async def check(caller: CallerDep, session: SessionDep) -> None:
        await Features(session).require(name, caller.user.role)

    return Depends(check)


def bot_service(session: SessionDep, runtime: RuntimeDep) -> BotService:
    return BotService(session, runtime.clock, runtime.instruments)


BotsDep = Annotated[BotService, Depends(bot_service)]


def ledger_service(session: SessionDep, runtime: RuntimeDep) -> LedgerService:
    return LedgerService(session, runtime.clock)


LedgerDep = Annotated[LedgerService, Depends(ledger_service)]
