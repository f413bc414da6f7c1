"""Helpers shared by test modules (importable as `tests.support`)."""

from __future__ import annotations

import numpy as np
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from amarktai.db.models import Base
from amarktai.strategies.base import Bars


async def truncate_all(engine: AsyncEngine) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def scrambled_after(bars: Bars, t: int, seed: int) -> Bars:
    """`bars` with every bar after `t` randomly rescaled: a look-ahead test's altered future."""
    rng = np.random.default_rng(seed)
    cols = {c: np.array(getattr(bars, c)) for c in ("open", "high", "low", "close", "volume")}
    for col in cols.values():
        col[t + 1 :] *= rng.uniform(0.5, 1.5, len(col) - t - 1)
    return Bars.from_arrays(bars.time, **cols)
