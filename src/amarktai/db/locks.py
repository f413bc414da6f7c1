"""Serialise appends to hash chains (audit log, ledger journal) for one transaction.

Each new entry must see the hash of the last committed one, so appends take a lock held
until the transaction ends: a PostgreSQL advisory transaction lock (works across
processes), or a process-wide asyncio lock on SQLite (the embedded default is one process).
The SQLite lock belongs to the database, not to the engine object: the trading engine's
inline pool and the API's pool are two engines on one file, and an append through either
must wait for the other. Locks are kept per event loop (an asyncio lock serves one loop).
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Callable
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, text
from sqlalchemy.ext.asyncio import AsyncSession

_LOCAL: WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str], asyncio.Lock]] = (
    WeakKeyDictionary()
)
RELEASE_KEY = "amarktai_release"


def _release_callbacks(session: AsyncSession) -> list[Callable[[], None]]:
    callbacks: list[Callable[[], None]] = session.info.setdefault(RELEASE_KEY, [])
    return callbacks


async def chain_lock(session: AsyncSession, name: str) -> None:
    held: set[str] = session.info.setdefault("amarktai_locks", set())
    if name in held:
        return
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        key = zlib.crc32(name.encode())
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
    else:
        locks = _LOCAL.setdefault(asyncio.get_running_loop(), {})
        engine = bind if isinstance(bind, Engine) else bind.engine
        database = engine.url.render_as_string(hide_password=False)
        lock = locks.setdefault((database, name), asyncio.Lock())
        await lock.acquire()
        _release_callbacks(session).append(lock.release)
    held.add(name)


def release_all(session: AsyncSession) -> None:
    """Called once the transaction has committed or rolled back."""
    for release in _release_callbacks(session):
        release()
    session.info[RELEASE_KEY] = []
    session.info["amarktai_locks"] = set()
