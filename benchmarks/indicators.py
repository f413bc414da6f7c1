"""Indicator throughput on 1,000,000 points: ours against the ``ta`` library, same run.

Run: ``.venv/bin/python benchmarks/indicators.py [n_points]``. Data is a seeded
geometric random walk with OHLC built around it. Each timing is the best of a few
repeats (the ``ta`` ATR, a Python loop, runs once). ``ta`` wraps pandas, so its
figures include building the Series it needs; ours take the NumPy arrays directly.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import ta

from amarktai.strategies import indicators as ind


def make_data(n: int, seed: int = 12345) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 30_000.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, n)))
    spread = np.abs(rng.normal(0.0, 0.0005, (2, n)))
    return close * (1 + spread[0]), close * (1 - spread[1]), close


def best_of(fn: Callable[[], Any], repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        timings.append(time.perf_counter() - start)
    return min(timings)


def cases(
    high: np.ndarray, low: np.ndarray, close: np.ndarray
) -> dict[str, tuple[Callable[[], Any], ...]]:
    s_h, s_l, s_c = pd.Series(high), pd.Series(low), pd.Series(close)
    return {
        "SMA(20)": (lambda: ind.sma(close, 20), lambda: ta.trend.sma_indicator(s_c, 20)),
        "EMA(20)": (lambda: ind.ema(close, 20), lambda: ta.trend.ema_indicator(s_c, 20)),
        "RSI(14)": (lambda: ind.rsi(close, 14), lambda: ta.momentum.rsi(s_c, 14)),
        "MACD(12,26,9)": (lambda: ind.macd(close), lambda: ta.trend.MACD(s_c).macd_diff()),
        "Bollinger(20,2)": (
            lambda: ind.bollinger(close, 20, 2.0),
            lambda: ta.volatility.BollingerBands(s_c, 20, 2).bollinger_hband(),
        ),
        "ATR(14)": (
            lambda: ind.atr(high, low, close, 14),
            lambda: ta.volatility.average_true_range(s_h, s_l, s_c, 14),
        ),
    }


def main(n: int) -> None:
    high, low, close = make_data(n)
    print(f"{n:,} points; best of 5 (ta ATR: 1 run, it loops in Python)")
    header = ("indicator", "ours (s)", "ours Mpts/s", "ta (s)", "ta Mpts/s", "speed-up")
    print(f"{header[0]:<16}" + "".join(f"{h:>12}" for h in header[1:]))
    for name, (ours, theirs) in cases(high, low, close).items():
        t_ours = best_of(ours, 5)
        t_ta = best_of(theirs, 1 if name.startswith("ATR") else 5)
        print(
            f"{name:<16}{t_ours:>12.4f}{n / t_ours / 1e6:>12.1f}"
            f"{t_ta:>12.4f}{n / t_ta / 1e6:>12.1f}{t_ta / t_ours:>11.2f}x"
        )
    stream = ind.EMAStream(20)
    t_stream = best_of(lambda: [stream.update(x) for x in close.tolist()], 1)
    print(
        f"EMAStream(20) one update at a time: {t_stream:.3f} s ({t_stream / n * 1e9:.0f} ns/update)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
