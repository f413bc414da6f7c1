"""Async engine and session factory.

SQLite gets WAL, foreign keys and a busy timeout so the embedded default behaves like a
small server; PostgreSQL is used as it comes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from amarktai.db.checkpoint import WAL_AUTOCHECKPOINT_PAGES
from amarktai.db.locks import release_all
from amarktai.db.sqlite_driver import one_hop_dbapi
from amarktai.kit.errors import DomainError


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    cur.close()


def sqlite_file(url: str) -> Path | None:
    """The database file of a file-backed SQLite URL; None for an in-memory database
    or another backend."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1].split("?", 1)[0]
    if not path or path == ":memory:" or "///" not in url:
        return None
    return Path(path)


def make_engine(url: str, **kw: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        path = sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        if url.startswith("sqlite+aiosqlite"):
            kw.setdefault("module", one_hop_dbapi())
        engine = create_async_engine(url, **kw)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
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
