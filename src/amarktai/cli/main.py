"""Entry point: `amarktai serve`, `db`, `users`, `audit`, `keys`, `ledger`, `bots`,
`backtest`, `worker`,
`risk`, `emergency-stop`."""

from __future__ import annotations

import typer

from amarktai.cli import admin_cmds, backtest_cmds, bots_cmds, ledger_cmds, risk_cmds, serve

app = typer.Typer(
    name="amarktai",
    help="Amarktai Network: self-hosted crypto trading-bot platform.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("serve")(serve.serve)
app.add_typer(admin_cmds.db_app, name="db")
app.add_typer(admin_cmds.users_app, name="users")
app.add_typer(admin_cmds.audit_app, name="audit")
app.add_typer(admin_cmds.keys_app, name="keys")
app.add_typer(ledger_cmds.ledger_app, name="ledger")
app.add_typer(bots_cmds.bots_app, name="bots")
app.add_typer(backtest_cmds.backtest_app, name="backtest")
app.command("worker")(backtest_cmds.worker)
app.add_typer(risk_cmds.risk_app, name="risk")
app.command("emergency-stop")(risk_cmds.emergency_stop_cmd)


if __name__ == "__main__":
    app()
