"""Ledger throughput: fills posted per second and balance-query latency, SQLite and PostgreSQL.

Run: ``.venv/bin/python benchmarks/ledger.py [fills]`` (default 5,000). Each fill is its
own transaction (lock, capital check, hash, insert, commit), as `post_fill` posts them.
Then the engine's way: the same number of fills booked by `post_fills` in batches of
16 single-fill orders (buys and sells, each with a fee) across 33 bots of 8 users, with
a BalanceMirror and fresh refs, one transaction per batch. Its figure is the main
thread's CPU per fill inside `post_fills` (median over batches), in all and without the
insert (`LedgerRepository.insert_many`: the rows' conversion and the executemany), so
the ledger's own Python stands apart from the database driver.
SQLite uses a temporary file in WAL mode; PostgreSQL uses a throw-away database on
AMARKTAI_TEST_POSTGRES_URL (default: local server) and is skipped if none answers.
Query timings are the median of repeated calls on the finished ledger.
"""

from __future__ import annotations

import asyncio
import os
import random
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
from amarktai.ledger.mirror import BalanceMirror
from amarktai.ledger.service import FillRequest, LedgerService

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


BATCH_USERS, BATCH_BOTS, PER_BATCH = 8, 33, 16


async def seed_bots(factory: Factory, clock: ManualClock) -> list[tuple[str, str]]:
    """(user, bot) for every bot of the batched run, each bot allocated cash."""
    users = [new_id() for _ in range(BATCH_USERS)]
    async with transaction(factory) as s:
        for user in users:
            s.add(User(id=user, email=f"{user}@bench.test", password_hash="x", created_at=T0))
    owned = [(users[i % BATCH_USERS], new_id()) for i in range(BATCH_BOTS)]
    async with transaction(factory) as s:
        ledger = LedgerService(s, clock)
        for user in users:
            await ledger.post(journal.deposit(user, "ZAR", Decimal(100_000_000)))
        for user, bot in owned:
            await ledger.post(journal.allocate(user, bot, "ZAR", Decimal(1_000_000)))
    return owned


def batches(owned: list[tuple[str, str]], n: int) -> list[list[FillRequest]]:
    """`n` fills in batches of PER_BATCH bots; a bot holding BTC sells half the time."""
    rng = random.Random(7)
    held = dict.fromkeys((bot for _, bot in owned), Decimal(0))
    out = []
    for number in range(max(1, n // PER_BATCH)):
        batch: list[FillRequest] = []
        for user, bot in rng.sample(owned, PER_BATCH):
            price = Decimal(1_000_000 + rng.randrange(-5000, 5000)) / 100
            if held[bot] > 0 and rng.random() < 0.5:
                side, qty = "sell", (held[bot] / 2).quantize(Decimal("1e-8"))
            else:
                side, qty = "buy", Decimal(rng.randrange(1, 1000)) / 10_000
            held[bot] += qty if side == "buy" else -qty
            fee = (qty * price / 1000).quantize(Decimal("0.01"))
            ref = f"batch-{number}-{len(batch)}"
            trade = Fill(bot, side, "BTC", "ZAR", qty, price, fee=fee, ref=ref)
            batch.append(FillRequest(user, trade))
        out.append(batch)
    return out


async def post_batches(factory: Factory, clock: ManualClock, n: int) -> tuple[float, float]:
    """Median main-thread CPU per fill in `post_fills`: in all, and without the insert."""
    work = batches(await seed_bots(factory, clock), n)
    mirror = BalanceMirror()
    cpu: list[float] = []
    python: list[float] = []
    for batch in work:
        clock.advance(timedelta(minutes=1))
        inserting = 0.0
        async with transaction(factory) as s:
            ledger = LedgerService(s, clock)
            insert = ledger.repo.insert_many

            async def timed_insert(*rows: Any, insert: Any = insert) -> None:
                nonlocal inserting
                start = time.thread_time()
                await insert(*rows)
                inserting += time.thread_time() - start

            ledger.repo.insert_many = timed_insert
            await s.connection()  # the engine's transaction is open before it books
            start = time.thread_time()
            booked = await ledger.post_fills([[f] for f in batch], mirror=mirror, fresh_refs=True)
            spent = time.thread_time() - start
        mirror.end(committed=True)
        refused = [r for r in booked if not isinstance(r, list)]
        if refused:
            raise RuntimeError(f"the benchmark's fills were refused: {refused[:3]}")
        cpu.append(spent / len(batch))
        python.append((spent - inserting) / len(batch))
    warm = len(cpu) // 10  # the first batches read every balance; the engine's do not
    return statistics.median(cpu[warm:]), statistics.median(python[warm:])


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
    cpu, python = await post_batches(factory, clock, n)
    print(
        f"  post_fills, {PER_BATCH} fills a batch: {cpu * 1e6:6.1f} us CPU per fill "
        f"({python * 1e6:.1f} us without the insert)"
    )
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
