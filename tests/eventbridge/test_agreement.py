"""The compiled EventBridge pattern agrees with the filter-pattern engine, judged by moto's
EventBridge matcher in a real moto server: every catalogue detection and profile on every catalogue
sample and every shared real event, and hypothesis-generated patterns and events in the mappable
subset.

Kept out of the comparison, because moto is laxer than or different from AWS there (docs/realtime.md):
booleans compared as numbers (moto's `1 == True`), arrays of objects (moto does not flatten them,
AWS does), and any array, boolean or null at a path a pattern compares with =, != or a number,
where EventBridge and filter patterns differ by design (EventBridge matches array elements and sees
booleans and null as values; a filter pattern does neither). `_in_oracle` names those events.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bench.local_s3 import moto_server
from tests.eventbridge.moto_oracle import EventBridgeOracle
from trailguard.catalog import PROFILES, load_catalog
from trailguard.eventbridge import EventBridgeRefusal, compile_event_pattern, event_for, validate_event_pattern
from trailguard.patterns import compile_pattern, walk
from trailguard.patterns.ast import Comparison, IsCheck, Key

REAL_EVENTS = Path(__file__).parents[3] / "shared" / "data" / "cloudtrail"


@pytest.fixture(scope="module")
def oracle() -> Iterator[EventBridgeOracle]:
    with moto_server() as endpoint:
        yield EventBridgeOracle(endpoint)


def _real_events() -> list[dict]:
    events: list[dict] = []
    for path in sorted(REAL_EVENTS.rglob("*.json")):
        events.extend(json.loads(path.read_text(encoding="utf-8")))
    return events


def _value_at(record: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(record, dict) or key not in record:
            return None
        record = record[key]
    return record


def _in_oracle(pattern_text: str, record: dict) -> bool:
    """False when a compared path holds an array, a boolean or null (see the module docstring)."""
    for node in walk(compile_pattern(pattern_text).tree):
        if isinstance(node, (Comparison, IsCheck)):
            path = tuple(p.name for p in node.selector.parts if isinstance(p, Key))
            value = _value_at(record, path)
            if isinstance(value, list):
                return False
            if isinstance(node, Comparison) and (value is None or isinstance(value, bool)) and \
                    _present(record, path):
                return False
    return True


def _present(record: Any, path: tuple[str, ...]) -> bool:
    for key in path:
        if not isinstance(record, dict) or key not in record:
            return False
        record = record[key]
    return True


def test_moto_test_event_pattern_is_a_no_op(oracle: EventBridgeOracle) -> None:
    """Why the oracle goes through PutRule and PutEvents: moto's TestEventPattern answers nothing."""
    answer = oracle.events.test_event_pattern(EventPattern='{"source": ["nothing"]}', Event=json.dumps(
        event_for({"eventSource": "kms.amazonaws.com", "eventName": "DisableKey"})))
    assert "Result" not in answer


@pytest.mark.parametrize("profile", PROFILES)
def test_catalogue_patterns_agree_on_samples_and_real_events(oracle: EventBridgeOracle, profile: str) -> None:
    # The real events live beside the repository (tests/catalog/test_real_events.py); a lone clone
    # still compares on every catalogue sample.
    records = _real_events() if REAL_EVENTS.is_dir() else []
    assert len(records) in (0, 310), f"{REAL_EVENTS}: the real-event data set changed"
    catalog = load_catalog()
    checked = excluded = fired = 0
    for detection in catalog.detections.values():
        text = detection.pattern_for(profile)
        compiled = compile_event_pattern(text)
        candidates = [s.event for s in detection.samples_for(profile)] + records
        kept = [dict(r) for r in candidates if _in_oracle(text, dict(r))]
        excluded += len(candidates) - len(kept)
        engine = compile_pattern(text)
        expected = [engine.matches(r) for r in kept]
        judged = oracle.matches(compiled.text, [event_for(r) for r in kept], compiled.rule_state)
        wrong = [r.get("eventName") for r, e, j in zip(kept, expected, judged) if e != j]
        assert wrong == [], f"{detection.id}/{profile}: EventBridge and the filter pattern disagree on {wrong}"
        checked += len(kept)
        fired += sum(expected)
    assert checked >= sum(len(d.samples_for(profile)) for d in catalog.detections.values()) + 16 * len(records)
    assert fired > (60 if records else 16)
    assert excluded == 0, f"{excluded} events kept out of the comparison"


@pytest.mark.parametrize(("text", "record"), [
    ("{ $.eventName = DeleteTrail }", {"eventName": ["DeleteTrail", "StopLogging"]}),
    ('{ $.eventType != "AwsServiceEvent" }', {"eventType": None}),
    ('{ $.eventType != "AwsServiceEvent" }', {"eventType": True}),
])
def test_documented_differences_are_real(oracle: EventBridgeOracle, text: str, record: dict) -> None:
    """Why `_in_oracle` leaves such events out: arrays, booleans and null at a compared path."""
    assert not _in_oracle(text, record)
    compiled = compile_event_pattern(text)
    assert compile_pattern(text).matches(record) is False
    assert oracle.matches(compiled.text, [event_for(record)]) == [True]


@pytest.mark.parametrize("pattern", [
    {"detail": {"eventName": [{"regex": "Delete.*"}]}},
    {"detail": {"eventName": [{"wildcard": "Delete**"}]}},
])
def test_moto_accepts_patterns_eventbridge_rejects(oracle: EventBridgeOracle, pattern: dict) -> None:
    """moto is laxer than AWS: the validator, not moto, is what rejects these."""
    assert validate_event_pattern(pattern) != []
    assert oracle.matches(json.dumps(pattern), [event_for({"eventName": "DeleteTrail"})]) == [True]


# ------------------------------------------------------------------ generated patterns and events

STRING_FIELDS = ("s1", "s2", "o.s3")
NUMBER_FIELD = "n"
FLAG_FIELD = "b"
STRING_LITERALS = ("ab", "abc", "b", "a*", "*b", "*a*", "ab*c", "x-1", "")
NUMBER_LITERALS = ("0", "1", "-5", "2.5", "400", "+400", "1e2")
STRING_VALUES = st.sampled_from(["ab", "abc", "cab", "b", "", "ab*c", "abxc", "x-1", "400", "+400", "100"])
NUMBER_VALUES = st.sampled_from([0, 1, -5, 2.5, 3, 100, 400, 400.0, 1e2, -0.5])


def _string_leaf() -> st.SearchStrategy[str]:
    return st.builds(lambda f, op, v: f'$.{f} {op} "{v}"', st.sampled_from(STRING_FIELDS),
                     st.sampled_from(["=", "!="]), st.sampled_from(STRING_LITERALS))


def _number_leaf() -> st.SearchStrategy[str]:
    return st.builds(lambda f, op, v: f"$.{f} {op} {v}", st.sampled_from(STRING_FIELDS + (NUMBER_FIELD,)),
                     st.sampled_from(["=", "<", ">", "<=", ">="]), st.sampled_from(NUMBER_LITERALS))


LEAVES = st.one_of(
    _string_leaf(), _number_leaf(),
    st.builds(lambda w: f"$.{FLAG_FIELD} IS {w}", st.sampled_from(["TRUE", "FALSE", "NULL"])),
    st.builds(lambda f: f"$.{f} NOT EXISTS", st.sampled_from(STRING_FIELDS + (NUMBER_FIELD, FLAG_FIELD))),
)


def _joined(op: str, parts: list[str]) -> str:
    return "(" + f" {op} ".join(parts) + ")"


def _grouped(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(_joined, st.sampled_from(["&&", "||"]), st.lists(inner, min_size=2, max_size=3))


EXPRESSIONS = st.recursive(LEAVES, _grouped, max_leaves=6)

SCALARS = st.one_of(STRING_VALUES, NUMBER_VALUES)
RECORDS = st.fixed_dictionaries({}, optional={
    "s1": SCALARS, "s2": SCALARS, "n": SCALARS,
    "o": st.one_of(st.just({}), st.fixed_dictionaries({}, optional={"s3": SCALARS})),
    "b": st.sampled_from([None, True, False, "true"]),
}).map(lambda r: {"eventSource": "ec2.amazonaws.com", "eventType": "AwsApiCall", **r})


def _compiled(text: str) -> Any:
    try:
        return compile_event_pattern(text)
    except EventBridgeRefusal:
        return None


@settings(max_examples=70, deadline=None, database=None,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow,
                                 HealthCheck.function_scoped_fixture])
@given(expression=EXPRESSIONS, records=st.lists(RECORDS, min_size=8, max_size=8))
def test_generated_patterns_agree(oracle: EventBridgeOracle, expression: str, records: list[dict]) -> None:
    text = "{ " + expression + " }"
    compiled = _compiled(text)
    assume(compiled is not None)
    engine = compile_pattern(text)
    expected = [engine.matches(r) for r in records]
    judged = oracle.matches(compiled.text, [event_for(r) for r in records], compiled.rule_state)
    assert judged == expected, f"{text} -> {compiled.text}"
