"""The command line lists the same commands as before, and building it loads nothing heavy:
each command imports the engine, SQLAlchemy, Alembic or the PDF libraries when it runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from run import cli

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = {
    (): ["audit", "bpmn", "calendar", "db", "demo", "instances", "orgs", "scheduler", "serve"],
    ("audit",): ["verify"],
    ("bpmn",): ["deploy", "promote", "validate"],
    ("calendar",): ["add-year", "set", "show", "unset"],
    ("db",): ["upgrade"],
    ("instances",): ["list", "migrate", "resume", "retry", "suspend", "terminate"],
    ("orgs",): ["load"],
}
# What no --help needs: the service's own layers and the big libraries under them.
HEAVY = (
    "alembic",
    "apscheduler",
    "engine",
    "flask",
    "flask_migrate",
    "jsonschema",
    "pypdf",
    "reportlab",
    "fontTools",
    "sqlalchemy",
    "SpiffWorkflow",
    "storage",
)


def _listed(output: str) -> list[str]:
    lines = output.split("Commands:", 1)[1].splitlines() if "Commands:" in output else []
    return [line.split()[0] for line in lines if line.startswith("  ") and line.strip()]


@pytest.mark.parametrize("group", sorted(COMMANDS))
def test_help_lists_the_same_commands(group):
    result = CliRunner().invoke(cli, [*group, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: cli {' '.join(group)}".rstrip())
    assert _listed(result.output) == COMMANDS[group]


def test_every_command_has_its_help():
    runner = CliRunner()
    for group, names in COMMANDS.items():
        for name in names:
            result = runner.invoke(cli, [*group, name, "--help"])
            assert result.exit_code == 0, (group, name, result.output)
            assert "Usage:" in result.output and "--help" in result.output


def test_serve_help_keeps_its_options():
    result = CliRunner().invoke(cli, ["serve", "--help"])
    for option in ("--host", "--port", "--no-scheduler"):
        assert option in result.output


@pytest.mark.parametrize(
    "args", [["--help"], ["serve", "--help"], ["instances", "retry", "--help"], ["demo", "--help"]]
)
def test_help_imports_nothing_heavy(args):
    """A fresh interpreter answers --help without loading the engine or its libraries."""
    code = (
        "import sys\n"
        f"sys.argv = ['run.py', *{args!r}]\n"
        "import run\n"
        "try:\n"
        "    run.cli()\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        f"loaded = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
        "print('LOADED', loaded, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout
    assert "LOADED []" in done.stderr, done.stderr
