"""The SQLite chain lock belongs to the database file: the trading engine's inline pool
and the API's pool are two engines on one file, and an append through one waits for an
append through the other."""

from __future__ import annotations

import asyncio
from pathlib import Path

from amarktai.db.engine import make_engine, make_sessionmaker, transaction
from amarktai.db.locks import chain_lock


async def test_two_engines_on_one_file_share_the_lock(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'locks.db'}"
    api, trading = make_engine(url), make_engine(url, inline=True)
    other = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'other.db'}")
    order: list[str] = []
    try:
        first_holds = asyncio.Event()

        async def first() -> None:
            async with transaction(make_sessionmaker(api)) as s:
                await chain_lock(s, "ledger")
                order.append("api locked")
                first_holds.set()
                await asyncio.sleep(0.05)
                order.append("api done")

        async def second() -> None:
            await first_holds.wait()
            async with transaction(make_sessionmaker(trading)) as s:
                await chain_lock(s, "ledger")
                order.append("trading locked")

        async def elsewhere() -> None:
            await first_holds.wait()
            async with transaction(make_sessionmaker(other)) as s:
                await chain_lock(s, "ledger")  # another database: no wait
                order.append("other db locked")

        await asyncio.gather(first(), second(), elsewhere())
    finally:
        for engine in (api, trading, other):
            await engine.dispose()
    assert order == ["api locked", "other db locked", "api done", "trading locked"]
