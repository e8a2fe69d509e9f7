"""The verdict table of docs/sigma.md, generated from conversions so the page cannot drift from the
converter (scripts/gen_sigma_docs.py writes it, tests/sigma/test_docs.py fails when it is stale).
Plain text functions over `SigmaConversion`s; no pySigma import."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Sequence

from trailguard.generated_docs import splice

from .conversion import VERDICTS, SigmaConversion

DOCS_BEGIN = "<!-- BEGIN GENERATED SIGMA VERDICTS (scripts/gen_sigma_docs.py) -->"
DOCS_END = "<!-- END GENERATED SIGMA VERDICTS -->"
TABLE_HEADERS = ("Rule", "Author", "Verdict", "Pattern, caveats or reason")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _detail(conversion: SigmaConversion) -> str:
    if conversion.verdict == "refused":
        return _cell(conversion.refusal or "")
    out = f"`{_cell(conversion.pattern or '')}`"
    if conversion.caveats:
        out += "<br>caveats: " + ", ".join(f"{c.kind} (`{_cell(c.field)}`)" for c in conversion.caveats)
    return out


def render_verdict_table(conversions: Sequence[SigmaConversion]) -> str:
    """A Markdown table, one row per rule in file-name order: title linked to the rule, author,
    verdict, then the pattern with its caveats or the refusal reason."""
    lines = ["| " + " | ".join(TABLE_HEADERS) + " |", "|" + "---|" * len(TABLE_HEADERS)]
    for c in sorted(conversions, key=lambda c: (Path(c.source or "").name, c.rule_id)):
        title = f"[{_cell(c.title)}]({c.link})" if c.link else _cell(c.title)
        lines.append(f"| {title} | {_cell(c.author)} | {c.verdict} | {_detail(c)} |")
    return "\n".join(lines) + "\n"


def render_docs_block(conversions: Sequence[SigmaConversion]) -> str:
    """Everything between the page's markers: the counts, then the table."""
    counts = Counter(c.verdict for c in conversions)
    summary = ", ".join(f"{counts[v]} {v}" for v in VERDICTS)
    return "\n".join(["", f"{len(conversions)} rules: {summary}.", "", render_verdict_table(conversions).rstrip(), ""])


def splice_docs(page: str, block: str) -> str:
    """`page` with the text between the generated-verdicts markers replaced by `block`."""
    return splice(page, block, DOCS_BEGIN, DOCS_END)
