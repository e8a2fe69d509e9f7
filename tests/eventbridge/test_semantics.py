"""`trailguard.eventbridge_semantics`: the EventBridge matcher against AWS's documented examples and
moto's matcher (a real moto server, where moto is faithful), and the reading of patterns as
record conditions: sound (the reading never matches a record the rule misses), exact where it
claims no gap, and proving every compiled catalogue pattern.

Where moto is laxer than AWS, kept out of the oracle comparison and asserted against the AWS
documentation only: `1` equals `true` in moto; moto does not flatten arrays of objects; moto's
`exists` sees an empty object or array as present; moto's cidr accepts a number as an address.
"""

from __future__ import annotations

import copy
import json
from typing import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.local_s3 import moto_server
from tests.eventbridge.moto_oracle import EventBridgeOracle
from trailguard.catalog import load_catalog
from trailguard.eventbridge import compile_event_pattern, event_for, validate_event_pattern
from trailguard.eventbridge_semantics import (
    EventPatternError, covers, matches, read_rule, reading_pattern, wildcard_parts,
)
from trailguard.patterns import compile_pattern, render

SOURCE = "aws.trailguard"
DETAIL_TYPE = "AWS API Call via CloudTrail"


def event(detail: dict) -> dict:
    return {"version": "0", "source": SOURCE, "detail-type": DETAIL_TYPE, "detail": detail}


# (detail pattern, detail, AWS's answer). From the "Content filtering" and "Comparison operators"
# pages of the EventBridge User Guide; every one of these moto judges the same way.
FAITHFUL = [
    ({"state": ["running"]}, {"state": "running"}, True),
    ({"state": ["running"]}, {"state": "Running"}, False),
    ({"state": ["running"]}, {}, False),
    ({"state": ["running", "stopped"]}, {"state": "stopped"}, True),
    ({"n": [300]}, {"n": 300}, True),
    ({"n": [300]}, {"n": 300.0}, True),
    ({"n": [300]}, {"n": "300"}, False),
    ({"s": ["300"]}, {"s": 300}, False),
    ({"v": [None]}, {"v": None}, True),
    ({"v": [None]}, {}, False),
    ({"v": [None]}, {"v": "null"}, False),
    ({"v": [""]}, {"v": ""}, True),
    ({"v": [True]}, {"v": True}, True),
    ({"v": [True]}, {"v": "true"}, False),
    ({"tags": ["a"]}, {"tags": ["b", "a"]}, True),
    ({"tags": ["a"]}, {"tags": ["b", "c"]}, False),
    ({"time": [{"prefix": "2017-10-02"}]}, {"time": "2017-10-02T18:43:48Z"}, True),
    ({"time": [{"prefix": "2017-10-02"}]}, {"time": "2017-10-03T18:43:48Z"}, False),
    ({"n": [{"prefix": "3"}]}, {"n": 300}, False),
    ({"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}, {"service": "eventbridge"}, True),
    ({"file": [{"suffix": ".png"}]}, {"file": "image.png"}, True),
    ({"file": [{"suffix": ".png"}]}, {"file": "image.PNG"}, False),
    ({"file": [{"suffix": {"equals-ignore-case": ".png"}}]}, {"file": "image.PNG"}, True),
    ({"name": [{"equals-ignore-case": "alice"}]}, {"name": "ALICE"}, True),
    ({"name": [{"equals-ignore-case": "alice"}]}, {"name": "alicia"}, False),
    ({"path": [{"wildcard": "dir/*.png"}]}, {"path": "dir/a/b.png"}, True),
    ({"path": [{"wildcard": "dir/*.png"}]}, {"path": "dir/a/b.jpg"}, False),
    ({"path": [{"wildcard": "a\\*b"}]}, {"path": "a*b"}, True),
    ({"path": [{"wildcard": "a\\*b"}]}, {"path": "axb"}, False),
    ({"path": [{"wildcard": "*"}]}, {"path": 5}, False),
    ({"state": [{"anything-but": "initializing"}]}, {"state": "running"}, True),
    ({"state": [{"anything-but": "initializing"}]}, {"state": "initializing"}, False),
    ({"state": [{"anything-but": "initializing"}]}, {}, False),
    ({"state": [{"anything-but": "initializing"}]}, {"state": None}, True),
    ({"state": [{"anything-but": ["stopped", "overloaded"]}]}, {"state": "stopped"}, False),
    ({"state": [{"anything-but": ["stopped", "overloaded"]}]}, {"state": "running"}, True),
    ({"x": [{"anything-but": 123}]}, {"x": 123.0}, False),
    ({"x": [{"anything-but": 123}]}, {"x": 124}, True),
    ({"x": [{"anything-but": [100, 200]}]}, {"x": "100"}, True),
    ({"region": [{"anything-but": {"prefix": "us-"}}]}, {"region": "us-east-1"}, False),
    ({"region": [{"anything-but": {"prefix": "us-"}}]}, {"region": "eu-west-1"}, True),
    ({"file": [{"anything-but": {"suffix": ".png"}}]}, {"file": "a.txt"}, True),
    ({"file": [{"anything-but": {"suffix": ".png"}}]}, {"file": "a.png"}, False),
    ({"state": [{"anything-but": {"equals-ignore-case": "running"}}]}, {"state": "RUNNING"}, False),
    ({"state": [{"anything-but": {"equals-ignore-case": ["a", "b"]}}]}, {"state": "c"}, True),
    ({"path": [{"anything-but": {"wildcard": "*/lib/*"}}]}, {"path": "/usr/lib/x"}, False),
    ({"path": [{"anything-but": {"wildcard": "*/lib/*"}}]}, {"path": "/usr/bin/x"}, True),
    ({"c": [{"numeric": [">", 0, "<=", 5]}]}, {"c": 5}, True),
    ({"c": [{"numeric": [">", 0, "<=", 5]}]}, {"c": 0}, False),
    ({"c": [{"numeric": [">", 0, "<=", 5]}]}, {"c": "3"}, False),
    ({"c": [{"numeric": ["=", 3.5]}]}, {"c": 3.5}, True),
    ({"c": [{"numeric": [">=", 10]}]}, {"c": [1, 20]}, True),
    ({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": "10.0.0.255"}, True),
    ({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": "10.0.1.0"}, False),
    ({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": "not an ip"}, False),
    ({"c": [{"exists": True}]}, {"c": "x"}, True),
    ({"c": [{"exists": True}]}, {"c": None}, True),
    ({"c": [{"exists": True}]}, {}, False),
    ({"c": [{"exists": False}]}, {}, True),
    ({"c": [{"exists": False}]}, {"c": "x"}, False),
    ({"c": [{"exists": False}]}, {"c": {"d": 1}}, True),
    ({"c": [{"exists": True}]}, {"c": {"d": 1}}, False),
    ({"a": {"b": ["x"]}}, {"a": {"b": "x"}}, True),
    ({"a": {"b": ["x"]}}, {"a": "x"}, False),
    ({"a": {"b": [{"exists": False}]}}, {}, True),
    ({"a": ["x"], "b": ["y"]}, {"a": "x", "b": "z"}, False),
    ({"$or": [{"a": ["x"]}, {"b": ["y"]}]}, {"b": "y"}, True),
    ({"$or": [{"a": ["x"]}, {"b": ["y"]}]}, {"a": "y"}, False),
    ({"a": ["x"], "$or": [{"b": [{"numeric": [">", 1]}]}, {"c": [{"prefix": "p"}]}]}, {"a": "x", "c": "pq"}, True),
    ({"a": {"$or": [{"b": ["x"]}, {"c": ["y"]}]}}, {"a": {"c": "y"}}, True),
]

# Where moto is laxer than AWS: our matcher follows the AWS documentation.
MOTO_LAX = [
    ({"v": [True]}, {"v": 1}, False),  # moto: 1 == True
    ({"n": [1]}, {"n": True}, False),
    ({"a": {"b": ["x"]}}, {"a": [{"b": "x"}, {"b": "y"}]}, True),  # arrays of objects are flattened
    ({"a": {"b": ["x"], "c": ["y"]}}, {"a": [{"b": "z"}, {"b": "x", "c": "y"}]}, True),
    ({"c": [{"exists": True}]}, {"c": {}}, False),  # an empty object has no leaf
    ({"c": [{"exists": True}]}, {"c": []}, False),  # nor an empty array
    ({"c": [{"exists": False}]}, {"c": []}, True),
    ({"ip": [{"cidr": "0.0.0.0/8"}]}, {"ip": 5}, False),  # moto reads the number 5 as 0.0.0.5
]


# Not oracle-checked either: moto answers the same only because it never looks into arrays of objects.
ARRAY_CONSISTENCY = [
    ({"a": {"b": ["x"], "c": ["y"]}}, {"a": [{"b": "x"}, {"c": "y"}]}, False),  # both fields from one element
]


@pytest.fixture(scope="module")
def oracle() -> Iterator[EventBridgeOracle]:
    with moto_server() as endpoint:
        yield EventBridgeOracle(endpoint)


@pytest.mark.parametrize("pattern, detail, expected", FAITHFUL + MOTO_LAX + ARRAY_CONSISTENCY)
def test_documented_behaviour(pattern: dict, detail: dict, expected: bool) -> None:
    assert matches({"detail": pattern}, event(detail)) is expected


def test_moto_agrees_on_the_faithful_cases(oracle: EventBridgeOracle) -> None:
    for pattern, detail, expected in FAITHFUL:
        assert oracle.matches(json.dumps({"detail": pattern}), [event(detail)]) == [expected], (pattern, detail)


def test_moto_differs_on_the_cases_kept_out(oracle: EventBridgeOracle) -> None:
    """Guards the list: each kept-out case really is one where moto answers otherwise."""
    for pattern, detail, expected in MOTO_LAX:
        assert oracle.matches(json.dumps({"detail": pattern}), [event(detail)]) == [not expected], (pattern, detail)


def test_envelope_fields_are_matched_too() -> None:
    record = {"eventSource": "kms.amazonaws.com", "eventName": "DisableKey", "eventType": "AwsApiCall"}
    assert matches({"source": ["aws.kms"], "detail-type": [DETAIL_TYPE]}, event_for(record))
    assert not matches({"source": ["aws.iam"]}, event_for(record))
    assert not matches({"detail-type": ["AWS Console Signin via CloudTrail"]}, event_for(record))


@pytest.mark.parametrize("pattern, where", [
    ({"detail": {"a": [{"regex": "x"}]}}, "detail.a"),
    ({"detail": {"a": "x"}}, "detail.a"),
    ({"detail": {"a": []}}, "detail.a"),
    ({"detail": {"a": [{"numeric": ["!=", 1]}]}}, "detail.a"),
    ({"$or": {"a": ["x"]}}, "$or"),
])
def test_invalid_patterns_name_where(pattern: dict, where: str) -> None:
    with pytest.raises(EventPatternError, match=f"event pattern {where.replace('$', '[$]')}:"):
        matches(pattern, event({"a": "x"}))


def test_wildcard_parts_read_escapes() -> None:
    assert wildcard_parts("a\\*b*c\\\\") == ["a*b", None, "c\\"]


# --- hypothesis against moto -------------------------------------------------------------------

KEYS = ("a", "b")
STRINGS = ("x", "xy", "Xy", "yx", "", "10.0.0.5", "300")
NUMBERS = (0, 5, 300, 300.0, 2.5)

scalars = st.sampled_from(STRINGS) | st.sampled_from(NUMBERS) | st.none()
values = scalars | st.lists(scalars, min_size=1, max_size=3) | st.fixed_dictionaries({"c": scalars})
details = st.dictionaries(st.sampled_from(KEYS), values, max_size=2)

string_matchers = st.one_of(
    st.sampled_from(STRINGS),
    st.builds(lambda s: {"prefix": s}, st.sampled_from(("x", "X", "1"))),
    st.builds(lambda s: {"suffix": s}, st.sampled_from(("y", "Y", "0"))),
    st.builds(lambda s: {"prefix": {"equals-ignore-case": s}}, st.sampled_from(("x", "X"))),
    st.builds(lambda s: {"suffix": {"equals-ignore-case": s}}, st.sampled_from(("y", "Y"))),
    st.builds(lambda s: {"equals-ignore-case": s}, st.sampled_from(("xy", "XY"))),
    st.builds(lambda s: {"wildcard": s}, st.sampled_from(("x*", "*y", "*x*", "x*y", "1*.*5"))),
    st.builds(lambda s: {"anything-but": s}, st.sampled_from(STRINGS) | st.lists(st.sampled_from(STRINGS), min_size=1,
                                                                                  max_size=2, unique=True)),
    st.builds(lambda s: {"anything-but": {"prefix": s}}, st.sampled_from(("x", "1"))),
    st.builds(lambda s: {"anything-but": {"suffix": s}}, st.sampled_from(("y", "0"))),
    st.builds(lambda s: {"anything-but": {"equals-ignore-case": s}}, st.sampled_from(("xy", "XY"))),
    st.builds(lambda s: {"anything-but": {"wildcard": s}}, st.sampled_from(("x*", "*y"))),
    st.just({"cidr": "10.0.0.0/24"}),
)
number_matchers = st.one_of(
    st.sampled_from((0, 5, 300, 2.5)),
    st.builds(lambda n: {"anything-but": n}, st.sampled_from((5, 300))),
    st.builds(lambda op, n: {"numeric": [op, n]}, st.sampled_from(("=", "<", "<=", ">", ">=")),
              st.sampled_from((0, 5, 300, 2.5))),
    st.just({"numeric": [">", 0, "<=", 300]}),
)
matchers = string_matchers | number_matchers | st.just(None) | st.builds(lambda b: {"exists": b}, st.booleans())
leaves = st.lists(matchers, min_size=1, max_size=3)
fields = st.dictionaries(st.sampled_from(KEYS), leaves | st.fixed_dictionaries({"c": leaves}), min_size=1, max_size=2)
detail_patterns = fields | st.builds(lambda common, branches: {**common, "$or": branches},
                                     st.dictionaries(st.sampled_from(("a",)), leaves, max_size=1),
                                     st.lists(st.dictionaries(st.sampled_from(("b",)), leaves, min_size=1), min_size=2,
                                              max_size=2))


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pattern=detail_patterns, batch=st.lists(details, min_size=6, max_size=6))
def test_generated_patterns_agree_with_moto(oracle: EventBridgeOracle, pattern: dict, batch: list[dict]) -> None:
    """Booleans, arrays of objects and empty containers are left out (moto differs there, above)."""
    events = [event(d) for d in batch]
    ours = [matches({"detail": pattern}, e) for e in events]
    assert oracle.matches(json.dumps({"detail": pattern}), events) == ours, pattern


# --- the reading -------------------------------------------------------------------------------

CATALOG = load_catalog()


@pytest.mark.parametrize("detection_id, profile", [(d.id, p) for d in CATALOG.detections.values() for p in d.patterns])
def test_every_compiled_catalogue_pattern_is_read_exactly_and_proved(detection_id: str, profile: str) -> None:
    text = CATALOG.get(detection_id).patterns[profile]
    compiled = compile_event_pattern(text)
    assert read_rule(compiled.pattern).gaps == ()
    assert covers(compiled.pattern, text).verdict == "contained"


def test_narrowed_rule_gets_an_engine_and_matcher_confirmed_counterexample() -> None:
    text = CATALOG.get("kms-key-disable-or-deletion").patterns["default"]
    pattern = copy.deepcopy(compile_event_pattern(text).pattern)
    pattern["detail"]["eventName"] = ["DisableKey"]
    result = covers(pattern, text)
    assert result.verdict == "not-contained"
    assert result.counterexample["eventName"] == "ScheduleKeyDeletion"
    assert compile_pattern(text).matches(result.counterexample)
    assert not matches(pattern, event_for(result.counterexample))


def test_source_and_detail_type_are_judged_through_event_for() -> None:
    text = CATALOG.get("kms-key-disable-or-deletion").patterns["default"]
    compiled = compile_event_pattern(text).pattern
    assert covers({**compiled, "source": ["aws.iam"]}, text).verdict == "not-contained"
    signin_only = {**compiled, "detail-type": ["AWS Console Signin via CloudTrail"]}
    result = covers(signin_only, text)
    assert result.verdict == "not-contained" and result.counterexample.get("eventType") != "AwsConsoleSignIn"
    assert covers({**compiled, "detail-type": [DETAIL_TYPE]}, text).verdict == "not-contained"  # a service event
    unrelated = {"source": ["aws.kms"], "detail": {"eventName": ["DisableKey", "ScheduleKeyDeletion"]}}
    assert covers(unrelated, text).verdict == "contained"  # broader is fine


def test_unreadable_constructs_are_gaps_and_undecided_when_the_rule_matches_the_counterexample() -> None:
    text = CATALOG.get("kms-key-disable-or-deletion").patterns["default"]
    pattern = copy.deepcopy(compile_event_pattern(text).pattern)
    pattern["detail"]["sourceIPAddress"] = [{"cidr": "0.0.0.0/0"}, {"exists": False}]
    result = covers(pattern, text)
    assert result.reading.gaps == ("detail.sourceIPAddress: the cidr '0.0.0.0/0'",)
    assert result.verdict == "undecided"
    assert "the cidr '0.0.0.0/0'" in result.reason


def test_equals_ignore_case_reads_as_exact_case_and_still_proves() -> None:
    text = CATALOG.get("kms-key-disable-or-deletion").patterns["default"]
    pattern = copy.deepcopy(compile_event_pattern(text).pattern)
    pattern["detail"]["eventName"] = [{"equals-ignore-case": n} for n in pattern["detail"]["eventName"]]
    result = covers(pattern, text)
    assert result.reading.gaps and result.verdict == "contained"


# A record universe where the filter-pattern and EventBridge readings of a field agree: compared
# fields hold strings, numbers, null or booleans (docs/realtime.md "Where the two languages differ"),
# and objects only where the pattern tests below them.
record_scalars = st.sampled_from(("x", "xy", "Xy", "yx", "", "300", "x*y")) | st.sampled_from((0, 5, 300, 2.5))
record_values = record_scalars | st.none() | st.booleans() | st.fixed_dictionaries({"c": record_scalars})
records = st.dictionaries(st.sampled_from(KEYS), record_values, max_size=2)
reading_matchers = string_matchers | number_matchers | st.just(None) | st.just(True) | st.builds(
    lambda b: {"exists": b}, st.booleans()) | st.sampled_from(("*x", "x*", "5"))
reading_fields = st.dictionaries(st.sampled_from(KEYS), st.lists(reading_matchers, min_size=1, max_size=3) |
                                 st.fixed_dictionaries({"c": st.lists(reading_matchers, min_size=1, max_size=2)}),
                                 min_size=1, max_size=2)


@settings(max_examples=400, deadline=None, database=None)
@given(pattern=reading_fields, batch=st.lists(records, min_size=1, max_size=8))
def test_reading_never_matches_a_record_the_rule_misses_and_is_exact_without_gaps(pattern: dict, batch: list) -> None:
    reading = read_rule({"detail": pattern})
    tree = reading_pattern(reading)
    condition = (lambda r: True) if reading.expr is True else compile_pattern(render(tree)).matches
    for record in batch:
        rule = matches({"detail": pattern}, event_for(record))
        if condition(record):
            assert rule, (pattern, record, render(tree))
        elif not reading.gaps and not _object_at_a_leaf(pattern, record):
            assert not rule, (pattern, record, render(tree))


def _object_at_a_leaf(pattern: dict, record: dict) -> bool:
    """An object where the pattern tests a leaf: EventBridge sees no value there (only
    `exists: false` matches), a filter pattern sees a field that exists; the reading is narrower."""
    for key, sub in pattern.items():
        value = record.get(key)
        if isinstance(sub, dict) and isinstance(value, dict) and _object_at_a_leaf(sub, value):
            return True
        if isinstance(sub, list) and isinstance(value, dict):
            return True
    return False


def test_compiled_patterns_are_valid_for_the_reader_and_validator() -> None:
    """The reader reads what the validator accepts; a pattern EventBridge rejects is an error."""
    for detection in CATALOG.detections.values():
        for text in detection.patterns.values():
            assert validate_event_pattern(compile_event_pattern(text).pattern) == []
    with pytest.raises(EventPatternError, match="unknown operator 'regex'"):
        read_rule({"detail": {"a": [{"regex": "x"}]}})
    for empty in ({"anything-but": []}, {"anything-but": {"prefix": []}}, {"equals-ignore-case": []},
                  {"wildcard": []}):
        with pytest.raises(EventPatternError, match="detail.a: "):
            read_rule({"detail": {"a": [empty]}})
