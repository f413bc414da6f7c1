from __future__ import annotations

import itertools

import pytest

from amarktai.backtest.optimiser import Progress, WalkForward, optimise
from amarktai.kit.errors import ValidationFailed
from amarktai.strategies.base import Bars

SPACE = {"fast": (2, 30), "slow": (20, 120)}


def test_finds_a_pareto_front_quickly(btc_daily: Bars) -> None:
    seen: list[Progress] = []
    result = optimise("sma_cross", btc_daily, n_trials=24, space=SPACE, seed=1,
                      progress=seen.append)  # fmt: skip
    assert result.status == "succeeded"
    assert result.pareto
    for a in result.pareto:  # no front member dominates another
        for b in result.pareto:
            better = all(b.in_sample[o] >= a.in_sample[o] for o in result.objectives)
            strictly = any(b.in_sample[o] > a.in_sample[o] for o in result.objectives)
            assert not (better and strictly)
    assert seen[-1].trials_done == 24
    assert result.n_valid == seen[-1].valid


def test_seeded_runs_repeat(btc_daily: Bars) -> None:
    a = optimise("sma_cross", btc_daily, n_trials=12, space=SPACE, seed=7)
    b = optimise("sma_cross", btc_daily, n_trials=12, space=SPACE, seed=7)
    assert [p.params for p in a.pareto] == [p.params for p in b.pareto]


def test_walk_forward_scores_out_of_sample(btc_daily: Bars) -> None:
    wf = WalkForward(train_bars=500, test_bars=250)
    result = optimise("sma_cross", btc_daily, n_trials=12, space=SPACE, seed=2, walk_forward=wf,
                      objectives=("sharpe", "max_drawdown"), n_jobs=2)  # fmt: skip
    assert result.status == "succeeded"
    assert len(result.folds) == len(wf.windows(len(btc_daily)))
    assert all(p.out_of_sample is not None for p in result.pareto)


def test_walk_forward_test_windows_do_not_overlap() -> None:
    windows = WalkForward(train_bars=300, test_bars=100).windows(1_000)
    assert len(windows) == 7
    for w in windows:
        assert w.train_stop == w.test_start
    for a, b in itertools.pairwise(windows):
        assert a.test_stop <= b.test_start


def test_zero_valid_trials_is_a_failure(btc_daily: Bars) -> None:
    result = optimise(
        "sma_cross", btc_daily, n_trials=5, space={"fast": (50, 60), "slow": (20, 30)}
    )
    assert result.status == "failed"
    assert result.reason is not None and "0 of 5" in result.reason
    assert "invalid_parameter" in result.reason
    assert result.pareto == ()


def test_range_outside_the_declared_one_is_refused(btc_daily: Bars) -> None:
    with pytest.raises(ValidationFailed) as err:
        optimise("sma_cross", btc_daily, n_trials=2, space={"fast": (1, 10)})
    assert err.value.code == "invalid_parameter"
