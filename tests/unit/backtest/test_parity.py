"""Parity with peer engines on the same data and rules: SMA(10)/SMA(50) crossover, long
only, fixed 1 unit, 0.1 % fee per side, cash never short, market fills at the next open.

Conventions aligned: backtesting.py fills at the next open by default; vectorbt fills
at the signal bar's close by default, so its signals are shifted one bar and
``price=open``. Peers' SMAs come from our own indicator so the signal is the same bit
for bit. Data has gapped opens, so a same-bar-close fill would not match.

Tolerance: trade count and entry/exit bars exact; final equity (open position marked
at the last close, no exit fee, in all three) within 1e-9 relative. The remaining
difference is float summation order (we keep the ledger in Decimal).
"""

from __future__ import annotations

import warnings
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from amarktai.backtest.data import random_walk_bars
from amarktai.backtest.event import run_event
from amarktai.backtest.models import BacktestConfig, BacktestResult
from amarktai.backtest.vectorised import run_vectorised
from amarktai.strategies.base import Bars
from amarktai.strategies.registry import create_strategy

PARAMS = {"fast": 10, "slow": 50}
CASH = 1_000_000
BARS = random_walk_bars(20_000, seed=12345, gap_sigma=0.0005)
CONFIG = BacktestConfig(initial_cash=Decimal(CASH), fixed_qty=Decimal(1), fee_bps=Decimal(10))
REL = 1e-9


def _frame(bars: Bars) -> pd.DataFrame:
    return pd.DataFrame(
        {"Open": bars.open, "High": bars.high, "Low": bars.low, "Close": bars.close,
         "Volume": bars.volume},
        index=pd.DatetimeIndex(bars.time),
    )  # fmt: skip


def _targets() -> np.ndarray:
    values = create_strategy("sma_cross", PARAMS).signals(BARS)
    assert values is not None
    return values


@pytest.fixture(scope="module")
def ours() -> tuple[BacktestResult, BacktestResult]:
    event = run_event("sma_cross", BARS, params=PARAMS, config=CONFIG, decisions="signals")
    fast = run_vectorised("sma_cross", BARS, params=PARAMS, config=CONFIG)
    return event, fast


def _closed(result: BacktestResult) -> list[tuple[int, int | None]]:
    return [(t.entry_bar, t.exit_bar) for t in result.closed_trades]


def test_backtesting_py(ours: tuple[BacktestResult, BacktestResult]) -> None:
    bt = pytest.importorskip("backtesting")
    targets = _targets()

    class Cross(bt.Strategy):  # type: ignore[misc,name-defined]
        def init(self) -> None:
            # NaN → 0: backtesting.py skips bars until every indicator is valid, and
            # would then make its first decision one bar after ours.
            self.t = self.I(lambda: np.nan_to_num(targets), name="target")

        def next(self) -> None:
            if self.t[-1] == 1.0 and not self.position:
                self.buy(size=1)
            elif self.t[-1] == 0.0 and self.position:
                self.position.close()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # open trade at the end; pandas 4 deprecations
        stats = bt.Backtest(_frame(BARS), Cross, cash=CASH, commission=0.001).run()
    trades = stats._trades
    theirs = list(zip(trades.EntryBar.tolist(), trades.ExitBar.tolist(), strict=True))
    for result in ours:
        assert _closed(result) == theirs
        assert result.final_equity == pytest.approx(stats["Equity Final [$]"], rel=REL)


def test_vectorbt(ours: tuple[BacktestResult, BacktestResult]) -> None:
    vbt = pytest.importorskip("vectorbt")
    targets = pd.Series(_targets(), index=pd.DatetimeIndex(BARS.time))
    frame = _frame(BARS)
    entries = (targets == 1.0).shift(1, fill_value=False)
    exits = (targets == 0.0).shift(1, fill_value=False)
    pf = vbt.Portfolio.from_signals(frame.Close, entries, exits, price=frame.Open, size=1.0,
                                    fees=0.001, init_cash=CASH, freq="1min")  # fmt: skip
    records = pf.trades.records_arr
    theirs = [
        (int(r["entry_idx"]), None if r["status"] == 0 else int(r["exit_idx"])) for r in records
    ]
    for result in ours:
        assert [(t.entry_bar, t.exit_bar) for t in result.trades] == theirs
        assert result.final_equity == pytest.approx(float(pf.final_value()), rel=REL)
