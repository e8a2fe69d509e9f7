"""One error helper and exit-status convention for every command, and module names that no test
runner mistakes for tests."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import trailguard.cli
from tests.components.program_runs import PROJECT
from trailguard.cli import COMMANDS, main
from trailguard.cli.errors import EXIT_ERROR, EXIT_FAIL, CommandError, exit_with, print_error


@click.command()
@click.argument("how")
def _demo(how: str) -> None:
    click.echo("partial output")
    if how == "usage":
        raise CommandError("--since 2025-03-05 is after --until 2025-03-04", EXIT_ERROR)
    if how == "fail":
        raise CommandError("s3://: no bucket name")
    print_error("a.json: not JSON")
    exit_with(EXIT_FAIL)


@pytest.mark.parametrize(("how", "code", "stderr"), [
    ("usage", 2, "error: --since 2025-03-05 is after --until 2025-03-04\n"),
    ("fail", 1, "error: s3://: no bucket name\n"),
    ("reported", 1, "error: a.json: not JSON\n"),
])
def test_errors_go_to_stderr_with_the_exit_status(how, code, stderr):
    result = CliRunner().invoke(_demo, [how])
    assert (result.exit_code, result.stdout, result.stderr) == (code, "partial output\n", stderr)


def test_every_command_module_is_named_unlike_a_test_file():
    cli_dir = Path(trailguard.cli.__file__).parent
    names = [path.name for path in cli_dir.glob("*.py")]
    assert "match_cmd.py" in names
    assert [name for name in names if re.fullmatch(r"test_.*\.py|.*_test\.py", name)] == []
    for command, module in COMMANDS.items():
        assert importlib.import_module(f"trailguard.cli.{module}").command.name == command


@pytest.mark.parametrize(("args", "code", "message"), [
    (["test", "{ $.eventName = }"], 2, "error: invalid pattern: "),
    (["catalog", "root-usag"], 2, "error: "),
    (["backtest", "s3://"], 1, "error: s3://: no bucket name"),
    (["check", "--stack", "staging", "--project-dir", str(PROJECT)], 1, "error: "),
])
def test_each_command_reports_errors_the_same_way(args, code, message):
    result = CliRunner().invoke(main, args, input="")
    assert result.exit_code == code
    assert result.stderr.startswith(message) and result.stdout == ""
