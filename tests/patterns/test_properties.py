"""Property tests: round-trip, robustness on arbitrary text, compiled matcher vs the reference walk."""

from __future__ import annotations

import orjson
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from trailguard.patterns import PatternSyntaxError, compile_pattern, parse, render
from trailguard.patterns._reference import evaluate

from .strategies import any_tree, delimited_pattern, event, json_pattern, message, term_pattern

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(any_tree)
def test_render_parse_round_trip(tree) -> None:
    text = render(tree)
    assume(text.strip() not in ('""', '" "'))
    assert parse(text) == tree
    assert render(parse(text)) == text


PATTERN_ALPHABET = st.text(alphabet='{}[]()$.*%"\\ =!<>&|?-,ISNOTEXULRAF0123456789abe_:\'\t', max_size=40)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(st.text(max_size=40), PATTERN_ALPHABET))
def test_arbitrary_text_raises_only_pattern_syntax_error(text: str) -> None:
    try:
        compiled = compile_pattern(text)
    except PatternSyntaxError as err:
        assert 1 <= err.column <= len(text) + 1
        assert "^" in str(err)
        return
    compiled.matches("some message")
    compiled.matches({"a": [1, {"b": None}]})


def _compiled(tree):
    try:
        return compile_pattern(render(tree))
    except PatternSyntaxError:  # quota (regex count, wildcard count) exceeded by the generated tree
        assume(False)


@SETTINGS
@given(json_pattern, event)
def test_compiled_json_matcher_agrees_with_reference(tree, ev) -> None:
    compiled = _compiled(tree)
    text = orjson.dumps(ev).decode()
    expected = evaluate(compiled.tree, ev, text)
    assert compiled.matches(ev) is expected
    assert compiled.matches(text) is expected


@SETTINGS
@given(st.one_of(term_pattern, delimited_pattern()), message)
def test_compiled_text_matcher_agrees_with_reference(tree, msg) -> None:
    compiled = _compiled(tree)
    assert compiled.matches(msg) is evaluate(compiled.tree, None, msg)
