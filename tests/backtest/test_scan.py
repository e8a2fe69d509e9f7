"""Decode once, dispatch, tally, merge: the shortcuts must give the answers of the plain way."""

from __future__ import annotations

import copy

import orjson
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from trailguard.alarms import AlarmSettings
from trailguard.backtest import BacktestError, RunOptions, Target, build_report, from_detection_ids, run
from trailguard.backtest.decode import PartialDecoder, decoder_for
from trailguard.backtest.dispatch import Dispatcher
from trailguard.catalog import load_catalog
from trailguard.patterns import PRESENT, compile_pattern, constraints, required_values, specialize

from .conftest import FIXTURES, fixture_events, shared_events, write_delivery


def catalogue_patterns() -> list:
    catalog = load_catalog()
    texts = {d.pattern_for(profile) for d in catalog.detections.values() for profile in ("default", "securityhub")}
    return [compile_pattern(text) for text in sorted(texts)]


def probe_events() -> list[dict]:
    """Fixture events plus the catalogue's own positives and negatives, plus awkward shapes."""
    catalog = load_catalog()
    events = fixture_events()
    for detection in catalog.detections.values():
        for profile in ("default", "securityhub"):
            events += [dict(e) for e in detection.positives_for(profile)]
            events += [dict(e) for e in detection.negatives_for(profile)]
    events += [{"eventName": 42, "eventVersion": "1.08"}, {"eventVersion": "1.08"}, {"eventName": None},
               {"eventName": "X", "errorCode": 403, "userIdentity": {"type": 1}}, {"eventName": "X", "userIdentity": "Root"},
               {"eventName": "X", "errorCode": None, "userIdentity": None}]
    return events


# --- dispatch ---------------------------------------------------------------------------------


def test_required_values_reads_the_tree():
    def needed(text):
        return required_values(compile_pattern(text).tree, "eventName")

    assert needed('{ $.eventName = "A" || $.eventName = B }') == {"A", "B"}
    assert needed("{ $.eventSource = s3.amazonaws.com && ($.eventName = A || $.eventName = B) }") == {"A", "B"}
    assert needed("{ ($.eventName = A || $.eventName = B) && ($.eventName = B || $.eventName = C) }") == {"B"}
    assert needed("{ $.eventName = A || $.errorCode = X }") is None  # one branch says nothing
    assert needed("{ $.eventName = A* }") is None  # a wildcard is not an exact name
    assert needed("{ $.eventName != A }") is None
    assert needed("{ $.requestParameters.eventName = A }") is None


def test_constraints_give_guards_for_patterns_without_an_event_name():
    def found(text):
        return constraints(compile_pattern(text).tree.expr)

    root = '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'
    assert found(root) == {("userIdentity", "type"): frozenset({"Root"}), ("eventType",): PRESENT}
    unauthorized = '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'
    assert found(unauthorized) == {("errorCode",): PRESENT}
    assert found("{ $.a = x || $.b = y }") == {}
    assert found("{ ($.a = x || $.a = y) && $.a = y }") == {("a",): frozenset({"y"})}
    assert found("{ $.a[0] = x && $.b.* = y }") == {}
    assert found("{ $.a IS NULL }") == {("a",): PRESENT}


def test_specialize_decides_the_conditions_on_the_known_name():
    from trailguard.patterns import render

    def folded(text, name):
        result = specialize(compile_pattern(text).tree.expr, ("eventName",), name)
        return result if isinstance(result, bool) else render(result)

    ct = "{ ($.eventSource = cloudtrail.amazonaws.com) && ($.eventName = StopLogging || $.eventName = DeleteTrail) }"
    assert folded(ct, "StopLogging") == "$.eventSource = cloudtrail.amazonaws.com"
    assert folded(ct, "CreateTrail") is False
    assert folded("{ $.eventName = Delete* && $.errorCode NOT EXISTS }", "DeleteTrail") == "$.errorCode NOT EXISTS"
    assert folded("{ $.eventName = Delete* && $.errorCode NOT EXISTS }", "PutTrail") is False
    assert folded("{ $.eventName = A || $.errorCode = X }", "A") is True
    assert folded("{ $.eventName = A || $.errorCode = X }", "B") == "$.errorCode = X"
    assert folded("{ $.eventName != A && $.x = 1 }", "B") == "$.x = 1"
    assert folded("{ $.eventName != A && $.x = 1 }", "A") is False
    assert folded("{ $.requestParameters.eventName = A && $.x = 1 }", "B") == "$.requestParameters.eventName = A && $.x = 1"


def test_dispatch_gives_the_same_answers_as_running_every_pattern():
    patterns = catalogue_patterns()
    dispatcher = Dispatcher(patterns)
    unindexed = sum(len(behind) for *_, behind in dispatcher.guards) + len(dispatcher.always)
    assert unindexed < len(patterns) / 3 and dispatcher.guards  # the index actually prunes, guards exist
    quiet = {"eventName": "DescribeInstances", "eventVersion": "1.08", "userIdentity": {"type": "IAMUser"}}
    assert [i for i, m in dispatcher.candidates(quiet) if m(quiet)] == []
    checked = 0
    for event in probe_events():
        expected = [i for i, p in enumerate(patterns) if p.matches(event)]
        found = sorted(i for i, match in dispatcher.candidates(event) if match(event))
        assert found == expected, event
        checked += bool(expected)
    assert checked >= 16  # many events do match something: the comparison is not vacuous


def test_dispatch_on_the_shared_real_events():
    patterns = catalogue_patterns()
    dispatcher = Dispatcher(patterns)
    for event in shared_events():
        assert sorted(i for i, m in dispatcher.candidates(event) if m(event)) == [i for i, p in enumerate(patterns) if p.matches(event)]


# --- partial decoding -------------------------------------------------------------------------


def test_partial_decoding_keeps_every_answer():
    import orjson

    pytest.importorskip("msgspec", reason="msgspec not installed: events are decoded whole (requirements pin it)")
    from trailguard.records import iter_batches

    patterns = catalogue_patterns()
    decoder = decoder_for(patterns)
    assert decoder is not None
    assert "tlsDetails" not in decoder.keys and "userAgent" not in decoder.keys
    # Of requestParameters only the rule names monitoring-tampering reads, never the whole object.
    assert set(decoder.trie["requestParameters"]) == {"name", "rule"}
    assert set(decoder.trie["userIdentity"]) == {"type", "invokedBy", "arn", "userName", "principalId"}
    refused = 0
    for event in probe_events():
        data = orjson.dumps(event)
        try:
            decoder.loads(data)
        except ValueError:
            refused += 1  # a shape the partial decoder refuses: the reader decodes it fully instead
        (batch,) = list(iter_batches(data, decoder=decoder))
        (partial,) = batch
        assert [p.matches(partial) for p in patterns] == [p.matches(event) for p in patterns], event
    assert refused >= 1  # the fallback path was exercised


def test_patterns_reading_any_key_get_the_full_decoder():
    pytest.importorskip("msgspec", reason="msgspec not installed: events are decoded whole (requirements pin it)")
    assert decoder_for([compile_pattern("{ $.eventName = A }"), compile_pattern("ERROR")]) is None
    assert decoder_for([compile_pattern("{ $.* = A }")]) is None
    assert isinstance(decoder_for([compile_pattern("{ $.eventName = A }")]), PartialDecoder)


# --- whole runs -------------------------------------------------------------------------------


def _strip_timing(report: dict) -> dict:
    report = copy.deepcopy(report)
    for key in ("seconds", "eventsPerSecond", "workers"):
        report["summary"].pop(key)
    return report


def test_two_workers_report_exactly_what_one_does(tmp_path, events):
    for n in range(12):
        shifted = [dict(e, eventTime=e["eventTime"].replace("T09", f"T{9 + n % 3:02d}"), eventID=f"{n}-{i}")
                   for i, e in enumerate(events)]
        write_delivery(tmp_path / f"f{n:02d}.json.gz", shifted)
    targets = from_detection_ids(["all"])
    one = build_report(run([str(tmp_path)], targets, RunOptions(workers=1))).as_json_dict()
    two = build_report(run([str(tmp_path)], targets, RunOptions(workers=2))).as_json_dict()
    assert _strip_timing(one) == _strip_timing(two)
    assert one["summary"]["eventsEvaluated"] == 12 * len(events)
    assert sum(d["matches"] for d in one["detections"]) > 0


def test_an_episode_can_need_matches_from_two_files(tmp_path, events):
    stop = next(e for e in events if e["eventName"] == "StopLogging")
    write_delivery(tmp_path / "a.json.gz", [dict(stop, eventTime="2025-03-04T09:01:00Z", eventID="a")])
    write_delivery(tmp_path / "b.json.gz", [dict(stop, eventTime="2025-03-04T09:03:00Z", eventID="b")])
    target = Target("stops", "two stops", "{ $.eventName = StopLogging }", AlarmSettings(threshold=2))
    (alone,) = build_report(run([str(tmp_path / "a.json.gz")], [target])).as_json_dict()["detections"]
    assert alone["matches"] == 1 and alone["episodes"] == []
    (both,) = build_report(run([str(tmp_path)], [target])).as_json_dict()["detections"]
    assert both["matches"] == 2
    (episode,) = both["episodes"]
    # the data ends in the period that tipped the alarm: the episode is still open at its end
    assert (episode["start"], episode["end"], episode["open"], episode["matches"]) == (
        "2025-03-04T09:05:00Z", "2025-03-04T09:05:00Z", True, 2)
    assert [s["file"] for s in episode["samples"]] == [str(tmp_path / "a.json.gz"), str(tmp_path / "b.json.gz")]
    assert [s["who"] for s in episode["samples"]] == ["arn:aws:iam::111122223333:user/alice"] * 2


def test_every_event_read_is_evaluated_or_rejected():
    report = build_report(run([str(FIXTURES / "sources"), str(FIXTURES / "bad")], from_detection_ids(["cis"]))).as_json_dict()
    summary = report["summary"]
    assert summary["eventsEvaluated"] + summary["eventsRejected"] == summary["eventsRead"]
    assert summary["eventsRejected"] == sum(summary["rejectedByReason"].values()) > 0
    assert set(summary["rejectedByReason"]) == {"corrupt gzip", "truncated gzip", "not JSON", "not CloudTrail"}
    assert {r["source"].rsplit("/", 1)[-1] for r in summary["rejections"]} >= {
        "corrupt.json.gz", "truncated.json.gz", "mixed.jsonl", "messages.log"}
    assert [s["source"].rsplit("/", 1)[-1] for s in summary["skipped"]] == ["digest.json"]  # skipped, not rejected


def test_strict_stops_at_the_first_rejection():
    with pytest.raises(BacktestError) as caught:
        run([str(FIXTURES / "bad" / "digest.json"), str(FIXTURES / "bad" / "scalars.json")], from_detection_ids(["cis"]),
            RunOptions(strict=True))  # a digest is skipped, not a rejection: --strict stops at the next file
    assert "scalars.json: not CloudTrail" in str(caught.value) and "--strict" in str(caught.value)


def test_untimed_matches_are_counted_but_not_replayed(tmp_path, events):
    stop = next(e for e in events if e["eventName"] == "StopLogging")
    write_delivery(tmp_path / "x.json.gz", [dict(stop, eventTime="yesterday"), stop, dict(stop, eventTime=" 1999")])
    report = build_report(run([str(tmp_path)], [Target("s", "s", "{ $.eventName = StopLogging }", AlarmSettings())])).as_json_dict()
    (found,) = report["detections"]
    assert (found["matches"], found["untimedMatches"], len(found["episodes"])) == (3, 2, 1)
    assert report["summary"]["firstEvent"] == report["summary"]["lastEvent"] == stop["eventTime"]
    assert found["episodes"][0]["matches"] == 1
    assert found["first"] == found["last"] == stop["eventTime"]


def test_the_pipeline_agrees_with_plain_evaluation_on_shared_events(tmp_path):
    events = shared_events()
    for start in range(0, len(events), 100):
        write_delivery(tmp_path / f"part{start:04d}.json.gz", events[start:start + 100])
    targets = from_detection_ids(["all"])
    report = build_report(run([str(tmp_path)], targets, RunOptions(workers=2))).as_json_dict()
    expected = {t.id: sum(compile_pattern(t.pattern).matches(e) for e in events) for t in targets}
    assert {d["id"]: d["matches"] for d in report["detections"]} == expected
    assert report["summary"]["eventsEvaluated"] == len(events) == 310
    assert expected["cloudtrail-config-changes"] >= 2 and expected["console-signin-without-mfa"] >= 1


def test_sample_memory_is_bounded_and_independent_of_the_split(tmp_path, events, monkeypatch):
    from trailguard.backtest import scan

    monkeypatch.setattr(scan, "SAMPLED_PERIODS", 3)
    stop = next(e for e in events if e["eventName"] == "StopLogging")
    # one match in every other five-minute period (ten episodes), spread over files in a scrambled order
    times = [f"2025-03-04T{9 + n * 10 // 60:02d}:{n * 10 % 60:02d}:30Z" for n in range(10)]
    for name, picks in {"c": [7, 1, 9], "a": [4, 0], "b": [8, 2, 6, 3, 5]}.items():
        write_delivery(tmp_path / f"{name}.json.gz", [dict(stop, eventTime=times[i], eventID=str(i)) for i in picks])
    target = Target("stops", "stops", "{ $.eventName = StopLogging }", AlarmSettings())
    reports = [build_report(run([str(tmp_path)], [target], RunOptions(workers=w))).as_json_dict()["detections"][0] for w in (1, 2)]
    assert reports[0]["episodes"] == reports[1]["episodes"]
    episodes = reports[0]["episodes"]
    assert len(episodes) == 10 and all(e["matches"] == 1 for e in episodes)
    # the earliest three periods keep their sample, the later ones report counts only
    assert [[s["time"] for s in e["samples"]] for e in episodes] == [[times[0]], [times[1]], [times[2]]] + [[]] * 7


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-04T09:00:10Z", 1741078810),
        ("2024-02-29T23:59:59Z", 1709251199),
        ("2025-03-04T09:00:10.123Z", 1741078810),
        ("2025-03-04T09:00:10+02:00", 1741071610),
        ("2025-03-04T09:00:10", 1741078810),  # no offset: UTC
        ("2025-02-29T00:00:00Z", None),
        ("2025-03-04T25:00:00Z", None),
        ("2025-03-04T0a:00:10Z", None),
        ("yesterday", None),
        (1741078810, None),
    ],
)
def test_event_time_parsing(text, expected):
    from trailguard.backtest.scan import minute_of
    from trailguard.timefmt import to_epoch_seconds

    assert to_epoch_seconds(text) == expected
    for _ in range(2):  # the second call may come from the minute cache
        assert minute_of(text) == (-1 if expected is None else expected - expected % 60)


def test_minute_cache_does_not_accept_bad_seconds():
    from trailguard.backtest.scan import minute_of

    assert minute_of("2025-03-04T09:00:10Z") == 1741078800
    assert minute_of("2025-03-04T09:00:99Z") == -1


@pytest.mark.parametrize("workers", [1, 2])
def test_progress_reports_add_up_to_the_summary(tmp_path, events, workers):
    from trailguard.backtest import plan, run_units

    for n in range(5):
        write_delivery(tmp_path / f"{n}.json.gz", events)
    (tmp_path / "bad.json").write_text("nope\n")
    calls: list[tuple[int, int, int]] = []
    options = RunOptions(workers=workers)
    result = run_units(plan([str(tmp_path)], options), from_detection_ids(["cis"]), options,
                       progress=lambda *delta: calls.append(delta))
    assert [sum(c[i] for c in calls) for i in range(3)] == [result.tally.files, result.tally.bytes, result.tally.read]
    assert (result.tally.files, result.tally.read, result.tally.rejected) == (6, 5 * len(events) + 1, 1)


def test_tallies_pickle_and_come_back_equal(tmp_path, events):
    import pickle

    from trailguard.backtest import plan
    from trailguard.backtest.scan import Scanner

    write_delivery(tmp_path / "x.json.gz", events)
    (unit,) = plan([str(tmp_path)], RunOptions())
    tally = Scanner(from_detection_ids(["all"])).scan(unit)
    copy = pickle.loads(pickle.dumps(tally))
    assert [d.minute_counts() for d in copy.detections] == [d.minute_counts() for d in tally.detections]
    assert [d.samples for d in copy.detections] == [d.samples for d in tally.detections]
    assert sum(sum(d.minute_counts().values()) for d in copy.detections) == sum(d.matches for d in tally.detections) > 0
    busiest = max(range(len(tally.detections)), key=lambda i: tally.detections[i].matches)
    copy.detections[busiest].merge(copy.detections[busiest])  # what came back are real, writable day arrays
    assert sum(copy.detections[busiest].minute_counts().values()) == 2 * tally.detections[busiest].matches > 0


def test_partial_decoder_measures_oversized_events_in_a_large_envelope(events):
    import orjson

    from trailguard.records import MAX_EVENT_BYTES, iter_batches

    pytest.importorskip("msgspec", reason="msgspec not installed: events are decoded whole (requirements pin it)")
    big = dict(events[3], requestParameters={"userData": "A" * (MAX_EVENT_BYTES + 10)})
    data = orjson.dumps({"Records": [events[0], big, events[1]]})
    items = list(iter_batches(data, label="big.json", decoder=decoder_for(catalogue_patterns())))
    assert [type(i).__name__ for i in items] == ["list", "Rejected", "list"]
    assert items[1].kind == "event over 256 KB" and "Records[1]" in items[1].reason
    assert [e["eventName"] for batch in (items[0], items[2]) for e in batch] == ["ConsoleLogin", "StopLogging"]
    assert "userAgent" in events[0] and "userAgent" not in items[0][0]  # still the partial decoder's events


def test_hour_counts_add_up_the_minute_counts(tmp_path, events):
    from trailguard.backtest import plan
    from trailguard.backtest.scan import Scanner

    spread = [dict(e, eventTime=f"2025-03-0{4 + n % 2}T{n % 24:02d}:{(7 * n) % 60:02d}:00Z") for n, e in enumerate(events * 6)]
    write_delivery(tmp_path / "x.json.gz", spread)
    (unit,) = plan([str(tmp_path)], RunOptions())
    tally = Scanner(from_detection_ids(["all"])).scan(unit)
    for detection in tally.detections:
        hours: dict[int, int] = {}
        for minute, count in detection.minute_counts().items():
            hours[minute - minute % 3600] = hours.get(minute - minute % 3600, 0) + count
        assert detection.hour_counts() == hours
    assert sum(len(d.hour_counts()) for d in tally.detections) > 10


def test_keeping_freed_memory_is_applied_on_glibc_and_skipped_elsewhere(monkeypatch):
    import ctypes.util
    import platform

    from trailguard.backtest import allocator

    allocator.keep_freed_memory.cache_clear()
    applied = allocator.keep_freed_memory()
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert applied is True
    allocator.keep_freed_memory.cache_clear()
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    assert allocator.keep_freed_memory() is False  # no C library found: nothing is changed
    allocator.keep_freed_memory.cache_clear()


def test_reports_do_not_depend_on_the_allocator_setting(tmp_path, events):
    write_delivery(tmp_path / "x.json.gz", events * 3)
    reports = [build_report(run([str(tmp_path)], from_detection_ids(["all"]), RunOptions(keep_freed_memory=keep))).as_json_dict()
               for keep in (True, False)]
    assert _strip_timing(reports[0]) == _strip_timing(reports[1])
    assert sum(d["matches"] for d in reports[0]["detections"]) > 0


def test_batch_matching_counts_what_plain_evaluation_does(tmp_path):
    """Whole batches (every eventName a string: the look-ups run over the batch) and mixed ones
    (a numeric or missing name: event by event) give the counts of running every pattern."""
    events = probe_events()
    named = [e for e in events if isinstance(e.get("eventName"), str)]
    write_delivery(tmp_path / "named.json.gz", named)
    write_delivery(tmp_path / "mixed.json.gz", events)
    targets = from_detection_ids(["all"])
    for name, sample in (("named.json.gz", named), ("mixed.json.gz", events)):
        report = build_report(run([str(tmp_path / name)], targets)).as_json_dict()
        expected = {t.id: sum(compile_pattern(t.pattern).matches(e) for e in sample) for t in targets}
        assert {d["id"]: d["matches"] for d in report["detections"]} == expected
        assert sum(expected.values()) > 30 and report["summary"]["eventsEvaluated"] == len(sample)
    assert len(named) < len(events)  # the mixed file really holds names that are not strings


def test_batch_guards_pick_the_events_passes_accepts():
    from trailguard.backtest.dispatch import passes
    from trailguard.backtest.scan import _passing

    batch = [e for e in probe_events() if isinstance(e, dict)]
    guards = [guard[:3] for guard in Dispatcher(catalogue_patterns()).guards]
    guards += [("errorCode", None, frozenset({"AccessDenied"})), ("userIdentity", "arn", None), ("eventName", None, None)]
    assert ("errorCode", None, None) in guards and ("userIdentity", "type", frozenset({"Root"})) in guards
    for guard in guards:
        expected = [position for position, event in enumerate(batch) if passes(event, *guard)]
        assert list(_passing(batch, *guard)) == expected, guard
        assert 0 < len(expected) < len(batch), guard  # each guard keeps some events and drops others


@hypothesis_settings(max_examples=500, deadline=None)
@given(epoch=st.integers(-2_000_000_000, 250_000_000_000))
def test_iso_formats_like_strftime(epoch):
    import time

    from trailguard.timefmt import format_utc

    assert format_utc(epoch) == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def test_sample_dicts_leave_out_what_an_event_did_not_have():
    from trailguard.backtest.scan import SAMPLE_FIELDS, sample_dict

    sample = ("2025-03-04T09:00:10Z", "StopLogging", None, "arn", "IAMUser", None, "eu-west-1", "1.2.3.4", None, "f", 0)
    assert sample_dict(sample) == {name: value for name, value in zip(SAMPLE_FIELDS, sample) if value is not None}
    assert list(sample_dict(sample)) == ["time", "event", "who", "identityType", "region", "sourceIp", "file", "index"]


@hypothesis_settings(max_examples=200, deadline=None)
@given(matches=st.lists(st.tuples(st.integers(0, 899), st.sampled_from(["a", "b", "c"]), st.integers(0, 5)),
                        min_size=1, max_size=40, unique=True),
       cut=st.integers(0, 40))
def test_each_period_keeps_its_earliest_samples_in_any_arrival_order_and_split(matches, cut):
    from trailguard.backtest.scan import SAMPLES_PER_PERIOD, DetectionTally, _count, sample_order

    def tally(part):
        found = DetectionTally()
        for second, source, index in part:
            when = f"2025-03-04T09:{second // 60:02d}:{second % 60:02d}Z"
            _count(found, 300, {"eventName": "X", "eventTime": when}, when, source, index)
        return found

    whole = tally(matches)
    left, right = tally(matches[:cut]), tally(matches[cut:])
    left.merge(right)
    for found in (whole, left):
        assert found.matches == len(matches)
        expected: dict[int, list] = {}
        for second, source, index in matches:
            when = f"2025-03-04T09:{second // 60:02d}:{second % 60:02d}Z"
            expected.setdefault((1741078800 + second) // 300, []).append((when, source, index))
        assert sorted(found.samples) == sorted(expected)
        for bucket, entries in expected.items():
            kept = found.period_samples(bucket)
            assert [sample_order(s) for s in kept] == sorted(entries)[:SAMPLES_PER_PERIOD]


@hypothesis_settings(max_examples=200, deadline=None)
@given(minutes=st.dictionaries(st.integers(0, 4 * 1440), st.integers(1, 5), max_size=40),
       period=st.sampled_from([60, 120, 300, 420, 900, 3600, 5400, 86_400, 172_800, 259_200]))
def test_period_counts_add_up_the_minute_counts_for_any_period(minutes, period):
    from trailguard.backtest.replay import period_totals
    from trailguard.backtest.scan import DetectionTally, _count

    found = DetectionTally()
    base = 1741046400  # 2025-03-04T00:00:00Z: the minutes span five UTC days
    for minute, count in minutes.items():
        when = iso_minute(base + 60 * minute)
        for n in range(count):
            _count(found, period, {"eventName": "X", "eventTime": when}, when, "f", n)
    assert found.minute_counts() == {base + 60 * m: c for m, c in minutes.items()}
    counts = found.period_counts(period)
    assert counts == period_totals(found.minute_counts(), period)
    assert list(counts) == sorted(counts)  # in time order, as the report's bisection needs


def iso_minute(epoch: int) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:00Z", time.gmtime(epoch))


@pytest.mark.parametrize("identity", [
    {"type": "IAMUser", "userName": "alice", "principalId": "AIDAEXAMPLE", "accountId": "111122223333"},
    {"type": "AWSAccount", "principalId": "AIDAEXAMPLE:bob", "accountId": "444455556666"},
    {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/r/s", "invokedBy": "cloudformation.amazonaws.com"},
    {"type": "AWSService", "invokedBy": "config.amazonaws.com"},
])
def test_a_samples_actor_is_the_one_trailguard_test_shows(identity):
    """One actor for every command: the back-test's partial decoder keeps what cloudtrail.who reads."""
    from trailguard.backtest.decode import decoder_for
    from trailguard.backtest.scan import sample_of
    from trailguard.cloudtrail import summarize

    event = {"eventVersion": "1.08", "eventTime": "2026-10-01T00:00:00Z", "eventSource": "signin.amazonaws.com",
             "eventName": "ConsoleLogin", "awsRegion": "us-east-1", "userIdentity": identity,
             "requestParameters": {"big": "x" * 100}}
    decoder = decoder_for([compile_pattern('{ $.eventName = "ConsoleLogin" }')])
    decoded = decoder.loads(orjson.dumps({"Records": [event]}))["Records"][0]
    assert sample_of(decoded, "f.json", 0)[3] == summarize(event).who
