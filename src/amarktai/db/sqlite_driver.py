"""SQLite under asyncio with one worker-thread round trip per statement.

SQLAlchemy's aiosqlite adapter spends up to four hops to aiosqlite's worker thread on
one statement (make a cursor, execute, fetch the rows, close the cursor), and each hop
costs a future, a queue put, a thread wake-up and an event-loop turn. On the engine's
hot path (a dozen statements per candle close) those hops, not SQLite, were a large
share of the wait. This module keeps aiosqlite's thread (so a statement blocked on a
lock never blocks the event loop) but runs each whole statement in one hop: execute,
read every row, note the description, row count and last row id, and close the cursor.

Only the buffered (default) cursor changes; server-side cursors (``stream_results``)
keep aiosqlite's own, which fetch lazily in as many hops as they need.

The trading engine goes one step further (``inline=True``): its statements run on the
event loop's own thread, with no hop at all. A hop costs a queue put, a thread wake-up,
a self-pipe write and an event-loop turn (60-110 us here, more when the other core is
busy), and a candle close makes about a dozen of them; inline, the same statements cost
what SQLite costs. What the hop bought was never blocking the loop on a lock, so inline
connections never wait inside SQLite (``busy_timeout=0``): a statement that finds the
database locked returns SQLITE_BUSY at once, having changed nothing, and is retried
after an asyncio sleep, so the loop runs on (and the transaction holding the lock can
finish) for up to `BUSY_WAIT_S`, as long as the busy timeout of the other connections.
Only plain SQLITE_BUSY is retried, and only when the connection's change count shows
the statement wrote nothing; SQLITE_BUSY_SNAPSHOT (a stale read snapshot) and any error
after a partial write are raised as they are. Inline connections suit short statements:
a long report query would hold the loop for its whole run, so they are for the engine.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import deque
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_

Outcome = tuple[Any, list[Any], int, int | None]

#: How long an inline statement keeps retrying a locked database (the hop connections'
#: ``busy_timeout`` is the same 10 s).
BUSY_WAIT_S = 10.0
_FIRST_BACKOFF_S, _MAX_BACKOFF_S = 0.0005, 0.02


def _run(conn: sqlite3.Connection, sql: str, params: Any, many: bool) -> Outcome:
    """Runs in aiosqlite's worker thread: the whole statement, start to finish."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(sql, params)
        elif params is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, params)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statements each cost one hop to the worker thread."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_dbapi_connection) -> None:
        # No driver cursor is made here (that was a hop of its own): `_run` makes one per
        # statement, in the worker thread.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = {}  # type: ignore[assignment]
        self._rows = deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    async def _async_soft_close(self) -> None:
        return None  # nothing is open: the statement closed its cursor in the thread

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        return self._statement(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        return self._statement(operation, seq_of_parameters, many=True)

    def _statement(self, sql: Any, params: Any, *, many: bool) -> None:
        try:
            outcome = await_(self._hop(sql, params, many))
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = deque(rows)

    async def _hop(self, sql: Any, params: Any, many: bool) -> Outcome:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with self._adapt_connection._execute_mutex:
            result: Outcome = await connection._execute(_run, connection._conn, sql, params, many)
            return result


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneHopCursor


def _busy(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY


async def _retrying_busy(conn: sqlite3.Connection, work: Any, *args: Any) -> Any:
    """Runs ``work(conn, *args)`` on this thread; a plain SQLITE_BUSY that changed
    nothing is retried after a growing asyncio sleep, for up to `BUSY_WAIT_S`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BUSY_WAIT_S
    delay = _FIRST_BACKOFF_S
    while True:
        changes = conn.total_changes
        try:
            return work(conn, *args)
        except sqlite3.OperationalError as error:
            if not _busy(error) or conn.total_changes != changes or loop.time() >= deadline:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, _MAX_BACKOFF_S)


class InlineCursor(OneHopCursor):
    """A buffered cursor whose statements run on the event loop's thread (no hop)."""

    __slots__ = ()

    async def _hop(self, sql: Any, params: Any, many: bool) -> Outcome:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with self._adapt_connection._execute_mutex:
            result: Outcome = await _retrying_busy(connection._conn, _run, sql, params, many)
            return result


def _commit(conn: sqlite3.Connection) -> None:
    conn.commit()


def _rollback(conn: sqlite3.Connection) -> None:
    conn.rollback()


class InlineConnection(OneHopConnection):
    """Statements, commits and rollbacks on the event loop's thread; see the module
    docstring for why and for how a locked database is waited on."""

    __slots__ = ()
    _cursor_cls = InlineCursor

    def commit(self) -> None:
        self._inline(_commit)

    def rollback(self) -> None:
        self._inline(_rollback)

    def _inline(self, work: Any) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        if connection._connection is None:
            return  # closed: nothing to commit or roll back (as aiosqlite's adapter)
        try:
            await_(self._locked(connection._conn, work))
        except Exception as error:
            self._handle_exception(error)

    async def _locked(self, conn: sqlite3.Connection, work: Any) -> None:
        async with self._execute_mutex:
            await _retrying_busy(conn, work)


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """aiosqlite's DBAPI shim, handing out `OneHopConnection`s (`InlineConnection`s
    when ``inline``)."""

    def __init__(self, aiosqlite: Any, sqlite: Any, *, inline: bool = False) -> None:
        super().__init__(aiosqlite, sqlite)
        self.inline = inline

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        if self.inline:
            # The loop's thread uses the connection aiosqlite opened in its worker, and
            # never waits inside SQLite for a lock (see `_retrying_busy`).
            kw["check_same_thread"], kw["timeout"] = False, 0
        adapted = super().connect(*arg, **kw)
        if not self.inline:
            return OneHopConnection(self, adapted._connection)
        # pysqlite begins a transaction only before a data-changing statement, so reads
        # ran outside it and a first SAVEPOINT began it (its RELEASE then committed).
        # Inline connections leave transactions to SQLAlchemy's "begin" event, which
        # `make_engine` answers with BEGIN IMMEDIATE: a unit of work is one transaction.
        adapted._connection._conn.isolation_level = None
        return InlineConnection(self, adapted._connection)


def one_hop_dbapi(*, inline: bool = False) -> OneHopDBAPI:
    return OneHopDBAPI(aiosqlite, sqlite3, inline=inline)
