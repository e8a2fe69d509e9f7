"""The terminal report and the progress line fit the terminal: at 80 columns no count or timestamp
is cut (no digit lost, no '…' in them) and no line is wider than the terminal."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from trailguard.alarms import AlarmSettings
from trailguard.backtest.report import BacktestReport, DetectionReport, RunSummary
from trailguard.backtest.terminal import ProgressLine, format_summary, format_table
from trailguard.catalog import load_catalog

LONG_TIME = "2025-03-04T09:02:30.123Z"


def detection(id_: str, matches: int, episodes: int, first: str | None, last: str | None) -> DetectionReport:
    return DetectionReport(
        id=id_, title=id_, severity="high", custom=False, pattern="{ $.eventName = X }", alarm=AlarmSettings(),
        matches=matches, untimed_matches=0, first=first, last=last, episodes=(None,) * episodes, samples=(),
        hourly=())


def big_report() -> BacktestReport:
    """Every catalogue id (the longest is 27 characters), counts in the millions, long timestamps."""
    ids = list(load_catalog().detections)
    detections = [detection(id_, 1_234_567 * (n + 1), 1000 + n, LONG_TIME, f"2025-12-31T23:59:{n:02d}Z")
                  for n, id_ in enumerate(ids)]
    detections.append(detection("quiet-custom-detection", 0, 0, None, None))
    summary = RunSummary(
        files=123_456, bytes=12_345_678_901_234, events_read=9_876_543_210, events_evaluated=9_876_543_000,
        events_rejected=210, rejected_by_reason=(("not JSON", 210),), rejections=(), skipped=(), first_event=LONG_TIME,
        last_event="2025-12-31T23:59:59Z", seconds=12345.678, events_per_second=800_040, workers=2)
    return BacktestReport(tuple(detections), summary)


def rendered(renderable, width: int) -> list[str]:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(renderable, markup=False) if isinstance(renderable, str) else console.print(renderable)
    return console.export_text().splitlines()


@pytest.mark.parametrize("width", [80, 60, 100, 200])
def test_table_fits_the_width_and_cuts_no_count_or_timestamp(width: int) -> None:
    report = big_report()
    lines = rendered(format_table(report, width), width)
    text = "\n".join(lines)
    assert max(len(line) for line in lines) <= width
    for found in report.detections:
        assert re.search(rf"\b{found.matches:,}\b", text), (width, found.matches)
        assert re.search(rf"\b{len(found.episodes)}\b", text)
    assert not re.search(r"[\d,.:TZ-]…|…[\d,.:TZ-]", text), text  # nothing numeric ellipsised


@pytest.mark.parametrize("width", [80, 100])
def test_table_at_80_and_up_shows_every_timestamp_whole(width: int) -> None:
    report = big_report()
    text = "\n".join(rendered(format_table(report, width), width))
    for found in report.detections:
        if found.first:
            assert found.first in text and found.last in text


def test_table_at_80_keeps_catalogue_ids_whole_with_cloudtrail_times() -> None:
    """CloudTrail writes eventTime to the second (20 characters): then every catalogue id fits too."""
    report = big_report()
    plain = [detection(d.id, d.matches, len(d.episodes), d.first and "2025-03-04T09:02:30Z", d.last)
             for d in report.detections]
    text = "\n".join(rendered(format_table(BacktestReport(tuple(plain), report.summary), 80), 80))
    for found in plain:
        assert found.id in text


def test_table_wide_enough_keeps_one_line_per_detection() -> None:
    report = big_report()
    lines = rendered(format_table(report, 200), 200)
    row = next(line for line in lines if "root-usage" in line)
    assert LONG_TIME in row and "2025-12-31T23:59:00Z" in row and "1,234,567" in row


def test_table_says_what_it_left_out_when_narrow() -> None:
    text = "\n".join(rendered(format_table(big_report(), 50), 50))
    assert "--json" in text  # the hint where the timestamps went


@pytest.mark.parametrize("width", [80, 60])
def test_summary_fits_the_width_and_keeps_its_numbers_whole(width: int) -> None:
    lines = rendered(format_summary(big_report()), width)
    text = "\n".join(lines)
    assert max(len(line) for line in lines) <= width
    for number in ("123,456", "12,345,678,901,234", "9,876,543,210", "9,876,543,000", "800,040"):
        assert number in text


@pytest.mark.parametrize("width", [80, 60, 100, 200])
def test_progress_line_is_one_line_within_the_width(width: int) -> None:
    console = Console(width=width, record=True, file=io.StringIO())
    line = ProgressLine(console, units=123_456, total_bytes=12_345_678_901_234)
    line.advance(12_345, 1_234_567_890_123, 1_234_567_890)
    console.print(line.renderable())
    lines = console.export_text().splitlines()
    assert len(lines) == 1, lines
    assert len(lines[0]) <= width
    assert "…" not in lines[0]
    assert "12345/123456 files" in lines[0] and "1,234,567,890 events" in lines[0]
