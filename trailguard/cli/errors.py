"""One exit-status convention and one way to report an error, for every command.

Exit statuses follow sqlfluff's: EXIT_SUCCESS when the command did its work (whatever it found),
EXIT_FAIL for a failure the command reports (unreadable input, a bad stack or policy config, a
mandatory violation, rejected input under --strict), EXIT_ERROR for a usage error or an invalid
pattern (click's own usage errors exit 2 as well). Errors go to stderr as `error: <message>`.
"""

from __future__ import annotations

from typing import IO, Any, NoReturn

import click

EXIT_SUCCESS = 0
EXIT_FAIL = 1
EXIT_ERROR = 2


def print_error(message: str) -> None:
    """Report a problem on stderr without stopping (the command goes on with the rest)."""
    click.echo(f"error: {message}", err=True)


class CommandError(click.ClickException):
    """Stops a command: click prints `error: <message>` on stderr and exits with `exit_code`."""

    def __init__(self, message: str, exit_code: int = EXIT_FAIL) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file: IO[Any] | None = None) -> None:
        print_error(self.format_message())


def exit_with(code: int) -> NoReturn:
    """End the command with `code`, everything already reported (e.g. EXIT_FAIL after the errors
    of unreadable inputs were printed along the way)."""
    raise click.exceptions.Exit(code)
