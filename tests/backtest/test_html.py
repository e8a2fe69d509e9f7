"""The HTML report's structure, read back with html.parser: bins per alarm period, one overview
lane per detection with its ALARM episodes, the header, label colours, escaping.

These are the checks a browser screenshot cannot make repeatable; `test_screenshot` below also
renders the page in headless Chromium when one is installed (scripts/screenshot_report.py).
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from trailguard.alarms import AlarmSettings
from trailguard.backtest import RunOptions, Target, build_report, run
from trailguard.backtest.html import bin_width, render_html
from trailguard.backtest.report import RunContext
from trailguard.cli import main

from .conftest import FIXTURES, REPO, fixture_events, write_delivery

FIVE_MINUTES = AlarmSettings(period=300)
HOURLY = AlarmSettings(period=3600)
MINUTELY = AlarmSettings(period=60)


# --- a small DOM ------------------------------------------------------------------------------


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def all(self, tag: str | None = None, cls: str | None = None) -> list[Node]:
        found = []
        for child in self.children:
            if (tag is None or child.tag == tag) and (cls is None or cls in child.attrs.get("class", "").split()):
                found.append(child)
            found.extend(child.all(tag, cls))
        return found

    def content(self) -> str:
        """The text inside, as a browser shows it (tooltips' <title> left out)."""
        return "".join(self.text) + "".join(c.content() for c in self.children if c.tag != "title")


class _Tree(HTMLParser):
    VOID = {"meta", "br", "img", "link", "input", "hr"}  # the page closes every SVG element

    def __init__(self) -> None:
        super().__init__()
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in self.VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data):
        self.stack[-1].text.append(data)


def parse(text: str) -> Node:
    tree = _Tree()
    tree.feed(text)
    tree.close()
    assert [n.tag for n in tree.stack] == ["#document"], "unclosed elements"
    return tree.root


# --- reports ----------------------------------------------------------------------------------


def _event(name: str, time: str, **changes) -> dict:
    base = next(e for e in fixture_events() if e["eventName"] == name)
    return dict(base, eventTime=time, **changes)


def incident() -> list[dict]:
    """A 55-minute incident across an hour boundary: one security-group change a minute from
    09:40 to 10:34, and one StopLogging at 10:02:30."""
    events = []
    for minute in range(55):
        hour, rest = divmod(40 + minute, 60)
        events.append(_event("AuthorizeSecurityGroupIngress", f"2025-03-04T{9 + hour:02d}:{rest:02d}:05Z"))
    events.append(_event("StopLogging", "2025-03-04T10:02:30Z"))
    return events


def report_html(tmp_path: Path, events: list[dict], targets: list[Target], context: RunContext = RunContext(),
                extra: list[str] = ()) -> Node:
    write_delivery(tmp_path / "in" / "events.json.gz", events)
    result = run([str(tmp_path / "in"), *extra], targets, RunOptions())
    return parse(render_html(build_report(result, context)))


def sg_target(alarm: AlarmSettings = FIVE_MINUTES, id_: str = "sg") -> Target:
    return Target(id_, "security groups", "{ $.eventName = AuthorizeSecurityGroupIngress }", alarm)


def timeline(page: Node, detection: str) -> Node:
    (section,) = [s for s in page.all("section") if s.attrs.get("data-detection") == detection]
    (svg,) = section.all("svg", "timeline")
    return svg


def lanes(page: Node) -> list[Node]:
    (overview,) = page.all("svg", "overview")
    return overview.all("g", "lane")


# --- bins follow the alarm period -------------------------------------------------------------


def test_a_55_minute_incident_shows_one_bar_per_5_minute_period(tmp_path):
    page = report_html(tmp_path, incident(), [sg_target()])
    bars = timeline(page, "sg").all("rect", "bar")
    assert [b.attrs["data-start"][11:16] for b in bars] == [f"{h:02d}:{m:02d}" for h, m in
                                                            [(9, 40), (9, 45), (9, 50), (9, 55)] +
                                                            [(10, m) for m in range(0, 35, 5)]]
    assert {b.attrs["data-seconds"] for b in bars} == {"300"}
    assert [int(b.attrs["data-count"]) for b in bars] == [5] * 11
    (lane,) = lanes(page)
    assert lane.attrs["data-bin-seconds"] == "300"
    assert len(lane.all("rect", "bar")) == 11


def test_each_detection_bins_by_its_own_period(tmp_path):
    targets = [sg_target(HOURLY, "hourly"), sg_target(FIVE_MINUTES, "five"), sg_target(MINUTELY, "minutely")]
    page = report_html(tmp_path, incident(), targets)
    counts = {d: [int(b.attrs["data-count"]) for b in timeline(page, d).all("rect", "bar")] for d in ("hourly", "five", "minutely")}
    assert counts == {"hourly": [20, 35], "five": [5] * 11, "minutely": [1] * 55}
    seconds = {d: {b.attrs["data-seconds"] for b in timeline(page, d).all("rect", "bar")} for d in counts}
    assert seconds == {"hourly": {"3600"}, "five": {"300"}, "minutely": {"60"}}


def test_a_span_too_long_for_a_bar_per_period_groups_whole_periods_and_says_so(tmp_path):
    events = [_event("AuthorizeSecurityGroupIngress", f"2025-03-{day:02d}T12:00:00Z") for day in range(1, 31)]
    page = report_html(tmp_path, events, [sg_target()])
    (lane,) = lanes(page)
    width = int(lane.attrs["data-bin-seconds"])
    assert width > 300 and width % 300 == 0
    assert sum(int(b.attrs["data-count"]) for b in lane.all("rect", "bar")) == 30
    (section,) = page.all("section")
    assert "one bar per 2 h (24 alarm periods of 5 min" in section.content()  # the zoomed timeline still groups


@pytest.mark.parametrize(("period", "span", "expected"), [
    (300, 3600, 300), (300, 86400, 300), (300, 30 * 86400, 10800), (3600, 30 * 86400, 10800), (420, 30 * 86400, 7560),
])
def test_bin_width_is_the_period_or_a_whole_number_of_periods(period, span, expected):
    assert bin_width(period, span, 690) == expected


# --- the overview: a lane per detection with its ALARM episodes ---------------------------------


def test_one_lane_per_detection_in_order_with_its_episodes_under_the_bars(tmp_path):
    targets = [sg_target(id_="sg"),
               Target("stop", "stop logging", "{ $.eventName = StopLogging }", FIVE_MINUTES),
               Target("never", "nothing", "{ $.eventName = NoSuchEvent }", FIVE_MINUTES)]
    page = report_html(tmp_path, incident(), targets)
    found = lanes(page)
    assert [lane.attrs["data-detection"] for lane in found] == ["sg", "stop", "never"]
    assert [lane.all("text", "lane-label")[0].content() for lane in found] == ["sg", "stop", "never"]
    assert [len(lane.all("rect", "episode-strip")) for lane in found] == [1, 1, 0]
    for lane in found[:2]:
        bars, strip = lane.all("rect", "bar"), lane.all("rect", "episode-strip")[0]
        lowest = max(float(b.attrs["y"]) + float(b.attrs["height"]) for b in bars)
        assert float(strip.attrs["y"]) >= lowest  # below every bar: nothing covers it
        order = [c.attrs.get("class") for c in lane.children]
        assert order.index("episode") > max(i for i, c in enumerate(order) if c == "bar")  # band painted over bars
    (sg_strip,) = found[0].all("rect", "episode-strip")
    assert "ALARM 2025-03-04T09:45:00Z still in ALARM at the end of the data: 55 match(es)" in sg_strip.all("title")[0].content()


def test_every_detection_timeline_shows_its_episodes(tmp_path):
    page = report_html(tmp_path, incident(), [sg_target()])
    svg = timeline(page, "sg")
    assert len(svg.all("rect", "episode")) == 1 and len(svg.all("rect", "episode-strip")) == 1


# --- the header -------------------------------------------------------------------------------


def header_fields(page: Node) -> dict[str, Node]:
    (header,) = page.all("header")
    (dl,) = header.all("dl")
    terms = [c for c in dl.children if c.tag in ("dt", "dd")]
    return {dt.content(): dd for dt, dd in zip(terms[::2], terms[1::2])}


def test_header_names_stack_profile_window_sources_and_rejected_files(tmp_path):
    context = RunContext(sources=(str(tmp_path / "in"), str(FIXTURES / "bad" / "broken-document.json")),
                         selection="--stack prod", stack="prod", profiles=("securityhub",),
                         since="2025-03-01", until="2025-03-31")
    page = report_html(tmp_path, incident(), [sg_target()], context, extra=[str(FIXTURES / "bad" / "broken-document.json")])
    fields = header_fields(page)
    assert list(fields) == ["stack", "profile", "detections", "time window", "sources", "rejected files"]
    assert fields["stack"].content() == "prod"
    assert fields["profile"].content() == "securityhub"
    assert "1 replayed" in fields["detections"].content() and "--stack prod" in fields["detections"].content()
    window = fields["time window"].content()
    assert "2025-03-01" in window and "2025-03-31" in window
    assert "2025-03-04T09:40:05Z" in window and "2025-03-04T10:34:05Z" in window  # the events' own span
    assert [li.content() for li in fields["sources"].all("li")] == list(context.sources)
    (rejected,) = fields["rejected files"].all("li")
    assert rejected.all("code")[0].content() == str(FIXTURES / "bad" / "broken-document.json")


def test_header_without_rejections_or_stack_says_so(tmp_path):
    page = report_html(tmp_path, incident(), [sg_target()], RunContext(sources=("x",), selection="--pattern"))
    fields = header_fields(page)
    assert fields["rejected files"].content() == "none"
    assert fields["stack"].content() == "none"
    assert "all data read" in fields["time window"].content()


def test_cli_fills_the_header_from_its_options(tmp_path):
    write_delivery(tmp_path / "in" / "x.json.gz", incident())
    out = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["backtest", str(tmp_path / "in"), "--stack", "prod", "--project-dir", str(REPO),
                                       "--since", "2025-03-04", "--html", str(out)])
    assert result.exit_code == 0, result.output
    fields = header_fields(parse(out.read_text()))
    assert fields["stack"].content() == "prod"
    assert fields["profile"].content() == "securityhub"  # what Pulumi.prod.yaml deploys
    assert "2025-03-04 to the last" in fields["time window"].content()
    assert [li.content() for li in fields["sources"].all("li")] == [str(tmp_path / "in")]


# --- labels readable on dark bars -------------------------------------------------------------


def _css_rules(page: Node) -> dict[str, dict[str, str]]:
    (style,) = page.all("style")
    rules: dict[str, dict[str, str]] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", style.content()):
        declarations = dict(part.split(":", 1) for part in body.split(";") if ":" in part)
        for selector in selectors.split(","):
            rules.setdefault(selector.strip(), {}).update({k.strip(): v.strip() for k, v in declarations.items()})
    return rules


def _luminance(colour: str) -> float:
    value = colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    channels = [int(value[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_text_on_bars_contrasts_with_the_bar_and_other_text_has_a_halo(tmp_path):
    page = report_html(tmp_path, incident(), [sg_target(), sg_target(MINUTELY, "minutely")])
    rules = _css_rules(page)
    bar, page_colour = rules[".bar"]["fill"], rules["body"]["background"]
    classes = {cls for svg in page.all("svg") for text in svg.all("text") for cls in text.attrs["class"].split()}
    assert "count-in" in classes  # the 5-minute bars are tall and wide enough to carry their counts
    assert contrast(rules[".count-in"]["fill"], bar) >= 4.5
    for cls in classes - {"count-in", "tick", "quiet"}:
        rule = rules[f".{cls}"]
        assert contrast(rule["fill"], page_colour) >= 4.5, cls
        if cls in ("label", "count-out"):  # drawn inside the plot area, where a bar may be behind them
            assert rule["stroke"] == page_colour and rule["paint-order"] == "stroke", cls
    assert contrast(rules[".lane-label.quiet"]["fill"], page_colour) >= 4.5
    # a count sits inside its bar only when the bar is tall enough: white text never lands on the page
    for svg in page.all("svg", "timeline"):
        bars = svg.all("rect", "bar")
        for text in svg.all("text", "count-in"):
            (holder,) = [b for b in bars if abs(float(b.attrs["x"]) + float(b.attrs["width"]) / 2 - float(text.attrs["x"])) < 0.2]
            assert float(holder.attrs["y"]) < float(text.attrs["y"]) <= float(holder.attrs["y"]) + float(holder.attrs["height"])


# --- escaping and self-containment ------------------------------------------------------------


def test_script_in_event_fields_and_patterns_is_escaped(tmp_path):
    hostile = _event("StopLogging", "2025-03-04T10:02:30Z", eventName="StopLogging<script>alert(1)</script>",
                     userAgent="<script>alert(2)</script>", sourceIPAddress='"><script>alert(3)</script>')
    targets = [Target("x<script>", "t<script>alert(4)</script>", '{ $.eventSource = "cloudtrail.amazonaws.com" }',
                      FIVE_MINUTES, "", True)]
    write_delivery(tmp_path / "in" / "e.json.gz", [hostile])
    text = render_html(build_report(run([str(tmp_path / "in")], targets, RunOptions()),
                                    RunContext(sources=("<script>alert(5)</script>",))))
    page = parse(text)
    assert "<script" not in text.lower()
    assert not page.all("script")
    assert "StopLogging&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&quot;&gt;&lt;script&gt;alert(3)&lt;/script&gt;" in text
    assert "&lt;script&gt;alert(5)&lt;/script&gt;" in text
    assert [lane.attrs["data-detection"] for lane in lanes(page)] == ["x<script>"]  # attribute value intact, escaped


def test_no_external_resources(tmp_path):
    text = render_html(build_report(run([str(FIXTURES / "sources")], [sg_target()], RunOptions())))
    assert not re.search(r"""(src|href)\s*=\s*(?!["']?#)""", text)
    assert "url(" not in text and "@import" not in text


# --- a real browser ---------------------------------------------------------------------------

BROWSER = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")
                if shutil.which(name)), None)


@pytest.mark.skipif(BROWSER is None, reason="no Chromium installed: the page's structure is checked above, "
                    "the rendering only with a browser (scripts/screenshot_report.py)")
def test_screenshot(tmp_path):
    subprocess.run([sys.executable, str(REPO / "scripts" / "screenshot_report.py"), "--out", str(tmp_path),
                    "--width", "1000", "--height", "900"], check=True, capture_output=True, timeout=180)
    png = (tmp_path / "report.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (1000, 900)
    assert "stack" in (tmp_path / "report.html").read_text()


def test_screenshot_script_names_a_missing_browser(tmp_path):
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "screenshot_report.py"), "--browser",
                           "no-such-browser-binary", "--out", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 1
    assert "no-such-browser-binary" in done.stderr and "apt-get install chromium" in done.stderr
