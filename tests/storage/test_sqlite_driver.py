"""The embedded SQLite driver: one worker-thread hop per statement (none at all for the
engine's inline connections), same results as aiosqlite's own adapter, errors mapped the
same way, and a statement waiting on another connection's lock never blocks the event
loop (the inline one retries between asyncio sleeps instead of waiting in SQLite)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite.core
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from amarktai.config import Settings
from amarktai.db import sqlite_driver
from amarktai.db.engine import make_engine, make_sessionmaker, transaction
from amarktai.db.sqlite_driver import InlineConnection, OneHopConnection
from amarktai.runtime import build_runtime


@pytest.fixture(params=[False, True], ids=["hop", "inline"])
def inline(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
async def engine(tmp_path: Path, inline: bool) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}", inline=inline)
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


async def test_engine_uses_the_one_hop_connection(engine: AsyncEngine, inline: bool) -> None:
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.driver_connection, aiosqlite.Connection)
        assert isinstance(raw.dbapi_connection, OneHopConnection)
        assert isinstance(raw.dbapi_connection, InlineConnection) == inline
        busy = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar_one()
        assert busy == (0 if inline else 10000)  # inline never waits inside SQLite


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


async def test_each_statement_is_one_hop(
    engine: AsyncEngine, hops: list[str], inline: bool
) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))  # the first use may set up the connection
        hops.clear()
        await conn.execute(text("SELECT name FROM t"))
        await conn.execute(text("INSERT INTO t (name) VALUES ('x')"))
        await conn.exec_driver_sql("INSERT INTO t (name) VALUES (?)", [("y",), ("z",)])
        await conn.commit()
        assert hops == ([] if inline else ["_run", "_run", "_run", "commit"])
        await conn.execute(text("DELETE FROM t"))
        await conn.rollback()
        names = (await conn.execute(text("SELECT name FROM t ORDER BY id"))).scalars().all()
        assert names == ["x", "y", "z"]  # committed, and the delete rolled back


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
            # The first write takes the write lock (inline: the transaction's BEGIN
            # IMMEDIATE already has).
            await holder.exec_driver_sql("INSERT INTO t (name) VALUES ('held')")
            blocked = asyncio.create_task(
                waiter.exec_driver_sql("INSERT INTO t (name) VALUES ('waited')")
            )
            await asyncio.sleep(0.2)
            assert not blocked.done()  # waiting on the write lock, off the loop's thread
            assert ticks >= 10  # ...while the event loop went on
            await holder.commit()
            await blocked
            await waiter.commit()
    finally:
        task.cancel()
    async with engine.connect() as conn:
        names = (await conn.execute(text("SELECT name FROM t ORDER BY id"))).scalars().all()
    assert names == ["held", "waited"]


async def test_inline_gives_up_on_a_lock_held_too_long(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_driver, "BUSY_WAIT_S", 0.1)
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'busy.db'}", inline=True)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("CREATE TABLE t (name TEXT)")
        async with engine.connect() as holder, engine.connect() as waiter:
            await holder.exec_driver_sql("INSERT INTO t (name) VALUES ('held')")
            with pytest.raises(OperationalError, match="database is locked"):
                await waiter.exec_driver_sql("INSERT INTO t (name) VALUES ('late')")
            await waiter.rollback()
            await holder.rollback()
    finally:
        await engine.dispose()


def _busy_error(code: int) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("database is locked")
    error.sqlite_errorcode = code  # type: ignore[attr-defined]
    return error


async def test_inline_retries_only_a_busy_that_changed_nothing() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (n INTEGER)")
    calls: list[int] = []

    def busy_once(c: sqlite3.Connection) -> str:
        calls.append(1)
        if len(calls) == 1:
            raise _busy_error(sqlite3.SQLITE_BUSY)
        return "done"

    assert await sqlite_driver._retrying_busy(conn, busy_once) == "done"
    assert len(calls) == 2

    def wrote_then_busy(c: sqlite3.Connection) -> None:
        c.execute("INSERT INTO t VALUES (1)")  # a partial write: retrying would repeat it
        raise _busy_error(sqlite3.SQLITE_BUSY)

    with pytest.raises(sqlite3.OperationalError):
        await sqlite_driver._retrying_busy(conn, wrote_then_busy)
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 1

    snapshot: list[int] = []

    def stale_snapshot(c: sqlite3.Connection) -> None:
        snapshot.append(1)
        raise _busy_error(517)  # SQLITE_BUSY_SNAPSHOT: waiting cannot help

    with pytest.raises(sqlite3.OperationalError):
        await sqlite_driver._retrying_busy(conn, stale_snapshot)
    assert len(snapshot) == 1
    conn.close()


async def test_the_trading_engine_gets_inline_sessions_on_file_sqlite(tmp_path: Path) -> None:
    rt = build_runtime(Settings(data_dir=tmp_path, env="test"))
    try:
        trading = rt.trading_sessions()
        assert trading is not rt.sessions and rt.trading_sessions() is trading
        for factory, inline in ((trading, True), (rt.sessions, False)):
            async with factory() as s:
                raw = await (await s.connection()).get_raw_connection()
                assert isinstance(raw.dbapi_connection, InlineConnection) == inline
    finally:
        await rt.close()
    memory = build_runtime(
        Settings(data_dir=tmp_path, env="test", database_url="sqlite+aiosqlite://")
    )
    assert memory.trading_sessions() is memory.sessions  # a second pool would not share it
    await memory.close()


async def test_inline_units_of_work_are_one_transaction(tmp_path: Path) -> None:
    """A released savepoint is undone by the rollback of its transaction (on the hop
    pool pysqlite would have begun the transaction at the SAVEPOINT and committed it at
    the RELEASE), and the write lock is held from the first statement on."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'tx.db'}", inline=True)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("CREATE TABLE t (name TEXT)")
        sessions = make_sessionmaker(engine)
        with pytest.raises(RuntimeError, match="after the savepoint"):
            async with transaction(sessions) as s:
                await s.execute(text("SELECT count(*) FROM t"))  # a read begins it
                async with s.begin_nested():
                    await s.execute(text("INSERT INTO t (name) VALUES ('saved')"))
                raise RuntimeError("after the savepoint")
        async with sessions() as s:
            assert (await s.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
            raw = await (await s.connection()).get_raw_connection()
            assert raw.driver_connection._conn.in_transaction  # BEGIN IMMEDIATE on a read
    finally:
        await engine.dispose()
