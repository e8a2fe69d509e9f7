"""The back-test report's JSON document, pinned byte for byte.

`report-golden.json` was written by the code before the report became typed objects; the JSON
output must not change shape, key order, number formatting or content for the same input.
Regenerate it only for a deliberate change of the document (and say so in docs/backtest.md):
`REGENERATE_REPORT_GOLDEN=1 python -m pytest tests/backtest/test_report.py`.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import orjson
import pytest

from trailguard.alarms import AlarmSettings
from trailguard.backtest import RunOptions, Target, build_report, from_detection_ids, run
from trailguard.backtest.report import SampleEvent
from trailguard.backtest.scan import SAMPLE_FIELDS

from .conftest import FIXTURES, fixture_events, write_delivery

GOLDEN = FIXTURES / "report-golden.json"


def _inputs(directory: Path) -> list[str]:
    """Fixture sources and broken files, plus a day shaped to give closed, open and untimed cases."""
    events = fixture_events()
    stop = next(e for e in events if e["eventName"] == "StopLogging")
    login = next(e for e in events if e["eventName"] == "ConsoleLogin")
    burst = [dict(stop, eventTime=f"2025-03-05T08:{minute:02d}:1{minute % 10}Z") for minute in range(0, 40, 3)]
    late = [dict(login, eventTime="2025-03-05T18:59:59Z"), dict(stop, eventTime="2025-03-05T19:00:00Z")]
    untimed = [dict(stop, eventTime="yesterday"), {k: v for k, v in stop.items() if k != "eventTime"}]
    write_delivery(directory / "shaped.json.gz", [*burst, *late, *untimed])
    return [str(FIXTURES / "sources"), str(FIXTURES / "bad"), str(directory)]


def _targets() -> list[Target]:
    busy = AlarmSettings(period=600, evaluation_periods=3, datapoints_to_alarm=2, threshold=2)
    breaching = AlarmSettings(period=3600, evaluation_periods=2, datapoints_to_alarm=2, threshold=5,
                              treat_missing_data="breaching", statistic="SampleCount")
    return [
        *from_detection_ids(["all"]),
        Target("stop-burst", "StopLogging bursts", "{ $.eventName = StopLogging }", busy, "high", True),
        Target("quiet-breaching", 'Logins <b>"quoted"</b>', "{ $.eventName = ConsoleLogin }", breaching, "", True),
    ]


def _document(tmp_path: Path) -> bytes:
    result = run(_inputs(tmp_path), _targets(), RunOptions())
    result = dataclasses.replace(result, seconds=1.23456, workers=3)  # the only values that vary by run
    report = build_report(result)
    text = orjson.dumps(report.as_json_dict(), option=orjson.OPT_INDENT_2).decode() + "\n"
    return text.replace(str(tmp_path), "<tmp>").replace(str(FIXTURES), "<fixtures>").encode()


def test_json_document_is_unchanged(tmp_path):
    document = _document(tmp_path)
    if os.environ.get("REGENERATE_REPORT_GOLDEN"):
        GOLDEN.write_bytes(document)
    assert document == GOLDEN.read_bytes()


def test_sample_event_fields_are_the_scans_sample_fields_in_order():
    """A sample is built positionally from the scan's tuple: a field added on one side only fails here."""
    names = [re.sub(r"_(.)", lambda m: m.group(1).upper(), f.name) for f in dataclasses.fields(SampleEvent)]
    assert names == list(SAMPLE_FIELDS)


def test_the_report_is_frozen(tmp_path):
    report = build_report(run(_inputs(tmp_path), _targets()[-2:], RunOptions()))
    detection = report.detections[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        detection.matches = 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.summary.files = 0
    assert isinstance(detection.episodes, tuple) and isinstance(detection.episodes[0].samples, tuple)
