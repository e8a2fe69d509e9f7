"""A self-contained HTML report: CSS and SVG inline, no scripts, fonts or images to fetch, so it
opens the same from an e-mail attachment, an air-gapped laptop or a CI artefact.

The page: a header saying what was replayed (stack, profile, time window, sources, rejected
files), one overview timeline with a lane per detection (its matches and its ALARM episodes on a
shared time axis), then per detection the counts, a timeline and the sample events of each
episode.

Bars count matches per alarm period, the unit the alarm evaluates, so a burst shows as the
alarm saw it. Only when the span holds more periods than the chart has room for do bars group a
whole number of periods (and the chart says so). ALARM episodes are drawn twice: a solid strip
under the bars, which bars cannot cover, and a translucent band over them. Text never sits on a
bar without a colour chosen for it: counts inside a bar are white on the dark bar, every other
label is dark with a white halo.

Every string from the events or the stack (ids, titles, patterns, sample fields, file names) goes
through `escape`: event fields are written by whoever called the API.
"""

from __future__ import annotations

from collections import defaultdict
from html import escape

from trailguard.timefmt import format_seconds, format_utc, to_epoch_seconds

from .report import AlarmEpisode, BacktestReport, DetectionReport, Rejection, RunContext, RunSummary, SampleEvent

CHART_WIDTH = 900
"""Width of a detection's own timeline, in CSS pixels."""
CHART_PLOT_HEIGHT = 100
MIN_BAR_WIDTH = 2
"""Bars narrower than this group whole alarm periods instead (see `bin_width`)."""

OVERVIEW_LABEL_WIDTH = 230
OVERVIEW_PLOT_WIDTH = 690
OVERVIEW_LANE_HEIGHT = 30
LABEL_CHARACTERS = 30
"""A lane label longer than this ends in '…' (the full id is in its tooltip and the section below)."""

DETAIL_PADDING_PERIODS = 3
DETAIL_MIN_PERIODS = 36
"""A detection's own timeline: alarm periods of margin around its activity, and its least width."""

SHOWN_REJECTED_FILES = 20
"""Rejected files listed in the header; the rest are counted."""

NICE_BIN_SECONDS = (120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800)
"""Bin widths tried, in order, when one bar per alarm period would be too narrow."""

BAR_COLOUR = "#1f4e79"
BAR_LABEL_COLOUR = "#ffffff"
TEXT_COLOUR = "#1b1f24"
ALARM_COLOUR = "#b3261e"
PAGE_COLOUR = "#ffffff"

_CSS = f"""
body{{font:14px/1.4 system-ui,sans-serif;margin:2em;color:{TEXT_COLOUR};background:{PAGE_COLOUR};max-width:1000px}}
h1{{font-size:1.4em;margin:0 0 .3em}}h2{{font-size:1.1em;margin-top:2em;border-bottom:1px solid #ddd}}h3{{font-size:1em}}
header{{border:1px solid #ddd;border-radius:4px;padding:.6em 1em;background:#f7f8fa}}
header dl{{display:grid;grid-template-columns:max-content 1fr;gap:.15em 1em;margin:0}}
header dt{{font-weight:600}}header dd{{margin:0}}header ul{{margin:0;padding-left:1.2em}}
table{{border-collapse:collapse;margin:.5em 0}}td,th{{border:1px solid #ddd;padding:2px 6px;text-align:left;font-size:12px}}
.samples td{{white-space:nowrap}}.samples td.wrap{{white-space:normal;overflow-wrap:anywhere}}
th{{background:#f4f4f4}}.num{{text-align:right}}code{{background:#f4f4f4;padding:1px 3px;word-break:break-all}}
svg{{display:block;max-width:100%;height:auto}}
svg text{{font:11px system-ui,sans-serif}}
.bar{{fill:{BAR_COLOUR}}}
.episode{{fill:{ALARM_COLOUR};fill-opacity:.14}}
.episode-strip{{fill:{ALARM_COLOUR}}}
.axis{{stroke:#8a8f96;stroke-width:1}}.grid{{stroke:#e3e5e8;stroke-width:1}}
.lane-bg{{fill:#f7f8fa}}
.label{{fill:{TEXT_COLOUR};paint-order:stroke;stroke:{PAGE_COLOUR};stroke-width:3px;stroke-linejoin:round}}
.count-in{{fill:{BAR_LABEL_COLOUR};font-weight:600}}
.count-out{{fill:{TEXT_COLOUR};paint-order:stroke;stroke:{PAGE_COLOUR};stroke-width:3px;stroke-linejoin:round}}
.lane-label{{fill:{TEXT_COLOUR}}}.lane-label.quiet{{fill:#5f656d}}.lane-count{{fill:#4a5058}}
.legend{{font-size:12px;color:#4a5058}}.key{{display:inline-block;width:.9em;height:.9em;vertical-align:-.1em;margin:0 .3em 0 1em}}
.key-bar{{background:{BAR_COLOUR}}}.key-alarm{{background:{ALARM_COLOUR}}}
.muted{{color:#4a5058}}.warn{{color:{ALARM_COLOUR}}}
"""


def render_html(report: BacktestReport) -> str:
    summary = report.summary
    span = _span(report)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>trailguard back-test</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        _header(report.context, summary, len(report.detections)),
        "<h2>Overview</h2>",
        _legend(),
        _overview_timeline(report.detections, span),
        _overview_table(report.detections),
        _summary(summary),
    ]
    for detection in report.detections:
        parts.append(_detection(detection, span))
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


# --- header ----------------------------------------------------------------------------------


def _header(context: RunContext, summary: RunSummary, detections: int) -> str:
    window = "all data read" if not (context.since or context.until) else (
        f"UTC days {context.since or 'the first'} to {context.until or 'the last'} (inclusive)"
    )
    events = (f"events from {summary.first_event} to {summary.last_event}" if summary.first_event
              else "no event with a usable eventTime")
    rows = [
        ("stack", escape(context.stack) if context.stack else '<span class="muted">none</span>'),
        ("profile", escape(", ".join(context.profiles)) if context.profiles else '<span class="muted">none (ad-hoc pattern)</span>'),
        ("detections", f"{detections} replayed" + (f" (<code>{escape(context.selection)}</code>)" if context.selection else "")),
        ("time window", f"{escape(window)}; {escape(events)}"),
        ("sources", _list(context.sources) if context.sources else '<span class="muted">not recorded</span>'),
        ("rejected files", _rejected_files(summary.rejections)),
    ]
    body = "".join(f"<dt>{escape(name)}</dt><dd>{value}</dd>" for name, value in rows)
    return f'<header><h1>trailguard back-test</h1><dl class="run">{body}</dl></header>'


def _list(items: tuple[str, ...] | list[str]) -> str:
    return "<ul>" + "".join(f"<li><code>{escape(item)}</code></li>" for item in items) + "</ul>"


def _rejected_files(rejections: tuple[Rejection, ...]) -> str:
    """One line per file with rejected records: the file, the records and the first reason."""
    if not rejections:
        return "none"
    by_file: dict[str, list[Rejection]] = defaultdict(list)
    for rejection in rejections:
        by_file[rejection.source].append(rejection)
    lines = []
    for source, found in list(by_file.items())[:SHOWN_REJECTED_FILES]:
        records = sum(r.count for r in found)
        more = f" (and {len(found) - 1} more reason(s))" if len(found) > 1 else ""
        lines.append(f"<li><code>{escape(source)}</code>: {records:,} record(s), {escape(found[0].reason)}{more}</li>")
    rest = len(by_file) - SHOWN_REJECTED_FILES
    tail = f"<li>and {rest:,} more file(s); <code>--json</code> lists them</li>" if rest > 0 else ""
    return f'<span class="warn">{len(by_file):,} file(s)</span><ul>{"".join(lines)}{tail}</ul>'


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
    rows += [("note", note) for note in summary.notes]
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f'<table class="summary">{body}</table>'


def _legend() -> str:
    return ('<p class="legend"><span class="key key-bar"></span>matches per alarm period'
            '<span class="key key-alarm"></span>ALARM episode (strip under the bars, shading over them)</p>')


def _overview_table(detections: tuple[DetectionReport, ...]) -> str:
    head = "<tr><th>detection</th><th>matches</th><th>episodes</th><th>first match</th><th>last match</th></tr>"
    rows = "".join(
        f'<tr><td><a href="#{_anchor(d)}">{escape(d.label)}</a></td><td class="num">{d.matches:,}</td>'
        f'<td class="num">{len(d.episodes)}</td><td>{escape(d.first or "-")}</td><td>{escape(d.last or "-")}</td></tr>'
        for d in detections
    )
    return f"<table>{head}{rows}</table>"


def _anchor(detection: DetectionReport) -> str:
    return "d-" + "".join(c if c.isalnum() or c == "-" else "_" for c in detection.id)


# --- time axis and bins ----------------------------------------------------------------------


def _span(report: BacktestReport) -> tuple[int, int] | None:
    """The time every timeline covers: the events read, widened to every bar and episode."""
    starts, ends = [], []
    for detection in report.detections:
        period = detection.alarm.period
        starts += [start for start, _ in detection.periods[:1]] + [e.start for e in detection.episodes[:1]]
        ends += [start + period for start, _ in detection.periods[-1:]] + [e.end for e in detection.episodes]
    for edge, into in ((report.summary.first_event, starts), (report.summary.last_event, ends)):
        seconds = to_epoch_seconds(edge)
        if seconds is not None:
            into.append(seconds)
    if not starts or not ends:
        return None
    return min(starts), max(max(ends), min(starts) + 60)


def bin_width(period: int, span_seconds: int, plot_width: int) -> int:
    """Seconds per bar: the alarm period, or, when a bar per period would be narrower than
    MIN_BAR_WIDTH pixels, a whole number of periods: the fewest that fit, rounded up to one of
    NICE_BIN_SECONDS when one is at most twice that."""
    most = max(plot_width // MIN_BAR_WIDTH, 1)
    if span_seconds <= period * most:
        return period
    fewest = period * -(-span_seconds // (period * most))
    nice = [width for width in NICE_BIN_SECONDS if width % period == 0 and fewest <= width <= 2 * fewest]
    return nice[0] if nice else fewest


def binned(periods: tuple[tuple[int, int], ...], width: int) -> list[tuple[int, int]]:
    """(bin start, matches) from (period start, matches), bins `width` seconds aligned to the epoch."""
    totals: dict[int, int] = {}
    for start, count in periods:
        key = start - start % width
        totals[key] = totals.get(key, 0) + count
    return sorted(totals.items())


def duration(seconds: int) -> str:
    """'5 min', '1 h', '1 h 30 min', '2 d': how a period or bin is named on the page."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min" if minutes else "",
             f"{secs} s" if secs else ""]
    return " ".join(part for part in parts if part) or "0 s"


def _bins_caption(period: int, width: int) -> str:
    if width == period:
        return f"one bar per alarm period ({duration(period)})"
    return (f"one bar per {duration(width)} ({width // period} alarm periods of {duration(period)}: "
            "too many periods in this span for a bar each)")


TICK_SECONDS = (60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 1209600, 2592000)
"""Steps tried for the time axis's ticks, smallest first."""


class _Axis:
    """Maps epoch seconds onto [x0, x0 + width] pixels over [start, end)."""

    def __init__(self, start: int, end: int, x0: float, width: float) -> None:
        self.start, self.end, self.x0, self.width = start, end, x0, width
        self.scale = width / max(end - start, 1)

    def x(self, seconds: int) -> float:
        return self.x0 + (min(max(seconds, self.start), self.end) - self.start) * self.scale

    def ticks(self, label_pixels: int = 90) -> list[tuple[int, str]]:
        """Round times (a whole step from TICK_SECONDS) at least `label_pixels` apart, labelled
        as briefly as the span allows: HH:MM within one UTC day, else MM-DD HH:MM or the day."""
        most = max(int(self.width // label_pixels), 2)
        span = self.end - self.start
        step = next((s for s in TICK_SECONDS if span / s <= most), TICK_SECONDS[-1] * -(-span // (TICK_SECONDS[-1] * most)))
        first = self.start + (-self.start) % step
        one_day = self.start // 86400 == (self.end - 1) // 86400
        ticks = []
        for seconds in range(first, self.end + 1, step):
            text = format_utc(seconds)  # YYYY-MM-DDTHH:MM:SSZ
            if one_day:
                label = text[11:16]
            elif step % 86400 == 0:
                label = text[:10]
            else:
                label = f"{text[5:10]} {text[11:16]}"
            ticks.append((seconds, label))
        return ticks

    def caption(self) -> str:
        return f"UTC, {format_utc(self.start)} to {format_utc(self.end)}"

    def draw(self, top: float, bottom: float, label_y: float) -> list[str]:
        """Grid lines and tick labels."""
        shapes = []
        for seconds, label in self.ticks():
            x = self.x(seconds)
            anchor = "start" if x - self.x0 < 30 else "end" if self.x0 + self.width - x < 30 else "middle"
            shapes.append(f'<line class="grid" x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}"/>')
            shapes.append(f'<text class="label tick" x="{x:.1f}" y="{label_y:.1f}" text-anchor="{anchor}">'
                          f"<title>{escape(format_utc(seconds))}</title>{escape(label)}</text>")
        return shapes


def _bars(detection: DetectionReport, axis: _Axis, top: float, height: float, width: int,
          counts: bool) -> tuple[list[str], int]:
    """SVG rects (and count labels when `counts` and there is room) for the detection's bins."""
    bins = binned(detection.periods, width)
    peak = max((count for _, count in bins), default=0) or 1
    bottom = top + height
    shapes = []
    for start, count in bins:
        x0, x1 = axis.x(start), axis.x(start + width)
        bar_w = max(x1 - x0 - (1 if x1 - x0 > 3 else 0), 1)
        bar_h = max(count / peak * height, 1.5)
        when = f"{format_utc(start)} to {format_utc(start + width)}"
        shapes.append(
            f'<rect class="bar" x="{x0:.1f}" y="{bottom - bar_h:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}" '
            f'data-start="{format_utc(start)}" data-seconds="{width}" data-count="{count}">'
            f"<title>{escape(when)}: {count:,} match(es)</title></rect>"
        )
        text = f"{count:,}"
        if counts and bar_w >= 7 * len(text) + 4:
            middle = x0 + bar_w / 2
            if bar_h >= 16:
                shapes.append(f'<text class="count-in" x="{middle:.1f}" y="{bottom - bar_h + 12:.1f}" '
                              f'text-anchor="middle">{text}</text>')
            else:
                shapes.append(f'<text class="count-out" x="{middle:.1f}" y="{bottom - bar_h - 3:.1f}" '
                              f'text-anchor="middle">{text}</text>')
    return shapes, peak


def _episodes(episodes: tuple[AlarmEpisode, ...], axis: _Axis, top: float, height: float,
              strip_y: float, strip_h: float) -> list[str]:
    """Each ALARM episode as a translucent band over the plot and a solid strip under it."""
    shapes = []
    for number, episode in enumerate(episodes, 1):
        x0, x1 = axis.x(episode.start), axis.x(episode.end)
        w = max(x1 - x0, 2)
        state = "still in ALARM at the end of the data" if episode.open else f"to {format_utc(episode.end)}"
        tip = f"<title>ALARM {escape(format_utc(episode.start))} {escape(state)}: {episode.matches:,} match(es)</title>"
        shapes.append(f'<rect class="episode" x="{x0:.1f}" y="{top:.1f}" width="{w:.1f}" height="{height:.1f}" '
                      f'data-episode="{number}">{tip}</rect>')
        shapes.append(f'<rect class="episode-strip" x="{x0:.1f}" y="{strip_y:.1f}" width="{w:.1f}" '
                      f'height="{strip_h:.1f}" data-episode="{number}">{tip}</rect>')
    return shapes


# --- the overview timeline -------------------------------------------------------------------


def _overview_timeline(detections: tuple[DetectionReport, ...], span: tuple[int, int] | None) -> str:
    if span is None or not detections:
        return '<p class="muted">no timed events: nothing to place on a timeline</p>'
    axis_h, lane_h = 20, OVERVIEW_LANE_HEIGHT
    plot_x = OVERVIEW_LABEL_WIDTH
    total_w = OVERVIEW_LABEL_WIDTH + OVERVIEW_PLOT_WIDTH + 10
    total_h = axis_h + lane_h * len(detections) + 6
    axis = _Axis(span[0], span[1], plot_x, OVERVIEW_PLOT_WIDTH)
    shapes = axis.draw(axis_h - 4, total_h - 6, axis_h - 7)
    for n, detection in enumerate(detections):
        top = axis_h + n * lane_h
        bars_top, bars_h = top + 3, lane_h - 14
        strip_y = bars_top + bars_h + 1
        label = detection.label
        shown = label if len(label) <= LABEL_CHARACTERS else label[:LABEL_CHARACTERS - 1] + "…"
        width = bin_width(detection.alarm.period, axis.end - axis.start, OVERVIEW_PLOT_WIDTH)
        bars, peak = _bars(detection, axis, bars_top, bars_h, width, counts=False)
        lane = [
            f'<g class="lane" data-detection="{escape(detection.id)}" data-bin-seconds="{width}">',
            f'<rect class="lane-bg" x="{plot_x}" y="{top + 1}" width="{OVERVIEW_PLOT_WIDTH}" height="{lane_h - 2}"/>',
            f'<a href="#{_anchor(detection)}"><text class="lane-label{"" if detection.matches else " quiet"}" x="4" y="{top + lane_h / 2 + 1:.0f}">'
            f"<title>{escape(detection.id)}: {escape(detection.title)}</title>{escape(shown)}</text></a>",
            f'<text class="lane-count" x="{plot_x - 8}" y="{top + lane_h / 2 + 1:.0f}" text-anchor="end">'
            f"{detection.matches:,}</text>",
            *bars,
            *_episodes(detection.episodes, axis, bars_top, bars_h, strip_y, 5),
            f'<line class="axis" x1="{plot_x}" y1="{bars_top + bars_h:.1f}" x2="{plot_x + OVERVIEW_PLOT_WIDTH}" '
            f'y2="{bars_top + bars_h:.1f}"/>',
            "</g>",
        ]
        shapes.extend(lane)
    return (
        f'<svg class="overview" role="img" width="{total_w}" height="{total_h}" viewBox="0 0 {total_w} {total_h}">'
        "<title>matches per alarm period and ALARM episodes, one lane per detection</title>"
        + "".join(shapes)
        + "</svg>"
        + f'<p class="legend">{escape(axis.caption())}. One lane per detection: its id, its matches, its timeline '
        "(bars scaled to the lane's busiest bar). Click a lane for the episodes and samples.</p>"
    )


# --- one detection ---------------------------------------------------------------------------


def _detection(detection: DetectionReport, span: tuple[int, int] | None) -> str:
    alarm = detection.alarm
    settings = (
        f"{alarm.statistic} over {duration(alarm.period)}, {alarm.datapoints_to_alarm} of {alarm.evaluation_periods} "
        f"period(s) {alarm.comparison} {alarm.threshold:g}, missing data: {alarm.treat_missing_data}"
    )
    parts = [
        f'<section class="detection" id="{_anchor(detection)}" data-detection="{escape(detection.id)}">',
        f"<h2>{escape(detection.id)}: {escape(detection.title)}</h2>",
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
    parts.append("</section>")
    return "\n".join(parts)


def detail_range(detection: DetectionReport, span: tuple[int, int]) -> tuple[int, int] | None:
    """What a detection's own timeline covers: its bars and episodes, DETAIL_PADDING_PERIODS
    periods either side, at least DETAIL_MIN_PERIODS periods wide, within the run's span. Zoomed
    in, so a burst shows period by period; the overview puts it in the whole span. None when the
    detection has nothing to draw."""
    period = detection.alarm.period
    edges = [start for start, _ in detection.periods] + [start + period for start, _ in detection.periods[-1:]]
    edges += [e.start for e in detection.episodes] + [e.end for e in detection.episodes]
    if not edges:
        return None
    low = min(edges) - DETAIL_PADDING_PERIODS * period
    high = max(edges) + DETAIL_PADDING_PERIODS * period
    missing = DETAIL_MIN_PERIODS * period - (high - low)
    if missing > 0:
        low, high = low - missing // 2, high + missing - missing // 2
    low, high = max(low, span[0]), min(high, span[1])
    return low - low % period, high


def _timeline(detection: DetectionReport, span: tuple[int, int] | None) -> str:
    shown = detail_range(detection, span) if span else None
    if shown is None:
        return '<p class="muted">nothing to draw: no timed matches and no ALARM episode</p>'
    margin_top, plot_h, strip_h, bottom_h = 18, CHART_PLOT_HEIGHT, 8, 18
    height = margin_top + plot_h + strip_h + 4 + bottom_h
    axis = _Axis(shown[0], shown[1], 0, CHART_WIDTH)
    width = bin_width(detection.alarm.period, axis.end - axis.start, CHART_WIDTH)
    baseline = margin_top + plot_h
    shapes = axis.draw(margin_top, baseline, height - 4)
    bars, peak = _bars(detection, axis, margin_top, plot_h, width, counts=True)
    shapes += bars
    shapes += _episodes(detection.episodes, axis, margin_top, plot_h, baseline + 2, strip_h)
    shapes.append(f'<line class="axis" x1="0" y1="{baseline}" x2="{CHART_WIDTH}" y2="{baseline}"/>')
    shapes.append(f'<line class="grid" x1="0" y1="{margin_top}" x2="{CHART_WIDTH}" y2="{margin_top}"/>')
    shapes.append(f'<text class="label" x="0" y="{margin_top - 5}">{peak:,} per {escape(duration(width))} '
                  f"at the top line</text>")
    return (
        f'<svg class="timeline" role="img" width="{CHART_WIDTH}" height="{height}" viewBox="0 0 {CHART_WIDTH} {height}" '
        f'data-bin-seconds="{width}"><title>matches per {escape(duration(width))} and ALARM episodes</title>'
        + "".join(shapes)
        + "</svg>"
        + f'<p class="legend">{escape(axis.caption())}; {escape(_bins_caption(detection.alarm.period, width))}; '
        "ALARM episodes in red.</p>"
    )


_SAMPLE_COLUMNS = (
    ("time", "time"), ("event", "event"), ("service", "service"), ("who", "who"), ("account", "account"),
    ("region", "region"), ("source_ip", "source IP"), ("error_code", "error"), ("file", "file"),
)
"""(SampleEvent attribute, column title)"""
_WRAPPED = {"event": ' class="wrap"', "who": ' class="wrap"', "file": ' class="wrap"'}
"""Columns whose long values may break anywhere; the others (times, ids, addresses) stay whole."""


def _samples(samples: tuple[SampleEvent, ...]) -> str:
    if not samples:
        return '<p class="muted">no samples</p>'
    head = "".join(f"<th>{escape(title)}</th>" for _, title in _SAMPLE_COLUMNS)
    rows = "".join(
        "<tr>" + "".join(f"<td{_WRAPPED.get(name, '')}>{escape(_text(getattr(sample, name)))}</td>" for name, _ in _SAMPLE_COLUMNS)
        + "</tr>"
        for sample in samples
    )
    return f'<table class="samples"><tr>{head}</tr>{rows}</table>'


def _text(value: object) -> str:
    """A sample field as a cell: empty when the event did not have it."""
    return "" if value is None else str(value)
