#!/usr/bin/env python3
"""Regenerate the verdict table of docs/sigma.md from the SigmaHQ rules in tests/data/sigma/sigmahq.

    python scripts/gen_sigma_docs.py           # rewrite the generated section in place
    python scripts/gen_sigma_docs.py --check   # exit 1 if the committed page is stale

Only the text between the generated-verdicts markers changes; the prose around it is edited by hand.
Needs the `sigma` extra (pySigma).
"""

from __future__ import annotations

import sys
from pathlib import Path

from trailguard.sigma.convert import convert_paths
from trailguard.sigma.doctable import render_docs_block, splice_docs
from trailguard.generated_docs import update_page

ROOT = Path(__file__).resolve().parent.parent
DOCS_PAGE = ROOT / "docs" / "sigma.md"
RULES = ROOT / "tests" / "data" / "sigma" / "sigmahq"


def generated_block(rules: Path = RULES) -> str:
    """The table for the rules under `rules`, their sources shown relative to the project root."""
    conversions = convert_paths([rules])
    return render_docs_block(conversions)


def main(argv: list[str] | None = None) -> int:
    return update_page(argv, description=__doc__.splitlines()[0], default_page=DOCS_PAGE,
                       script="scripts/gen_sigma_docs.py", updated=lambda page: splice_docs(page, generated_block()))


if __name__ == "__main__":
    sys.exit(main())
