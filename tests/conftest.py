"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, and the live API app.

PostgreSQL comes from AMARKTAI_TEST_POSTGRES_URL (default: local server, database
`test`). Each test run creates its own throw-away database, so parallel runs never
collide. Outside CI a missing server skips those tests with the reason; in CI
(CI=true) it is a failure, because storage tests must really run on both backends.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool
from tests.support import truncate_all

from amarktai.db.engine import make_engine
from amarktai.db.migrate import upgrade

PG_URL = os.environ.get(
    "AMARKTAI_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("AMARKTAI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _unavailable(what: str, reason: str) -> None:
    message = f"{what} not reachable ({reason}); set AMARKTAI_TEST_{what.upper()}_URL"
    if IN_CI:
        pytest.fail(f"{message} — required in CI")
    pytest.skip(message)


async def _pg_admin(sql: str) -> None:
    import asyncpg

    dsn = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def _empty_market_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("market-store")


@pytest.fixture(autouse=True)
def isolated_market_store(_empty_market_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts from an empty candle store (so the shipped sample answers), never
    the developer's ``var/market``; a test that needs a store sets its own."""
    monkeypatch.setenv("AMARKTAI_MARKET_DIR", str(_empty_market_store))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    name = f"amarktai_t_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any connection failure means "no server here"
        _unavailable("Postgres", f"{type(exc).__name__}: {exc}")
    base, _, _ = PG_URL.rpartition("/")
    url = f"{base}/{name}"

    async def migrate() -> None:
        engine = make_engine(url, poolclass=NullPool)
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(migrate())
    yield url
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"

    async def migrate() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        async with engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        await engine.dispose()

    asyncio.run(migrate())
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A freshly migrated, empty database URL on each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "amarktai.db"
        shutil.copyfile(template, target)
        return f"sqlite+aiosqlite:///{target}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    target = tmp_path / "amarktai.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture
async def trading_db_engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """`db_engine` as the trading engine gets it: on SQLite, the inline pool (statements
    on the loop's thread, BEGIN IMMEDIATE transactions; see `Runtime.trading_sessions`)."""
    if db_url.startswith("postgresql"):
        engine = make_engine(db_url, poolclass=NullPool)
        await truncate_all(engine)
    else:
        engine = make_engine(db_url, inline=True)
    yield engine
    await engine.dispose()


@pytest.fixture
async def db_engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    if db_url.startswith("postgresql"):
        engine = make_engine(db_url, poolclass=NullPool)
        await truncate_all(engine)
    else:
        engine = make_engine(db_url)
    yield engine
    await engine.dispose()
