"""`trailguard backtest` end to end through click: selection, outputs, exit codes and messages."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from trailguard.catalog import load_catalog
from trailguard.cli import main
from trailguard.config import load_stack_config, read_stack_config

from .conftest import FIXTURES, REPO, fixture_events, write_delivery

SOURCES = str(FIXTURES / "sources" / "delivery.json.gz")


def invoke(*args: str, code: int = 0):
    result = CliRunner().invoke(main, ["backtest", *args])
    assert result.exit_code == code, (result.output, getattr(result, "stderr", ""))
    return result


def as_json(*args: str) -> dict:
    return json.loads(invoke(*args, "--json").stdout)


# --- which detections -------------------------------------------------------------------------


def test_stack_prod_replays_exactly_the_stacks_detections():
    config = load_stack_config(read_stack_config(REPO, "prod"))
    report = as_json(SOURCES, "--stack", "prod", "--project-dir", str(REPO))
    assert [d["id"] for d in report["detections"]] == [d.id for d in config.detections]
    by_id = {d["id"]: d for d in report["detections"]}
    for enabled in config.detections:
        assert by_id[enabled.id]["pattern"] == enabled.pattern  # the stack's profile, not the default
        assert by_id[enabled.id]["alarm"]["threshold"] == enabled.alarm.threshold
        assert by_id[enabled.id]["alarm"]["evaluationPeriods"] == enabled.alarm.evaluation_periods
        assert by_id[enabled.id]["alarm"]["datapointsToAlarm"] == enabled.alarm.datapoints_to_alarm


def _project(tmp_path: Path, stack_yaml: str) -> Path:
    shutil.copy(REPO / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "Pulumi.lab.yaml").write_text(stack_yaml)
    return tmp_path


def test_stack_with_custom_detection_overrides_and_a_disabled_one(tmp_path):
    project = _project(tmp_path, """
config:
  trailguard:detections: [seed]
  trailguard:overrides:
    vpc-changes: {enabled: false}
    security-group-changes: {threshold: 2, treatMissingData: breaching}
  trailguard:customDetections:
    - id: password-data
      title: Windows password data requested
      pattern: '{ $.eventName = GetPasswordData }'
      severity: high
      metric: PasswordDataCount
      samples:
        positives: [{eventVersion: '1.09', userIdentity: {type: IAMUser}, eventTime: '2026-03-14T09:21:07Z',
                     eventSource: ec2.amazonaws.com, eventName: GetPasswordData, awsRegion: us-east-1,
                     eventType: AwsApiCall}]
        negatives: [{eventVersion: '1.09', userIdentity: {type: IAMUser}, eventTime: '2026-03-14T09:21:07Z',
                     eventSource: ec2.amazonaws.com, eventName: RunInstances, awsRegion: us-east-1,
                     eventType: AwsApiCall}]
""")
    report = as_json(SOURCES, "--stack", "lab", "--project-dir", str(project))
    ids = [d["id"] for d in report["detections"]]
    assert ids == ["root-usage", "ec2-instance-changes", "iam-policy-changes", "security-group-changes", "password-data"]
    by_id = {d["id"]: d for d in report["detections"]}
    assert by_id["password-data"]["custom"] and by_id["password-data"]["matches"] == 1
    assert by_id["security-group-changes"]["alarm"]["treatMissingData"] == "breaching"
    assert by_id["security-group-changes"]["alarm"]["threshold"] == 2.0


def test_bad_stack_config_names_the_key(tmp_path):
    project = _project(tmp_path, "config:\n  trailguard:overrides:\n    root-usage: {period: 90}\n")
    result = invoke(SOURCES, "--stack", "lab", "--project-dir", str(project), code=1)
    assert "error: stack 'lab': trailguard:overrides.root-usage.period: CloudWatch refuses a period of 90 s" in result.stderr


def test_sub_minute_period_cannot_be_replayed(tmp_path):
    project = _project(tmp_path, "config:\n  trailguard:detections: [seed]\n  trailguard:overrides:\n    root-usage: {period: 30}\n")
    result = invoke(SOURCES, "--stack", "lab", "--project-dir", str(project), code=1)
    assert result.stderr.strip() == (
        "error: detection 'root-usage': period 30 s cannot be replayed; a metric-filter metric has one-minute "
        "resolution, so allowed: a multiple of 60")


def test_missing_stack_file_lists_the_stacks(tmp_path):
    project = _project(tmp_path, "config: {}\n")
    result = invoke(SOURCES, "--stack", "nope", "--project-dir", str(project), code=1)
    assert "Pulumi.nope.yaml" in result.stderr and "stacks here: lab" in result.stderr


def test_detections_take_ids_and_presets():
    report = as_json(SOURCES, "--detections", "root-usage,cloudtrail-config-changes", "--detections", "seed")
    assert [d["id"] for d in report["detections"]] == [
        "root-usage", "cloudtrail-config-changes", "ec2-instance-changes", "iam-policy-changes",
        "security-group-changes", "vpc-changes"]
    assert report["detections"][0]["alarm"]["threshold"] == 1.0  # catalogue default alarm


def test_default_is_the_cis_preset():
    from trailguard.catalog import load_catalog

    report = as_json(SOURCES)
    assert [d["id"] for d in report["detections"]] == list(load_catalog().presets["cis"])


def test_unknown_detection_suggests_the_nearest():
    result = invoke(SOURCES, "--detections", "root-usge", code=2)
    assert result.stderr.startswith("error: --detections: ")
    assert "root-usge" in result.stderr and "root-usage" in result.stderr


def test_invalid_pattern_shows_the_caret():
    result = invoke(SOURCES, "--pattern", "{ $.eventName = }", code=2)
    assert result.stderr.startswith("error: --pattern: invalid filter pattern:")
    assert "^" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stack", "prod", "--pattern", "x"], "error: --stack and --pattern exclude each other; give one of --stack, --detections or --pattern"),
        (["--since", "2025-03-05", "--until", "2025-03-04"], "error: --since 2025-03-05 is after --until 2025-03-04"),
    ],
)
def test_usage_errors(args, message):
    result = invoke(SOURCES, *args, code=2)
    assert result.stderr.strip() == message


def test_bad_date_says_the_format():
    result = invoke(SOURCES, "--since", "March", code=2)
    assert "'March' is not a date; expected YYYY-MM-DD" in result.stderr


def test_bad_account_says_the_format():
    result = invoke(SOURCES, "--account", "111122223333,prod", code=2)
    assert "--account" in result.stderr and "'prod' is not an AWS account id; expected 12 digits" in result.stderr


def test_missing_source_names_it(tmp_path):
    result = invoke(str(tmp_path / "nope"), code=1)
    assert result.stderr.strip() == f"error: {tmp_path / 'nope'}: no such file or directory (give a file, a directory or a glob)"


# --- outputs ----------------------------------------------------------------------------------


def test_ad_hoc_pattern_json_report(tmp_path, events):
    stop = next(e for e in events if e["eventName"] == "StopLogging")
    write_delivery(tmp_path / "day.json.gz", [
        dict(stop, eventTime="2025-03-04T09:01:00Z"), dict(stop, eventTime="2025-03-04T09:02:00Z"),
        dict(stop, eventTime="2025-03-04T11:00:00Z"), dict(events[4], eventTime="2025-03-04T12:00:00Z"),
    ])
    report = as_json(str(tmp_path), "--pattern", "{ $.eventName = StopLogging }")
    (detection,) = report["detections"]
    assert (detection["id"], detection["matches"], detection["first"], detection["last"]) == (
        "pattern", 3, "2025-03-04T09:01:00Z", "2025-03-04T11:00:00Z")
    assert [(e["start"], e["end"], e["matches"]) for e in detection["episodes"]] == [
        ("2025-03-04T09:05:00Z", "2025-03-04T09:10:00Z", 2), ("2025-03-04T11:05:00Z", "2025-03-04T11:10:00Z", 1)]
    sample = detection["episodes"][0]["samples"][0]
    assert (sample["event"], sample["who"], sample["region"], sample["sourceIp"]) == (
        "StopLogging", "arn:aws:iam::111122223333:user/alice", "us-east-1", "198.51.100.7")
    assert detection["hourly"] == [["2025-03-04T09:00:00Z", 2], ["2025-03-04T11:00:00Z", 1]]
    summary = report["summary"]
    assert (summary["files"], summary["eventsRead"], summary["eventsEvaluated"], summary["eventsRejected"]) == (1, 4, 4, 0)
    assert summary["seconds"] >= 0


def test_terminal_table_and_summary():
    result = invoke(str(FIXTURES / "sources" / "events.jsonl"), str(FIXTURES / "bad" / "records-not-array.json"),
                    "--detections", "cloudtrail-config-changes,vpc-changes")
    lines = result.stdout.splitlines()
    row = next(line for line in lines if "cloudtrail-config-changes" in line)
    assert re.search(r"│\s+1 │\s+1 │ 2025-03-04T09:02:30Z", row)
    assert any(re.search(r"vpc-changes\s+│\s+0 │\s+0 │ -", line) for line in lines)
    assert "events read 9, evaluated 8, rejected 1" in result.stdout
    assert "rejected, not CloudTrail: 1" in result.stdout


def test_strict_exits_1_naming_the_file():
    result = invoke(SOURCES, str(FIXTURES / "bad" / "truncated.json.gz"), "--strict", code=1)
    assert "truncated.json.gz: truncated gzip" in result.stderr and "--strict" in result.stderr


class _StrictHTML(HTMLParser):
    """Checks nesting (every opened element closed in order) and collects fetchable URLs."""

    VOID = {"meta", "br", "img", "link", "input", "hr", "line", "rect", "path", "circle"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.fetches: list[str] = []
        self.seen: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.seen.add(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "srcset", "data") and value and not value.startswith("#"):
                self.fetches.append(value)
            if name == "style" and value and "url(" in value:
                self.fetches.append(value)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.seen.add(tag)
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):
                self.fetches.append(value)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.stack[-1] == "style" and ("url(" in data or "@import" in data):
            self.fetches.append(data)


def test_html_report_is_valid_and_self_contained(tmp_path):
    out = tmp_path / "report.html"
    invoke(str(FIXTURES / "sources" / "delivery.json.gz"), "--detections", "all", "--html", str(out))
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>")
    parser = _StrictHTML()
    parser.feed(text)
    parser.close()
    assert parser.stack == []
    assert parser.fetches == []
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert {"html", "head", "body", "style", "svg", "table"} <= parser.seen
    assert "<script" not in text
    assert text.count('<svg class="overview"') == 1
    assert text.count('<g class="lane"') == len(load_catalog().presets["all"])  # a lane per detection
    assert text.count('<svg class="timeline"') == 7  # a timeline per detection with matches
    assert "arn:aws:iam::111122223333:root" in text  # samples are shown
    # cloudtrail-config-changes: StopLogging at 09:02:30 -> ALARM for the 09:05 evaluation only
    assert '<title>ALARM 2025-03-04T09:05:00Z to 2025-03-04T09:10:00Z: 1 match(es)</title>' in text
    assert '<title>2025-03-04T09:00:00Z to 2025-03-04T09:05:00Z: 1 match(es)</title>' in text


def test_html_escapes_event_content(tmp_path, events):
    hostile = dict(events[1], userIdentity={"type": "IAMUser", "arn": '<img src="http://evil.example/x.png">'})
    write_delivery(tmp_path / "in" / "x.json.gz", [hostile])
    out = tmp_path / "r.html"
    invoke(str(tmp_path / "in"), "--pattern", "{ $.eventName = StopLogging }", "--html", str(out))
    parser = _StrictHTML()
    parser.feed(out.read_text())
    assert parser.fetches == [] and "img" not in parser.seen
    assert "&lt;img src=&quot;http://evil.example/x.png&quot;&gt;" in out.read_text()


def test_html_unwritable_path_is_an_error(tmp_path):
    result = invoke(SOURCES, "--html", str(tmp_path / "no" / "such" / "dir" / "r.html"), code=1)
    assert result.stderr.startswith(f"error: --html {tmp_path / 'no' / 'such' / 'dir' / 'r.html'}: cannot write")


def test_workers_option_gives_the_same_report(tmp_path):
    for n in range(6):
        write_delivery(tmp_path / f"{n}.json.gz", fixture_events())
    one = as_json(str(tmp_path), "--detections", "all")
    two = as_json(str(tmp_path), "--detections", "all", "--workers", "2")
    for report in (one, two):
        for key in ("seconds", "eventsPerSecond", "workers"):
            report["summary"].pop(key)
    assert one == two


def test_progress_bar_goes_to_stderr_only():
    result = CliRunner().invoke(main, ["backtest", SOURCES, "--json", "--progress"])
    assert result.exit_code == 0
    json.loads(result.stdout)  # stdout is still exactly the JSON document


def test_date_and_account_filters_apply_to_a_local_copy_of_the_bucket(tmp_path, events):
    for account, day in [("111122223333", "2025/03/04"), ("111122223333", "2025/03/05"), ("444455556666", "2025/03/05")]:
        write_delivery(tmp_path / "AWSLogs" / account / "CloudTrail" / "us-east-1" / day / "x.json.gz", events[:2])
    write_delivery(tmp_path / "loose.json.gz", events[:1])  # not in the layout: always read
    report = as_json(str(tmp_path), "--since", "2025-03-05", "--account", "111122223333", "--detections", "seed")
    assert (report["summary"]["files"], report["summary"]["eventsRead"]) == (2, 3)


def test_standard_input(events):
    lines = "".join(json.dumps(e) + "\n" for e in events) + "garbage\n"
    result = CliRunner().invoke(main, ["backtest", "-", "--detections", "cloudtrail-config-changes", "--json"], input=lines)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["summary"]["eventsRead"], report["summary"]["eventsRejected"]) == (len(events) + 1, 1)
    assert report["summary"]["rejections"][0]["source"] == "<stdin>"
    assert report["detections"][0]["samples"][0]["file"] == "<stdin>"


def test_s3_url_without_a_bucket():
    result = invoke("s3://", code=1)
    assert result.stderr.strip() == "error: s3://: no bucket name; expected s3://BUCKET[/PREFIX]"


def test_profile_picks_the_security_hub_strings():
    from trailguard.catalog import load_catalog

    report = as_json(SOURCES, "--detections", "cis", "--profile", "securityhub")
    catalog = load_catalog()
    assert [d["pattern"] for d in report["detections"]] == [
        catalog.get(d["id"]).pattern_for("securityhub") for d in report["detections"]]
    assert any(d["pattern"] != catalog.get(d["id"]).pattern_for("default") for d in report["detections"])


def test_terminal_lists_at_most_twenty_rejections(tmp_path):
    for n in range(25):
        (tmp_path / f"bad{n:02d}.json").write_text("not json\n")
    result = invoke(str(tmp_path), "--detections", "seed")
    assert "rejected, not JSON: 25" in result.stdout
    assert result.stdout.count(": not JSON: ") == 20
    assert "... and 5 more (all of them with --json)" in result.stdout


@pytest.mark.parametrize("value", ["0", "65", "many"])
def test_fetch_threads_out_of_range_is_a_usage_error(value, tmp_path):
    (tmp_path / "a.json").write_text('{"Records": []}')
    result = CliRunner().invoke(main, ["backtest", str(tmp_path), "--fetch-threads", value])
    assert result.exit_code == 2
    assert "--fetch-threads" in result.output
    assert ("1<=x<=64" if value.isdigit() else "integer") in result.output  # what is allowed


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_workers_below_one_is_a_usage_error(value, tmp_path):
    (tmp_path / "a.json").write_text('{"Records": []}')
    result = CliRunner().invoke(main, ["backtest", str(tmp_path), "--workers", value])
    assert result.exit_code == 2
    assert "--workers" in result.output
    assert ("x>=1" if value.lstrip("-").isdigit() else "integer") in result.output  # what is allowed


@pytest.mark.parametrize("where", ["missing-dir", "under-a-file"])
def test_html_path_is_checked_before_the_scan(tmp_path, monkeypatch, where):
    """Item 17: an unwritable --html path was found only after the whole scan (a directory given
    as the path is refused by click itself, before anything)."""
    from trailguard import backtest

    def no_scan(*args, **kwargs):
        raise AssertionError("the scan ran before --html was checked")

    monkeypatch.setattr(backtest, "run_units", no_scan)
    (tmp_path / "a-file").write_text("")
    target = {"missing-dir": tmp_path / "no" / "r.html", "under-a-file": tmp_path / "a-file" / "r.html"}[where]
    result = invoke(SOURCES, "--html", str(target), code=1)
    assert result.stderr.startswith(f"error: --html {target}: cannot write: ")
    assert "give a file path in a writable directory" in result.stderr
    assert not (tmp_path / "no").exists()


def test_deeply_nested_json_is_a_rejection_not_a_traceback(tmp_path):
    """Item 11: 10,000 levels of nesting ended the back-test with a RecursionError."""
    event = json.dumps(fixture_events()[0])[:-1] + ', "x": ' + "[" * 10_000 + "]" * 10_000 + "}"
    path = tmp_path / "deep.jsonl"
    path.write_text(event + "\n" + json.dumps(fixture_events()[1]) + "\n")
    summary = as_json(str(path), "--detections", "all")["summary"]
    assert (summary["eventsEvaluated"], summary["eventsRejected"]) == (1, 1)
    (rejection,) = summary["rejections"]
    assert rejection["source"] == str(path) and "JSON may nest at most 1,024 levels" in rejection["reason"]


def test_digests_and_empty_files_are_counted_in_the_summary(tmp_path):
    """Items 10 and 16: skipped inputs are counted and named in --json and on the terminal."""
    write_delivery(tmp_path / "AWSLogs" / "111122223333" / "CloudTrail" / "us-east-1" / "2025" / "03" / "04" / "a.json.gz",
                   fixture_events())
    digest = tmp_path / "AWSLogs" / "111122223333" / "CloudTrail-Digest" / "us-east-1" / "2025" / "03" / "04" / "d.json.gz"
    digest.parent.mkdir(parents=True)
    digest.write_bytes(b"\x1f\x8b not even read")
    (tmp_path / "empty.json").write_bytes(b"")
    summary = as_json(str(tmp_path), "--strict")["summary"]
    assert summary["inputsSkipped"] == 2 and summary["skippedByReason"] == {"CloudTrail digest": 1, "empty": 1}
    assert [s["source"] for s in summary["skipped"]] == [str(tmp_path / "empty.json"), str(digest)]
    assert summary["eventsRejected"] == 0
    terminal = invoke(str(tmp_path)).stdout
    assert f"skipped: {digest}: CloudTrail digest: " in terminal and f"skipped: {tmp_path / 'empty.json'}: empty: " in terminal
