"""The job computations without any queue: validation codes, outcomes, cancellation."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from amarktai.jobs.requests import BacktestRequest, OptimisationRequest
from amarktai.jobs.work import (
    JobCancelled,
    data_file_path,
    jsonable,
    prepare_backtest,
    prepare_optimisation,
    run_backtest,
    run_optimisation,
)
from amarktai.kit.errors import ValidationFailed

WALK = {"random_walk": {"n": 300, "seed": 5, "sigma": 0.01}}


def backtest(**kw: Any) -> BacktestRequest:
    body = {"strategy": "sma_cross", "params": {"fast": 3, "slow": 10}, "data": WALK, **kw}
    return BacktestRequest.model_validate(body)


def optimisation(**kw: Any) -> OptimisationRequest:
    return OptimisationRequest.model_validate({"strategy": "sma_cross", "data": WALK, **kw})


def code_of(call: Any) -> str:
    with pytest.raises(ValidationFailed) as info:
        call()
    return info.value.code


def test_jsonable_makes_plain_json() -> None:
    value = {"a": np.float64(1.5), "b": [math.nan, math.inf], "c": Decimal("0.1"),
             "d": np.arange(2), 3: (np.bool_(True),)}  # fmt: skip
    assert jsonable(value) == {"a": 1.5, "b": [None, None], "c": "0.1", "d": [0, 1], "3": [True]}


def test_data_files_must_stay_inside_the_shared_folder() -> None:
    assert data_file_path("daily/binance_daily_Bitcoin.csv").is_file()
    for name in ("../../etc/passwd", "/etc/passwd", "intraday/XRP_ETH-trades.json.gz", "nope.csv"):
        assert code_of(lambda n=name: data_file_path(n)) == "unknown_data_file"


def test_prepare_backtest_names_each_problem() -> None:
    assert code_of(lambda: prepare_backtest(backtest(strategy="nope"))) == "unknown_strategy"
    bad = backtest(params={"fast": 10, "slow": 5})
    assert code_of(lambda: prepare_backtest(bad)) == "invalid_parameter"
    short = backtest(data={"random_walk": {"n": 10}}, params={"fast": 3, "slow": 50})
    assert code_of(lambda: prepare_backtest(short)) == "range_too_short"
    gaps = backtest(data={"file": "intraday/UNITTEST_BTC-1m.json"})
    assert code_of(lambda: prepare_backtest(gaps)) == "data_gap"
    assert prepare_backtest(backtest()).bars.close.size == 300


def test_backtest_reports_progress_and_stores_results() -> None:
    seen: list[tuple[float, str]] = []
    outcome = run_backtest(backtest(monte_carlo_simulations=0), lambda f, m: seen.append((f, m)))
    assert outcome.status == "succeeded"
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)
    assert outcome.result["summary"]["bars"] == 300
    assert outcome.result["monte_carlo"] is None
    assert outcome.trades is not None and len(outcome.trades) == outcome.result["summary"]["trades"]
    assert outcome.report_html is not None and "skipped" in outcome.report_html


def test_a_cancel_stops_the_work_at_the_next_report() -> None:
    def report(fraction: float, _: str) -> None:
        if fraction > 0.1:
            raise JobCancelled()

    with pytest.raises(JobCancelled):
        run_backtest(backtest(), report)
    with pytest.raises(JobCancelled):
        run_optimisation(optimisation(n_trials=50), report, study_name="t")


def test_prepare_optimisation_checks_space_fixed_and_windows() -> None:
    assert code_of(lambda: prepare_optimisation(optimisation(space={"x": [1, 2]}))) == (
        "invalid_parameter"
    )
    assert code_of(lambda: prepare_optimisation(optimisation(space={"fast": [1, 5]}))) == (
        "invalid_parameter"
    )
    assert code_of(lambda: prepare_optimisation(optimisation(space={"ma": []}))) == (
        "invalid_parameter"
    )
    assert code_of(lambda: prepare_optimisation(optimisation(fixed={"fast": 0}))) == (
        "invalid_parameter"
    )
    too_long = optimisation(walk_forward={"train_bars": 250, "test_bars": 100})
    assert code_of(lambda: prepare_optimisation(too_long)) == "range_too_short"
    ok = prepare_optimisation(optimisation(space={"fast": [3, 8], "ma": ["sma", "ema"]}))
    assert ok.space == {"fast": (3.0, 8.0), "ma": ("sma", "ema")}


def test_optimisation_keeps_every_trial_and_fails_without_a_valid_one() -> None:
    good = run_optimisation(
        optimisation(n_trials=6, seed=1, space={"fast": [3, 8], "slow": [12, 30]}),
        lambda f, m: None,
        study_name="good",
    )
    assert good.status == "succeeded" and good.result["pareto"]
    assert len(good.trials) == 6 and {t.state for t in good.trials} == {"complete"}

    bad = run_optimisation(
        optimisation(n_trials=3, space={"fast": [60, 80], "slow": [20, 40]}),
        lambda f, m: None,
        study_name="bad",
    )
    assert bad.status == "failed" and bad.error_code == "no_valid_trials"
    assert bad.error is not None and "0 of 3 trials were valid" in bad.error
    assert [t.state for t in bad.trials] == ["fail"] * 3
    assert all(t.error and "invalid_parameter" in t.error for t in bad.trials)
