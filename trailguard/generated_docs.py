"""Pages with a generated section (docs/catalog.md, docs/sigma.md, docs/policies.md): the section
between two markers is rewritten by a script, the prose around it is edited by hand, and the
script's `--check` (run by the tests) reports a stale page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable


def splice(page: str, block: str, begin: str, end: str) -> str:
    """`page` with the text between the markers `begin` and `end` replaced by `block`."""
    start, stop = page.find(begin), page.find(end)
    if start < 0 or stop < start:
        raise ValueError(f"the page lacks the markers {begin!r} ... {end!r}")
    return page[: start + len(begin)] + "\n" + block + "\n" + page[stop:]


def update_page(argv: list[str] | None, *, description: str, default_page: Path, script: str,
                updated: Callable[[str], str]) -> int:
    """The command line of a generating script: rewrite the page (`updated` maps the current text
    to the new one), or with `--check` exit 1 when it is stale."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="report a stale page instead of rewriting it")
    parser.add_argument("--page", type=Path, default=default_page, help=f"the page to update (default: {default_page})")
    args = parser.parse_args(argv)
    current = args.page.read_text(encoding="utf-8")
    new = updated(current)
    if args.check:
        if new != current:
            print(f"{args.page} is stale: run python {script}", file=sys.stderr)
            return 1
        return 0
    if new != current:
        args.page.write_text(new, encoding="utf-8")
        print(f"updated {args.page}")
    return 0
