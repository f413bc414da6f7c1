"""Wiring: the long-lived objects one platform process shares (engine, vault, codecs, clock).

Built once from Settings by the API app factory and by CLI commands, so both run the
same services the same way.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from amarktai.accounts.passwords import Passwords
from amarktai.accounts.service import AccountsService, AuthPolicy
from amarktai.accounts.tokens import TokenCodec
from amarktai.accounts.vault import Vault
from amarktai.bus import Bus, build_bus
from amarktai.config import Secrets, Settings, ensure_private_dir, resolve_secrets
from amarktai.db.checkpoint import WalCheckpointer
from amarktai.db.engine import make_engine, make_sessionmaker, sqlite_file
from amarktai.db.migrate import upgrade
from amarktai.jobs.queue import JobQueue, build_queue, bus_listener
from amarktai.kit import signing
from amarktai.kit.clock import Clock, SystemClock
from amarktai.markets.instruments import InstrumentRegistry, default_registry
from amarktai.realtime.hub import Hub

if TYPE_CHECKING:  # the engine (and its risk and market stack) loads with `serve` only
    from amarktai.engine.runner import Engine


@dataclass
class Runtime:
    settings: Settings
    secrets: Secrets
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    vault: Vault
    tokens: TokenCodec
    passwords: Passwords
    bus: Bus
    hub: Hub
    jobs: JobQueue
    clock: Clock = field(default_factory=SystemClock)
    instruments: InstrumentRegistry = field(default_factory=default_registry)
    trading: Engine | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    checkpointer: WalCheckpointer | None = None
    trading_db: AsyncEngine | None = None  # see `trading_sessions`
    _trading_sessions: async_sessionmaker[AsyncSession] | None = None

    @cached_property
    def signing_key(self) -> Ed25519PrivateKey:
        """The platform's key for signed exports (track records); its public half is
        published at ``GET /api/v1/ledger/public-key`` and by ``amarktai ledger public-key``."""
        return signing.load_private(self.secrets.signing_key)

    def accounts(self, session: AsyncSession) -> AccountsService:
        """Accounts on `session`, with this process's codecs, vault, clock and the
        settings' login policy (the API, the WebSocket and the CLI all take it here)."""
        s = self.settings
        return AccountsService(
            session,
            passwords=self.passwords,
            tokens=self.tokens,
            vault=self.vault,
            clock=self.clock,
            policy=AuthPolicy(
                refresh_ttl_s=s.refresh_token_ttl_s,
                free_attempts=s.login_free_attempts,
                lockout_base_s=s.login_lockout_base_s,
                lockout_max_s=s.login_lockout_max_s,
            ),
        )

    async def migrate(self) -> None:
        await upgrade(self.engine)

    def trading_sessions(self) -> async_sessionmaker[AsyncSession]:
        """Sessions for the trading engine. On file SQLite they come from a pool of its
        own whose statements run on the event loop's thread, with no hop to a worker
        (`amarktai.db.sqlite_driver`, ``inline``): a candle close makes a dozen short
        statements and the hops cost more than SQLite did. Elsewhere (PostgreSQL, an
        in-memory SQLite, which a second pool would not share) they are `sessions`."""
        if self._trading_sessions is None:
            url = self.engine.url.render_as_string(hide_password=False)
            if sqlite_file(url) is None or not url.startswith("sqlite+aiosqlite"):
                self._trading_sessions = self.sessions
            else:
                self.trading_db = make_engine(url, inline=True)
                self._trading_sessions = make_sessionmaker(self.trading_db)
        return self._trading_sessions

    def start_wal_checkpointer(self) -> WalCheckpointer | None:
        """Background WAL checkpoints for a file-backed SQLite database (see
        `amarktai.db.checkpoint`); None on other backends. Stopped by `close`."""
        if self.checkpointer is None:
            path = sqlite_file(self.engine.url.render_as_string(hide_password=False))
            if path is None:
                return None
            self.checkpointer = WalCheckpointer(path)
        self.checkpointer.start()
        return self.checkpointer

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()
        await self.jobs.close()
        await self.hub.close()
        await self.engine.dispose()
        if self.trading_db is not None:
            await self.trading_db.dispose()
        if self.checkpointer is not None:
            await asyncio.to_thread(self.checkpointer.stop)


def build_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    passwords: Passwords | None = None,
    engine: AsyncEngine | None = None,
) -> Runtime:
    ensure_private_dir(settings.data_dir)  # database, secrets, backups: owner only
    secrets = resolve_secrets(settings)
    engine = engine or make_engine(settings.effective_database_url)
    clock = clock or SystemClock()
    bus = build_bus(settings, clock)
    hub = Hub(
        bus, queue_size=settings.ws_queue_size, heartbeat_s=settings.ws_heartbeat_s, clock=clock
    )
    sessions = make_sessionmaker(engine)
    jobs = build_queue(settings, sessions, clock)
    jobs.add_listener(bus_listener(bus))
    return Runtime(
        settings=settings,
        secrets=secrets,
        engine=engine,
        sessions=sessions,
        vault=Vault(secrets.encryption_keys),
        tokens=TokenCodec(secrets.secret_key, settings.access_token_ttl_s),
        passwords=passwords or Passwords(),
        bus=bus,
        hub=hub,
        jobs=jobs,
        clock=clock,
    )
