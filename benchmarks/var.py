"""VaR speed on the real 1,792-day, 4-asset daily history (BTC, ETH, LTC, PAXG).

Run: .venv/bin/python benchmarks/var.py

QUANT_REFERENCE lists no peer *timings* for VaR, only values; when empyrical (a dev
dependency) is importable, its single-asset historical VaR/CVaR is timed on the same
series and the value difference is printed (same type-7 quantile, so it should be ~0).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from amarktai.risk.stress import ASSET_FILES, find_shared_data_dir
from amarktai.risk.var import compute_var, historical_var_es
from amarktai.risk.var_backtest import backtest_var

HOLDINGS = np.array([60_000.0, 25_000.0, 5_000.0, 10_000.0])  # ZAR in BTC, ETH, LTC, PAXG


def load_returns(data_dir: Path) -> np.ndarray:
    """Daily simple close-to-close returns, one column per asset (dates align: no gaps)."""
    columns = []
    for name in ASSET_FILES.values():
        close = np.genfromtxt(data_dir / "daily" / name, delimiter=",", skip_header=1, usecols=4)
        columns.append(close[1:] / close[:-1] - 1.0)
    return np.column_stack(columns)


def best_of(work: Callable[[], object], repeats: int = 5) -> float:
    """Median wall time in milliseconds over ``repeats`` runs (after one warm-up)."""
    work()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return 1_000 * statistics.median(times)


def main() -> None:
    returns = load_returns(find_shared_data_dir())
    print(f"history: {returns.shape[0]} daily returns x {returns.shape[1]} assets")
    print(f"{'method':<16}{'horizon':>8}{'ms':>10}{'VaR %':>9}{'CVaR %':>9}  band")
    for method in ("historical", "parametric", "cornish_fisher", "monte_carlo"):
        for horizon in (1, 10):

            def run(m: str = method, h: int = horizon) -> object:
                return compute_var(returns, HOLDINGS, method=m, horizon_days=h, seed=1)

            result = compute_var(returns, HOLDINGS, method=method, horizon_days=horizon, seed=1)
            ms = best_of(run, 3 if method == "monte_carlo" else 7)
            print(
                f"{method:<16}{horizon:>8}{ms:>10.2f}{result.var_percent:>9.2f}"
                f"{result.cvar_percent:>9.2f}  {result.band}"
            )
    print(f"  -> {compute_var(returns, HOLDINGS, horizon_days=1).sentence}")

    portfolio = returns @ (HOLDINGS / HOLDINGS.sum())
    for method in ("historical", "parametric", "cornish_fisher", "monte_carlo"):

        def roll(m: str = method) -> object:
            return backtest_var(portfolio, window=250, confidence=0.99, method=m, seed=1)

        result = backtest_var(portfolio, window=250, confidence=0.99, method=method, seed=1)
        print(
            f"rolling backtest {method:<15} {best_of(roll, 3):8.1f} ms  "
            f"{result.breaches}/{result.observations} breaches, "
            f"Kupiec p={result.kupiec.p_value:.3f}"
        )
    peer(returns[:, 0])


def peer(btc: np.ndarray) -> None:
    try:
        import empyrical  # type: ignore[import-not-found]
    except ImportError:
        print("empyrical not installed: no peer comparison")
        return
    ours_ms = best_of(lambda: historical_var_es(btc, 0.95), 50)
    theirs_ms = best_of(
        lambda: (
            empyrical.value_at_risk(btc, 0.05),
            empyrical.conditional_value_at_risk(btc, 0.05),
        ),
        50,
    )
    ours = historical_var_es(btc, 0.95)
    diff = abs(ours.var + empyrical.value_at_risk(btc, 0.05))
    print(
        f"BTC 95% historical VaR+ES: ours {ours_ms:.3f} ms, empyrical {theirs_ms:.3f} ms "
        f"(ratio ours/peer {ours_ms / theirs_ms:.2f}); |VaR diff| = {diff:.2e}; "
        f"ES ours (Acerbi-Tasche) {ours.es:.5f} vs empyrical (worst int((n-1)a)+1) "
        f"{-empyrical.conditional_value_at_risk(btc, 0.05):.5f}"
    )


if __name__ == "__main__":
    main()
