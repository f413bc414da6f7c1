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


HELP_PROBE = """
import sys
from typer.testing import CliRunner
from amarktai.cli.main import app
result = CliRunner().invoke(app, ["--help"])
assert result.exit_code == 0, result.output
heavy = sorted(m for m in ("pandas", "scipy", "numpy", "optuna", "sqlalchemy", "fastapi")
               if m in sys.modules)
print(",".join(heavy) or "none")
"""


def test_top_level_help_imports_no_command() -> None:
    """`amarktai --help` once imported pandas and scipy (2.4-6 CPU-seconds) to list."""
    out = subprocess.run(
        [sys.executable, "-c", HELP_PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "none", out.stdout + out.stderr


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_listed_summary_is_the_commands_own_first_help_line(name: str) -> None:
    command = load_command(name)
    assert command.help is not None
    assert COMMANDS[name][2] == command.help.strip().splitlines()[0].strip()


def test_the_listing_shows_each_summary() -> None:
    lazy = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"}).output
    assert all(f"{name} " in lazy and summary in lazy for name, (*_, summary) in COMMANDS.items())
