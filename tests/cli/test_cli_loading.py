"""The CLI loads only the command it runs (see `amarktai.cli.main`)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from amarktai.cli.main import COMMANDS, app, load_command

PROBE = """
import sys
from typer.testing import CliRunner
from amarktai.cli.main import app
result = CliRunner().invoke(app, ["db", "--help"])
assert result.exit_code == 0, result.output
heavy = sorted(m for m in ("pandas", "scipy", "optuna", "amarktai.engine.runner",
                           "amarktai.api.app", "amarktai.jobs.work") if m in sys.modules)
print(",".join(heavy) or "none")
"""


def test_an_admin_command_does_not_import_the_engine_or_the_analytics_stack() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "none", out.stdout + out.stderr


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_listed_command_loads_under_its_name(name: str) -> None:
    command = load_command(name)
    assert command.name == name and command.help


def test_help_lists_every_command_and_an_unknown_one_is_refused() -> None:
    listing = CliRunner().invoke(app, ["--help"])
    assert listing.exit_code == 0
    assert all(name in listing.output for name in COMMANDS)
    unknown = CliRunner().invoke(app, ["no-such-command"])
    assert unknown.exit_code == 2 and "No such command" in unknown.output
