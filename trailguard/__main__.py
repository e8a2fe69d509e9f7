"""`python -m trailguard` and the `trailguard` console script.

The command needs the `cli` extra (click, rich); without it, say which extra to install instead
of failing with a traceback. This module imports nothing outside the standard library first.
"""

from __future__ import annotations

import sys

from trailguard.extras import extra_for, missing_extra_message


def run() -> None:
    """Start the click command, or exit 1 naming the extra whose package is missing."""
    try:
        from trailguard.cli import main
    except ModuleNotFoundError as error:
        extra = extra_for(error.name)
        if extra is None:
            raise
        sys.exit(f"error: {missing_extra_message(error.name, extra, 'the trailguard command')}")
    main()


if __name__ == "__main__":
    run()
