"""The report for a terminal: one table row per detection, then the summary lines."""

from __future__ import annotations

from rich.table import Table

from trailguard.timefmt import format_seconds

from .report import BacktestReport

SHOWN_REJECTIONS = 20
"""Rejection lines printed; `--json` lists them all (up to 20 per file)."""


def format_table(report: BacktestReport) -> Table:
    table = Table(title="Back-test", title_justify="left", show_lines=False)
    table.add_column("detection", no_wrap=True)
    table.add_column("matches", justify="right", no_wrap=True)
    table.add_column("episodes", justify="right", no_wrap=True)
    table.add_column("first match", no_wrap=True)
    table.add_column("last match", no_wrap=True)
    for detection in report.detections:
        table.add_row(
            detection.label,
            f"{detection.matches:,}",
            str(len(detection.episodes)),
            detection.first or "-",
            detection.last or "-",
        )
    return table


def format_summary(report: BacktestReport) -> str:
    summary = report.summary
    lines = [
        f"{summary.files:,} file(s), {summary.bytes:,} bytes; events read {summary.events_read:,}, "
        f"evaluated {summary.events_evaluated:,}, rejected {summary.events_rejected:,}; "
        f"{format_seconds(summary.seconds)} s"
        + (f" ({summary.events_per_second:,} events/s)" if summary.events_per_second else ""),
    ]
    if summary.first_event:
        lines.append(f"events from {summary.first_event} to {summary.last_event}")
    for kind, count in summary.rejected_by_reason:
        lines.append(f"rejected, {kind}: {count:,}")
    rejections = summary.rejections
    for rejection in rejections[:SHOWN_REJECTIONS]:
        lines.append(f"  {rejection.source}: {rejection.reason}")
    if len(rejections) > SHOWN_REJECTIONS:
        lines.append(f"  ... and {len(rejections) - SHOWN_REJECTIONS:,} more (all of them with --json)")
    for skip in summary.skipped[:SHOWN_REJECTIONS]:  # inputs without events on purpose: said, not errors
        lines.append(f"skipped: {skip.source}: {skip.reason}")
    if len(summary.skipped) > SHOWN_REJECTIONS:
        lines.append(f"  ... and {len(summary.skipped) - SHOWN_REJECTIONS:,} more skipped (all of them with --json)")
    return "\n".join(lines)
