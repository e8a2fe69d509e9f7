#!/usr/bin/env python3
"""Regenerate the catalogue section of docs/catalog.md from the detection data.

    python scripts/gen_catalog_docs.py           # rewrite the generated section in place
    python scripts/gen_catalog_docs.py --check   # exit 1 if the committed page is stale

Only the text between the generated-catalogue markers changes; the prose around it is edited by hand.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trailguard.catalog import load_catalog
from trailguard.catalog.render import render_docs_block, splice_docs

DOCS_PAGE = Path(__file__).resolve().parent.parent / "docs" / "catalog.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report a stale page instead of rewriting it")
    parser.add_argument("--page", type=Path, default=DOCS_PAGE, help=f"the page to update (default: {DOCS_PAGE})")
    args = parser.parse_args(argv)
    current = args.page.read_text(encoding="utf-8")
    updated = splice_docs(current, render_docs_block(load_catalog()))
    if args.check:
        if updated != current:
            print(f"{args.page} is stale: run python scripts/gen_catalog_docs.py", file=sys.stderr)
            return 1
        return 0
    if updated != current:
        args.page.write_text(updated, encoding="utf-8")
        print(f"updated {args.page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
