"""A self-contained HTML report: CSS and SVG inline, no scripts, fonts or images to fetch, so it
opens the same from an e-mail attachment, an air-gapped laptop or a CI artefact.

Per detection: the counts, a timeline (matches per hour as bars, ALARM episodes as shaded bands)
and the sample events of each episode.
"""

from __future__ import annotations

from html import escape
from trailguard.timefmt import format_seconds, format_utc, format_utc_hour, to_epoch_seconds

from .report import BacktestReport, DetectionReport, RunSummary, SampleEvent

CHART_WIDTH = 900
CHART_HEIGHT = 120
_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#1b1f24;max-width:1000px}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;font-size:12px}
th{background:#f4f4f4}.num{text-align:right}code{background:#f4f4f4;padding:1px 3px;word-break:break-all}
.bar{fill:#3b6ea5}.episode{fill:#d9534f;fill-opacity:.25}.axis{stroke:#999;stroke-width:1}
.label{font-size:10px;fill:#555}.muted{color:#666}
"""


def render_html(report: BacktestReport) -> str:
    summary = report.summary
    span = (to_epoch_seconds(summary.first_event), to_epoch_seconds(summary.last_event))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        "<title>trailguard back-test</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<h1>trailguard back-test</h1>",
        _summary(summary),
        _overview(report.detections),
    ]
    for detection in report.detections:
        parts.append(_detection(detection, span))
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _summary(summary: RunSummary) -> str:
    rows = [
        ("files", f"{summary.files:,}"),
        ("events read", f"{summary.events_read:,}"),
        ("evaluated", f"{summary.events_evaluated:,}"),
        ("rejected", f"{summary.events_rejected:,}"),
        ("first event", summary.first_event or "-"),
        ("last event", summary.last_event or "-"),
        ("seconds", format_seconds(summary.seconds)),
    ]
    rows += [(f"rejected: {kind}", f"{count:,}") for kind, count in summary.rejected_by_reason]
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _overview(detections: tuple[DetectionReport, ...]) -> str:
    head = "<tr><th>detection</th><th>matches</th><th>episodes</th><th>first match</th><th>last match</th></tr>"
    rows = "".join(
        f'<tr><td><a href="#{_anchor(d)}">{escape(d.id)}</a></td><td class="num">{d.matches:,}</td>'
        f'<td class="num">{len(d.episodes)}</td><td>{escape(d.first or "-")}</td><td>{escape(d.last or "-")}</td></tr>'
        for d in detections
    )
    return f"<table>{head}{rows}</table>"


def _anchor(detection: DetectionReport) -> str:
    return "d-" + "".join(c if c.isalnum() or c == "-" else "_" for c in detection.id)


def _detection(detection: DetectionReport, span: tuple[int | None, int | None]) -> str:
    alarm = detection.alarm
    settings = (
        f"{alarm.statistic} over {alarm.period} s, {alarm.datapoints_to_alarm} of {alarm.evaluation_periods} "
        f"period(s) {alarm.comparison} {alarm.threshold:g}, missing data: {alarm.treat_missing_data}"
    )
    parts = [
        f'<h2 id="{_anchor(detection)}">{escape(detection.id)}: {escape(detection.title)}</h2>',
        f"<p><code>{escape(detection.pattern)}</code></p>",
        f'<p class="muted">alarm: {escape(settings)}</p>',
        f"<p>{detection.matches:,} matching event(s), {len(detection.episodes)} ALARM episode(s)"
        + (f", {detection.untimed_matches:,} without a usable eventTime" if detection.untimed_matches else "")
        + "</p>",
        _timeline(detection, span),
    ]
    for number, episode in enumerate(detection.episodes, 1):
        state = "still in ALARM at the end of the data" if episode.open else f"until {format_utc(episode.end)}"
        parts.append(
            f"<h3>episode {number}: {escape(format_utc(episode.start))}, {escape(state)}; "
            f"{episode.matches:,} matching event(s)</h3>"
        )
        parts.append(_samples(episode.samples))
    if not detection.episodes and detection.samples:
        parts.append("<h3>sample matches</h3>")
        parts.append(_samples(detection.samples))
    return "\n".join(parts)


def _timeline(detection: DetectionReport, span: tuple[int | None, int | None]) -> str:
    start, end = span
    hourly = detection.hourly
    if start is None or end is None:
        if not hourly:
            return '<p class="muted">no timed events</p>'
        start, end = hourly[0][0], hourly[-1][0] + 3600
    start -= start % 3600
    end = max(end, start + 3600)
    scale = CHART_WIDTH / (end - start)
    top = max((count for _, count in hourly), default=0) or 1
    bars_height = CHART_HEIGHT - 20
    shapes = [f'<line class="axis" x1="0" y1="{bars_height}" x2="{CHART_WIDTH}" y2="{bars_height}"/>']
    for episode in detection.episodes:
        x0 = (episode.start - start) * scale
        x1 = (episode.end - start) * scale
        shapes.append(
            f'<rect class="episode" x="{x0:.1f}" y="0" width="{max(x1 - x0, 2):.1f}" height="{bars_height}">'
            f"<title>ALARM {escape(format_utc(episode.start))} to {escape(format_utc(episode.end))}</title></rect>"
        )
    width = max(3600 * scale - 1, 1.5)
    for hour, count in hourly:
        height = max(count / top * (bars_height - 4), 1)
        shapes.append(
            f'<rect class="bar" x="{(hour - start) * scale:.1f}" y="{bars_height - height:.1f}" width="{width:.1f}" '
            f'height="{height:.1f}"><title>{escape(format_utc_hour(hour))}: {count} match(es)</title></rect>'
        )
    shapes.append(f'<text class="label" x="0" y="{CHART_HEIGHT - 5}">{escape(format_utc_hour(start))}</text>')
    shapes.append(
        f'<text class="label" x="{CHART_WIDTH}" y="{CHART_HEIGHT - 5}" text-anchor="end">{escape(format_utc_hour(end))}</text>'
    )
    shapes.append(f'<text class="label" x="4" y="12">max {top}/hour</text>')
    return (
        f'<svg role="img" width="{CHART_WIDTH}" height="{CHART_HEIGHT}" '
        f'viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}"><title>matches per hour and ALARM episodes</title>'
        + "".join(shapes)
        + "</svg>"
    )


_SAMPLE_COLUMNS = (
    ("time", "time"), ("event", "event"), ("service", "service"), ("who", "who"), ("account", "account"),
    ("region", "region"), ("source_ip", "source IP"), ("error_code", "error"), ("file", "file"),
)
"""(SampleEvent attribute, column title)"""


def _samples(samples: tuple[SampleEvent, ...]) -> str:
    if not samples:
        return '<p class="muted">no samples</p>'
    head = "".join(f"<th>{escape(title)}</th>" for _, title in _SAMPLE_COLUMNS)
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(_text(getattr(sample, name)))}</td>" for name, _ in _SAMPLE_COLUMNS) + "</tr>"
        for sample in samples
    )
    return f"<table><tr>{head}</tr>{rows}</table>"


def _text(value: object) -> str:
    """A sample field as a cell: empty when the event did not have it."""
    return "" if value is None else str(value)
