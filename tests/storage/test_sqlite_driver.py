"""The embedded SQLite driver: one worker-thread hop per statement, same results as
aiosqlite's own adapter, errors mapped the same way, and a statement waiting on another
connection's lock never blocks the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite.core
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from amarktai.db.engine import make_engine
from amarktai.db.sqlite_driver import OneHopConnection


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as conn:
        await conn.exec_driver_sql(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, n INTEGER)"
        )
    yield engine
    await engine.dispose()


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every call queued to aiosqlite's worker thread, by function name."""
    seen: list[str] = []
    original = aiosqlite.core.Connection._execute

    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counted)
    return seen


async def test_engine_uses_the_one_hop_connection(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.driver_connection, aiosqlite.Connection)
        assert isinstance(raw.dbapi_connection, OneHopConnection)


async def test_results_rowcount_and_lastrowid(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        inserted = await conn.execute(
            text("INSERT INTO t (name, n) VALUES (:name, :n)"), {"name": "a", "n": 1}
        )
        assert inserted.lastrowid == 1
        many = await conn.execute(
            text("INSERT INTO t (name, n) VALUES (:name, :n)"),
            [{"name": "b", "n": 2}, {"name": "c", "n": 3}],
        )
        assert many.rowcount == 2
        updated = await conn.execute(text("UPDATE t SET n = n * 10 WHERE n >= 2"))
        assert updated.rowcount == 2
        rows = (await conn.execute(text("SELECT name, n FROM t ORDER BY id"))).all()
        assert [tuple(r) for r in rows] == [("a", 1), ("b", 20), ("c", 30)]
        result = await conn.execute(text("SELECT name AS label FROM t WHERE n > 100"))
        assert list(result.keys()) == ["label"]
        assert result.all() == []


async def test_each_statement_is_one_hop(engine: AsyncEngine, hops: list[str]) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))  # the first use may set up the connection
        hops.clear()
        await conn.execute(text("SELECT name FROM t"))
        await conn.execute(text("INSERT INTO t (name) VALUES ('x')"))
        await conn.exec_driver_sql("INSERT INTO t (name) VALUES (?)", [("y",), ("z",)])
        assert hops == ["_run", "_run", "_run"]
        await conn.rollback()


async def test_constraint_errors_map_and_roll_back(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('dup')"))
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (name) VALUES ('new')"))
            await conn.execute(text("INSERT INTO t (name) VALUES ('dup')"))
    async with engine.connect() as conn:
        names = (await conn.execute(text("SELECT name FROM t ORDER BY name"))).scalars().all()
    assert names == ["dup"]  # 'new' went with the failed transaction


async def test_streamed_results_still_arrive_in_batches(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO t (name, n) VALUES (:name, :n)"),
            [{"name": f"r{i}", "n": i} for i in range(50)],
        )
    async with engine.connect() as conn:
        result = await conn.stream(text("SELECT n FROM t ORDER BY n"))
        seen = [row.n async for row in result]
    assert seen == list(range(50))


async def test_a_statement_waiting_on_a_lock_leaves_the_loop_running(
    engine: AsyncEngine,
) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        async with engine.connect() as holder, engine.connect() as waiter:
            await holder.exec_driver_sql("BEGIN IMMEDIATE")
            await holder.exec_driver_sql("INSERT INTO t (name) VALUES ('held')")
            blocked = asyncio.create_task(
                waiter.exec_driver_sql("INSERT INTO t (name) VALUES ('waited')")
            )
            await asyncio.sleep(0.2)
            assert not blocked.done()  # waiting on the write lock, in the worker thread
            assert ticks >= 10  # ...while the event loop went on
            await holder.exec_driver_sql("COMMIT")
            await blocked
            await waiter.commit()
    finally:
        task.cancel()
    async with engine.connect() as conn:
        names = (await conn.execute(text("SELECT name FROM t ORDER BY id"))).scalars().all()
    assert names == ["held", "waited"]
