"""Multi-objective parameter search (Optuna NSGA-II, the genetic optimiser) with
walk-forward validation.

Why walk-forward: parameters picked on the data they are scored on overfit. Each fold
optimises on an in-sample window and scores only its Pareto-optimal parameter sets on
the following out-of-sample window; the test windows never overlap, so every OOS score
is from data no optimisation in that fold has seen.

Objectives (all maximised): ``return`` (total return), ``max_drawdown`` (the drawdown
depth, a negative fraction, so closer to 0 is better), ``sharpe``. A trial is invalid
(Optuna state FAIL, with the reason kept) when its parameters break the strategy's
rules, the window is shorter than the warm-up, or an objective is undefined. If a fold
has no valid trial the result is ``status="failed"`` with that reason, never a success.

Determinism: with ``seed`` and ``n_jobs=1`` a run is reproducible; with ``n_jobs > 1``
trials finish in thread order, so the sampled sequence may vary.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import optuna

from amarktai.analytics.metrics import infer_periods_per_year, sharpe_ratio, simple_returns
from amarktai.backtest.common import DEFAULT_SYMBOL, instrument_for
from amarktai.backtest.data import slice_bars, validate_bars
from amarktai.backtest.event import run_event
from amarktai.backtest.models import BacktestConfig, FloatArray, bars_close_times
from amarktai.backtest.vectorised import _Rules, simulate_targets
from amarktai.kit.errors import ValidationFailed
from amarktai.strategies.base import Bars, ParamSpec, Strategy
from amarktai.strategies.registry import create_strategy, get_strategy

Objective = Literal["return", "max_drawdown", "sharpe"]
Status = Literal["succeeded", "failed"]
SpaceEntry = tuple[float, float] | Sequence[str] | Sequence[bool]

__all__ = [
    "FoldResult",
    "OptimisationResult",
    "ParetoPoint",
    "Progress",
    "WalkForward",
    "Window",
    "optimise",
]


@dataclasses.dataclass(frozen=True, slots=True)
class Window:
    """Bar index ranges ``[start, stop)`` of one fold."""

    train_start: int
    train_stop: int
    test_start: int
    test_stop: int


@dataclasses.dataclass(frozen=True, slots=True)
class WalkForward:
    """Rolling windows: ``train_bars`` in-sample then ``test_bars`` out-of-sample,
    advancing by ``test_bars`` so consecutive test windows are adjacent, never shared."""

    train_bars: int
    test_bars: int

    def windows(self, n_bars: int) -> list[Window]:
        if self.train_bars < 2 or self.test_bars < 2:
            raise ValidationFailed("walk-forward windows need >= 2 bars", code="invalid_window")
        out, start = [], 0
        while start + self.train_bars + self.test_bars <= n_bars:
            mid = start + self.train_bars
            out.append(Window(start, mid, mid, mid + self.test_bars))
            start += self.test_bars
        if not out:
            raise ValidationFailed(
                f"{n_bars} bars cannot hold one {self.train_bars}+{self.test_bars} fold",
                code="range_too_short",
            )
        return out


@dataclasses.dataclass(frozen=True, slots=True)
class ParetoPoint:
    trial: int
    params: dict[str, Any]
    in_sample: dict[str, float]
    out_of_sample: dict[str, float] | None


@dataclasses.dataclass(frozen=True, slots=True)
class FoldResult:
    window: Window
    pareto: tuple[ParetoPoint, ...]
    n_trials: int
    n_valid: int


@dataclasses.dataclass(frozen=True, slots=True)
class Progress:
    """Sent after every finished trial (the CLI/API render it)."""

    fold: int
    folds: int
    trials_done: int
    trials_total: int
    valid: int


@dataclasses.dataclass(frozen=True, slots=True)
class OptimisationResult:
    """``pareto`` is the latest fold's front (the parameter sets to deploy now), each
    with its out-of-sample score when walk-forward was used."""

    status: Status
    reason: str | None
    strategy: str
    objectives: tuple[Objective, ...]
    folds: tuple[FoldResult, ...]
    pareto: tuple[ParetoPoint, ...]
    n_trials: int
    n_valid: int

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# ------------------------------------------------------------------------------ space


def search_space(
    strategy: type[Strategy], space: Mapping[str, SpaceEntry] | None
) -> dict[str, tuple[ParamSpec, SpaceEntry]]:
    """The declared ranges, optionally narrowed; a range outside the declared one is an
    ``invalid_parameter`` error, as is a name the strategy does not have."""
    specs = {s.name: s for s in strategy.Params.specs()}
    for name in space or {}:
        if name not in specs:
            raise ValidationFailed(
                f"unknown parameter '{name}'; expected one of {sorted(specs)}",
                code="invalid_parameter",
                details={"param": name},
            )
    out: dict[str, tuple[ParamSpec, SpaceEntry]] = {}
    for name, spec in specs.items():
        entry = (space or {}).get(name) or _declared(spec)
        if entry is not None:
            out[name] = (spec, _checked_entry(spec, entry))
    return out


def _declared(spec: ParamSpec) -> SpaceEntry | None:
    if spec.choices is not None:
        return spec.choices
    if spec.type is bool:
        return (False, True)
    if spec.min is not None and spec.max is not None:
        return (spec.min, spec.max)
    return None


def _checked_entry(spec: ParamSpec, entry: SpaceEntry) -> SpaceEntry:
    if spec.type in (int, float):
        lo, hi = (float(v) for v in entry)
        spec.validate(spec.type(lo))
        spec.validate(spec.type(hi))
        if lo > hi:
            raise ValidationFailed(f"range for '{spec.name}' is empty", code="invalid_parameter")
        return (float(lo), float(hi))
    for value in entry:
        spec.validate(value)
    return tuple(entry)  # type: ignore[return-value]


def _suggest(trial: optuna.Trial, name: str, spec: ParamSpec, entry: SpaceEntry) -> Any:
    if spec.type is int:
        lo, hi = entry
        return trial.suggest_int(name, int(lo), int(hi))
    if spec.type is float:
        lo, hi = entry
        return trial.suggest_float(name, float(lo), float(hi))
    return trial.suggest_categorical(name, list(entry))


# ------------------------------------------------------------------------- evaluation


def objectives_of(
    equity: FloatArray, times: np.ndarray, wanted: Sequence[Objective]
) -> dict[str, float]:
    """Objective values of one equity curve; undefined values raise (invalid trial)."""
    values: dict[str, float] = {}
    for name in wanted:
        if name == "return":
            values[name] = float(equity[-1] / equity[0] - 1.0)
        elif name == "max_drawdown":
            values[name] = float(np.min(equity / np.maximum.accumulate(equity) - 1.0))
        else:
            ppy = infer_periods_per_year(times)
            sharpe = None if ppy is None else sharpe_ratio(simple_returns(equity), ppy)
            if sharpe is None:
                raise ValidationFailed("Sharpe undefined (flat equity)", code="undefined_objective")
            values[name] = sharpe
        if not math.isfinite(values[name]):
            raise ValidationFailed(f"{name} is not finite", code="undefined_objective")
    return values


def evaluate(
    strategy: Strategy,
    bars: Bars,
    config: BacktestConfig,
    wanted: Sequence[Objective],
    *,
    warm_from: int = 0,
) -> dict[str, float]:
    """Objectives on ``bars[warm_from:]``; earlier bars only warm the indicators up."""
    scored = slice_bars(bars, warm_from, len(bars))
    validate_bars(scored, min_bars=2, name="window")
    if warm_from == 0:
        validate_bars(bars, min_bars=strategy.warmup_bars + 2, name="window")
    targets = strategy.signals(bars)
    if targets is None:
        result = run_event(strategy, scored, config=config)
        return objectives_of(result.equity, result.times, wanted)
    rules = _Rules.of(config, instrument_for(DEFAULT_SYMBOL, config, None))
    out = simulate_targets(
        scored.open,
        scored.close,
        np.asarray(targets, dtype=np.float64)[warm_from:],
        float(config.initial_cash),
        rules,
    )
    return objectives_of(out.equity, bars_close_times(scored), wanted)


# -------------------------------------------------------------------------- optimise


def optimise(
    strategy: str,
    bars: Bars,
    *,
    objectives: Sequence[Objective] = ("return", "max_drawdown"),
    n_trials: int = 100,
    walk_forward: WalkForward | None = None,
    space: Mapping[str, SpaceEntry] | None = None,
    fixed: Mapping[str, Any] | None = None,
    config: BacktestConfig | None = None,
    n_jobs: int = 1,
    seed: int | None = None,
    storage: str | optuna.storages.BaseStorage | None = None,
    study_name: str | None = None,
    population_size: int | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> OptimisationResult:
    """Search ``strategy``'s declared parameter ranges (see the module docstring)."""
    cls = get_strategy(strategy)
    if not objectives or any(o not in ("return", "max_drawdown", "sharpe") for o in objectives):
        raise ValidationFailed(f"unknown objectives {list(objectives)}", code="invalid_objective")
    if n_trials < 1:
        raise ValidationFailed("n_trials must be >= 1", code="invalid_parameter")
    dims = search_space(cls, space)
    validate_bars(bars, min_bars=2, name="optimisation data")
    windows = (
        walk_forward.windows(len(bars))
        if walk_forward is not None
        else [Window(0, len(bars), len(bars), len(bars))]
    )
    run = _Run(
        strategy, bars, tuple(objectives), dims, dict(fixed or {}), config or BacktestConfig()
    )
    folds: list[FoldResult] = []
    for k, window in enumerate(windows):
        sampler = optuna.samplers.NSGAIISampler(
            population_size=population_size or max(4, min(50, n_trials // 3)),
            seed=None if seed is None else seed + k,
        )
        fold, error = run.fold(
            k, len(windows), window, sampler, n_trials, n_jobs, storage, study_name, progress
        )
        folds.append(fold)
        if fold.n_valid == 0:
            reason = f"fold {k}: 0 of {fold.n_trials} trials were valid ({error})"
            return _result("failed", reason, run, folds)
    return _result("succeeded", None, run, folds)


def _result(
    status: Status, reason: str | None, run: _Run, folds: list[FoldResult]
) -> OptimisationResult:
    return OptimisationResult(
        status=status,
        reason=reason,
        strategy=run.strategy,
        objectives=run.objectives,
        folds=tuple(folds),
        pareto=folds[-1].pareto if status == "succeeded" else (),
        n_trials=sum(f.n_trials for f in folds),
        n_valid=sum(f.n_valid for f in folds),
    )


@dataclasses.dataclass(slots=True)
class _Run:
    strategy: str
    bars: Bars
    objectives: tuple[Objective, ...]
    dims: dict[str, tuple[ParamSpec, SpaceEntry]]
    fixed: dict[str, Any]
    config: BacktestConfig

    def params(self, trial: optuna.Trial) -> dict[str, Any]:
        chosen = {
            n: _suggest(trial, n, s, e) for n, (s, e) in self.dims.items() if n not in self.fixed
        }
        return {**chosen, **self.fixed}

    def objective(self, window: Window) -> Callable[[optuna.Trial], tuple[float, ...]]:
        train = slice_bars(self.bars, window.train_start, window.train_stop)

        def score(trial: optuna.Trial) -> tuple[float, ...]:
            try:
                strat = create_strategy(self.strategy, self.params(trial))
                values = evaluate(strat, train, self.config, self.objectives)
            except ValidationFailed as exc:
                trial.set_user_attr("error", f"{exc.code}: {exc.message}")
                raise
            return tuple(values[o] for o in self.objectives)

        return score

    def out_of_sample(self, params: dict[str, Any], window: Window) -> dict[str, float] | None:
        if window.test_stop <= window.test_start:
            return None
        strat = create_strategy(self.strategy, params)
        warm = min(window.test_start, strat.lookback_bars)
        bars = slice_bars(self.bars, window.test_start - warm, window.test_stop)
        try:
            return evaluate(strat, bars, self.config, self.objectives, warm_from=warm)
        except ValidationFailed:
            return None

    def fold(
        self,
        k: int,
        folds: int,
        window: Window,
        sampler: optuna.samplers.BaseSampler,
        n_trials: int,
        n_jobs: int,
        storage: str | optuna.storages.BaseStorage | None,
        study_name: str | None,
        progress: Callable[[Progress], None] | None,
    ) -> tuple[FoldResult, str]:
        optuna.logging.set_verbosity(
            optuna.logging.ERROR
        )  # failed trials are reported in the result
        study = optuna.create_study(
            directions=["maximize"] * len(self.objectives),
            sampler=sampler,
            storage=storage,
            study_name=None if study_name is None else f"{study_name}-fold{k}",
        )
        callbacks = [_progress(k, folds, n_trials, progress)] if progress else []
        study.optimize(
            self.objective(window),
            n_trials=n_trials,
            n_jobs=n_jobs,
            catch=(ValidationFailed,),
            callbacks=callbacks,
        )
        done = study.get_trials(deepcopy=False)
        valid = [t for t in done if t.state == optuna.trial.TrialState.COMPLETE]
        errors = [str(t.user_attrs.get("error")) for t in done if "error" in t.user_attrs]
        pareto = tuple(
            ParetoPoint(
                trial=t.number,
                params={**t.params, **self.fixed},
                in_sample=dict(zip(self.objectives, t.values, strict=True)),
                out_of_sample=self.out_of_sample({**t.params, **self.fixed}, window),
            )
            for t in (study.best_trials if valid else [])
        )
        first_error = errors[0] if errors else "no trial completed"
        return FoldResult(window, pareto, len(done), len(valid)), first_error


def _progress(
    fold: int, folds: int, total: int, sink: Callable[[Progress], None] | None
) -> Callable[[optuna.Study, optuna.trial.FrozenTrial], None]:
    lock = threading.Lock()
    counts = {"done": 0, "valid": 0}

    def report(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        with lock:
            counts["done"] += 1
            counts["valid"] += trial.state == optuna.trial.TrialState.COMPLETE
            event = Progress(fold, folds, counts["done"], total, counts["valid"])
        if sink is not None:
            sink(event)

    return report
