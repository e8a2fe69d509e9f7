#!/usr/bin/env python3
"""Regenerate the catalogue section of docs/catalog.md from the detection data.

    python scripts/gen_catalog_docs.py           # rewrite the generated section in place
    python scripts/gen_catalog_docs.py --check   # exit 1 if the committed page is stale

Only the text between the generated-catalogue markers changes; the prose around it is edited by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

from trailguard.catalog import load_catalog
from trailguard.catalog.render import render_docs_block, splice_docs
from trailguard.generated_docs import update_page

DOCS_PAGE = Path(__file__).resolve().parent.parent / "docs" / "catalog.md"


def main(argv: list[str] | None = None) -> int:
    return update_page(argv, description=__doc__.splitlines()[0], default_page=DOCS_PAGE,
                       script="scripts/gen_catalog_docs.py", updated=lambda page: splice_docs(page, render_docs_block(load_catalog())))


if __name__ == "__main__":
    sys.exit(main())
