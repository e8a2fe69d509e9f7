"""The rich console the commands print their reports on, set up the same for every command."""

from __future__ import annotations

from rich.console import Console

PIPE_WIDTH = 200
"""Columns assumed when stdout is a pipe or a file, so ids, names and times are never folded."""


def stdout_console() -> Console:
    """A console on stdout: the terminal's width (colour unless NO_COLOR, which rich honours), or
    at least PIPE_WIDTH columns and no colour when writing to a pipe or a file."""
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = max(console.width, PIPE_WIDTH)
    return console
