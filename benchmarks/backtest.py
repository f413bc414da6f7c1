"""Backtest engine benchmark: ours (vectorised, event-driven) against vectorbt,
backtesting.py (measured in the same process) and nautilus_trader (same run, its own venv).

Rule: SMA(10)/SMA(50) crossover on the close, long only, fixed 1 unit, 0.1 % fee per
side, cash 1,000,000 (never short, so every engine takes the same trades), decisions at
the close of bar t, fills at the open of t+1. Data: a seeded 1-minute random walk
(1,000,000 bars) and the shared real files. Times are engine time only (data generation
and imports excluded; indicators, simulation and result objects included).
Peak memory: tracemalloc peak of a separate run on the 100k-bar slice (tracemalloc
slows Python code, so it is never on while timing). Each timing is the best of
``--repeat`` runs in this process; "COLD" rows are a fresh interpreter timing the
engine's import and first call (vectorbt's numba compile lands there).

nautilus_trader cannot share the project venv (it pins pandas < 3 and an older uvloop), so
``bash benchmarks/peers/setup.sh`` gives it its own (benchmarks/peers/.venv-nautilus, or
point ``NAUTILUS_PYTHON`` at any interpreter that has it) and each of ``--repeat`` runs is
a fresh process of benchmarks/peers/nautilus_sma.py on the same bars written to an .npz,
timing ``engine.run()`` only (its Bar wrangling and engine set-up reported apart). It does
about 10-20k bars/s here, so a 1M-bar run takes ~1.5 min: by default it gets the first
``--nautilus-bars`` bars and its bars/s is compared with ours on all of them.

Run: .venv/bin/python benchmarks/backtest.py [--bars 1000000] [--event-bars 100000]
     [--repeat 2] [--no-cold] [--nautilus-bars 200000]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
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
    """The full result as returned: equity, metrics, trades and fills as columns (their
    Decimal records are built when first read)."""
    result = run_vectorised("sma_cross", bars, params=PARAMS, config=CONFIG)
    result.summary()
    return result.final_equity


def ours_vectorised_records(bars: Bars) -> float:
    """The full result with every trade and fill turned into its Decimal record."""
    result = run_vectorised("sma_cross", bars, params=PARAMS, config=CONFIG)
    result.summary()
    assert len(tuple(result.trades)) + len(tuple(result.fills)) > 0
    return result.final_equity


def ours_event(bars: Bars) -> float:
    """Default decision source: the strategy's stream (identical to on_bar, checked)."""
    return run_event("sma_cross", bars, params=PARAMS, config=CONFIG).final_equity


def ours_event_signals(bars: Bars) -> float:
    return run_event(
        "sma_cross", bars, params=PARAMS, config=CONFIG, decisions="signals"
    ).final_equity


def ours_event_on_bar(bars: Bars) -> float:
    return run_event(
        "sma_cross", bars, params=PARAMS, config=CONFIG, decisions="on_bar"
    ).final_equity


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


def timed(fn: Callable[[Bars], float], bars: Bars, repeat: int) -> tuple[float, float]:
    """Best of ``repeat`` runs (the machine is shared, so the minimum is the signal)."""
    best, equity = math.inf, math.nan
    for _ in range(repeat):
        start = time.perf_counter()
        equity = fn(bars)
        best = min(best, time.perf_counter() - start)
    return best, equity


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


_LOAD = """
import sys, time
import numpy as np
d = np.load(sys.argv[1])
cols = [d[c] for c in ("time", "open", "high", "low", "close", "volume")]
t0 = time.perf_counter()
"""
_COLD = {
    "ours": _LOAD
    + """
from decimal import Decimal
from amarktai.backtest.models import BacktestConfig
from amarktai.backtest.vectorised import run_vectorised
from amarktai.strategies.base import Bars
config = BacktestConfig(initial_cash=Decimal({cash}), fixed_qty=Decimal(1), fee_bps=Decimal(10))
result = run_vectorised("sma_cross", Bars.from_arrays(*cols), params={params}, config=config)
result.summary()
print(time.perf_counter() - t0, result.final_equity)
""",
    "vectorbt": _LOAD
    + """
import pandas as pd
import vectorbt as vbt
frame = pd.DataFrame(dict(zip(("Open", "High", "Low", "Close", "Volume"), cols[1:])),
                     index=pd.DatetimeIndex(cols[0]))
fast, slow = vbt.MA.run(frame.Close, 10), vbt.MA.run(frame.Close, 50)
entries = fast.ma_crossed_above(slow).shift(1, fill_value=False)
exits = fast.ma_crossed_below(slow).shift(1, fill_value=False)
pf = vbt.Portfolio.from_signals(frame.Close, entries, exits, price=frame.Open, size=1.0,
                                fees=0.001, init_cash={cash}, freq="1min")
print(time.perf_counter() - t0, float(pf.final_value()))
""",
}


def cold(engine: str, bars: Bars) -> tuple[float, float]:
    """A fresh interpreter: the engine's import and its first run, nothing else (the data
    is loaded before the clock starts; vectorbt's numba compile lands here)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bars.npz"
        np.savez(path, time=bars.time, open=bars.open, high=bars.high, low=bars.low,
                 close=bars.close, volume=bars.volume)  # fmt: skip
        code = _COLD[engine].format(cash=CASH, params=PARAMS)
        out = subprocess.run(
            [sys.executable, "-c", code, str(path)],
            capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )  # fmt: skip
    seconds, equity = out.stdout.split()[-2:]
    return float(seconds), float(equity)


PEERS = Path(__file__).resolve().parent / "peers"
NAUTILUS_SCRIPT = PEERS / "nautilus_sma.py"
NAUTILUS_SETUP = "bash benchmarks/peers/setup.sh"


def nautilus_python() -> str | None:
    """``NAUTILUS_PYTHON``, else the venv benchmarks/peers/setup.sh makes, else None."""
    configured = os.environ.get("NAUTILUS_PYTHON")
    if configured:
        return configured
    default = PEERS / ".venv-nautilus" / "bin" / "python"
    return str(default) if default.exists() else None


def nautilus(python: str, bars: Bars, repeat: int) -> dict[str, Any]:
    """Best of ``repeat`` fresh processes of peers/nautilus_sma.py (its JSON line, with the
    fastest ``seconds``); ``build_seconds`` is that run's data wrangling + engine set-up."""
    best: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bars.npz"
        np.savez(path, time=bars.time.astype("datetime64[ns]").astype(np.int64),
                 open=bars.open, high=bars.high, low=bars.low, close=bars.close,
                 volume=bars.volume)  # fmt: skip
        for _ in range(repeat):
            out = subprocess.run(
                [python, str(NAUTILUS_SCRIPT), str(path)],
                capture_output=True, text=True, check=True,
                env={**os.environ, "PYTHONWARNINGS": "ignore"},
            )  # fmt: skip
            run = json.loads(out.stdout.strip().splitlines()[-1])
            if not best or run["seconds"] < best["seconds"]:
                best = run
    return best


def bench(label: str, bars: Bars, event_bars: int, repeat: int, with_cold: bool,
          nautilus_bars: int) -> None:  # fmt: skip
    n = len(bars)
    small = slice_bars(bars, 0, min(n, event_bars))
    rows: list[tuple[str, int, float, float, float | None]] = []

    def add(name: str, fn: Callable[[Bars], float], data: Bars, mem: bool = True,
            times: int = repeat) -> float:  # fmt: skip
        seconds, equity = timed(fn, data, times)
        mb = peak_mb(fn, small) if mem else None
        rows.append((name, len(data), seconds, equity, mb))
        return len(data) / seconds

    speed: dict[str, float] = {}
    if with_cold:
        engines = [("cold", "ours", "ours vectorised full")]
        if _available("vectorbt"):
            engines.append(("vbt_cold", "vectorbt", "vectorbt"))
        for key, engine, name in engines:
            seconds, equity = cold(engine, bars)
            rows.append((f"{name}: COLD (fresh process: import + 1st call)", n, seconds,
                         equity, None))  # fmt: skip
            speed[key] = n / seconds
    speed["core"] = add("ours vectorised core (signals+simulate)", ours_core, bars)
    speed["vec"] = add("ours vectorised full result (as returned)", ours_vectorised, bars)
    speed["vec_rec"] = add("ours vectorised full + all Decimal trade/fill records",
                           ours_vectorised_records, bars)  # fmt: skip
    speed["event"] = add("ours event-driven (stream, default)", ours_event, bars)
    speed["signals"] = add("ours event-driven (signals)", ours_event_signals, bars)
    speed["on_bar"] = add("ours event-driven (on_bar, live path)", ours_event_on_bar, small,
                          times=1)  # fmt: skip
    if _available("vectorbt"):
        speed["vbt_first"] = add("vectorbt 1st call in this process", vectorbt_run, bars,
                                 mem=False, times=1)  # fmt: skip
        speed["vbt"] = add("vectorbt warm (best of later calls)", vectorbt_run, bars)
    if _available("backtesting"):
        speed["btpy"] = add("backtesting.py", backtesting_run, bars)
    python, naut, naut_error = nautilus_python(), None, ""
    if python is not None:
        naut_slice = slice_bars(bars, 0, min(n, nautilus_bars))
        try:
            naut = nautilus(python, naut_slice, repeat)
        except (OSError, subprocess.CalledProcessError, ValueError) as exc:
            detail = getattr(exc, "stderr", None) or str(exc)
            naut_error = detail.strip().splitlines()[-1] if detail.strip() else repr(exc)
        else:
            rows.append((f"nautilus_trader {naut['version']} (fresh process, engine.run() "
                         f"only; build {naut['build_seconds']:.2f} s apart)", naut["bars"],
                         naut["seconds"], naut["final_equity"], None))  # fmt: skip
            speed["nautilus"] = naut["bars"] / naut["seconds"]
    print(f"\n## {label}: {n:,} bars (on_bar event path on the first {len(small):,}, "
          f"memory on the first {len(small):,}; best of {repeat})")  # fmt: skip
    print("| engine | bars | seconds | bars/s | final equity | peak MB (tracemalloc) |")
    print("|---|---|---|---|---|---|")
    for name, size, sec, eq, mb in rows:
        mem = "—" if mb is None else f"{mb:.1f}"
        print(f"| {name} | {size:,} | {sec:.3f} | {size / sec:,.0f} | {eq:,.6f} | {mem} |")
    if "vbt" in speed:
        vbt = speed["vbt"]
        print(f"vs vectorbt warm: full {speed['vec'] / vbt:.2f}x, core {speed['core'] / vbt:.2f}x, "
              f"full + records {speed['vec_rec'] / vbt:.2f}x")  # fmt: skip
    if "cold" in speed and "vbt_cold" in speed:
        print(f"cold start, ours / vectorbt: {speed['cold'] / speed['vbt_cold']:.1f}x faster")
    if "btpy" in speed:
        bt = speed["btpy"]
        print(f"vs backtesting.py: event stream {speed['event'] / bt:.2f}x, signals "
              f"{speed['signals'] / bt:.2f}x, on_bar {speed['on_bar'] / bt:.2f}x")  # fmt: skip
    if python is None:
        print(f"nautilus_trader: not installed (own venv, benchmark-only): {NAUTILUS_SETUP}")
    elif naut is None:
        print(f"nautilus_trader: failed with {python}: {naut_error}")
    else:
        nt = speed["nautilus"]
        print(f"vs nautilus_trader ({naut['bars']:,} bars): event stream "
              f"{speed['event'] / nt:.2f}x (target >= 0.5x), signals {speed['signals'] / nt:.2f}x, "
              f"on_bar {speed['on_bar'] / nt:.2f}x; vectorised full {speed['vec'] / nt:.1f}x, "
              f"core {speed['core'] / nt:.1f}x")  # fmt: skip
        # Same decisions on the same bars, so the same trades: nautilus's SMA is ready on
        # bar 50 like ours (no warm-up offset). It fills a market order at the decision
        # bar's close, ours at the next bar's open (see peers/nautilus_sma.py); on gapless
        # bars the prices coincide, so equity differs by rounding to its 9/8 decimals,
        # and on gapped bars (daily) by the sum of the close->next-open gaps traded.
        ours = run_event("sma_cross", naut_slice, params=PARAMS, config=CONFIG)
        print(f"same {naut['bars']:,} bars: trades (round trips, open one included) ours "
              f"{len(ours.trades):,} / nautilus {naut['trades']:,}; fills ours "
              f"{len(ours.fills):,} / nautilus {naut['fills']:,}; final equity ours "
              f"{ours.final_equity:,.6f} / nautilus {naut['final_equity']:,.6f} (it fills at "
              f"the decision bar's close, ours at the next bar's open)")  # fmt: skip
    print("Final equity differs from peers only by their warm-up/crossover-event conventions;")
    print("tests/unit/backtest/test_parity.py aligns them and matches to 1e-9.")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--event-bars", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2, help="best of N timed runs")
    parser.add_argument("--no-cold", action="store_true", help="skip the fresh-process runs")
    parser.add_argument(
        "--nautilus-bars", type=int, default=200_000,
        help="nautilus_trader runs on the first N bars (it does ~10-20k bars/s)",
    )  # fmt: skip
    args = parser.parse_args()
    np.seterr(all="ignore")
    cold_runs = not args.no_cold
    bench("seeded 1-minute random walk", random_walk_bars(args.bars, seed=12345),
          args.event_bars, args.repeat, cold_runs, args.nautilus_bars)  # fmt: skip
    bench("ETH/BTC 5m (shared/data/intraday)", load_bars("intraday/ETH_BTC-5m.feather"),
          args.event_bars, args.repeat, False, args.nautilus_bars)  # fmt: skip
    bench("BTC/USDT daily (shared/data/daily)", load_bars("daily/binance_daily_Bitcoin.csv"),
          args.event_bars, args.repeat, False, args.nautilus_bars)  # fmt: skip


if __name__ == "__main__":
    main()
