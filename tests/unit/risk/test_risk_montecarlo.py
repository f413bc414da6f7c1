from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from amarktai.kit.errors import ValidationFailed
from amarktai.risk import montecarlo
from amarktai.risk.montecarlo import (
    MAX_SIMULATIONS,
    _BootstrapSource,
    _select,
    estimate_gbm_parameters,
    simulate_bootstrap,
    simulate_gbm,
)

MU, SIGMA, N = 0.5, 0.8, 20_000


@pytest.fixture(scope="module")
def gbm_year() -> montecarlo.MonteCarloResult:
    return simulate_gbm(1.0, 365, simulations=N, mu_annual=MU, sigma_annual=SIGMA, seed=7)


def test_gbm_matches_lognormal_closed_form(gbm_year: montecarlo.MonteCarloResult) -> None:
    """log S_T ~ N((μ-σ²/2)T, σ²T): check median, 5/95 % and the mean within 4 SE."""
    m, s = MU - SIGMA**2 / 2, SIGMA
    se_median_log = math.sqrt(math.pi / 2) * s / math.sqrt(N)
    assert math.log(gbm_year.median_final) == pytest.approx(m, abs=4 * se_median_log)
    for value, q in ((gbm_year.p5_final, 0.05), (gbm_year.p95_final, 0.95)):
        z = stats.norm.ppf(q)
        se = math.sqrt(q * (1 - q) / N) / stats.norm.pdf(z)  # in standard-normal units
        assert (math.log(value) - m) / s == pytest.approx(z, abs=4 * se)
    sd_final = math.exp(MU) * math.sqrt(math.exp(s**2) - 1)
    assert gbm_year.mean_final == pytest.approx(math.exp(MU), abs=4 * sd_final / math.sqrt(N))
    p_profit = stats.norm.cdf(m / s)
    se_p = math.sqrt(p_profit * (1 - p_profit) / N)
    assert gbm_year.prob_profit == pytest.approx(p_profit, abs=4 * se_p)
    p_loss20 = stats.norm.cdf((math.log(0.8) - m) / s)
    assert gbm_year.prob_loss_exceeding == pytest.approx(p_loss20, abs=4 * se_p)
    assert gbm_year.prob_profit + gbm_year.prob_loss == pytest.approx(1.0)


def test_fan_chart_and_histogram_shapes(gbm_year: montecarlo.MonteCarloResult) -> None:
    fan = gbm_year.fan_chart
    assert fan.days == tuple(range(366))
    assert fan.percentiles == (5.0, 25.0, 50.0, 75.0, 95.0)
    assert all(series[0] == 1.0 for series in fan.values)
    assert all(len(series) == 366 for series in fan.values)
    last = [series[-1] for series in fan.values]
    assert last == sorted(last)
    assert last[2] == pytest.approx(gbm_year.median_final, rel=1e-3)
    hist = gbm_year.histogram
    assert sum(hist.counts) == N and len(hist.edges) == len(hist.counts) + 1
    assert -100 < gbm_year.median_max_drawdown_pct < 0


def test_day_chunking_does_not_change_results(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths advance in day blocks; the block size must only change memory, not numbers."""
    kwargs: dict[str, Any] = {"simulations": 500, "mu_annual": 0.2, "sigma_annual": 0.6, "seed": 1}
    whole = simulate_gbm(100.0, 50, **kwargs)
    monkeypatch.setattr(montecarlo, "_BLOCK_FLOATS", 1_700)  # 3 days per block
    chunked = simulate_gbm(100.0, 50, **kwargs)
    np.testing.assert_allclose(chunked.fan_chart.values, whole.fan_chart.values, rtol=1e-12)
    assert chunked.median_final == pytest.approx(whole.median_final, rel=1e-12)
    assert chunked.median_max_drawdown_pct == pytest.approx(whole.median_max_drawdown_pct, rel=1e-9)


def test_gbm_seed_reproducible_and_zero_vol_is_deterministic() -> None:
    a = simulate_gbm(10.0, 30, simulations=1_000, mu_annual=0.1, sigma_annual=0.5, seed=3)
    b = simulate_gbm(10.0, 30, simulations=1_000, mu_annual=0.1, sigma_annual=0.5, seed=3)
    assert a == b
    flat = simulate_gbm(10.0, 365, simulations=100, mu_annual=0.1, sigma_annual=0.0, seed=3)
    assert flat.median_final == pytest.approx(10.0 * math.exp(0.1))
    assert flat.prob_profit == 1.0


def test_parameters_are_estimated_without_the_ito_bug() -> None:
    rng = np.random.default_rng(4)
    dt = 1 / 365
    logs = rng.normal((MU - SIGMA**2 / 2) * dt, SIGMA * math.sqrt(dt), 200_000)
    params = estimate_gbm_parameters(np.expm1(logs))
    assert params.sigma_annual == pytest.approx(SIGMA, rel=0.01)
    assert params.mu_annual == pytest.approx(MU, abs=0.08)
    result = simulate_gbm(1.0, 10, simulations=100, returns=np.expm1(logs[:500]), seed=1)
    assert set(result.parameters) == {"mu_annual", "sigma_annual"}


@pytest.mark.parametrize("scheme", ["iid", "block", "stationary"])
def test_bootstrap_of_constant_returns_is_exact(scheme: str) -> None:
    result = simulate_bootstrap(
        1000.0,
        np.full(100, 0.001),
        250,
        simulations=300,
        scheme=scheme,
        seed=2,  # type: ignore[arg-type]
    )
    expected = 1000.0 * 1.001**250
    # daily log-returns are resampled as float32: ~6e-8 relative error per day
    assert result.median_final == pytest.approx(expected, rel=1e-6)
    assert result.p5_final == result.median_final
    assert result.method == f"bootstrap_{scheme}"


def test_block_bootstrap_keeps_blocks_contiguous_across_day_chunks() -> None:
    source = _BootstrapSource(np.arange(50.0), 4, "block", 5, np.random.default_rng(0))
    path = np.concatenate([source.positions(0, 3), source.positions(3, 9)]) % 50
    for column in path.T:
        for start in range(0, 12, 5):
            block = column[start : start + 5]
            assert np.all(np.diff(block) % 50 == 1)


def test_stationary_bootstrap_mean_block_length() -> None:
    source = _BootstrapSource(np.arange(10_000.0), 2_000, "stationary", 8, np.random.default_rng(0))
    path = source.positions(0, 200)
    restarts = np.mean(np.diff(path, axis=0) != 1)
    assert restarts == pytest.approx(1 / 8, abs=0.01)


def test_bootstrap_tracks_own_history() -> None:
    rng = np.random.default_rng(9)
    returns = rng.normal(0.002, 0.01, 500)
    result = simulate_bootstrap(100.0, returns, 100, simulations=4_000, seed=1)
    expected_median = 100.0 * math.exp(100 * np.log1p(returns).mean())
    assert result.median_final == pytest.approx(expected_median, rel=0.05)
    assert result.parameters["block_size"] == 8.0  # round(500 ** (1/3))


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"simulations": MAX_SIMULATIONS + 1}, "too_many_simulations"),
        ({"simulations": 100_000, "horizon_days": 3_000}, "too_many_simulations"),
        ({"simulations": 0}, "invalid_simulations"),
        ({"horizon_days": 0}, "invalid_horizon"),
        ({"capital": -5.0}, "invalid_capital"),
        ({"loss_threshold_pct": 0.0}, "invalid_threshold"),
        ({"fan_percentiles": (5.0, 120.0)}, "invalid_percentiles"),
        ({"sigma_annual": -0.1}, "invalid_parameters"),
    ],
)
def test_gbm_bad_input(kwargs: dict[str, Any], code: str) -> None:
    args: dict[str, Any] = {
        "capital": 100.0,
        "horizon_days": 30,
        "simulations": 100,
        "mu_annual": 0.1,
        "sigma_annual": 0.5,
    }
    args.update(kwargs)
    capital, horizon = args.pop("capital"), args.pop("horizon_days")
    with pytest.raises(ValidationFailed) as info:
        simulate_gbm(capital, horizon, **args)
    assert info.value.code == code


def test_gbm_needs_exactly_one_parameter_source() -> None:
    with pytest.raises(ValidationFailed):
        simulate_gbm(1.0, 10, simulations=10)
    with pytest.raises(ValidationFailed):
        simulate_gbm(1.0, 10, simulations=10, mu_annual=0.1, sigma_annual=0.2, returns=[0.0] * 40)


def test_bootstrap_bad_input() -> None:
    with pytest.raises(ValidationFailed) as info:
        simulate_bootstrap(1.0, [0.01] * 10, 10)
    assert info.value.code == "insufficient_history"
    with pytest.raises(ValidationFailed) as info:
        simulate_bootstrap(1.0, [0.01] * 40, 10, block_size=0)
    assert info.value.code == "invalid_block"
    with pytest.raises(ValidationFailed) as info:
        simulate_bootstrap(1.0, [0.01] * 40, 10, scheme="wild")  # type: ignore[arg-type]
    assert info.value.code == "invalid_scheme"


def test_threads_and_day_blocks_do_not_change_results(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each path chunk has its own stream, consumed day by day: bit-identical results."""
    monkeypatch.setattr(montecarlo, "_CHUNK_PATHS", 128)  # 8 chunks -> real thread split
    gbm: dict[str, Any] = {"simulations": 1_000, "mu_annual": 0.3, "sigma_annual": 0.7, "seed": 5}
    returns = np.random.default_rng(3).normal(0.001, 0.03, 300)
    runs = []
    for threads, block in ((1, 2_000_000), (2, 2_000_000), (3, 7_000)):
        monkeypatch.setattr(montecarlo, "_BLOCK_FLOATS", block)
        runs.append(
            [simulate_gbm(100.0, 60, threads=threads, **gbm)]
            + [
                simulate_bootstrap(
                    100.0, returns, 60, simulations=1_000, scheme=s, seed=5, threads=threads
                )
                for s in ("iid", "block", "stationary")
            ]
        )
    assert runs[0] == runs[1] == runs[2]


def test_other_seed_changes_result_and_progress_is_reported() -> None:
    calls: list[tuple[int, int]] = []
    a = simulate_gbm(1.0, 30, simulations=500, mu_annual=0.1, sigma_annual=0.5, seed=1)
    b = simulate_gbm(
        1.0, 30, simulations=500, mu_annual=0.1, sigma_annual=0.5, seed=2,
        progress=lambda done, total: calls.append((done, total)),
    )  # fmt: skip
    assert a != b
    assert calls[-1] == (500, 500)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


@pytest.mark.parametrize("sigmas", [4.0, 0.0])  # 0: brackets miss, exercising the fallback
def test_select_is_exact(monkeypatch: pytest.MonkeyPatch, sigmas: float) -> None:
    monkeypatch.setattr(montecarlo, "_SELECT_SIGMAS", sigmas)
    rng = np.random.default_rng(11)
    rows = [
        rng.standard_normal(60_000).astype(np.float32),
        rng.integers(0, 7, 60_000).astype(np.float32),  # heavy ties
        np.zeros(60_000, dtype=np.float32),
    ]
    ranks = [0, 2_999, 29_999, 44_999, 59_999]
    for row in rows:
        assert _select(row, ranks) == [float(v) for v in np.sort(row)[ranks]]


def test_fan_chart_is_exact_over_all_paths() -> None:
    """The fan chart's last day equals inverted_cdf percentiles of all final values."""
    result = simulate_gbm(1.0, 5, simulations=50_000, mu_annual=0.2, sigma_annual=0.9, seed=8)
    finals = result.fan_chart.values
    assert result.median_final == pytest.approx(finals[2][-1], rel=1e-4)
    assert result.p5_final == pytest.approx(finals[0][-1], rel=1e-3)


def test_bad_threads() -> None:
    with pytest.raises(ValidationFailed) as info:
        simulate_gbm(1.0, 10, simulations=10, mu_annual=0.1, sigma_annual=0.2, threads=0)
    assert info.value.code == "invalid_threads"
