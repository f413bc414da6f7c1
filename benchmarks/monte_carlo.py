"""Monte Carlo speed and memory: GBM and bootstrap, 365 daily steps.

Run: .venv/bin/python benchmarks/monte_carlo.py

Compares against (a) QUANT_REFERENCE §3's published anchor timings (a 2-vCPU machine,
μ=0.5, σ=0.8, 365 steps) and (b) baselines re-run here on this machine: the naive
full-matrix NumPy form and the pure-Python ``random.gauss`` loop. Our engine also
computes a fan chart (5 percentiles per day over all paths) and max drawdown per path,
which the anchors did not. Peak memory is NumPy's traced allocation (tracemalloc).
"""

from __future__ import annotations

import math
import random
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

from amarktai.risk.montecarlo import simulate_bootstrap, simulate_gbm
from amarktai.risk.stress import find_shared_data_dir

MU, SIGMA, STEPS = 0.5, 0.8, 365
# QUANT_REFERENCE §3 (seconds)
REFERENCE = {
    ("gbm", 10_000): {"numpy float64": 0.25, "chunked in place": 0.13, "random.gauss": 1.41},
    ("gbm", 100_000): {"numpy float64": 2.39, "chunked terminal+DD": 0.75},
    ("bootstrap", 10_000): {"iid bootstrap float64": 0.045},
    ("bootstrap", 100_000): {"iid bootstrap float64": 1.35},
}


def measure(work: Callable[[], object]) -> tuple[float, float]:
    """(seconds, peak traced MB) of one run."""
    tracemalloc.start()
    start = time.perf_counter()
    work()
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak / 1e6


def naive_numpy(paths: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    dt = 1 / 365
    z = rng.standard_normal((paths, STEPS))
    return np.asarray(np.exp(np.cumsum((MU - SIGMA**2 / 2) * dt + SIGMA * math.sqrt(dt) * z, 1)))


def pure_python(paths: int) -> list[float]:
    rnd = random.Random(7)
    dt = 1 / 365
    drift, vol = (MU - SIGMA**2 / 2) * dt, SIGMA * math.sqrt(dt)
    finals = []
    for _ in range(paths):
        s = 1.0
        for _ in range(STEPS):
            s *= math.exp(drift + vol * rnd.gauss(0.0, 1.0))
        finals.append(s)
    return finals


def report(label: str, seconds: float, mb: float, refs: dict[str, float]) -> None:
    ratios = ", ".join(f"{name} {ref:.3f}s -> x{ref / seconds:.2f}" for name, ref in refs.items())
    print(f"{label:<44}{seconds:8.3f} s {mb:8.1f} MB  {ratios}")


def main() -> None:
    daily = find_shared_data_dir() / "daily" / "binance_daily_Bitcoin.csv"
    close = np.genfromtxt(daily, delimiter=",", skip_header=1, usecols=4)
    btc = close[1:] / close[:-1] - 1.0
    print("speed-up = reference seconds / ours (>1 means we are faster)")
    for paths in (10_000, 100_000):
        sec, mb = measure(
            lambda p=paths: simulate_gbm(  # type: ignore[misc]
                1.0, STEPS, simulations=p, mu_annual=MU, sigma_annual=SIGMA, seed=7
            )
        )
        report(f"ours GBM {paths:,} x {STEPS} (+fan chart, DD)", sec, mb, REFERENCE[("gbm", paths)])
        nsec, nmb = measure(lambda p=paths: naive_numpy(p))  # type: ignore[misc]
        print(
            f"  baseline here: naive NumPy {paths:,}: {nsec:.3f} s, {nmb:.1f} MB -> ours "
            f"x{nsec / sec:.2f} the speed with {nmb / mb:.0f}x less memory"
        )
        for scheme in ("iid", "block", "stationary"):
            sec_b, mb_b = measure(
                lambda p=paths, s=scheme: simulate_bootstrap(  # type: ignore[misc]
                    1.0, btc, STEPS, simulations=p, scheme=s, seed=7
                )
            )
            refs = REFERENCE[("bootstrap", paths)] if scheme == "iid" else {}
            report(f"ours bootstrap {scheme} {paths:,} x {STEPS}", sec_b, mb_b, refs)
    start = time.perf_counter()  # no tracemalloc here: it slows Python-level allocation
    pure_python(2_000)
    per_10k = 5 * (time.perf_counter() - start)
    print(f"  baseline here: pure-Python random.gauss loop, 10k paths (from 2k): {per_10k:.2f} s")
    check = simulate_gbm(1.0, STEPS, simulations=100_000, mu_annual=MU, sigma_annual=SIGMA, seed=7)
    print(
        f"100k GBM: median {check.median_final:.4f} (theory {math.exp(MU - SIGMA**2 / 2):.4f}), "
        f"mean {check.mean_final:.4f} (theory {math.exp(MU):.4f}), p5 {check.p5_final:.3f}, "
        f"median max drawdown {check.median_max_drawdown_pct:.1f}%"
    )


if __name__ == "__main__":
    main()
