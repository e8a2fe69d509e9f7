"""The report for a terminal: one table row per detection, then the summary lines."""

from __future__ import annotations

from typing import Any

from rich.table import Table

SHOWN_REJECTIONS = 20
"""Rejection lines printed; `--json` lists them all (up to 20 per file)."""


def format_table(report: dict[str, Any]) -> Table:
    table = Table(title="Back-test", title_justify="left", show_lines=False)
    table.add_column("detection", no_wrap=True)
    table.add_column("matches", justify="right", no_wrap=True)
    table.add_column("episodes", justify="right", no_wrap=True)
    table.add_column("first match", no_wrap=True)
    table.add_column("last match", no_wrap=True)
    for detection in report["detections"]:
        table.add_row(
            detection["id"] if detection["id"] != "pattern" else detection["pattern"],
            f"{detection['matches']:,}",
            str(len(detection["episodes"])),
            detection["first"] or "-",
            detection["last"] or "-",
        )
    return table


def format_summary(report: dict[str, Any]) -> str:
    summary = report["summary"]
    lines = [
        f"{summary['files']:,} file(s), {summary['bytes']:,} bytes; events read {summary['eventsRead']:,}, "
        f"evaluated {summary['eventsEvaluated']:,}, rejected {summary['eventsRejected']:,}; "
        f"{summary['seconds']:.2f} s"
        + (f" ({summary['eventsPerSecond']:,} events/s)" if summary["eventsPerSecond"] else ""),
    ]
    if summary["firstEvent"]:
        lines.append(f"events from {summary['firstEvent']} to {summary['lastEvent']}")
    for kind, count in summary["rejectedByReason"].items():
        lines.append(f"rejected, {kind}: {count:,}")
    rejections = summary["rejections"]
    for rejection in rejections[:SHOWN_REJECTIONS]:
        lines.append(f"  {rejection['source']}: {rejection['reason']}")
    if len(rejections) > SHOWN_REJECTIONS:
        lines.append(f"  ... and {len(rejections) - SHOWN_REJECTIONS:,} more (all of them with --json)")
    return "\n".join(lines)
