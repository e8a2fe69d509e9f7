#!/usr/bin/env python3
"""Regenerate the verdict table of docs/sigma.md from the SigmaHQ rules in tests/data/sigma/sigmahq.

    python scripts/gen_sigma_docs.py           # rewrite the generated section in place
    python scripts/gen_sigma_docs.py --check   # exit 1 if the committed page is stale

Only the text between the generated-verdicts markers changes; the prose around it is edited by hand.
Needs the `sigma` extra (pySigma).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trailguard.sigma.convert import convert_paths
from trailguard.sigma.doctable import render_docs_block, splice_docs

ROOT = Path(__file__).resolve().parent.parent
DOCS_PAGE = ROOT / "docs" / "sigma.md"
RULES = ROOT / "tests" / "data" / "sigma" / "sigmahq"


def generated_block(rules: Path = RULES) -> str:
    """The table for the rules under `rules`, their sources shown relative to the project root."""
    conversions = convert_paths([rules])
    return render_docs_block(conversions)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report a stale page instead of rewriting it")
    parser.add_argument("--page", type=Path, default=DOCS_PAGE, help=f"the page to update (default: {DOCS_PAGE})")
    args = parser.parse_args(argv)
    current = args.page.read_text(encoding="utf-8")
    updated = splice_docs(current, generated_block())
    if args.check:
        if updated != current:
            print(f"{args.page} is stale: run python scripts/gen_sigma_docs.py", file=sys.stderr)
            return 1
        return 0
    if updated != current:
        args.page.write_text(updated, encoding="utf-8")
        print(f"updated {args.page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
