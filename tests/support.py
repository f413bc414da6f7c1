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


def heavy_tailed_returns(n: int = 1000, seed: int = 10) -> np.ndarray:
    """Daily simple returns like a small-cap coin's: Student-t (2.5 degrees of freedom, 2 %
    scale) plus rare (0.6 % of days) +50..100 % jumps, floored at -99 %. With the default
    seed the sample has skew about 4.9 and excess kurtosis about 103: far outside the
    Cornish-Fisher validity domain (the VaR issue's "skew 5, excess kurtosis 95")."""
    rng = np.random.default_rng(seed)
    returns = rng.standard_t(2.5, n) * 0.02
    returns += (rng.random(n) < 0.006) * rng.uniform(0.5, 1.0, n)
    return np.asarray(np.maximum(returns, -0.99), dtype=np.float64)
