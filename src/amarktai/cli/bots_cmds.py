"""`amarktai bots ...`: what is running, for an operator at the console."""

from __future__ import annotations

import typer
from rich.table import Table

from amarktai.cli.common import console, run_with_runtime
from amarktai.engine.lifecycle import STATUSES
from amarktai.engine.models import Bot
from amarktai.engine.repository import TradingRepository
from amarktai.runtime import Runtime

bots_app = typer.Typer(help="Trading bots.", no_args_is_help=True)


@bots_app.command("list")
def bots_list(
    status: str | None = typer.Option(None, help="only bots in this status"),
) -> None:
    """Every bot of every user (operator view), oldest first."""

    async def work(rt: Runtime) -> list[Bot]:
        async with rt.sessions() as session:
            return await TradingRepository(session).bots_in([status] if status else STATUSES)

    bots = sorted(run_with_runtime(work), key=lambda b: b.created_at)
    table = Table(title=f"{len(bots)} bots")
    # Ids whole on one line, however narrow the terminal: they are pasted into --bot and
    # --user (an 80-column console once cut them). The other columns wrap instead.
    for column in ("id", "user"):
        table.add_column(column, no_wrap=True, min_width=26)
    for column in ("name", "strategy", "symbol", "tf", "mode", "status"):
        table.add_column(column, overflow="fold")
    for b in bots:
        table.add_row(
            b.id, b.user_id, b.name, b.strategy, b.symbol, f"{b.timeframe_s}s", b.mode, b.status
        )
    console.print(table)
