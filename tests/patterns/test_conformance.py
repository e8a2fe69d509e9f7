"""Every documented AWS example (tests/fixtures/filter-pattern-examples.json) as a conformance test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trailguard.patterns import compile_pattern, parse, render, rules

FIXTURE = Path(__file__).parents[1] / "fixtures" / "filter-pattern-examples.json"
CASES = json.loads(FIXTURE.read_text())["cases"]
assert CASES, "the conformance fixture is empty"


def _case_id(case: dict) -> str:
    return f"{case['id']}-{case.get('event_id') or 'syntax'}"


@pytest.mark.parametrize("case", [c for c in CASES if c["expected"] in ("match", "no match")], ids=_case_id)
def test_documented_match(case: dict) -> None:
    pattern = compile_pattern(case["pattern"])
    assert pattern.matches(case["event"]) is (case["expected"] == "match"), case["note"]


@pytest.mark.parametrize("case", [c for c in CASES if c["expected"] == "match (doc intent)"], ids=_case_id)
def test_doc_intent_cases_follow_rule_a7(case: dict) -> None:
    """AWS's current page says `[w1=ERROR, w2]` finds 6-token lines starting with ERROR; its older page
    shows the same pattern rejecting a 3-token line. Rule A7 (exact field count) follows the older,
    explicit pair, so these lines do not match until TestMetricFilter says otherwise."""
    assert rules.DELIMITED_EXACT_FIELD_COUNT
    assert compile_pattern(case["pattern"]).matches(case["event"]) is False
    # ...and the intent is expressible: with an ellipsis the same condition finds them.
    widened = case["pattern"].replace(", w2]", ", ...]")
    assert compile_pattern(widened).matches(case["event"]) is True


@pytest.mark.parametrize("case", [c for c in CASES if "probably wrong" in c["expected"]], ids=_case_id)
def test_logically_impossible_doc_claim_is_not_reproduced(case: dict) -> None:
    """A9: `w1!=ERROR && w1!=WARN` cannot match a line whose first word is ERROR."""
    assert compile_pattern(case["pattern"]).matches(case["event"]) is False


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_every_documented_pattern_is_valid_and_round_trips(case: dict) -> None:
    tree = parse(case["pattern"])
    assert parse(render(tree)) == tree
    compile_pattern(case["pattern"])


@pytest.mark.parametrize("case", [c for c in CASES if c["extracted"]], ids=_case_id)
def test_documented_extracted_values(case: dict) -> None:
    pattern = compile_pattern(case["pattern"])
    expected = case["extracted"]
    if "metricValue" in expected:
        assert pattern.metric_value(case["event"], "$.latency") == expected["metricValue"]
    elif any(k.startswith("dimension ") for k in expected):
        for key, value in expected.items():
            field = key.split(" ", 1)[1]
            from trailguard.patterns import decode_event
            assert decode_event(case["event"])[field] == value
    else:
        assert pattern.extract(case["event"]) == expected
