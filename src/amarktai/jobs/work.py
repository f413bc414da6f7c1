"""The work itself: validate a request against its data and strategy, then compute.

Plain synchronous functions with no database or queue in sight, so the in-process queue,
the Dramatiq worker and the CLI all run the same code. ``prepare_*`` raise
``ValidationFailed`` (422) for everything a user can get wrong: unknown strategy or
parameter, a value outside its range, a missing file, an empty or too-short date range,
data with gaps. ``run_*`` report progress through a callback that may raise
``JobCancelled``: that is how a cancel reaches the middle of a computation.
"""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import optuna

from amarktai.backtest.data import load_bars, load_stored_bars, random_walk_bars
from amarktai.backtest.event import run_event
from amarktai.backtest.models import BacktestConfig, BacktestResult
from amarktai.backtest.montecarlo import trade_sequence_monte_carlo
from amarktai.backtest.optimiser import (
    OptimisationResult,
    Progress,
    SpaceEntry,
    WalkForward,
    optimise,
    search_space,
)
from amarktai.backtest.report import render_html
from amarktai.backtest.vectorised import run_vectorised
from amarktai.jobs.outcome import JobCancelled, Outcome, TrialRecord
from amarktai.jobs.requests import BacktestRequest, DataSource, OptimisationRequest
from amarktai.kit.errors import NotFound, ValidationFailed
from amarktai.marketdata.sources import Located, all_series, files_dir, locate
from amarktai.marketdata.store import SeriesKey
from amarktai.strategies.base import Bars, ParamSpec, Strategy
from amarktai.strategies.registry import create_strategy, get_strategy

Report = Callable[[float, str], None]
DATA_FOLDERS = ("daily", "intraday")
CANDLE_SUFFIXES = (".csv", ".feather", ".json")
EQUITY_POINTS = 500

__all__ = [
    "JobCancelled",
    "Outcome",
    "TrialRecord",
    "data_files",
    "jsonable",
    "prepare_backtest",
    "prepare_optimisation",
    "run_backtest",
    "run_optimisation",
]


# ------------------------------------------------------------------------------- JSON


def jsonable(value: Any) -> Any:
    """Plain JSON values: NaN/inf become null (PostgreSQL's JSON rejects them), decimals
    become strings (exact), NumPy values become Python ones."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


# ------------------------------------------------------------------------------- data


def _invalid(message: str, code: str, **details: Any) -> ValidationFailed:
    return ValidationFailed(message, code=code, details=details or None)


def data_file_path(name: str) -> Path:
    """A file inside the files folder the user pointed at (``$AMARKTAI_SHARED_DATA``);
    anything else (absolute, ``..``, missing, not a candle file, no folder configured) is
    ``unknown_data_file`` so a request cannot read the disk."""
    folder = files_dir()
    root = folder.resolve() if folder is not None else None
    path = (root / name).resolve() if root is not None else None
    usable = (
        root is not None
        and path is not None
        and path.is_relative_to(root)
        and path.is_file()
        and path.suffix in CANDLE_SUFFIXES
        and "trades" not in path.name
    )
    if not usable or path is None:
        raise _invalid(
            f"no candle series or file '{name}'; see GET /api/v1/backtests/data-files",
            "unknown_data_file",
            file=name,
        )
    return path


def stored_series(name: str) -> Located | None:
    """The stored series a ``data.file`` names (``binance/BTC-USDT/1h``), if any: the
    user's store first, then the shipped sample."""
    if Path(name).suffix:
        return None
    try:
        key = SeriesKey.parse(name)
    except ValidationFailed:
        return None
    return locate(key)


def load_data(source: DataSource, *, min_bars: int) -> Bars:
    if source.random_walk is not None:
        walk = source.random_walk
        bars = random_walk_bars(
            walk.n, seed=walk.seed, sigma=walk.sigma, bar_seconds=walk.bar_seconds
        )
        if len(bars) < min_bars:
            raise _invalid(
                f"random walk: {len(bars)} bars, need at least {min_bars}",
                "range_too_short",
                bars=len(bars),
                needed=min_bars,
            )
        return bars
    assert source.file is not None
    if source.start and source.end and source.start >= source.end:
        raise _invalid("start must be before end", "empty_range")
    series = stored_series(source.file)
    if series is not None:
        return load_stored_bars(series, start=source.start, end=source.end, min_bars=min_bars)
    return load_bars(
        data_file_path(source.file), start=source.start, end=source.end, min_bars=min_bars
    )


def data_files() -> list[dict[str, Any]]:
    """What a backtest can read, each checked (bars, span, or its problem): the stored
    series (the user's store, then the shipped sample; ``source`` says which), then the
    candle files of the folder the user pointed at, if any."""
    out = [
        {**_describe(info.key.name, info.path.stat().st_mtime_ns), "source": store.label}
        for store, info in all_series()
    ]
    folder = files_dir()
    if folder is None:
        return out
    root = folder.resolve()
    for sub in DATA_FOLDERS:
        for path in sorted((root / sub).glob("*")):
            if path.suffix in CANDLE_SUFFIXES and "trades" not in path.name:
                name = str(path.relative_to(root))
                out.append({**_describe(name, path.stat().st_mtime_ns), "source": "files"})
    return out


@cache
def _describe(name: str, _mtime_ns: int) -> dict[str, Any]:
    """Cached per file version: checking a file means reading all of it."""
    try:
        series = stored_series(name)
        bars = load_stored_bars(series) if series is not None else load_bars(data_file_path(name))
    except ValidationFailed as exc:
        return {"file": name, "usable": False, "problem": f"{exc.code}: {exc.message}"}
    step = int((bars.time[1] - bars.time[0]).astype("timedelta64[s]").astype(np.int64))
    return {
        "file": name,
        "usable": True,
        "problem": None,
        "bars": len(bars),
        "bar_seconds": step,
        "start": f"{bars.time[0].astype('datetime64[s]')}Z",
        "end": f"{bars.time[-1].astype('datetime64[s]')}Z",
    }


def _strategy_class(name: str) -> type[Strategy]:
    """An unknown strategy is bad input here (422), not a missing resource (404)."""
    try:
        return get_strategy(name)
    except NotFound as exc:
        raise ValidationFailed(exc.message, code=exc.code, details=exc.details) from None


# --------------------------------------------------------------------------- backtests


@dataclasses.dataclass(frozen=True, slots=True)
class PreparedBacktest:
    strategy: Strategy
    bars: Bars
    config: BacktestConfig


def prepare_backtest(request: BacktestRequest) -> PreparedBacktest:
    """Everything a backtest needs, or the first problem with the request."""
    cls = _strategy_class(request.strategy)
    strategy = create_strategy(request.strategy, request.params)
    if request.mode == "vectorised" and cls.signals is Strategy.signals:
        raise _invalid(
            f"strategy '{cls.name}' emits orders, not targets: use mode 'event'",
            "not_vectorisable",
        )
    config = request.config.to_config()
    bars = load_data(request.data, min_bars=strategy.warmup_bars + 2)
    return PreparedBacktest(strategy, bars, config)


def run_backtest(request: BacktestRequest, report: Report) -> Outcome:
    report(0.05, "loading data")
    prepared = prepare_backtest(request)
    report(0.2, f"simulating {len(prepared.bars)} bars ({request.mode})")
    runner = run_event if request.mode == "event" else run_vectorised
    result = runner(prepared.strategy, prepared.bars, config=prepared.config)
    report(0.7, "Monte Carlo of the trade sequence")
    monte_carlo, mc_error = _monte_carlo(result, request)
    report(0.9, "rendering the report")
    page = render_html(result)
    page = page.replace("</body>", _monte_carlo_html(monte_carlo, mc_error) + "</body>")
    return Outcome(
        status="succeeded",
        result=jsonable(
            {
                "summary": result.summary(),
                "monte_carlo": monte_carlo,
                "monte_carlo_error": mc_error,
                "equity": _equity_curve(result),
            }
        ),
        trades=jsonable([t.to_dict() for t in result.trades]),
        report_html=page,
    )


def _monte_carlo(
    result: BacktestResult, request: BacktestRequest
) -> tuple[dict[str, Any] | None, str | None]:
    """The risk module's bootstrap over closed trades; too few trades is a note, not a
    failed backtest."""
    if request.monte_carlo_simulations == 0:
        return None, "skipped (monte_carlo_simulations = 0)"
    try:
        mc = trade_sequence_monte_carlo(
            result, simulations=request.monte_carlo_simulations, seed=request.seed
        )
    except ValidationFailed as exc:
        return None, f"{exc.code}: {exc.message}"
    return jsonable(mc), None


_MC_FIELDS = (
    ("mean_final", "mean final equity"),
    ("median_final", "median final equity"),
    ("p5_final", "5th percentile final equity"),
    ("p95_final", "95th percentile final equity"),
    ("prob_profit", "probability of profit"),
    ("prob_loss", "probability of loss"),
    ("median_max_drawdown_pct", "median max drawdown %"),
)


def _monte_carlo_html(mc: dict[str, Any] | None, error: str | None) -> str:
    if mc is None:
        return f"<h2>Monte Carlo of the trade sequence</h2><p>{html.escape(str(error))}</p>"
    rows = "".join(
        f"<tr><td>{label}</td><td>{_fmt(mc.get(key))}</td></tr>" for key, label in _MC_FIELDS
    )
    return (
        "<h2>Monte Carlo of the trade sequence</h2>"
        f"<p>{mc['simulations']} resamples of the closed trades (i.i.d. bootstrap).</p>"
        f"<table><tbody>{rows}</tbody></table>"
    )


def _fmt(value: Any) -> str:
    return f"{value:,.4g}" if isinstance(value, float) else html.escape(str(value))


def _equity_curve(result: BacktestResult) -> dict[str, list[Any]]:
    """At most ``EQUITY_POINTS`` evenly spaced points (ends kept) for charts."""
    n = len(result.equity)
    idx = np.unique(np.linspace(0, n - 1, min(n, EQUITY_POINTS)).round().astype(int))
    times = result.times[idx].astype("datetime64[s]")
    return {
        "times": [f"{t}Z" for t in times],
        "equity": result.equity[idx].tolist(),
    }


# ----------------------------------------------------------------------- optimisation


@dataclasses.dataclass(frozen=True, slots=True)
class PreparedOptimisation:
    bars: Bars
    config: BacktestConfig
    space: dict[str, SpaceEntry]
    walk_forward: WalkForward | None


def prepare_optimisation(request: OptimisationRequest) -> PreparedOptimisation:
    cls = _strategy_class(request.strategy)
    specs = {s.name: s for s in cls.Params.specs()}
    space = {name: _space_entry(specs, name, entry) for name, entry in request.space.items()}
    search_space(cls, space)
    for name, value in request.fixed.items():
        _spec(specs, name).validate(value)
    config = request.config.to_config()
    bars = load_data(request.data, min_bars=3)
    walk = request.walk_forward
    walk_forward = None if walk is None else WalkForward(walk.train_bars, walk.test_bars)
    if walk_forward is not None:
        walk_forward.windows(len(bars))
    return PreparedOptimisation(bars, config, space, walk_forward)


def _spec(specs: Mapping[str, ParamSpec], name: str) -> ParamSpec:
    if name not in specs:
        raise _invalid(
            f"unknown parameter '{name}'; expected one of {sorted(specs)}",
            "invalid_parameter",
            param=name,
        )
    return specs[name]


def _space_entry(specs: Mapping[str, ParamSpec], name: str, entry: Sequence[Any]) -> SpaceEntry:
    """Numbers take ``[low, high]``; other types the list of allowed values."""
    spec = _spec(specs, name)
    if spec.type not in (int, float):
        if not entry:
            raise _invalid(f"no values for '{name}'", "invalid_parameter", param=name)
        return tuple(entry)
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in entry)
    if len(entry) != 2 or not numeric:
        raise _invalid(
            f"range for '{name}' must be [low, high], got {list(entry)}",
            "invalid_parameter",
            param=name,
        )
    return (float(entry[0]), float(entry[1]))


def run_optimisation(request: OptimisationRequest, report: Report, study_name: str) -> Outcome:
    report(0.02, "loading data")
    prepared = prepare_optimisation(request)
    storage = optuna.storages.InMemoryStorage()
    result = optimise(
        request.strategy,
        prepared.bars,
        objectives=request.objectives,
        n_trials=request.n_trials,
        walk_forward=prepared.walk_forward,
        space=prepared.space,
        fixed=request.fixed,
        config=prepared.config,
        seed=request.seed,
        storage=storage,
        study_name=study_name,
        progress=lambda p: report(_fraction(p), _describe_progress(p)),
    )
    trials = _trials(storage, study_name)
    return _optimisation_outcome(result, trials)


def _fraction(p: Progress) -> float:
    return 0.05 + 0.9 * (p.fold + p.trials_done / p.trials_total) / p.folds


def _describe_progress(p: Progress) -> str:
    return f"fold {p.fold + 1}/{p.folds}: trial {p.trials_done}/{p.trials_total} ({p.valid} valid)"


def _trials(storage: optuna.storages.BaseStorage, study_name: str) -> tuple[TrialRecord, ...]:
    """Every trial of every fold's study, for the ``optimisation_trials`` table."""
    out: list[TrialRecord] = []
    for name in optuna.get_all_study_names(storage):
        if not name.startswith(f"{study_name}-fold"):
            continue
        fold = int(name.rsplit("fold", 1)[1])
        for t in optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False):
            out.append(
                TrialRecord(
                    fold=fold,
                    number=t.number,
                    state=t.state.name.lower(),
                    params=jsonable(t.params),
                    values=jsonable(t.values) if t.values is not None else None,
                    error=t.user_attrs.get("error"),
                )
            )
    return tuple(out)


def _optimisation_outcome(result: OptimisationResult, trials: tuple[TrialRecord, ...]) -> Outcome:
    body = jsonable(result.to_dict())
    if result.status == "failed":
        return Outcome(
            status="failed",
            result=body,
            trials=trials,
            error_code="no_valid_trials",
            error=result.reason,
        )
    return Outcome(status="succeeded", result=body, trials=trials)
