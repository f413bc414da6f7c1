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
"""

from __future__ import annotations

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


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """aiosqlite's DBAPI shim, handing out `OneHopConnection`s."""

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        adapted = super().connect(*arg, **kw)
        return OneHopConnection(self, adapted._connection)


def one_hop_dbapi() -> OneHopDBAPI:
    return OneHopDBAPI(aiosqlite, sqlite3)
