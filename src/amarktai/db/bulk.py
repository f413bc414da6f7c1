"""Append-only bulk inserts on the hot path (ledger postings, orders, fills, traces).

A Core ``insert(table)`` executemany compiles the statement and runs every value through
SQLAlchemy's per-row parameter machinery; at thousands of rows a second that bookkeeping,
not the database, is the cost. ``BulkInsert`` prepares the SQL text and the columns' own
bind processors once per dialect and hands plain tuples to the driver's executemany,
inside the session's transaction. Stored values are byte-for-byte what the ORM would
write, because they pass through the same column types (``Money``, ``UTCDateTime``, JSON).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

Processor = Callable[[Any], Any] | None

_PARAM_MARKERS: dict[str, Callable[[int], str]] = {
    "qmark": lambda i: "?",
    "numeric_dollar": lambda i: f"${i + 1}",
    "numeric": lambda i: f":{i + 1}",
    "format": lambda i: "%s",
    "pyformat": lambda i: "%s",
}


_NOTHING = object()


class BulkInsert:
    """One table's INSERT of a fixed column list; rows are tuples in that order."""

    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        missing = [name for name in columns if name not in table.c]
        if missing:
            raise ValueError(f"{table.name} has no column(s) {missing}")
        self.table = table
        self.columns = tuple(columns)
        self._plans: dict[str, tuple[str, tuple[Processor, ...]]] = {}

    def _plan(self, dialect: Dialect) -> tuple[str, tuple[Processor, ...]]:
        plan = self._plans.get(dialect.name)
        if plan is None:
            marker = _PARAM_MARKERS[dialect.paramstyle]
            preparer = dialect.identifier_preparer
            names = ", ".join(preparer.quote(name) for name in self.columns)
            marks = ", ".join(marker(i) for i in range(len(self.columns)))
            sql = f"INSERT INTO {preparer.format_table(self.table)} ({names}) VALUES ({marks})"
            processors = tuple(
                self.table.c[name].type._cached_bind_processor(dialect) for name in self.columns
            )
            plan = self._plans[dialect.name] = (sql, processors)
        return plan

    async def run(self, session: AsyncSession, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        conn = await session.connection()
        sql, processors = self._plan(conn.dialect)
        width = len(self.columns)
        if any(len(row) != width for row in rows):
            raise ValueError(f"{self.table.name}: every row needs {width} values")
        convert = [(i, p) for i, p in enumerate(processors) if p is not None]
        # Rows of one batch share objects (an entry's instant on each of its postings,
        # a user id on every row): the last value converted per column is reused when the
        # next row holds the very same object. Identity, not equality, so Decimal("1.0")
        # and Decimal("1.00") still store their own text.
        last: list[tuple[Any, Any]] = [(_NOTHING, None)] * len(processors)
        params: list[tuple[Any, ...]] = []
        for row in rows:
            values = list(row)
            for i, process in convert:
                value = values[i]
                if value is None:
                    continue
                seen, out = last[i]
                if value is not seen:
                    out = process(value)
                    last[i] = (value, out)
                values[i] = out
            params.append(tuple(values))
        await conn.exec_driver_sql(sql, params)
