"""`--engine duckdb` against the native engine, whole runs: the same report (counts, episodes,
samples, summary) on the shared real events, the fixtures, odd inputs and generated corpora."""

from __future__ import annotations

import copy
import datetime as dt
import sys
from pathlib import Path

import pytest

from trailguard.alarms import AlarmSettings
from trailguard.backtest import RunOptions, S3Options, build_report, from_detection_ids, from_pattern, from_stack, plan, run_units
from trailguard.backtest.selection import Target
from trailguard.sql import duckdb_engine

from ..backtest.conftest import FIXTURES, REPO, SHARED_EVENTS, fixture_events, write_delivery
from ..backtest.test_s3 import BUCKET as S3_BUCKET
from ..backtest.test_s3 import archive, aws_env, endpoint  # noqa: F401 - the moto archive, as fixtures

sys.path.insert(0, str(REPO))
from bench.corpus import write_corpus  # noqa: E402

ENGINE_FIELDS = ("seconds", "eventsPerSecond")
"""What differs between engines by nature: how long they took."""


def comparable(report: dict) -> dict:
    report = copy.deepcopy(report)
    for name in ENGINE_FIELDS:
        report["summary"].pop(name)
    return report


def both(sources: list[str], targets: list[Target]) -> tuple[dict, dict]:
    units = plan(sources, RunOptions())
    native = build_report(run_units(units, targets, RunOptions())).as_json_dict()
    duck = build_report(duckdb_engine.run_duckdb(units, targets, RunOptions())).as_json_dict()
    return comparable(native), comparable(duck)


def assert_same(sources: list[str], targets: list[Target]) -> dict:
    native, duck = both(sources, targets)
    assert duck == native
    return native


def test_shared_real_events_all_catalogue_detections():
    if not SHARED_EVENTS.is_dir():
        pytest.skip(f"shared data not present at {SHARED_EVENTS}")
    report = assert_same([str(SHARED_EVENTS)], from_detection_ids(["all"]))
    assert sum(d["matches"] for d in report["detections"]) > 0  # the comparison compared something
    assert any(d["samples"] for d in report["detections"])


def test_fixture_sources_all_detections_both_profiles():
    sources = [str(FIXTURES / "sources")]
    for profile in ("default", "securityhub"):
        report = assert_same(sources, from_detection_ids(["all"], profile))
        assert report["summary"]["eventsEvaluated"] > 0
        assert sum(d["matches"] for d in report["detections"]) > 0


def test_damaged_and_skipped_inputs_count_the_same(tmp_path):
    report = assert_same([str(FIXTURES / "bad"), str(FIXTURES / "sources" / "delivery.json.gz")],
                         from_detection_ids(["all"]))
    assert report["summary"]["eventsRejected"] > 0 and report["summary"]["rejections"]


def test_generated_corpus_dense_matches_episodes_and_sample_ties(tmp_path):
    # an event every ~0.3 s in files of 40: many matches per minute and per alarm period, equal
    # eventTimes across files (the sample order's file and index decide), episodes that open and close
    write_corpus(tmp_path, 4_000, records_per_file=40, seconds_per_event=0.3, seed=11)
    targets = [
        *from_detection_ids(["all"]),
        Target("every-call", "every call", "{ $.eventVersion = * }", AlarmSettings(period=300, threshold=40)),
        Target("hourly", "hourly", '{ $.eventName = "Describe*" || $.errorCode = "*" }',
               AlarmSettings(period=3600, evaluation_periods=2, datapoints_to_alarm=1, threshold=1)),
    ]
    report = assert_same([str(tmp_path)], targets)
    every = report["detections"][-2]
    assert every["matches"] == 4_000 and every["episodes"]
    assert all(len(episode["samples"]) == 3 for episode in every["episodes"])


def test_generated_corpus_spread_over_days_with_sampled_period_cap(tmp_path):
    # more than SAMPLED_PERIODS one-minute periods with matches: later periods keep no samples
    write_corpus(tmp_path, 2_400, records_per_file=100, seconds_per_event=90, seed=3)
    targets = [Target("every-call", "every call", "{ $.eventVersion = * }", AlarmSettings(period=60)),
               *from_detection_ids(["cis"])]
    assert_same([str(tmp_path)], targets)


def test_odd_event_times_are_placed_as_the_native_engine_places_them(tmp_path):
    base = fixture_events()[0]
    times = ["2026-03-14T09:21:07Z", "2026-03-14T09:21:07.250Z", "2026-03-14T11:21:07+02:00",
             "2026-03-14 09:22:00", "2026-02-30T10:00:00Z", "2026-03-14T24:00:00Z", "not a time", None, 1773480067,
             "2026-03-14T09:21:60Z"]
    events = []
    for position, when in enumerate(times):
        event = dict(base, eventID=f"odd-{position}")
        if when is None:
            event.pop("eventTime", None)
        else:
            event["eventTime"] = when
        events.append(event)
    write_delivery(tmp_path / "odd.json.gz", events)
    target = Target("every-call", "every call", "{ $.eventVersion = * }", AlarmSettings(period=300))
    report = assert_same([str(tmp_path)], [target])
    assert report["detections"][0]["untimedMatches"] > 0 and report["detections"][0]["matches"] == len(times)


def test_samples_name_the_actor_as_every_command_does(tmp_path):
    base = fixture_events()[0]
    identities = [{"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/ops/alice",
                   "invokedBy": "cloudformation.amazonaws.com"},
                  {"type": "IAMUser", "userName": "bob"}, {"type": "Root", "principalId": "111122223333"},
                  {"type": "AWSService"}, None]
    events = []
    for position, identity in enumerate(identities):
        event = dict(base, eventTime=f"2026-03-14T09:{20 + 5 * position}:00Z", eventName="ConsoleLogin")
        if identity is None:
            event.pop("userIdentity", None)
        else:
            event["userIdentity"] = identity
        events.append(event)
    write_delivery(tmp_path / "who.json.gz", events)
    report = assert_same([str(tmp_path)], from_pattern('{ $.eventName = "ConsoleLogin" }'))
    who = [sample["who"] for sample in report["detections"][0]["samples"]]
    assert who == ["arn:aws:sts::111122223333:assumed-role/ops/alice via cloudformation.amazonaws.com", "bob",
                   "111122223333", "AWSService", "-"]


def test_a_stack_file_with_custom_detections_and_overrides(tmp_path):
    if not SHARED_EVENTS.is_dir():
        sources = [str(FIXTURES / "sources")]
    else:
        sources = [str(SHARED_EVENTS), str(FIXTURES / "sources")]
    targets = from_stack(REPO, "prod")
    report = assert_same(sources, targets)
    assert [d["id"] for d in report["detections"]] == [t.id for t in targets]


def test_local_layout_filters_pick_the_same_files(tmp_path):
    write_corpus(tmp_path, 1_000, records_per_file=50, seconds_per_event=400, seed=5)
    options = RunOptions(s3=S3Options(since=dt.date(2026, 10, 2), until=dt.date(2026, 10, 3)))
    units = plan([str(tmp_path)], options)
    targets = from_detection_ids(["all"])
    native = comparable(build_report(run_units(units, targets, options)).as_json_dict())
    duck = comparable(build_report(duckdb_engine.run_duckdb(units, targets, options)).as_json_dict())
    assert duck == native
    assert 0 < native["summary"]["files"] < 20


def test_strict_stops_at_the_first_rejection(tmp_path):
    from trailguard.backtest import BacktestError

    units = plan([str(FIXTURES / "bad" / "truncated.json.gz")], RunOptions(strict=True))
    with pytest.raises(BacktestError, match="--strict stops at the first rejected input"):
        duckdb_engine.run_duckdb(units, from_detection_ids(["cis"]), RunOptions(strict=True))


def test_s3_sources_with_layout_filters(endpoint, archive):
    """The S3 archive of the back-test's own S3 tests (moto's server): the same objects fetched
    ahead, the unreadable GLACIER object rejected in its place, the same report."""
    options = RunOptions(s3=S3Options(endpoint_url=endpoint, regions=frozenset({"us-east-1"}), fetch_threads=4))
    units = plan([f"s3://{S3_BUCKET}"], options)
    targets = from_detection_ids(["all"])
    native = comparable(build_report(run_units(units, targets, options)).as_json_dict())
    duck = comparable(build_report(duckdb_engine.run_duckdb(units, targets, options)).as_json_dict())
    assert duck == native
    assert native["summary"]["files"] > 1000
    assert any(sample["file"].startswith("s3://") for d in native["detections"] for sample in d["samples"])
