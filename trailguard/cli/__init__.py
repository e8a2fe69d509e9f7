"""The `trailguard` command: a thin click shell over the library.

Exit statuses follow sqlfluff's convention (`errors.py`, shared by every command): 0 success, 1 a
failure the command reports (unreadable input, a mandatory violation, bad stack config), 2 a usage
error or invalid pattern. Each sub-command lives in its own module, named `<what>_cmd.py` (never
`test_*.py`, which test runners collect), and is imported only when it runs, so `trailguard test`
never pays for importing Pulumi. This package needs the `cli` extra; the console script
(`trailguard.__main__:run`) says so when click is missing, and a sub-command whose extra is not
installed (`pulumi` for check, `backtest` for S3 sources) fails with the extra to install.
"""

from __future__ import annotations

import importlib

import click

from trailguard import __version__
from trailguard.cli.errors import EXIT_ERROR, EXIT_FAIL, EXIT_SUCCESS
from trailguard.extras import extra_for, missing_extra_message

__all__ = ["COMMANDS", "EXIT_ERROR", "EXIT_FAIL", "EXIT_SUCCESS", "main"]

# command name -> module under trailguard.cli defining `command` (a click.Command)
COMMANDS: dict[str, str] = {
    "test": "match_cmd",
    "lint": "lint_cmd",
    "catalog": "catalog_cmd",
    "check": "check_cmd",
    "backtest": "backtest_cmd",
    "eventbridge": "eventbridge_cmd",
    "sigma": "sigma_cmd",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        return importlib.import_module(f"trailguard.cli.{module}").command

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ModuleNotFoundError as error:
            extra = extra_for(error.name)
            if extra is None:
                raise
            needed_by = f"trailguard {ctx.invoked_subcommand}" if ctx.invoked_subcommand else "trailguard"
            raise click.ClickException(missing_extra_message(error.name, extra, needed_by)) from error


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="trailguard")
def main() -> None:
    """CloudTrail security alarms as code: test filter patterns, browse the detection
    catalogue, check a stack offline, back-test alarms over CloudTrail archives and compile
    patterns to EventBridge or Sigma rules to filter patterns."""
