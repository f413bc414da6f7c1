"""Monte Carlo simulation of a portfolio's future value (QUANT_REFERENCE §1.6 and §3).

Two engines share one path loop:

* **GBM** with the exact log scheme ``S_{t+Δ} = S_t·exp((μ-σ²/2)Δ + σ√Δ·Z)``, Δ = 1/365
  (crypto trades every day). μ and σ are annualised; when estimated from daily simple
  returns, σ is the log-return standard deviation ×√365 and μ = (mean log return + σ_d²/2)×365,
  so the Itô correction is applied once and only once (the classic bug inflates every
  terminal value by e^{σ²T/2}).
* **Bootstrap** of the portfolio's own daily returns: i.i.d., circular fixed-length
  blocks, or the Politis-Romano stationary bootstrap (geometric block lengths). Blocks
  keep some volatility clustering that i.i.d. resampling destroys. The default block
  length is ``round(n^(1/3))`` (the usual rate; Politis-White optimal lengths need ``arch``).

Speed and memory (``benchmarks/monte_carlo.py``): the daily log-increments are float32
(``standard_normal(dtype=float32)`` is the floor: about half the float64 cost), the path
levels, drawdowns and fan chart are float64 sums of them, so rounding stays ~1e-7 of a
value even over 3,650 days. Paths are cut into chunks of ``_CHUNK_PATHS``, each with its own
SFC64 stream spawned from one ``SeedSequence``; chunks run on ``threads`` worker threads
(NumPy drops the GIL while filling random numbers and in ufuncs). A seed fixes every
stream, and streams are consumed day by day, so the result is the same bit for bit for
any thread count and any day-block size.

Memory: paths advance in blocks of days, at most ``_BLOCK_FLOATS`` levels at a time, so the
full paths x days matrix never exists (100 k x 365 would be 290 MB per temporary). Per-day
fan-chart percentiles are exact over all paths, because every path's value on a given day
is inside the current block; they use the order-statistic rule ``inverted_cdf`` so they
can be taken on log-values (``exp`` is monotone) and found by a sample-bracketed selection
(``_select``) instead of partitioning every day's full row. The summary percentiles of
final values use ``linear``.

Limits (refused with ``ValidationFailed``): ``MAX_SIMULATIONS`` paths, ``MAX_HORIZON_DAYS``
days and ``MAX_PATH_STEPS`` paths×days, which bounds one request at well under a second
of wall time on two cores for 100 k x 365 and ~50 MB of memory.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Final, Literal, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from amarktai.kit.errors import ValidationFailed
from amarktai.risk.var import MIN_HISTORY, FloatArray, as_return_array, require_history

MAX_SIMULATIONS: Final[int] = 100_000
MAX_HORIZON_DAYS: Final[int] = 3_650
MAX_PATH_STEPS: Final[int] = 40_000_000
DEFAULT_SIMULATIONS: Final[int] = 10_000
DEFAULT_FAN_PERCENTILES: Final[tuple[float, ...]] = (5.0, 25.0, 50.0, 75.0, 95.0)
PERIODS_PER_YEAR: Final[int] = 365
_BLOCK_FLOATS: Final[int] = 2_000_000  # float64 levels per day block (16 MB)
_CHUNK_PATHS: Final[int] = 4_096  # paths per random stream; fixed, so threads never matter
_SELECT_SAMPLE: Final[int] = 8_192
_SELECT_SIGMAS: Final[float] = 4.0
_MIN_GROWTH: Final[float] = 1e-12

BootstrapScheme = Literal["iid", "block", "stationary"]
Seed = int | np.random.Generator | None
Progress = Callable[[int, int], None]
Float32Array = NDArray[np.float32]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class GbmParameters:
    mu_annual: float
    sigma_annual: float


@dataclass(frozen=True, slots=True)
class Histogram:
    """Distribution of final values: ``len(edges) == len(counts) + 1``."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class FanChart:
    """``values[i][d]`` is the ``percentiles[i]`` portfolio value on day ``days[d]``."""

    days: tuple[int, ...]
    percentiles: tuple[float, ...]
    values: tuple[tuple[float, ...], ...]


@dataclass(frozen=True, slots=True)
class MonteCarloResult:
    method: str
    capital: float
    horizon_days: int
    simulations: int
    mean_final: float
    median_final: float
    p5_final: float
    p95_final: float
    prob_profit: float
    prob_loss: float
    loss_threshold_pct: float
    prob_loss_exceeding: float
    median_max_drawdown_pct: float
    histogram: Histogram
    fan_chart: FanChart
    parameters: dict[str, float]


# --------------------------------------------------------------------------- validation


def _invalid(message: str, code: str, **details: object) -> ValidationFailed:
    return ValidationFailed(message, code=code, details=details)


def _check_run_size(capital: float, horizon_days: int, simulations: int) -> None:
    if not (math.isfinite(capital) and capital > 0):
        raise _invalid("Capital must be a positive amount.", "invalid_capital", capital=capital)
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days < 1:
        raise _invalid("Horizon must be a whole number of days >= 1.", "invalid_horizon")
    if horizon_days > MAX_HORIZON_DAYS:
        raise _invalid(
            "Horizon is too long.",
            "invalid_horizon",
            horizon_days=horizon_days,
            max=MAX_HORIZON_DAYS,
        )
    if isinstance(simulations, bool) or not isinstance(simulations, int) or simulations < 1:
        raise _invalid("Simulation count must be a positive whole number.", "invalid_simulations")
    if simulations > MAX_SIMULATIONS or simulations * horizon_days > MAX_PATH_STEPS:
        raise _invalid(
            "Too many simulations for this horizon.",
            "too_many_simulations",
            requested=simulations,
            max_simulations=min(MAX_SIMULATIONS, MAX_PATH_STEPS // horizon_days),
        )


def _check_outputs(loss_threshold_pct: float, fan_percentiles: Sequence[float], bins: int) -> None:
    if not (math.isfinite(loss_threshold_pct) and 0 < loss_threshold_pct <= 100):
        raise _invalid("Loss threshold must be in (0, 100] %.", "invalid_threshold")
    if any(not (0 <= p <= 100) for p in fan_percentiles):
        raise _invalid("Fan-chart percentiles must be in [0, 100].", "invalid_percentiles")
    if not 1 <= bins <= 1_000:
        raise _invalid("Histogram bins must be between 1 and 1000.", "invalid_bins")


def _check_threads(threads: int | None) -> int:
    if threads is None:
        return max(1, os.cpu_count() or 1)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise _invalid("Threads must be a whole number >= 1.", "invalid_threads")
    return threads


# --------------------------------------------------------------------------- engines


def estimate_gbm_parameters(
    returns: ArrayLike, periods_per_year: int = PERIODS_PER_YEAR
) -> GbmParameters:
    """GBM μ, σ (annualised) from daily simple returns via the log-return moments."""
    arr = as_return_array(returns, ndim=1)
    require_history(arr.size)
    logs = np.log(np.maximum(1.0 + arr, _MIN_GROWTH))
    sigma_d = float(logs.std(ddof=1))
    mu_d = float(logs.mean()) + 0.5 * sigma_d**2
    return GbmParameters(mu_d * periods_per_year, sigma_d * math.sqrt(periods_per_year))


def _chunk_streams(seed: Seed, count: int) -> list[np.random.Generator]:
    """One independent SFC64 stream per path chunk, all spawned from one SeedSequence."""
    if isinstance(seed, np.random.Generator):
        root = np.random.SeedSequence([int(v) for v in seed.integers(0, 2**63, size=4)])
    else:
        root = np.random.SeedSequence(seed)
    return [np.random.Generator(np.random.SFC64(child)) for child in root.spawn(count)]


class _GbmSource:
    """Float32 log-increments ``(μ-σ²/2)Δ + σ√Δ·Z`` of one chunk of paths."""

    def __init__(self, drift: float, vol: float, rng: np.random.Generator) -> None:
        self._drift = np.float32(drift)
        self._vol = np.float32(vol)
        self._rng = rng

    def fill(self, _day0: int, out: Float32Array) -> None:
        for row in out:  # rows are contiguous; the stream is consumed day by day
            self._rng.standard_normal(out=row, dtype=np.float32)
        out *= self._vol
        out += self._drift


class _BootstrapSource:
    """Positions into the history for one chunk of paths, resampled by block.

    The current block (its start, or for the stationary scheme the last position) carries
    across day blocks, so a resampled block may straddle two of them. Fresh block starts
    come from their own stream, and each stream is consumed day by day, so how the days
    are split into blocks never changes the positions.
    """

    def __init__(
        self,
        log_returns: ArrayLike,
        paths: int,
        scheme: BootstrapScheme,
        block_size: int,
        rng: np.random.Generator,
    ) -> None:
        self._logs = np.asarray(log_returns, dtype=np.float32)
        self._paths = paths
        self._scheme: BootstrapScheme = "iid" if block_size == 1 else scheme
        self._block = block_size
        self._rng = rng
        self._start_rng = rng.spawn(1)[0] if self._scheme == "stationary" else rng
        self._carry: IntArray | None = None
        self._next_day = 0

    def positions(self, day0: int, days: int) -> IntArray:
        if day0 != self._next_day:
            raise ValueError("bootstrap days must be requested in order")
        self._next_day = day0 + days
        n = self._logs.size
        if self._scheme == "iid":
            return self._rng.integers(0, n, size=(days, self._paths))
        if self._scheme == "block":
            return self._block_positions(day0, days)
        return self._stationary_positions(day0, days)

    def _block_positions(self, day0: int, days: int) -> IntArray:
        first, last = day0 // self._block, (day0 + days - 1) // self._block
        fresh = last - first + (0 if day0 % self._block else 1)
        starts = self._rng.integers(0, self._logs.size, size=(fresh, self._paths))
        if day0 % self._block and self._carry is not None:
            starts = np.concatenate([self._carry[None, :], starts])
        self._carry = starts[-1].copy()
        day = np.arange(day0, day0 + days)
        pos = starts[day // self._block - first]
        pos += (day % self._block)[:, None]
        return pos  # may exceed n - 1: ``fill`` wraps it (circular blocks)

    def _stationary_positions(self, day0: int, days: int) -> IntArray:
        restart = self._rng.random((days, self._paths), dtype=np.float32) < 1.0 / self._block
        if self._carry is None:
            restart[0] = True
        pos = np.zeros((days, self._paths), dtype=np.int64)
        pos[restart] = self._start_rng.integers(0, self._logs.size, size=int(restart.sum()))
        keep = ~restart
        previous = self._carry
        for day in range(days):
            if previous is not None:
                np.add(previous, 1, out=pos[day], where=keep[day])
            previous = pos[day]
        self._carry = pos[-1] % self._logs.size
        return pos

    def fill(self, day0: int, out: Float32Array) -> None:
        np.take(self._logs, self.positions(day0, out.shape[0]), out=out, mode="wrap")


class _Source(Protocol):
    def fill(self, day0: int, out: Float32Array, /) -> None: ...


@dataclass(frozen=True, slots=True)
class _Paths:
    final_logs: FloatArray
    max_drawdown_logs: FloatArray
    fan_logs: FloatArray  # (days + 1, len(percentiles))


def _ranks(count: int, percentiles: Sequence[float]) -> list[int]:
    """0-based order-statistic ranks of the ``inverted_cdf`` percentiles."""
    return [min(count - 1, max(0, math.ceil(count * p / 100.0 - 1e-9) - 1)) for p in percentiles]


def _select(row: Float32Array, ranks: Sequence[int]) -> list[float]:
    """Exact order statistics of ``row`` without partitioning all of it.

    A sorted sample (the first ``_SELECT_SAMPLE`` values; paths are i.i.d.) brackets each
    rank with ±``_SELECT_SIGMAS`` binomial standard errors. Only the values inside the
    bracket are partitioned; the count below it fixes the rank among them. If the bracket
    misses (probability ~1e-4 per rank), the whole row is partitioned. Exact either way.
    """
    n = row.size
    if n <= 4 * _SELECT_SAMPLE or not ranks:
        part = np.partition(row, sorted(set(ranks)))
        return [float(part[k]) for k in ranks]
    size = _SELECT_SAMPLE
    sample = np.sort(row[:size])
    values = []
    for k in ranks:
        q = (k + 0.5) / n
        half = _SELECT_SIGMAS * math.sqrt(size * q * (1.0 - q)) + 2.0
        a, b = int(q * size - half), int(q * size + half) + 1
        lo = sample[a] if a > 0 else -np.inf
        hi = sample[b] if b < size else np.inf
        below = int(np.count_nonzero(row < lo))
        inside = row[(row >= lo) & (row <= hi)]
        j = k - below
        if 0 <= j < inside.size:
            values.append(float(np.partition(inside, j)[j]))
        else:
            values.append(float(np.partition(row, k)[k]))
    return values


def _split(count: int, parts: int) -> list[tuple[int, int]]:
    bounds = [round(i * count / parts) for i in range(parts + 1)]
    return [(lo, hi) for lo, hi in itertools.pairwise(bounds) if hi > lo]


def _run_paths(
    sources: Sequence[_Source],
    horizon: int,
    simulations: int,
    fan_percentiles: Sequence[float],
    threads: int,
    progress: Progress | None,
) -> _Paths:
    """Advance all paths day block by day block, keeping only what the result needs.

    Within a day block, worker threads own contiguous ranges of path chunks (phase 1:
    draw, accumulate log levels, track drawdowns), then ranges of days (phase 2: exact
    fan-chart order statistics over all paths). Every operation is per path and every
    chunk has its own stream, so the numbers do not depend on ``threads``.
    """
    days_per_block = max(1, min(horizon, _BLOCK_FLOATS // simulations))
    # Levels are summed in float64 (``last``); the block keeps them rounded to float32 for
    # the fan chart. Rounding is monotone, so each fan value is the float32 rounding of the
    # exact float64 order statistic (error < 6e-8 of the log level).
    level = np.zeros((days_per_block, simulations), dtype=np.float32)
    last = np.zeros(simulations)
    peak = np.zeros(simulations)
    worst = np.zeros(simulations)
    ranks = _ranks(simulations, fan_percentiles)
    fan = np.zeros((horizon + 1, len(ranks)))
    workers = _split(len(sources), threads)

    def advance(day0: int, days: int, first: int, stop: int) -> None:
        lo, hi = first * _CHUNK_PATHS, min(stop * _CHUNK_PATHS, simulations)
        steps = np.empty((days, hi - lo), dtype=np.float32)
        for chunk in range(first, stop):
            a = chunk * _CHUNK_PATHS - lo
            sources[chunk].fill(day0, steps[:, a : a + _CHUNK_PATHS])
        now, top, low = last[lo:hi], peak[lo:hi], worst[lo:hi]
        gap = np.empty(hi - lo)
        for day in range(days):
            np.add(now, steps[day], out=now)
            level[day, lo:hi] = now
            np.maximum(top, now, out=top)
            np.subtract(now, top, out=gap)
            np.minimum(low, gap, out=low)

    def order_stats(day0: int, first: int, stop: int) -> None:
        for day in range(first, stop):
            fan[day0 + day + 1] = _select(level[day], ranks)

    pool = ThreadPoolExecutor(threads) if len(workers) > 1 else None
    try:
        for day0 in range(0, horizon, days_per_block):
            days = min(days_per_block, horizon - day0)
            _each(pool, [partial(advance, day0, days, a, b) for a, b in workers])
            if ranks:
                jobs = [partial(order_stats, day0, a, b) for a, b in _split(days, len(workers))]
                _each(pool, jobs)
            if progress is not None:
                progress(simulations * (day0 + days) // horizon, simulations)
    finally:
        if pool is not None:
            pool.shutdown()
    return _Paths(last, worst, fan)


def _each(pool: ThreadPoolExecutor | None, jobs: Sequence[Callable[[], None]]) -> None:
    if pool is None or len(jobs) == 1:
        for job in jobs:
            job()
        return
    for future in [pool.submit(job) for job in jobs]:
        future.result()


def _summarise(
    method: str,
    capital: float,
    horizon: int,
    paths: _Paths,
    loss_threshold_pct: float,
    fan_percentiles: Sequence[float],
    bins: int,
    parameters: dict[str, float],
) -> MonteCarloResult:
    finals = capital * np.exp(paths.final_logs)
    p5, median, p95 = np.percentile(finals, [5.0, 50.0, 95.0])
    counts, edges = np.histogram(finals, bins=bins)
    fan_values = capital * np.exp(paths.fan_logs)
    return MonteCarloResult(
        method=method,
        capital=capital,
        horizon_days=horizon,
        simulations=int(finals.size),
        mean_final=float(finals.mean()),
        median_final=float(median),
        p5_final=float(p5),
        p95_final=float(p95),
        prob_profit=float(np.mean(finals > capital)),
        prob_loss=float(np.mean(finals < capital)),
        loss_threshold_pct=float(loss_threshold_pct),
        prob_loss_exceeding=float(np.mean(finals < capital * (1 - loss_threshold_pct / 100))),
        median_max_drawdown_pct=float(100.0 * np.expm1(np.median(paths.max_drawdown_logs))),
        histogram=Histogram(tuple(map(float, edges)), tuple(map(int, counts))),
        fan_chart=FanChart(
            days=tuple(range(horizon + 1)),
            percentiles=tuple(float(p) for p in fan_percentiles),
            values=tuple(tuple(map(float, col)) for col in fan_values.T),
        ),
        parameters=parameters,
    )


# --------------------------------------------------------------------------- public API


def simulate_gbm(
    capital: float,
    horizon_days: int,
    *,
    simulations: int = DEFAULT_SIMULATIONS,
    mu_annual: float | None = None,
    sigma_annual: float | None = None,
    returns: ArrayLike | None = None,
    periods_per_year: int = PERIODS_PER_YEAR,
    seed: int | np.random.Generator | None = None,
    loss_threshold_pct: float = 20.0,
    fan_percentiles: Sequence[float] = DEFAULT_FAN_PERCENTILES,
    bins: int = 40,
    threads: int | None = None,
    progress: Progress | None = None,
) -> MonteCarloResult:
    """GBM paths of the whole portfolio; give either (mu_annual, sigma_annual) or returns.

    ``threads`` (default: CPU count) never changes the numbers for a given ``seed``.
    ``progress(done, total)`` is called on the calling thread after each day block with
    path-equivalents done (path-days / horizon) and ``simulations``; the last call is
    ``(simulations, simulations)``.
    """
    capital = float(capital)
    _check_run_size(capital, horizon_days, simulations)
    _check_outputs(loss_threshold_pct, fan_percentiles, bins)
    workers = _check_threads(threads)
    params = _gbm_parameters(mu_annual, sigma_annual, returns, periods_per_year)
    dt = 1.0 / periods_per_year
    drift = (params.mu_annual - 0.5 * params.sigma_annual**2) * dt
    vol = params.sigma_annual * math.sqrt(dt)
    streams = _chunk_streams(seed, -(-simulations // _CHUNK_PATHS))
    sources = [_GbmSource(drift, vol, rng) for rng in streams]
    paths = _run_paths(sources, horizon_days, simulations, fan_percentiles, workers, progress)
    used = {"mu_annual": params.mu_annual, "sigma_annual": params.sigma_annual}
    return _summarise(
        "gbm", capital, horizon_days, paths, loss_threshold_pct, fan_percentiles, bins, used
    )


def _gbm_parameters(
    mu_annual: float | None,
    sigma_annual: float | None,
    returns: ArrayLike | None,
    periods_per_year: int,
) -> GbmParameters:
    given = mu_annual is not None and sigma_annual is not None
    if given == (returns is not None) or (mu_annual is None) != (sigma_annual is None):
        raise _invalid(
            "Give either mu_annual and sigma_annual, or returns to estimate them from.",
            "invalid_parameters",
        )
    if mu_annual is None or sigma_annual is None:
        return estimate_gbm_parameters(returns if returns is not None else [], periods_per_year)
    if not (math.isfinite(mu_annual) and math.isfinite(sigma_annual) and sigma_annual >= 0):
        raise _invalid("mu must be finite and sigma >= 0.", "invalid_parameters")
    return GbmParameters(float(mu_annual), float(sigma_annual))


def default_block_size(count: int) -> int:
    """n^(1/3): the rate-optimal order of the block length for the sample mean."""
    return max(2, round(count ** (1.0 / 3.0)))


def simulate_bootstrap(
    capital: float,
    returns: ArrayLike,
    horizon_days: int,
    *,
    simulations: int = DEFAULT_SIMULATIONS,
    scheme: BootstrapScheme = "block",
    block_size: int | None = None,
    seed: int | np.random.Generator | None = None,
    loss_threshold_pct: float = 20.0,
    fan_percentiles: Sequence[float] = DEFAULT_FAN_PERCENTILES,
    bins: int = 40,
    threads: int | None = None,
    progress: Progress | None = None,
) -> MonteCarloResult:
    """Resample the portfolio's own daily simple returns (1-D, oldest first).

    A -100 % day is kept as a 99.9999999999 % loss so log-space sums stay finite. Daily
    log-returns are resampled as float32 (relative error ~6e-8 per day). ``threads`` and
    ``progress`` work as in :func:`simulate_gbm`.
    """
    capital = float(capital)
    _check_run_size(capital, horizon_days, simulations)
    _check_outputs(loss_threshold_pct, fan_percentiles, bins)
    workers = _check_threads(threads)
    arr = as_return_array(returns, ndim=1)
    require_history(arr.size, MIN_HISTORY)
    if scheme not in ("iid", "block", "stationary"):
        raise _invalid("Unknown bootstrap scheme.", "invalid_scheme", scheme=scheme)
    size = default_block_size(arr.size) if block_size is None else block_size
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= arr.size:
        raise _invalid("Block size must be between 1 and the history length.", "invalid_block")
    logs = np.log(np.maximum(1.0 + arr, _MIN_GROWTH)).astype(np.float32)
    streams = _chunk_streams(seed, -(-simulations // _CHUNK_PATHS))
    sources = [
        _BootstrapSource(logs, min(_CHUNK_PATHS, simulations - i * _CHUNK_PATHS), scheme, size, rng)
        for i, rng in enumerate(streams)
    ]
    paths = _run_paths(sources, horizon_days, simulations, fan_percentiles, workers, progress)
    used = {"block_size": float(1 if scheme == "iid" else size)}
    return _summarise(
        f"bootstrap_{scheme}",
        capital,
        horizon_days,
        paths,
        loss_threshold_pct,
        fan_percentiles,
        bins,
        used,
    )
