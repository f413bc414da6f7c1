"""Start-up steps of `amarktai serve`: first admin, demo user and bots, the engine."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, replace

import structlog

from amarktai.db.engine import transaction
from amarktai.engine.demo import seed_demo_portfolio
from amarktai.engine.runner import Engine
from amarktai.engine.service import BotService
from amarktai.kit.clock import Clock
from amarktai.kit.heap import freeze_startup_heap
from amarktai.markets.sim import SimConfig, SimMarket
from amarktai.realtime.producers import MarketPublisher, bus_listener
from amarktai.runtime import Runtime

log = structlog.get_logger("amarktai.bootstrap")


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str | None
    created: bool


async def ensure_admin_from_env(runtime: Runtime) -> str | None:
    s = runtime.settings
    if not s.admin_email or not s.admin_password:
        return None
    async with transaction(runtime.sessions) as session:
        user, _ = await runtime.accounts(session).ensure_admin(
            s.admin_email, s.admin_password.get_secret_value()
        )
        return user.email


async def ensure_demo_user(runtime: Runtime) -> DemoLogin:
    """Demo credentials from the environment, else generated once (the caller prints them)."""
    s = runtime.settings
    email = (s.demo_email or "demo@example.com").lower()
    async with transaction(runtime.sessions) as session:
        svc = runtime.accounts(session)
        existing = await svc.repo.user_by_email(email)
        if existing is not None:
            if s.demo_password is None:
                return DemoLogin(email, None, created=False)
            # The environment names the demo password: make it true (a lost password
            # used to be unrecoverable once the demo user existed).
            wanted = s.demo_password.get_secret_value()
            if not svc.passwords.verify(existing.password_hash, wanted):
                await svc.set_password(existing, wanted, by="AMARKTAI_DEMO_PASSWORD")
            return DemoLogin(email, None, created=False)
        password = (
            s.demo_password.get_secret_value() if s.demo_password else secrets.token_urlsafe(12)
        )
        await svc.register(email, password, role="trader")
        return DemoLogin(email, password, created=True)


async def ensure_demo_bots(runtime: Runtime, email: str) -> int:
    async with transaction(runtime.sessions) as session:
        user = await runtime.accounts(session).repo.user_by_email(email)
        assert user is not None
        bots = BotService(session, runtime.clock, runtime.instruments)
        return await seed_demo_portfolio(session, bots, user.id)


def sim_feed(engine: Engine, clock: Clock) -> SimMarket:
    """The real-time `sim` market, new each time the supervisor restarts the feed: a
    restarted one goes on from the engine's last prices (not the start prices, which
    would look like a crash to every bot) on fresh randomness."""
    base = SimConfig()
    prices = {**base.start_prices, **engine.last_prices}
    config = replace(base, seed=base.seed + engine.feed_restarts, start_prices=prices)
    return SimMarket(config, clock=clock, pace="realtime", start=clock.now())


async def start_engine(runtime: Runtime, *, resync_s: float = 2.0) -> Engine:
    """The embedded engine on the real-time `sim` market, plus a periodic resync so bot
    changes made by other processes (or missed notifications) are picked up."""
    engine = Engine(
        runtime.trading_sessions(),
        runtime.clock,
        runtime.instruments,
        exchange="sim",
        listeners=[bus_listener(runtime.bus)],
    )
    await engine.load()
    runtime.trading = engine
    runtime.start_wal_checkpointer()  # the engine's commits then never checkpoint

    def feed() -> SimMarket:
        return sim_feed(engine, runtime.clock)

    async def resync() -> None:
        while True:
            await asyncio.sleep(resync_s)
            try:
                await engine.load()
            except Exception:  # keep resyncing; the next round may succeed
                log.exception("engine_resync_failed")

    market = MarketPublisher(
        runtime.bus,
        engine.last_prices,
        engine.history,
        exchange=engine.exchange,
        interval_s=runtime.settings.ws_price_interval_s,
    )
    runtime.tasks.append(asyncio.create_task(engine.run_forever(feed), name="engine"))
    runtime.tasks.append(asyncio.create_task(market.run(), name="market-publisher"))
    runtime.tasks.append(asyncio.create_task(resync(), name="engine-resync"))
    freeze_startup_heap()
    return engine
