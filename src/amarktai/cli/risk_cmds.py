"""`amarktai risk var|montecarlo|stress` and `amarktai emergency-stop`.

The CLI reads the same ledger the server writes. It runs no market of its own, so holdings
are valued at the `sim` reference prices, and an emergency stop here cancels orders and
halts bots in the database (the serving engine drops them at its next resync); it cannot
flatten positions, which needs a live market.

After it commits, an emergency stop publishes its alert and the halted bots' statuses on
the bus. With Redis (`AMARKTAI_REDIS_URL`) that is the server's bus too: the dashboards get
them at once. Without Redis the CLI's bus is its own process's, so nothing reaches the
server that way; the serving engine's next resync (every 2 s) drops the halted bots it was
running and publishes their `halted` status itself (the alert is not replayed then).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from amarktai.cli.common import console, fail, run_with_runtime
from amarktai.db.engine import transaction
from amarktai.engine.models import Bot
from amarktai.kit.errors import NotFound
from amarktai.ledger.service import LedgerService
from amarktai.realtime.producers import publish_events
from amarktai.risk.emergency import emergency_stop
from amarktai.risk.montecarlo import DEFAULT_SIMULATIONS
from amarktai.risk.portfolio import (
    Portfolio,
    load_portfolio,
    portfolio_monte_carlo,
    portfolio_stress,
    portfolio_var,
    price_book,
)
from amarktai.risk.service import Level, RiskService
from amarktai.risk.stress import list_scenarios
from amarktai.runtime import Runtime

risk_app = typer.Typer(help="Portfolio risk: VaR, Monte Carlo, stress tests.", no_args_is_help=True)
T = TypeVar("T")
PROGRESS_FROM = 20_000
"""Runs with at least this many simulations show a progress bar (smaller ones are instant)."""
EMAIL = typer.Option(..., "--user", help="the user's e-mail address")
BOT = typer.Option(None, "--bot", help="one bot's portfolio instead of the user's")


def _with_portfolio(email: str, bot_id: str | None, work: Callable[[Portfolio], T]) -> T:
    async def run(rt: Runtime) -> T:
        async with rt.sessions() as s:
            user = await rt.accounts(s).repo.user_by_email(email)
            if user is None:
                fail(f"no user {email}")
                raise AssertionError  # unreachable: fail exits
            portfolio = await load_portfolio(
                LedgerService(s, rt.clock), user.id, price_book(None), bot_id
            )
        return work(portfolio)

    return run_with_runtime(run)


@risk_app.command("var")
def var(
    email: str = EMAIL,
    bot: str | None = BOT,
    confidence: float = typer.Option(0.95, help="in (0, 1)"),
    horizon_days: int = typer.Option(1, "--horizon-days", help="days (>= 1)"),
    method: str = typer.Option(
        "historical", help="historical, parametric, cornish_fisher, monte_carlo"
    ),
    seed: int | None = typer.Option(None, help="seed for monte_carlo"),
) -> None:
    """Value at Risk and CVaR of a user's (or a bot's) portfolio, in plain words."""

    def work(p: Portfolio) -> Any:
        return portfolio_var(
            p, method=method, confidence=confidence, horizon_days=horizon_days, seed=seed
        )

    result, _ = _with_portfolio(email, bot, work)
    console.print(result.sentence)
    console.print(
        f"VaR {result.var_amount:,.2f} ({result.var_percent:.2f}%), CVaR {result.cvar_amount:,.2f} "
        f"({result.cvar_percent:.2f}%), band [bold]{result.band}[/bold], "
        f"method {result.method_used}"
    )
    if result.note:
        console.print(result.note)


@risk_app.command("montecarlo")
def montecarlo(
    email: str = EMAIL,
    bot: str | None = BOT,
    days: int = typer.Option(30, help="horizon in days"),
    simulations: int = typer.Option(DEFAULT_SIMULATIONS, help="paths (at most 100,000)"),
    method: str = typer.Option("gbm", help="gbm, bootstrap, block_bootstrap, stationary_bootstrap"),
    seed: int | None = typer.Option(None, help="same seed, same answer"),
) -> None:
    """Simulate the portfolio's value; large runs show a progress bar."""

    def work(portfolio: Portfolio) -> Any:
        if not portfolio.risky:
            fail("the portfolio holds nothing at risk")
        if simulations < PROGRESS_FROM:
            return portfolio_monte_carlo(
                portfolio, days=days, simulations=simulations, method=method, seed=seed
            )
        columns = (
            TextColumn("simulating"),
            BarColumn(),
            TextColumn("{task.completed:,}/{task.total:,}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console) as bar:
            task = bar.add_task("mc", total=simulations)
            return portfolio_monte_carlo(
                portfolio, days=days, simulations=simulations, method=method, seed=seed,
                progress=lambda done, _total: bar.update(task, completed=done),
            )  # fmt: skip

    r = _with_portfolio(email, bot, work)
    console.print(
        f"capital {r.capital:,.2f} → median {r.median_final:,.2f} (p5 {r.p5_final:,.2f}, "
        f"p95 {r.p95_final:,.2f}) after {r.horizon_days} days; P(profit) {r.prob_profit:.1%}, "
        f"P(loss) {r.prob_loss:.1%}, "
        f"P(loss > {r.loss_threshold_pct:g}%) {r.prob_loss_exceeding:.1%}"
    )


@risk_app.command("stress")
def stress(
    email: str = EMAIL,
    bot: str | None = BOT,
    scenario: str | None = typer.Option(None, help="a named scenario (default: all of them)"),
    shock: list[str] = typer.Option([], help="custom shock ASSET=PCT, e.g. BTC=-30 (repeatable)"),
) -> None:
    """Named historical shocks, or custom ones, on today's portfolio: PnL per holding."""
    shocks = _parse_shocks(shock)
    names: list[Any] = (
        [shocks] if shocks else [scenario] if scenario else [s.name for s in list_scenarios()]
    )
    results = _with_portfolio(email, bot, lambda p: [portfolio_stress(p, n) for n in names])
    for result in results:
        table = Table(
            title=f"{result.scenario}: {result.total_pnl:,.2f} ({result.total_pnl_percent:.2f}%)"
        )
        for column in ("asset", "value", "shock %", "pnl", "source"):
            table.add_column(column)
        for h in result.holdings:
            table.add_row(
                h.asset, f"{h.value:,.2f}", f"{h.shock_pct:.2f}", f"{h.pnl:,.2f}", h.source
            )
        console.print(table)


def _parse_shocks(raw: list[str]) -> dict[str, float]:
    shocks: dict[str, float] = {}
    for item in raw:
        asset, _, pct = item.partition("=")
        try:
            shocks[asset.strip()] = float(pct)
        except ValueError:
            fail(f"shock {item!r} must look like BTC=-30")
    return shocks


def emergency_stop_cmd(
    email: str | None = typer.Option(None, "--user", help="stop this user's bots"),
    platform: bool = typer.Option(False, "--platform", help="stop every user's bots"),
) -> None:
    """Cancel every open order and halt every bot of a user (or of the whole platform)."""
    if (email is None) == (not platform):
        fail("give exactly one of --user EMAIL and --platform")

    async def work(rt: Runtime) -> dict[str, Any]:
        async with transaction(rt.sessions) as s:
            level = Level.platform()
            if email is not None:
                user = await rt.accounts(s).repo.user_by_email(email)
                if user is None:
                    fail(f"no user {email}")
                    raise AssertionError  # unreachable: fail exits
                level = Level.of_user(user.id)
            report = await emergency_stop(
                RiskService(s, rt.clock), level, engine=None, registry=rt.instruments,
                flatten=False, by="cli",
            )  # fmt: skip
        await publish_events(rt.bus, report.events)  # committed: tell the dashboards
        return report.to_dict()

    report = run_with_runtime(work)
    console.print(
        f"emergency stop ({report['scope']}): {len(report['bots_halted'])} bots halted, "
        f"{len(report['orders_cancelled'])} orders cancelled in {report['elapsed_ms']:.0f} ms"
    )


@risk_app.command("reset")
def reset_cmd(
    email: str | None = typer.Option(None, "--user", help="reset this user's breakers"),
    bot_id: str | None = typer.Option(None, "--bot", help="reset one bot's breakers"),
    platform: bool = typer.Option(False, "--platform", help="reset the platform's breakers"),
) -> None:
    """Lift the tripped breakers (and an emergency stop) at one level; halted bots there
    become paused, ready to start again. The same as POST /api/v1/risk/breakers/reset."""
    if sum((email is not None, bot_id is not None, platform)) != 1:
        fail("give exactly one of --user EMAIL, --bot ID and --platform")

    async def work(rt: Runtime) -> tuple[int, list[str]]:
        async with transaction(rt.sessions) as s:
            risk = RiskService(s, rt.clock)
            level = Level.platform()
            if email is not None:
                user = await rt.accounts(s).repo.user_by_email(email.strip().lower())
                if user is None:
                    raise NotFound(f"no user {email}", code="user_not_found")
                level = Level.of_user(user.id)
            elif bot_id is not None:
                bot = await s.get(Bot, bot_id)
                if bot is None:
                    raise NotFound(f"no bot {bot_id}", code="bot_not_found")
                level = Level("bot", bot.id, bot.user_id)
            out = await risk.reset(level, by="cli")
        await publish_events(rt.bus, out.alerts)  # committed: tell the dashboards
        return len(out.events), out.released

    resolved, released = run_with_runtime(work)
    console.print(
        f"{resolved} breaker trip(s) reset; {len(released)} bot(s) paused and ready to start"
        + (f": {', '.join(released)}" if released else "")
    )
