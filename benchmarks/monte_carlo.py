"""Monte Carlo speed and memory: 100,000 paths x 365 daily steps, GBM and bootstrap.

Run: .venv/bin/python benchmarks/monte_carlo.py

Each engine case runs in a fresh subprocess so its memory is its own:

* wall: best of ``REPEATS`` runs (``time.perf_counter``), plus the CPU seconds of that run
  (``time.process_time``, all threads), so a busy machine shows up as wall >> CPU/threads;
* peak RSS: ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` after the runs minus the same
  figure just before them (imports, data loaded), i.e. what the simulation added;
* traced peak: ``tracemalloc`` peak of one extra run. NumPy reports its data buffers to
  tracemalloc, so this counts arrays (not the interpreter or freed-but-mapped pages).

Our engine also computes the exact per-day fan chart (5 percentiles over all paths) and
each path's max drawdown. The baseline is the per-path Python loop naive code writes (one
``random.gauss``/``math.exp`` step loop per path, terminal value only), timed on 2,000
paths and scaled to 100,000; QUANT_REFERENCE §3 measured the full 100k loop at 14.4 s.
"""

from __future__ import annotations

import json
import math
import os
import random
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

from amarktai.risk.montecarlo import simulate_bootstrap, simulate_gbm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script
from benchmarks.shared_data import find_shared_data_dir

MU, SIGMA, STEPS, PATHS, SEED = 0.5, 0.8, 365, 100_000, 7
LOOP_PATHS = 2_000
REPEATS = 3
CASES = ("gbm", "bootstrap_iid", "bootstrap_block", "bootstrap_stationary")


def btc_returns() -> np.ndarray:
    daily = find_shared_data_dir() / "daily" / "binance_daily_Bitcoin.csv"
    close = np.genfromtxt(daily, delimiter=",", skip_header=1, usecols=4)
    return np.asarray(close[1:] / close[:-1] - 1.0)


def run_case(case: str, threads: int) -> dict[str, Any]:
    returns = btc_returns()

    def work() -> Any:
        if case == "gbm":
            return simulate_gbm(
                1.0, STEPS, simulations=PATHS, mu_annual=MU, sigma_annual=SIGMA, seed=SEED,
                threads=threads,
            )  # fmt: skip
        scheme = case.removeprefix("bootstrap_")
        return simulate_bootstrap(
            1.0, returns, STEPS, simulations=PATHS, scheme=scheme, seed=SEED,  # type: ignore[arg-type]
            threads=threads,
        )  # fmt: skip

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    best = (math.inf, 0.0)
    for _ in range(REPEATS):
        wall, cpu = time.perf_counter(), time.process_time()
        result = work()
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    work()
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "wall": best[0],
        "cpu": best[1],
        "rss_mb": (rss_after - rss_before) / 1024,  # ru_maxrss is KiB on Linux
        "traced_mb": traced / 2**20,
        "median": result.median_final,
        "mean": result.mean_final,
        "p5": result.p5_final,
        "mdd": result.median_max_drawdown_pct,
    }


def per_path_loop(paths: int) -> list[float]:
    """What naive code does: one Python loop over the steps of each path."""
    rnd = random.Random(SEED)
    dt = 1 / 365
    drift, vol = (MU - SIGMA**2 / 2) * dt, SIGMA * math.sqrt(dt)
    finals = []
    for _ in range(paths):
        s = 1.0
        for _ in range(STEPS):
            s *= math.exp(drift + vol * rnd.gauss(0.0, 1.0))
        finals.append(s)
    return finals


def subprocess_case(case: str, threads: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--case", case, str(threads)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    cores = os.cpu_count() or 1
    print(f"{PATHS:,} paths x {STEPS} days, seed {SEED}, {cores} CPUs, load {os.getloadavg()}")
    start = time.perf_counter()
    per_path_loop(LOOP_PATHS)
    loop_100k = (time.perf_counter() - start) * PATHS / LOOP_PATHS
    print(f"per-path Python loop: {LOOP_PATHS:,} paths, scaled to {PATHS:,}: {loop_100k:.2f} s")
    header = f"{'case':<22}{'threads':>8}{'wall s':>9}{'cpu s':>8}{'RSS MB':>9}"
    print(header + f"{'traced MB':>11}{'vs loop':>9}")
    gbm: dict[str, Any] = {}
    for case in CASES:
        for threads in sorted({1, cores}):
            r = subprocess_case(case, threads)
            gbm = r if case == "gbm" else gbm
            print(
                f"{case:<22}{threads:>8}{r['wall']:>9.3f}{r['cpu']:>8.3f}{r['rss_mb']:>9.1f}"
                f"{r['traced_mb']:>11.1f}{loop_100k / r['wall']:>8.1f}x"
            )
    print(
        f"GBM check: median {gbm['median']:.4f} (theory {math.exp(MU - SIGMA**2 / 2):.4f}), "
        f"mean {gbm['mean']:.4f} (theory {math.exp(MU):.4f}), p5 {gbm['p5']:.3f}, "
        f"median max drawdown {gbm['mdd']:.1f}%"
    )
    print("targets: GBM 100k x 365 < 0.5 s wall, < 1 GiB, >= 30x the per-path loop")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--case":
        print(json.dumps(run_case(sys.argv[2], int(sys.argv[3]))))
    else:
        main()
