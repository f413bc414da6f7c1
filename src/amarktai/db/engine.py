"""Async engine and session factory.

SQLite gets WAL, foreign keys and a busy timeout so the embedded default behaves like a
small server; PostgreSQL is used as it comes.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from amarktai.db.checkpoint import WAL_AUTOCHECKPOINT_PAGES
from amarktai.db.locks import release_all
from amarktai.db.sqlite_driver import InlineConnection, one_hop_dbapi
from amarktai.kit.errors import DomainError

#: Page size of a new SQLite database (an existing one keeps its own: in WAL mode it
#: cannot change). A candle close dirties about ten index leaves per bot (the per-bot
#: indexes of orders, fills, traces, entries and postings), and a WAL commit costs per
#: page written, not per byte: 16 KiB pages made the engine's commits about a third
#: cheaper than SQLite's default 4 KiB, with inserts no slower.
SQLITE_PAGE_SIZE = 16384


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")  # before WAL: a new file only
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    # Inline connections must never wait inside SQLite on the loop's thread; they retry
    # a locked database themselves, between asyncio sleeps (see sqlite_driver).
    busy_ms = 0 if isinstance(dbapi_conn, InlineConnection) else 10000
    cur.execute(f"PRAGMA busy_timeout={busy_ms}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    cur.close()


def _begin_immediate(conn: Connection) -> None:
    """Every transaction of the inline pool: its reads, savepoints and writes are one
    SQLite transaction, holding the write lock from the start. A deferred BEGIN would
    let a transaction that read first fail with SQLITE_BUSY_SNAPSHOT when it writes
    after another connection committed; IMMEDIATE waits for the lock up front instead."""
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def sqlite_file(url: str) -> Path | None:
    """The database file of a file-backed SQLite URL; None for an in-memory database
    or another backend."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1].split("?", 1)[0]
    if not path or path == ":memory:" or "///" not in url:
        return None
    return Path(path)


def private_file(path: Path) -> None:
    """The SQLite file (and its WAL and shared-memory files, which SQLite creates with the
    database file's mode) readable by its owner only: 0600, created so before SQLite
    opens it, tightened if an older version left it wider. Files of another owner are
    left alone."""
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for item in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            info = item.stat()
        except FileNotFoundError:
            continue
        if info.st_uid == os.getuid() and info.st_mode & 0o077:
            os.chmod(item, 0o600)


def make_engine(url: str, *, inline: bool = False, **kw: Any) -> AsyncEngine:
    """``inline``: SQLite statements run on the event loop's thread instead of hopping
    to aiosqlite's worker (see `amarktai.db.sqlite_driver`), and every transaction is
    an explicit BEGIN IMMEDIATE; for the trading engine's short statements. Ignored on
    other backends."""
    if url.startswith("sqlite"):
        path = sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            private_file(path)
        if url.startswith("sqlite+aiosqlite"):
            kw.setdefault("module", one_hop_dbapi(inline=inline))
        engine = create_async_engine(url, **kw)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        if inline:
            event.listen(engine.sync_engine, "begin", _begin_immediate)
        return engine
    kw.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kw)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def transaction(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back everything on any error."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except DomainError as exc:
            await (session.commit() if exc.keep_writes else session.rollback())
            raise
        except BaseException:
            await session.rollback()
            raise
        finally:
            release_all(session)
