from __future__ import annotations

import pytest

from amarktai.backtest.data import load_bars
from amarktai.strategies.base import Bars


@pytest.fixture(scope="session")
def btc_daily() -> Bars:
    return load_bars("daily/binance_daily_Bitcoin.csv")


@pytest.fixture(scope="session")
def eth_btc_5m() -> Bars:
    """Intraday bars whose opens are gapped from the previous close (57 % of bars), so
    a same-bar-close fill bug would show up."""
    return load_bars("intraday/ETH_BTC-5m.feather")
