"""The catalogue as text: the summary table (plain, Markdown), JSON records and one detection in full.

Pure functions returning strings or JSON-ready dicts, shared by `trailguard catalog` and
`scripts/gen_catalog_docs.py`, so the docs page and the command always show the same table.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any, Sequence

from trailguard.generated_docs import splice

from .loader import Catalog
from .model import PROFILES, Detection, Reference

TABLE_HEADERS = ("ID", "Title", "Severity", "CIS", "Security Hub", "Metric")
DOCS_BEGIN = "<!-- BEGIN GENERATED CATALOG (scripts/gen_catalog_docs.py) -->"
DOCS_END = "<!-- END GENERATED CATALOG -->"
NONE = "-"


def format_cis(references: Sequence[Reference]) -> str:
    """CIS references grouped by control: `3.3 (1.2.0), 4.3 (1.4.0-5.0.0), 5.3 (6.0.0)`."""
    cis = [r for r in references if r.framework == "CIS"]
    parts = []
    for control, group in groupby(cis, key=lambda r: r.control):
        versions = [r.version for r in group]
        span = versions[0] if len(versions) == 1 else f"{versions[0]}-{versions[-1]}"
        parts.append(f"{control} ({span})")
    return ", ".join(parts) or NONE


def format_securityhub(references: Sequence[Reference]) -> str:
    """Security Hub control ids, e.g. `CloudWatch.1`."""
    return ", ".join(r.control for r in references if r.framework == "SecurityHub") or NONE


def table_rows(catalog: Catalog) -> list[tuple[str, ...]]:
    """One row per detection, columns as `TABLE_HEADERS`."""
    return [(d.id, d.title, d.severity.value, format_cis(d.references), format_securityhub(d.references), d.metric)
            for d in catalog.detections.values()]


def render_plain_table(catalog: Catalog) -> str:
    """The summary table as aligned plain text (pipes, logs, no TTY)."""
    rows = [TABLE_HEADERS, *table_rows(catalog)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(TABLE_HEADERS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines) + "\n"


def render_markdown_table(catalog: Catalog) -> str:
    """The summary table in Markdown, ids linking to their section of the docs page."""
    lines = ["| " + " | ".join(TABLE_HEADERS) + " |", "|" + "---|" * len(TABLE_HEADERS)]
    for row in table_rows(catalog):
        cells = [f"[`{row[0]}`](#{row[0]})", *(_md(cell) for cell in row[1:])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def render_docs_block(catalog: Catalog) -> str:
    """Everything between the docs page's markers: presets, the table, then each detection's patterns."""
    out = ["", "### Presets", ""]
    for name, ids in catalog.presets.items():
        out.append(f"- `{name}` ({len(ids)}): " + ", ".join(f"`{i}`" for i in ids))
    out += ["", "### Detections", "", render_markdown_table(catalog).rstrip(), ""]
    for d in catalog.detections.values():
        out += [f"#### {d.id}", "", f"**{_md(d.title)}** ({d.severity.value}, metric `{d.metric}`; "
                f"CIS {format_cis(d.references)}; Security Hub {format_securityhub(d.references)}). "
                f"{' '.join(d.why.split())}", ""]
        for profile in PROFILES:
            own = d.pattern_profile(profile)
            if own != profile:
                out += [f"`{profile}`: same as `{own}`.", ""]
                continue
            out += [f"`{profile}`:", "", "```", d.patterns[profile], "```", ""]
        positives = sum(s.positive for s in d.samples)
        out += [f"Proved by {positives} positive and {len(d.samples) - positives} negative sample events; "
                f"notes and runbook: `trailguard catalog {d.id}`.", ""]
    return "\n".join(out)


def splice_docs(page: str, block: str) -> str:
    """`page` with the text between the generated-catalogue markers replaced by `block`."""
    return splice(page, block, DOCS_BEGIN, DOCS_END)


def detection_record(catalog: Catalog, detection: Detection, *, full: bool = False) -> dict[str, Any]:
    """A JSON-ready record: the summary fields, or with `full` also prose and every sample."""
    record: dict[str, Any] = {
        "id": detection.id, "title": detection.title, "severity": detection.severity.value,
        "metric": detection.metric,
        "references": [{"framework": r.framework, "control": r.control, "version": r.version}
                       for r in detection.references],
        "patterns": dict(detection.patterns),
        "presets": list(catalog.presets_of(detection.id)),
    }
    if full:
        record.update(why=detection.why, runbook=detection.runbook, notes=detection.notes, samples=[
            {"name": s.name, "positive": s.positive, "profiles": list(s.profiles), "note": s.note, "event": s.event}
            for s in detection.samples])
    return record


def render_detection(catalog: Catalog, detection: Detection) -> str:
    """One detection in full, for a terminal: facts, why, runbook, patterns, notes and samples."""
    d = detection
    lines = [f"{d.id}: {d.title}",
             f"severity: {d.severity.value}   metric: {d.metric}   presets: {', '.join(catalog.presets_of(d.id))}",
             f"CIS: {format_cis(d.references)}   Security Hub: {format_securityhub(d.references)}",
             "", "Why:", *_indent(d.why), "", "Runbook:", *_indent(d.runbook), "", "Patterns:"]
    for profile in PROFILES:
        own = d.pattern_profile(profile)
        lines.append(f"  {profile}:" + (f" same as {own}" if own != profile else ""))
        if own == profile:
            lines.append(f"    {d.patterns[profile]}")
    if d.notes:
        lines += ["", "Notes:", *_indent(d.notes)]
    positives = sum(s.positive for s in d.samples)
    lines += ["", f"Samples ({positives} must match, {len(d.samples) - positives} must not):"]
    for s in d.samples:
        scope = "" if set(s.profiles) >= set(d.patterns) else f" [{', '.join(s.profiles)} only]"
        note = f": {s.note}" if s.note else ""
        lines.append(f"  {'+' if s.positive else '-'} {s.name}{scope}{note}")
    return "\n".join(lines) + "\n"


def _indent(text: str) -> list[str]:
    return [f"  {line}" if line else "" for line in text.splitlines()]


def _md(text: str) -> str:
    return text.replace("|", "\\|")
