"""Real market data as ``Bars`` for the strategy and indicator tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from amarktai.strategies.base import Bars

DATA = Path(__file__).resolve().parents[4] / "shared" / "data"


def _read(relative: str) -> pd.DataFrame:
    path = DATA / relative
    if not path.exists():
        pytest.skip(f"shared market data not found at {path}")
    return pd.read_feather(path) if path.suffix == ".feather" else pd.read_csv(path)


def _bars(df: pd.DataFrame, time_col: str) -> Bars:
    times = pd.to_datetime(df[time_col], utc=True).dt.tz_localize(None).to_numpy()
    return Bars.from_arrays(times, df.open, df.high, df.low, df.close, df.volume)


@pytest.fixture(scope="session")
def btc_daily() -> Bars:
    return _bars(_read("daily/binance_daily_Bitcoin.csv"), "Date")


@pytest.fixture(scope="session")
def eth_btc_5m() -> Bars:
    return _bars(_read("intraday/ETH_BTC-5m.feather"), "date")
