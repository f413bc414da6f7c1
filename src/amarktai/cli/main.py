"""Entry point: `amarktai serve`, `worker`, `emergency-stop`, `db`, `users`, `audit`,
`keys`, `ledger`, `bots`, `backtest`, `risk`.

Each command's module is imported when that command runs, not at start-up: `serve`
pulls in the whole engine, API and risk stack (pandas, scipy, optuna), which an
operator's `amarktai db upgrade` or `users create` has no use for and would wait
seconds for. `amarktai --help` still lists every command (it loads them all).
"""

from __future__ import annotations

import importlib

import typer
import typer._click as click  # the click Typer builds its commands with (vendored)
from typer.core import TyperGroup

# name -> (module, attribute): a Typer app (a command group) or a command function.
# Listed in the order `--help` shows them.
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("amarktai.cli.serve", "serve"),
    "worker": ("amarktai.cli.backtest_cmds", "worker"),
    "emergency-stop": ("amarktai.cli.risk_cmds", "emergency_stop_cmd"),
    "db": ("amarktai.cli.admin_cmds", "db_app"),
    "users": ("amarktai.cli.admin_cmds", "users_app"),
    "audit": ("amarktai.cli.admin_cmds", "audit_app"),
    "keys": ("amarktai.cli.admin_cmds", "keys_app"),
    "ledger": ("amarktai.cli.ledger_cmds", "ledger_app"),
    "bots": ("amarktai.cli.bots_cmds", "bots_app"),
    "backtest": ("amarktai.cli.backtest_cmds", "backtest_app"),
    "risk": ("amarktai.cli.risk_cmds", "risk_app"),
}


def load_command(name: str) -> click.Command:
    module, attribute = COMMANDS[name]
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
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
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
