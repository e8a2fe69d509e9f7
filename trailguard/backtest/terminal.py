"""The report for a terminal: one table row per detection, the summary lines, and the progress line,
each fitted to the terminal's width.

Counts and timestamps are never cut: when the terminal is too narrow for every column, the table
first stacks the first and last match in one column, then leaves the timestamps out (and says so);
only detection labels may end in '…'. The progress line drops its least useful columns instead of
wrapping.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from rich import box
from rich.progress import BarColumn, DownloadColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn, \
    TransferSpeedColumn
from rich.table import Column, Table

from trailguard.timefmt import format_seconds

from .report import BacktestReport

if TYPE_CHECKING:
    from rich.console import Console

SHOWN_REJECTIONS = 20
"""Rejection lines printed; `--json` lists them all (up to 20 per file)."""

MIN_LABEL = 12
"""Narrowest detection column: below it the timestamps make way first."""

_BOX = box.HEAVY_HEAD


def _table_width(widths: Iterable[int]) -> int:
    """Columns a rich table with `_BOX`, edges and one space of padding each side takes."""
    widths = list(widths)
    return sum(widths) + 3 * len(widths) + 1


def format_table(report: BacktestReport, width: int | None = None) -> Table:
    """The detections table for a terminal `width` columns wide (None: as wide as it needs)."""
    rows = report.detections
    labels = [d.label for d in rows]
    matches = [f"{d.matches:,}" for d in rows]
    episodes = [str(len(d.episodes)) for d in rows]
    firsts = [d.first or "-" for d in rows]
    lasts = [d.last or "-" for d in rows]
    label_w = max(len("detection"), *map(len, labels))
    matches_w = max(len("matches"), *map(len, matches))
    episodes_w = max(len("episodes"), *map(len, episodes))
    time_w = max(len("first match"), *map(len, firsts), *map(len, lasts))
    counts = [matches_w, episodes_w]

    if width is None or _table_width([label_w, *counts, time_w, time_w]) <= width:
        layout, times = "apart", [time_w, time_w]
    elif _table_width([min(label_w, MIN_LABEL), *counts, time_w]) <= width:
        layout, times = "stacked", [max(time_w, len("first / last"))]
    else:
        layout, times = "none", []
    if width is not None:
        label_w = max(min(label_w, width - _table_width([0, *counts, *times])), len("detection"))

    table = Table(title="Back-test", title_justify="left", box=_BOX, show_lines=layout == "stacked",
                  caption=None if layout != "none" else "first and last match left out at this width: "
                  "widen the terminal, or use --json or --html", caption_justify="left")
    table.add_column("detection", width=label_w, no_wrap=True, overflow="ellipsis")
    table.add_column("matches", width=matches_w, justify="right", no_wrap=True)
    table.add_column("episodes", width=episodes_w, justify="right", no_wrap=True)
    if layout == "apart":
        table.add_column("first match", width=time_w, no_wrap=True)
        table.add_column("last match", width=time_w, no_wrap=True)
    elif layout == "stacked":
        table.add_column("first / last", width=times[0], no_wrap=True)
    for n, detection in enumerate(rows):
        cells = [labels[n], matches[n], episodes[n]]
        if layout == "apart":
            cells += [firsts[n], lasts[n]]
        elif layout == "stacked":
            cells.append(firsts[n] if detection.first is None else f"{firsts[n]}\n{lasts[n]}")
        table.add_row(*cells)
    return table


def format_summary(report: BacktestReport) -> str:
    """The lines under the table, one fact per line so each fits 80 columns unwrapped."""
    summary = report.summary
    lines = [
        f"{summary.files:,} file(s), {summary.bytes:,} bytes in {format_seconds(summary.seconds)} s"
        + (f" ({summary.events_per_second:,} events/s)" if summary.events_per_second else ""),
        f"events read {summary.events_read:,}, evaluated {summary.events_evaluated:,}, "
        f"rejected {summary.events_rejected:,}",
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
    lines.extend(f"note: {note}" for note in summary.notes)
    return "\n".join(lines)


# --------------------------------------------------------------------------- progress line

MIN_BAR = 10
"""Narrowest bar worth drawing; below it the bar goes too."""

# Widths the progress columns may reach (they are chosen once, before the values are known).
_BYTES_W = len("999.9/999.9 GB")
_SPEED_W = len("999.9 MB/s")
_EVENTS_W = len("9,999,999,999 events")
_RATE_W = len(" (99,999,999/s)")
_ETA_W = len("-:--:--")


def progress_columns(width: int, units: int) -> tuple[ProgressColumn, ...]:
    """The widest set of progress columns whose line fits `width`: files, bar, bytes, bytes/s,
    events, events/s and time left; bytes/s goes first, then bytes, then events/s, then the bar."""
    files_w = len(f"{units}/{units} files")
    files = TextColumn("{task.fields[files]} files", table_column=Column(no_wrap=True))
    bar = BarColumn(bar_width=None, table_column=Column(min_width=MIN_BAR))
    size = DownloadColumn(table_column=Column(no_wrap=True))
    speed = TransferSpeedColumn(table_column=Column(no_wrap=True))
    events_rate = TextColumn("{task.fields[events]:,} events ({task.fields[rate]:,.0f}/s)",
                             table_column=Column(no_wrap=True))
    events = TextColumn("{task.fields[events]:,} events", table_column=Column(no_wrap=True))
    eta = TimeRemainingColumn(table_column=Column(no_wrap=True))
    choices = [
        ((files, bar, size, speed, events_rate, eta), [files_w, MIN_BAR, _BYTES_W, _SPEED_W, _EVENTS_W + _RATE_W, _ETA_W]),
        ((files, bar, size, events_rate, eta), [files_w, MIN_BAR, _BYTES_W, _EVENTS_W + _RATE_W, _ETA_W]),
        ((files, bar, events_rate, eta), [files_w, MIN_BAR, _EVENTS_W + _RATE_W, _ETA_W]),
        ((files, bar, events, eta), [files_w, MIN_BAR, _EVENTS_W, _ETA_W]),
    ]
    for columns, widths in choices:
        if sum(widths) + len(widths) - 1 <= width:
            return columns
    return files, events


class ProgressLine:
    """The back-test's transient progress line (on stderr in the CLI), fitted to `console`'s width.

    `advance` takes what the runner reports (files, bytes and events since the last call)."""

    def __init__(self, console: "Console", units: int, total_bytes: int) -> None:
        self.units = units
        self.files = 0
        self.events = 0
        self.bar = Progress(*progress_columns(console.width, units), console=console, transient=True)
        self.task = self.bar.add_task("backtest", total=total_bytes or None, files=f"0/{units}", events=0, rate=0.0)

    def start(self) -> None:
        self.bar.start()

    def stop(self) -> None:
        self.bar.stop()

    def advance(self, files: int, size: int, events: int) -> None:
        self.files += files
        self.events += events
        elapsed = self.bar.tasks[0].elapsed or 0
        self.bar.update(self.task, advance=size, files=f"{self.files}/{self.units}", events=self.events,
                        rate=self.events / elapsed if elapsed else 0.0)

    def renderable(self):
        """What the line shows now (tests print it on a recording console)."""
        return self.bar.get_renderable()
