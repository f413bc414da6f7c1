"""Entry point: `amarktai serve`, `worker`, `emergency-stop`, `db`, `users`, `audit`,
`keys`, `ledger`, `bots`, `backtest`, `risk`, `data`.

Each command's module is imported when that command runs, not at start-up: `serve`
pulls in the whole engine, API and risk stack (pandas, scipy, optuna), which an
operator's `amarktai db upgrade` or `users create` has no use for and would wait
seconds for. `amarktai --help` lists every command from the one-line summaries below
without importing any of them (a test holds each summary to its command's own help).
"""

from __future__ import annotations

import importlib

import typer
import typer._click as click  # the click Typer builds its commands with (vendored)
from typer.core import TyperCommand, TyperGroup

# name -> (module, attribute, summary): a Typer app (a command group) or a command
# function, and the first line of its help. Listed in the order `--help` shows them.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "serve": (
        "amarktai.cli.serve",
        "serve",
        "Run API, WebSocket and engine; migrations run on start.",
    ),
    "worker": (
        "amarktai.cli.backtest_cmds",
        "worker",
        "Run backtests and optimisations from the Redis job queue (AMARKTAI_REDIS_URL).",
    ),
    "emergency-stop": (
        "amarktai.cli.risk_cmds",
        "emergency_stop_cmd",
        "Cancel every open order and halt every bot of a user (or of the whole platform).",
    ),
    "db": ("amarktai.cli.admin_cmds", "db_app", "Database schema."),
    "users": ("amarktai.cli.admin_cmds", "users_app", "User accounts."),
    "audit": ("amarktai.cli.admin_cmds", "audit_app", "Security audit log."),
    "keys": (
        "amarktai.cli.admin_cmds",
        "keys_app",
        "Encryption keys for stored secrets; the export signing key.",
    ),
    "ledger": (
        "amarktai.cli.ledger_cmds",
        "ledger_app",
        "Double-entry ledger: verify, replay, export.",
    ),
    "bots": ("amarktai.cli.bots_cmds", "bots_app", "Trading bots."),
    "backtest": (
        "amarktai.cli.backtest_cmds",
        "backtest_app",
        "Backtests and genetic optimisation.",
    ),
    "risk": (
        "amarktai.cli.risk_cmds",
        "risk_app",
        "Portfolio risk: VaR, Monte Carlo, stress tests.",
    ),
    "data": (
        "amarktai.cli.data_cmds",
        "data_app",
        "Market-data store: download, import and list candles.",
    ),
}


def load_command(name: str) -> click.Command:
    module, attribute, _ = COMMANDS[name]
    target = getattr(importlib.import_module(module), attribute)
    if isinstance(target, typer.Typer):
        command: click.Command = typer.main.get_group(target)
    else:
        single = typer.Typer()
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


class LazyGroup(TyperGroup):
    _listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The top-level help needs one line per command, not the commands themselves
        (loading them all imported pandas and scipy and took seconds)."""
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            if self._listing:  # a stand-in that carries the summary, never run
                summary = COMMANDS[cmd_name][2]
                return TyperCommand(cmd_name, help=summary, short_help=summary)
            self.commands[cmd_name] = load_command(cmd_name)
        return super().get_command(ctx, cmd_name)


app = typer.Typer(
    name="amarktai",
    help="Amarktai Network: self-hosted crypto trading-bot platform.",
    no_args_is_help=True,
    add_completion=False,
    cls=LazyGroup,
)


@app.callback()
def main() -> None:
    """Amarktai Network: self-hosted crypto trading-bot platform."""


if __name__ == "__main__":
    app()
