"""Ledger throughput: fills posted per second and balance-query latency, SQLite and PostgreSQL.

Run: ``.venv/bin/python benchmarks/ledger.py [fills]`` (default 5,000). Each fill is its
own transaction (lock, capital check, hash, insert, commit), as the engine posts them.
SQLite uses a temporary file in WAL mode; PostgreSQL uses a throw-away database on
AMARKTAI_TEST_POSTGRES_URL (default: local server) and is skipped if none answers.
Query timings are the median of repeated calls on the finished ledger.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from amarktai.accounts.models import User
from amarktai.db.engine import make_engine, make_sessionmaker, transaction
from amarktai.db.migrate import upgrade
from amarktai.kit.clock import ManualClock
from amarktai.kit.ids import new_id
from amarktai.ledger import journal
from amarktai.ledger.journal import Fill
from amarktai.ledger.service import LedgerService

PG_URL = os.environ.get(
    "AMARKTAI_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
T0 = datetime(2026, 1, 1, tzinfo=UTC)
Factory = async_sessionmaker[AsyncSession]


async def seed(factory: Factory, clock: ManualClock) -> tuple[str, str]:
    user, bot = new_id(), new_id()
    async with transaction(factory) as s:
        s.add(User(id=user, email=f"{user}@bench.test", password_hash="x", created_at=T0))
    async with transaction(factory) as s:
        ledger = LedgerService(s, clock)
        await ledger.post(journal.deposit(user, "ZAR", Decimal(100_000_000)))
        await ledger.post(journal.allocate(user, bot, "ZAR", Decimal(50_000_000)))
    return user, bot


def trade(bot: str, i: int) -> Fill:
    """Alternate buys and smaller sells so the position, cost basis and PnL all move."""
    side = "buy" if i % 2 == 0 else "sell"
    qty = Decimal("0.0100") if side == "buy" else Decimal("0.0075")
    price = Decimal(1_000_000 + (i % 97) * 1_000)
    return Fill(bot, side, "BTC", "ZAR", qty, price, fee=Decimal("2.50"), ref=f"fill-{i}")


async def post_fills(factory: Factory, clock: ManualClock, user: str, bot: str, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        clock.advance(timedelta(seconds=1))
        async with transaction(factory) as s:
            await LedgerService(s, clock).post_fill(user, trade(bot, i))
    return time.perf_counter() - start


async def median_ms(work: Callable[[], Awaitable[Any]], repeats: int = 20) -> float:
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        await work()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings) * 1000


async def queries(factory: Factory, user: str, bot: str, n: int) -> dict[str, float]:
    middle = T0 + timedelta(seconds=n // 2)
    async with factory() as s:
        ledger = LedgerService(s)
        return {
            "balances(user)": await median_ms(lambda: ledger.balances(user)),
            "balances(bot)": await median_ms(lambda: ledger.balances(user, bot_id=bot)),
            "balances(user, as_of=mid)": await median_ms(
                lambda: ledger.balances(user, as_of=middle)
            ),
            "check_can_spend": await median_ms(
                lambda: ledger.check_can_spend(user, bot, "ZAR", Decimal(1))
            ),
            "entries(limit=50)": await median_ms(lambda: ledger.entries(user)),
            "verify() whole chain": await median_ms(ledger.verify, 1),
            "replay() whole journal": await median_ms(ledger.replay, 1),
        }


async def run(label: str, engine: AsyncEngine, n: int) -> None:
    await upgrade(engine)
    factory = make_sessionmaker(engine)
    clock = ManualClock(T0)
    user, bot = await seed(factory, clock)
    elapsed = await post_fills(factory, clock, user, bot, n)
    print(f"\n{label}: {n:,} fills in {elapsed:.2f} s = {n / elapsed:,.0f} entries/s")
    for name, ms in (await queries(factory, user, bot, n)).items():
        print(f"  {name:<28} {ms:9.2f} ms")
    await engine.dispose()


async def sqlite(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        await run("SQLite (WAL, file)", make_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'b.db'}"), n)


async def postgres(n: int) -> None:
    import asyncpg

    admin = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    name = f"amarktai_bench_{uuid.uuid4().hex[:10]}"
    try:
        conn = await asyncpg.connect(admin, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"\nPostgreSQL: skipped ({type(exc).__name__}: {exc})")
        return
    await conn.execute(f'CREATE DATABASE "{name}"')
    try:
        await run("PostgreSQL", make_engine(f"{PG_URL.rpartition('/')[0]}/{name}"), n)
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
    asyncio.run(sqlite(n))
    asyncio.run(postgres(n))


if __name__ == "__main__":
    main()
