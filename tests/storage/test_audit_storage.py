"""Audit chain on both backends: concurrent appends keep one unbroken chain."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from amarktai.accounts import audit
from amarktai.db.engine import make_sessionmaker, transaction


async def test_concurrent_appends_form_one_chain(db_engine: AsyncEngine) -> None:
    factory = make_sessionmaker(db_engine)

    async def writer(i: int) -> None:
        async with transaction(factory) as s:
            await audit.append(s, "test.event", now=datetime.now(UTC), details={"i": i})
            await asyncio.sleep(0)

    await asyncio.gather(*(writer(i) for i in range(12)))
    async with factory() as s:
        count, broken = await audit.verify(s)
    assert count == 12 and broken is None


async def test_rollback_leaves_no_entry_and_tamper_is_found(db_engine: AsyncEngine) -> None:
    factory = make_sessionmaker(db_engine)
    try:
        async with transaction(factory) as s:
            await audit.append(s, "doomed", now=datetime.now(UTC))
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    for i in range(3):
        async with transaction(factory) as s:
            await audit.append(s, "kept", now=datetime.now(UTC), details={"i": i})
    async with factory() as s:
        assert await audit.verify(s) == (3, None)
        await s.execute(text("UPDATE audit_log SET event = 'forged' WHERE seq = 3"))
        await s.commit()
    async with factory() as s:
        _count, broken = await audit.verify(s)
    assert broken is not None and broken.entry_id == 3
