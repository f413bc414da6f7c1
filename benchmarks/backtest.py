"""Backtest engine benchmark: ours (vectorised, event-driven) against vectorbt,
backtesting.py (and nautilus_trader when installed), measured in the same process.

Rule: SMA(10)/SMA(50) crossover on the close, long only, fixed 1 unit, 0.1 % fee per
side, cash 1,000,000 (never short, so every engine takes the same trades), decisions at
the close of bar t, fills at the open of t+1. Data: a seeded 1-minute random walk
(1,000,000 bars) and the shared real files. Times are engine time only (data generation
and imports excluded; indicators, simulation and result objects included).
Peak memory: tracemalloc peak of a separate run on the 100k-bar slice (tracemalloc
slows Python code, so it is never on while timing).

Run: .venv/bin/python benchmarks/backtest.py [--bars 1000000] [--event-bars 100000]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
import warnings
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from amarktai.backtest.common import DEFAULT_SYMBOL, instrument_for
from amarktai.backtest.data import load_bars, random_walk_bars, slice_bars
from amarktai.backtest.event import run_event
from amarktai.backtest.models import BacktestConfig
from amarktai.backtest.vectorised import _Rules, run_vectorised, simulate_targets
from amarktai.strategies.base import Bars
from amarktai.strategies.registry import create_strategy

PARAMS = {"fast": 10, "slow": 50}
CASH = 1_000_000
CONFIG = BacktestConfig(initial_cash=Decimal(CASH), fixed_qty=Decimal(1), fee_bps=Decimal(10))


def _frame(bars: Bars) -> pd.DataFrame:
    return pd.DataFrame(
        {"Open": bars.open, "High": bars.high, "Low": bars.low, "Close": bars.close,
         "Volume": bars.volume},
        index=pd.DatetimeIndex(bars.time),
    )  # fmt: skip


def ours_core(bars: Bars) -> float:
    """Signals + simulation only (what the optimiser calls per trial)."""
    targets = create_strategy("sma_cross", PARAMS).signals(bars)
    assert targets is not None
    rules = _Rules.of(CONFIG, instrument_for(DEFAULT_SYMBOL, CONFIG, None))
    return float(simulate_targets(bars.open, bars.close, targets, CASH, rules).equity[-1])


def ours_vectorised(bars: Bars) -> float:
    return run_vectorised("sma_cross", bars, params=PARAMS, config=CONFIG).final_equity


def ours_event(bars: Bars) -> float:
    return run_event(
        "sma_cross", bars, params=PARAMS, config=CONFIG, decisions="signals"
    ).final_equity


def ours_event_on_bar(bars: Bars) -> float:
    return run_event("sma_cross", bars, params=PARAMS, config=CONFIG).final_equity


def vectorbt_run(bars: Bars) -> float:
    import vectorbt as vbt

    frame = _frame(bars)
    close = frame.Close
    fast, slow = vbt.MA.run(close, 10), vbt.MA.run(close, 50)
    entries = fast.ma_crossed_above(slow).shift(1, fill_value=False)
    exits = fast.ma_crossed_below(slow).shift(1, fill_value=False)
    pf = vbt.Portfolio.from_signals(close, entries, exits, price=frame.Open, size=1.0,
                                    fees=0.001, init_cash=CASH, freq="1min")  # fmt: skip
    return float(pf.final_value())


def backtesting_run(bars: Bars) -> float:
    import backtesting as bt

    def sma(values: Any, n: int) -> Any:
        return pd.Series(values).rolling(n).mean().to_numpy()

    class Cross(bt.Strategy):  # type: ignore[misc]
        def init(self) -> None:
            self.fast = self.I(sma, self.data.Close, 10)
            self.slow = self.I(sma, self.data.Close, 50)

        def next(self) -> None:
            if self.fast[-1] > self.slow[-1]:
                if not self.position:
                    self.buy(size=1)
            elif self.position:
                self.position.close()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = bt.Backtest(_frame(bars), Cross, cash=CASH, commission=0.001).run()
    return float(stats["Equity Final [$]"])


def timed(fn: Callable[[Bars], float], bars: Bars) -> tuple[float, float]:
    start = time.perf_counter()
    equity = fn(bars)
    return time.perf_counter() - start, equity


def peak_mb(fn: Callable[[Bars], float], bars: Bars) -> float:
    tracemalloc.start()
    fn(bars)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def _available(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def bench(label: str, bars: Bars, event_bars: int) -> None:
    n = len(bars)
    small = slice_bars(bars, 0, min(n, event_bars))
    rows: list[tuple[str, int, float, float, float | None]] = []

    def add(name: str, fn: Callable[[Bars], float], data: Bars, mem: bool = True) -> float:
        seconds, equity = timed(fn, data)
        mb = peak_mb(fn, small) if mem else None
        rows.append((name, len(data), seconds, equity, mb))
        return len(data) / seconds

    speed: dict[str, float] = {}
    speed["core"] = add("ours vectorised core (signals+simulate)", ours_core, bars)
    speed["vec"] = add("ours vectorised (full result)", ours_vectorised, bars)
    speed["event"] = add("ours event-driven (signals)", ours_event, bars)
    speed["on_bar"] = add("ours event-driven (on_bar, live path)", ours_event_on_bar, small)
    if _available("vectorbt"):
        speed["vbt_cold"] = add("vectorbt 1st call in process", vectorbt_run, bars, mem=False)
        speed["vbt"] = add("vectorbt warm (2nd call)", vectorbt_run, bars)
    if _available("backtesting"):
        speed["btpy"] = add("backtesting.py", backtesting_run, bars)
    print(f"\n## {label}: {n:,} bars (on_bar event path on the first {len(small):,}, "
          f"memory on the first {len(small):,})")  # fmt: skip
    print("| engine | bars | seconds | bars/s | final equity | peak MB (tracemalloc) |")
    print("|---|---|---|---|---|---|")
    for name, size, sec, eq, mb in rows:
        mem = "—" if mb is None else f"{mb:.1f}"
        print(f"| {name} | {size:,} | {sec:.3f} | {size / sec:,.0f} | {eq:,.6f} | {mem} |")
    if "vbt" in speed:
        print(f"vectorised core / vectorbt warm = {speed['core'] / speed['vbt']:.1f}x; "
              f"full vectorised / vectorbt warm = {speed['vec'] / speed['vbt']:.1f}x")  # fmt: skip
    if "btpy" in speed:
        event, on_bar = speed["event"] / speed["btpy"], speed["on_bar"] / speed["btpy"]
        print(f"event (signals) / backtesting.py = {event:.2f}x; on_bar: {on_bar:.2f}x")
    nautilus = "installed, not wired" if _available("nautilus_trader") else "not installed"
    print(f"nautilus_trader: {nautilus} (1.221.0 pins pandas<3, so it is skipped)")
    print("Final equity differs from peers only by their warm-up/crossover-event conventions;")
    print("tests/unit/backtest/test_parity.py aligns them and matches to 1e-9.")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--event-bars", type=int, default=100_000)
    args = parser.parse_args()
    np.seterr(all="ignore")
    bench("seeded 1-minute random walk", random_walk_bars(args.bars, seed=12345),
          args.event_bars)  # fmt: skip
    bench("ETH/BTC 5m (shared/data/intraday)", load_bars("intraday/ETH_BTC-5m.feather"),
          args.event_bars)  # fmt: skip
    bench("BTC/USDT daily (shared/data/daily)", load_bars("daily/binance_daily_Bitcoin.csv"),
          args.event_bars)  # fmt: skip


if __name__ == "__main__":
    main()
