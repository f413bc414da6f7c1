"""`amarktai backtest run|optimise` and `amarktai worker`.

The backtest commands compute right here (no server, no database) through the same
request models and work functions as the API's jobs, so a CLI run and an API run of
the same request give the same numbers. `amarktai worker` consumes the Redis job queue.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from amarktai.cli.common import console, fail
from amarktai.config import Settings
from amarktai.jobs.requests import BacktestRequest, OptimisationRequest
from amarktai.jobs.work import Outcome, run_backtest, run_optimisation
from amarktai.kit.errors import ConfigError, DomainError

M = TypeVar("M", bound=BaseModel)
backtest_app = typer.Typer(help="Backtests and genetic optimisation.", no_args_is_help=True)
FILE_HELP = "stored series (see `amarktai data list`) or a file in $AMARKTAI_SHARED_DATA"


def _value(text: str) -> Any:
    """`10` → 10, `0.5` → 0.5, `true` → True, anything else stays text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _pairs(items: list[str], option: str) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            fail(f"{option} takes name=value, got '{item}'")
        out[name.strip()] = value.strip()
    return out


def _space(items: list[str]) -> dict[str, list[Any]]:
    """`fast=5:50` is a numeric range; `ma=sma,ema` the allowed values."""
    space: dict[str, list[Any]] = {}
    for name, text in _pairs(items, "--space").items():
        if ":" in text:
            space[name] = [_value(v) for v in text.split(":", 1)]
        else:
            space[name] = [_value(v) for v in text.split(",")]
    return space


def _data(
    file: str | None, start: datetime | None, end: datetime | None, walk: int | None, seed: int
) -> dict[str, Any]:
    if walk is not None:
        return {"random_walk": {"n": walk, "seed": seed}}
    return {"file": file, "start": _utc(start), "end": _utc(end)}


def _utc(moment: datetime | None) -> str | None:
    """Typer parses naive datetimes; the CLI means UTC."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _parse(model: type[M], body: dict[str, Any]) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        fail(problems)
        raise


def _with_progress(title: str, work: Callable[[Callable[[float, str], None]], Outcome]) -> Outcome:
    """Run ``work`` in a thread while a Rich bar follows its progress reports."""
    box: dict[str, Any] = {}
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[step]}"),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(title, total=1.0, step="")

        def report(fraction: float, message: str) -> None:
            bar.update(task, completed=fraction, step=message)

        def target() -> None:
            try:
                box["outcome"] = work(report)
            except BaseException as exc:  # handed to the main thread
                box["error"] = exc

        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        thread.join()
        if "outcome" in box:
            bar.update(task, completed=1.0, step="done")
    error = box.get("error")
    if isinstance(error, DomainError):
        fail(f"{error.message} ({error.code})")
    if error is not None:
        raise error
    outcome: Outcome = box["outcome"]
    return outcome


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.6g}"
    return "—" if value is None else str(value)


def _metrics_table(result: dict[str, Any]) -> Table:
    summary = result["summary"]
    table = Table(title=f"{summary['strategy']} {summary['params']} ({summary['path']})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("bars", "final_equity", "trades", "closed_trades", "fills", "denied"):
        table.add_row(key, _number(summary[key]))
    why = summary["metrics"].get("unavailable") or {}
    for key, value in summary["metrics"].items():
        if key != "unavailable":
            table.add_row(
                key, f"— ({why[key]})" if value is None and key in why else _number(value)
            )
    mc = result.get("monte_carlo")
    if mc:
        for key in (
            "p5_final",
            "median_final",
            "p95_final",
            "prob_loss",
            "median_max_drawdown_pct",
        ):
            table.add_row(f"monte_carlo.{key}", _number(mc[key]))
    else:
        table.add_row("monte_carlo", str(result.get("monte_carlo_error")))
    return table


@backtest_app.command("run")
def backtest_run(
    strategy: str = typer.Option(..., help="see GET /api/v1/strategies"),
    param: list[str] = typer.Option([], "--param", "-p", help="name=value, repeatable"),
    file: str | None = typer.Option(None, help=FILE_HELP),
    start: datetime | None = typer.Option(None, help="first bar open time (UTC)"),
    end: datetime | None = typer.Option(None, help="end, exclusive (UTC)"),
    random_walk: int | None = typer.Option(None, help="use N random-walk bars instead of a file"),
    seed: int = typer.Option(12345, help="random walk and Monte Carlo seed"),
    mode: str = typer.Option("event", help="event or vectorised"),
    initial_cash: Decimal = typer.Option(Decimal(10_000)),
    fee_bps: Decimal = typer.Option(Decimal(10)),
    slippage_bps: Decimal = typer.Option(Decimal(0)),
    simulations: int = typer.Option(1000, help="Monte Carlo resamples (0: skip)"),
    html: Path | None = typer.Option(None, help="write the HTML report here"),
    trades: Path | None = typer.Option(None, help="write the trades as JSON here"),
) -> None:
    """Run one backtest with a progress bar and print its metrics."""
    request = _parse(
        BacktestRequest,
        {
            "strategy": strategy,
            "params": {k: _value(v) for k, v in _pairs(param, "--param").items()},
            "data": _data(file, start, end, random_walk, seed),
            "config": {"initial_cash": initial_cash, "fee_bps": fee_bps,
                       "slippage_bps": slippage_bps},
            "mode": mode,
            "monte_carlo_simulations": simulations,
            "seed": seed,
        },
    )  # fmt: skip
    outcome = _with_progress("backtest", lambda report: run_backtest(request, report))
    console.print(_metrics_table(outcome.result))
    if html is not None and outcome.report_html is not None:
        html.write_text(outcome.report_html)
        console.print(f"report written to [bold]{html}[/bold]")
    if trades is not None:
        trades.write_text(json.dumps(outcome.trades, indent=2))
        console.print(f"trades written to [bold]{trades}[/bold]")


def _pareto_table(result: dict[str, Any]) -> Table:
    objectives = result["objectives"]
    table = Table(title=f"Pareto front: {result['strategy']} ({result['n_valid']} valid of "
                        f"{result['n_trials']} trials)")  # fmt: skip
    table.add_column("trial", justify="right")
    table.add_column("params")
    for name in objectives:
        table.add_column(f"{name} (in)", justify="right")
        table.add_column(f"{name} (out)", justify="right")
    for point in result["pareto"]:
        oos = point["out_of_sample"] or {}
        cells = [
            c for o in objectives for c in (_number(point["in_sample"][o]), _number(oos.get(o)))
        ]
        table.add_row(str(point["trial"]), json.dumps(point["params"]), *cells)
    return table


@backtest_app.command("optimise")
def backtest_optimise(
    strategy: str = typer.Option(...),
    file: str | None = typer.Option(None, help=FILE_HELP),
    start: datetime | None = typer.Option(None),
    end: datetime | None = typer.Option(None),
    random_walk: int | None = typer.Option(None, help="use N random-walk bars instead of a file"),
    seed: int = typer.Option(12345),
    trials: int = typer.Option(30, help="trials per fold"),
    objective: list[str] = typer.Option(["return", "max_drawdown"], help="repeatable"),
    space: list[str] = typer.Option([], help="fast=5:50 or ma=sma,ema; repeatable"),
    fixed: list[str] = typer.Option([], help="name=value held constant; repeatable"),
    train_bars: int | None = typer.Option(None, help="walk-forward in-sample bars"),
    test_bars: int | None = typer.Option(None, help="walk-forward out-of-sample bars"),
    output: Path | None = typer.Option(None, help="write the full result as JSON here"),
) -> None:
    """Genetic (NSGA-II) multi-objective search with a progress bar; prints the front."""
    walk = None
    if train_bars is not None or test_bars is not None:
        walk = {"train_bars": train_bars, "test_bars": test_bars}
    request = _parse(
        OptimisationRequest,
        {
            "strategy": strategy,
            "data": _data(file, start, end, random_walk, seed),
            "objectives": objective,
            "n_trials": trials,
            "walk_forward": walk,
            "space": _space(space),
            "fixed": {k: _value(v) for k, v in _pairs(fixed, "--fixed").items()},
            "seed": seed,
        },
    )
    outcome = _with_progress(
        "optimise", lambda report: run_optimisation(request, report, study_name="cli")
    )
    if output is not None:
        output.write_text(json.dumps(outcome.result, indent=2))
    if outcome.status == "failed":
        fail(f"optimisation failed: {outcome.error}")
    console.print(_pareto_table(outcome.result))


def worker(
    threads: int = typer.Option(None, help="concurrent jobs (default AMARKTAI_JOB_WORKERS)"),
) -> None:
    """Run backtests and optimisations from the Redis job queue (AMARKTAI_REDIS_URL)."""
    from amarktai.jobs.queue import run_worker
    from amarktai.logging_setup import configure_logging

    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    console.print("worker consuming the job queue; Ctrl+C to stop")
    try:
        run_worker(settings, threads=threads or settings.job_workers)
    except ConfigError as exc:
        fail(str(exc), 2)
