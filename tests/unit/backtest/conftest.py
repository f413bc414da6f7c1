from __future__ import annotations

import pytest
from benchmarks.shared_data import find_shared_data_dir

from amarktai.backtest.data import load_bars
from amarktai.strategies.base import Bars

SHARED = find_shared_data_dir()
"""The shared data folder, named explicitly (the product never looks for it)."""


@pytest.fixture(autouse=True)
def shared_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Relative file names below resolve in the shared folder, as a user's would in theirs."""
    monkeypatch.setenv("AMARKTAI_SHARED_DATA", str(SHARED))


@pytest.fixture(scope="session")
def btc_daily() -> Bars:
    return load_bars(SHARED / "daily/binance_daily_Bitcoin.csv")


@pytest.fixture(scope="session")
def eth_btc_5m() -> Bars:
    """Intraday bars whose opens are gapped from the previous close (57 % of bars), so
    a same-bar-close fill bug would show up."""
    return load_bars(SHARED / "intraday/ETH_BTC-5m.feather")
