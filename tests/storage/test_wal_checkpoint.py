"""Background WAL checkpoints: the log is copied back into the database file by the
checkpointer's own thread, engine connections only checkpoint as a backstop, and the
runtime starts and stops the checkpointer for file-backed SQLite only."""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from amarktai.config import Settings
from amarktai.db.checkpoint import WAL_AUTOCHECKPOINT_PAGES, WalCheckpointer
from amarktai.db.engine import SQLITE_PAGE_SIZE, make_engine, sqlite_file
from amarktai.runtime import build_runtime


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """A WAL database whose writer never checkpoints by itself."""
    conn = sqlite3.connect(tmp_path / "wal.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the empty table in the file itself
    yield conn
    conn.close()


def write(conn: sqlite3.Connection, commits: int, rows: int = 50) -> None:
    for c in range(commits):
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO t (body) VALUES (?)", [(f"{c}-{r}-" + "x" * 200,) for r in range(rows)]
        )
        conn.execute("COMMIT")


def rows_in_database_file(db: Path) -> int:
    """Rows the database file itself holds, without its log: a copy of the file alone
    (no -wal beside it) sees only what was checkpointed."""
    alone = db.with_name("alone.db")
    shutil.copyfile(db, alone)
    conn = sqlite3.connect(alone)
    try:
        return int(conn.execute("SELECT count(*) FROM t").fetchone()[0])
    finally:
        conn.close()
        for path in alone.parent.glob("alone.db*"):
            path.unlink()


def wait_for(predicate: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite+aiosqlite:////var/x/amarktai.db", Path("/var/x/amarktai.db")),
        ("sqlite+aiosqlite:///rel/a.db?mode=rwc", Path("rel/a.db")),
        ("sqlite+aiosqlite:///:memory:", None),
        ("sqlite+aiosqlite://", None),
        ("postgresql+asyncpg://u@h/db", None),
    ],
)
def test_sqlite_file(url: str, expected: Path | None) -> None:
    assert sqlite_file(url) == expected


def test_checkpointer_copies_the_log_back(tmp_path: Path, writer: sqlite3.Connection) -> None:
    db = tmp_path / "wal.db"
    write(writer, commits=20)
    assert rows_in_database_file(db) == 0  # all of it is still in the log
    checkpointer = WalCheckpointer(db, interval_s=0.01)
    checkpointer.start()
    try:
        wait_for(lambda: checkpointer.stats.frames > 0)
        assert checkpointer.running
    finally:
        checkpointer.stop()
    assert not checkpointer.running
    assert checkpointer.stats.runs >= 1 and checkpointer.stats.errors == 0
    assert rows_in_database_file(db) == 20 * 50
    # What the writer commits while the checkpointer runs is copied too.
    checkpointer.start()
    try:
        frames = checkpointer.stats.frames
        write(writer, commits=5)
        wait_for(lambda: checkpointer.stats.frames > frames)
    finally:
        checkpointer.stop()
    assert rows_in_database_file(db) == 25 * 50


def test_stop_runs_a_last_checkpoint_and_is_idempotent(
    tmp_path: Path, writer: sqlite3.Connection
) -> None:
    checkpointer = WalCheckpointer(tmp_path / "wal.db", interval_s=60)
    checkpointer.start()
    checkpointer.start()  # already running: no second thread
    write(writer, commits=3)
    assert rows_in_database_file(tmp_path / "wal.db") == 0
    started = time.monotonic()
    checkpointer.stop()
    assert time.monotonic() - started < 5  # the wait is interrupted, not sat out
    assert checkpointer.stats.frames > 0
    assert rows_in_database_file(tmp_path / "wal.db") == 3 * 50
    checkpointer.stop()  # a second stop is a no-op


def test_a_file_it_cannot_open_is_logged_not_raised(tmp_path: Path) -> None:
    checkpointer = WalCheckpointer(tmp_path / "missing" / "dir" / "x.db", interval_s=0.01)
    checkpointer.start()
    wait_for(lambda: not checkpointer.running)
    assert checkpointer.stats.errors == 1
    checkpointer.stop()


def test_interval_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="interval_s"):
        WalCheckpointer(tmp_path / "x.db", interval_s=0)


async def test_engine_connections_checkpoint_only_as_a_backstop(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'e.db'}")
    try:
        async with engine.connect() as conn:
            pages = (await conn.execute(text("PRAGMA wal_autocheckpoint"))).scalar_one()
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
        assert (pages, mode) == (WAL_AUTOCHECKPOINT_PAGES, "wal")
        assert WAL_AUTOCHECKPOINT_PAGES > 1000  # above SQLite's default
    finally:
        await engine.dispose()


async def test_runtime_runs_a_checkpointer_for_file_sqlite_only(tmp_path: Path) -> None:
    rt = build_runtime(Settings(data_dir=tmp_path, env="test"))
    checkpointer = rt.start_wal_checkpointer()
    assert checkpointer is not None and checkpointer.running
    assert (checkpointer.path.name, checkpointer.path.parent.name) == ("amarktai.db", tmp_path.name)
    assert rt.start_wal_checkpointer() is checkpointer  # one per runtime
    await rt.close()
    assert not checkpointer.running

    memory = build_runtime(
        Settings(data_dir=tmp_path, env="test", database_url="sqlite+aiosqlite://")
    )
    assert memory.start_wal_checkpointer() is None
    await memory.close()


async def test_new_databases_get_the_larger_page_and_old_ones_keep_theirs(
    tmp_path: Path,
) -> None:
    old = sqlite3.connect(tmp_path / "old.db")
    old.execute("PRAGMA journal_mode=WAL")
    old.execute("CREATE TABLE t (n INTEGER)")
    old.close()
    for name, expected in (("new.db", SQLITE_PAGE_SIZE), ("old.db", 4096)):
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / name}")
        try:
            async with engine.connect() as conn:
                await conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS u (n INTEGER)")
                size = (await conn.exec_driver_sql("PRAGMA page_size")).scalar_one()
            assert size == expected
        finally:
            await engine.dispose()
