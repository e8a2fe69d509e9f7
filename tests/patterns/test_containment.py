"""Containment of JSON patterns: per-construct verdicts, properties against the engine, the catalogue."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from trailguard.catalog import load_catalog
from trailguard.patterns import PatternSyntaxError, compile_pattern, contains, equivalent, parse, render
from trailguard.patterns._containment import ENVELOPE, Containment

from .strategies import events_near, json_pattern, shuffled

CONTAINED, NOT, UNDECIDED = "contained", "not-contained", "undecided"


def _separates(result: Containment, broad: str, narrow: str) -> bool:
    event = result.counterexample
    return compile_pattern(narrow).matches(event) and not compile_pattern(broad).matches(event)


# (broad, narrow, verdict): one pair per construct, each construct with both verdicts.
CASES = [
    # exact strings, && and ||
    ('{ $.eventName = "A" || $.eventName = "B" }', '{ $.eventName = "A" }', CONTAINED),
    ('{ $.eventName = "A" }', '{ $.eventName = "A" || $.eventName = "B" }', NOT),
    ('{ $.eventName = "A" }', '{ $.eventName = "A" && $.awsRegion = "us-east-1" }', CONTAINED),
    ('{ $.eventName = "A" && $.awsRegion = "us-east-1" }', '{ $.eventName = "A" }', NOT),
    # inequality, which is false on a missing field
    ('{ $.eventName != "A" }', '{ $.eventName = "B" }', CONTAINED),
    ('{ $.eventName != "A" }', '{ $.eventName NOT EXISTS }', NOT),
    ('{ $.eventName != "A" || $.eventName NOT EXISTS }', '{ $.eventName NOT EXISTS }', CONTAINED),
    # leading / trailing wildcards
    ('{ $.errorCode = "Access*" }', '{ $.errorCode = "AccessDenied*" }', CONTAINED),
    ('{ $.errorCode = "AccessDenied*" }', '{ $.errorCode = "Access*" }', NOT),
    ('{ $.errorCode = "*Operation" }', '{ $.errorCode = "*UnauthorizedOperation" }', CONTAINED),
    ('{ $.errorCode = "*Denied*" }', '{ $.errorCode = "AccessDenied" }', CONTAINED),
    ('{ $.errorCode = "*Denied*" }', '{ $.errorCode = "Access*" }', NOT),
    ('{ $.a = "ab*" || $.a = "*b" || $.a != "*b*" }', '{ $.a = "*" }', NOT),
    ('{ $.a = "a*" || $.a != "a*" }', '{ $.a = * }', CONTAINED),
    ('{ $.a = "Ev*ent" }', '{ $.a = "Event" }', NOT),  # an inner star is literal
    # = * (present strings and numbers only)
    ('{ $.a = * }', '{ $.a = "x" || $.a = 5 }', CONTAINED),
    ('{ $.a = * }', '{ $.a IS NULL }', NOT),
    ('{ $.a = "x" }', '{ $.a = * }', NOT),
    # numbers and numeric strings
    ('{ $.n > 3 }', '{ $.n >= 4 }', CONTAINED),
    ('{ $.n >= 4 }', '{ $.n > 3 }', NOT),
    ('{ $.n >= 1 && $.n <= 10 }', '{ $.n > 2 && $.n < 5 }', CONTAINED),
    ('{ $.n >= 1 && $.n <= 10 }', '{ $.n = 5 }', NOT),  # the string "5" fails both ordering tests
    ('{ ($.n >= 1 && $.n <= 10) || $.n = "5" }', '{ $.n = 5 }', CONTAINED),
    ('{ $.n > 1 }', '{ $.n = 5 }', NOT),  # = 5 also matches the string "5", which > never does
    ('{ $.n = 400 }', '{ $.n = "400" }', CONTAINED),  # number 400 and string "400" both
    ('{ $.n = "400" }', '{ $.n = 400 }', NOT),  # 400.0 has the text "400.0"
    ('{ $.n = 4e2 }', '{ $.n = 400 }', NOT),  # the string "400" is not the text "4e2"
    ('{ $.n != 5 }', '{ $.n > 5 }', CONTAINED),
    # IS NULL / TRUE / FALSE and NOT EXISTS
    ('{ $.a IS NULL || $.a IS TRUE || $.a IS FALSE }', '{ $.a IS TRUE }', CONTAINED),
    ('{ $.a IS NULL || $.a = * || $.a NOT EXISTS }', '{ $.a IS FALSE }', NOT),
    ('{ $.a = "true" }', '{ $.a IS TRUE }', NOT),
    ('{ $.a NOT EXISTS }', '{ $.a.b = "x" }', NOT),
    ('{ $.a.b NOT EXISTS }', '{ $.a NOT EXISTS }', CONTAINED),
    # nested paths against their parents
    ('{ $.a NOT EXISTS || $.a != "x" }', '{ $.a.b = "y" }', NOT),
    ('{ $.a.b NOT EXISTS }', '{ $.a = "x" }', CONTAINED),
    ('{ $.a = "x" }', '{ $.a = "x" && $.a.b NOT EXISTS }', CONTAINED),
    # indexes and [*]
    ('{ $.a[*] = "x" }', '{ $.a[0] = "x" }', CONTAINED),
    ('{ $.a[0] = "x" }', '{ $.a[*] = "x" }', NOT),
    ('{ $.a[1] NOT EXISTS }', '{ $.a[0] NOT EXISTS }', CONTAINED),
    ('{ $.a[0] NOT EXISTS }', '{ $.a[1] NOT EXISTS }', NOT),
    ('{ $.a[*] = "x" }', '{ $.a[0] = "x" && $.a[1] = "y" }', CONTAINED),
    ('{ $.a[*] NOT EXISTS }', '{ $.a[0] NOT EXISTS }', CONTAINED),  # no first element: empty
    ('{ $.a[*].b = "x" && $.a[*].c = "y" }', '{ $.a[0].b = "x" && $.a[0].c = "y" }', CONTAINED),
    ('{ $.a[0].b = "x" && $.a[0].c = "y" }', '{ $.a[*].b = "x" && $.a[*].c = "y" }', NOT),
    ('{ $.a[*] != "x" }', '{ $.a[0] = "x" }', NOT),  # some element differs: not here
    # .* (any member)
    ('{ $.* = "x" }', '{ $.eventName = "x" }', CONTAINED),
    ('{ $.eventName = "x" }', '{ $.* = "x" }', NOT),
    ('{ $.requestParameters.* = "vpc-*" }', '{ $.requestParameters.vpcId = "vpc-1234" }', CONTAINED),
    ('{ $.a.* NOT EXISTS }', '{ $.a = "x" }', CONTAINED),
    # parentheses and reordered terms
    ('{ ($.a = "1" || $.a = "2") && $.b = "3" }', '{ ($.b = "3" && $.a = "2") || ($.a = "1" && $.b = "3") }',
     CONTAINED),
    ('{ $.a = "1" || ($.a = "2" && $.b = "3") }', '{ ($.a = "1" || $.a = "2") && $.b = "3" }', CONTAINED),
    ('{ ($.a = "1" || $.a = "2") && $.b = "3" }', '{ $.a = "1" || ($.a = "2" && $.b = "3") }', NOT),
    # the empty pattern matches every event
    ('', '{ $.a = "1" }', CONTAINED),
    ('{ $.a = "1" }', '', NOT),
]


@pytest.mark.parametrize(("broad", "narrow", "verdict"), CASES)
def test_verdict_per_construct(broad: str, narrow: str, verdict: str) -> None:
    result = contains(broad, narrow)
    assert result.verdict == verdict, result.reason
    assert bool(result) is (verdict == CONTAINED)
    if verdict == NOT:
        assert _separates(result, broad, narrow)
        assert result.reason.startswith("narrow matches and broad does not")
    else:
        assert result.counterexample is None


def test_counterexample_is_cloudtrail_shaped_where_the_patterns_allow() -> None:
    broad = '{ $.eventName = "DeleteVpc" && $.awsRegion = "us-east-1" }'
    narrow = '{ $.eventName = "DeleteVpc" }'
    result = contains(broad, narrow)
    event = result.counterexample
    assert event["eventName"] == "DeleteVpc" and event["awsRegion"] != "us-east-1"
    assert set(ENVELOPE) <= set(event)
    assert set(ENVELOPE["userIdentity"]) <= set(event["userIdentity"])
    assert _separates(result, broad, narrow)


def test_envelope_field_the_separation_forbids_is_left_out() -> None:
    broad = '{ $.eventName = "A" && $.awsRegion NOT EXISTS }'
    narrow = '{ $.eventName = "A" && $.awsRegion = * }'
    result = contains(narrow, broad)  # broad's events lack awsRegion: the envelope must not add it
    assert result.verdict == NOT
    assert "awsRegion" not in result.counterexample
    assert _separates(result, narrow, broad)


def test_accepts_compiled_patterns_and_trees() -> None:
    broad, narrow = '{ $.a = "x*" }', '{ $.a = "xy" }'
    assert contains(compile_pattern(broad), parse(narrow)).holds
    assert not contains(parse(narrow), compile_pattern(broad)).holds


def test_other_families_are_undecided_with_the_reason() -> None:
    for broad, narrow in (("ERROR", '{ $.a = "x" }'), ('{ $.a = "x" }', "[w1, w2=ERROR]"), ("%Err%", "ERROR")):
        result = contains(broad, narrow)
        assert result.verdict == UNDECIDED and not result
        assert "JSON patterns only" in result.reason


def test_regex_is_undecided_unless_a_counterexample_is_found() -> None:
    undecided = contains('{ $.a = %^Con% }', '{ $.a = "Con*" }')
    assert undecided.verdict == UNDECIDED and "regex %^Con%" in undecided.reason
    found = contains('{ $.a = %^Con% }', '{ $.b = "x" }')
    assert found.verdict == NOT and _separates(found, '{ $.a = %^Con% }', '{ $.b = "x" }')
    same = contains('{ $.a = %^Con% }', '{ $.a = %^Con% }')
    assert same.verdict == CONTAINED  # the regex never needs a value to decide this
    free = contains('{ $.a = %^Con% || $.b = "1" }', '{ $.a = %^Con% && $.b = 2 }')
    assert free.verdict == CONTAINED and "whatever regex %^Con% on $.a matches" in free.reason
    spurious = contains('{ $.a = %^Con% }', '{ $.a = %Con% }')
    assert spurious.verdict == UNDECIDED


def test_wildcard_that_may_match_a_number_beside_number_comparisons() -> None:
    proved = contains('{ $.n = "1*" || $.n > 1 }', '{ $.n = "1*" && $.n > 3 }')
    assert proved.verdict == CONTAINED
    found = contains('{ $.n = "1*" || $.n <= 3 }', '{ $.n > 2 }')
    assert found.verdict == NOT and _separates(found, '{ $.n = "1*" || $.n <= 3 }', '{ $.n > 2 }')
    assert contains('{ $.n = "1*" }', '{ $.n >= 10 && $.n < 20 }').verdict == UNDECIDED  # true, not proven


def test_rejects_what_is_not_a_pattern() -> None:
    with pytest.raises(TypeError, match="narrow must be pattern text"):
        contains("{ $.a = 1 }", 42)
    with pytest.raises(PatternSyntaxError):
        contains("{ $.a = }", "{ $.a = 1 }")


def test_equivalent() -> None:
    assert equivalent('{ $.a = "1" && $.b = "2" }', '{ ($.b = "2") && ($.a = "1") }').holds
    result = equivalent('{ $.a = "1" }', '{ $.a = "1" || $.a = "2" }')
    assert result.verdict == NOT and "second pattern matches more" in result.reason
    assert compile_pattern('{ $.a = "1" || $.a = "2" }').matches(result.counterexample)
    assert not compile_pattern('{ $.a = "1" }').matches(result.counterexample)


def test_containment_rejects_an_unknown_verdict() -> None:
    with pytest.raises(ValueError, match="must be one of contained, not-contained, undecided"):
        Containment("maybe")


# ---------------------------------------------------------------- properties

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _compiled(tree):
    try:
        return compile_pattern(render(tree))
    except PatternSyntaxError:  # a generated tree over a quota (wildcards, regexes)
        assume(False)


@st.composite
def related_pairs(draw):
    """(broad, narrow) trees: unrelated, narrowed by an extra `&&`, or widened by an extra `||`."""
    a, b = draw(json_pattern), draw(json_pattern)
    how = draw(st.sampled_from(["unrelated", "narrowed", "widened"]))
    from trailguard.patterns import ast
    if how == "narrowed":
        return a, ast.JsonPattern(ast.And((a.expr, b.expr)))
    if how == "widened":
        return ast.JsonPattern(ast.Or((a.expr, b.expr))), a
    return a, b


@SETTINGS
@given(related_pairs().flatmap(lambda p: st.tuples(st.just(p), st.lists(events_near(*p), min_size=20, max_size=20))))
def test_contained_means_no_event_separates(drawn) -> None:
    (broad_tree, narrow_tree), events = drawn
    broad, narrow = _compiled(broad_tree), _compiled(narrow_tree)
    result = contains(broad, narrow)
    if result.verdict == CONTAINED:
        for event in events:
            assert not (narrow.matches(event) and not broad.matches(event)), event


@SETTINGS
@given(related_pairs())
def test_every_not_contained_comes_with_a_separating_event(pair) -> None:
    broad, narrow = _compiled(pair[0]), _compiled(pair[1])
    result = contains(broad, narrow)
    if result.verdict == NOT:
        assert narrow.matches(result.counterexample)
        assert not broad.matches(result.counterexample)
    elif result.verdict == UNDECIDED:
        assert result.reason


@SETTINGS
@given(json_pattern.flatmap(lambda t: st.tuples(st.just(t), shuffled(t))))
def test_equivalent_rewrites_are_contained_both_ways(pair) -> None:
    tree, rewrite = pair
    original = _compiled(tree)
    for other in (compile_pattern(render(parse(original.text))), _compiled(rewrite)):
        assert contains(original, other).verdict == CONTAINED
        assert contains(other, original).verdict == CONTAINED


# ---------------------------------------------------------------- the catalogue

CATALOG = load_catalog()
DETECTION_PATTERNS = [(d.id, profile, text) for d in CATALOG.detections.values() for profile, text in d.patterns.items()]

# Does `securityhub` count everything `default` counts (first), and the reverse (second)? Why, per pair.
PROFILE_PAIRS = {
    "root-usage": (CONTAINED, CONTAINED),  # the same pattern, spaced differently
    "console-signin-without-mfa": (CONTAINED, CONTAINED),  # the same pattern
    "iam-policy-changes": (NOT, NOT),  # default adds CreateUser etc.; Security Hub counts any eventSource
    "security-group-changes": (NOT, NOT),  # default adds ModifySecurityGroupRules; SH any eventSource
    "cloudtrail-config-changes": (NOT, NOT),  # default adds PutEventSelectors; SH any eventSource
    "aws-config-changes": (NOT, NOT),  # default adds DeleteConfigurationRecorder; SH counts failures
    "route-table-changes": (NOT, NOT),  # default adds AssociateRouteTable; SH any eventSource
    "vpc-changes": (CONTAINED, NOT),  # default only narrows (eventSource, errorCode)
    "unauthorized-api-calls": (CONTAINED, NOT),  # default drops HeadBucket and the log-delivery service
    "kms-key-disable-or-deletion": (CONTAINED, NOT),  # default drops failed calls
    "s3-bucket-policy-changes": (CONTAINED, NOT),
    "nacl-changes": (CONTAINED, NOT),
    "network-gateway-changes": (CONTAINED, NOT),
    "console-auth-failures": (NOT, CONTAINED),  # default also counts "No username found ..."
}


@pytest.mark.parametrize(("detection", "profile", "text"), DETECTION_PATTERNS, ids=lambda v: str(v)[:40])
def test_every_catalogue_pattern_contains_itself_and_its_rendering(detection: str, profile: str, text: str) -> None:
    assert contains(text, text).verdict == CONTAINED
    assert equivalent(text, render(parse(text))).verdict == CONTAINED


@pytest.mark.parametrize("detection", sorted(PROFILE_PAIRS))
def test_default_against_securityhub(detection: str) -> None:
    patterns = CATALOG.get(detection).patterns
    default, securityhub = patterns["default"], patterns["securityhub"]
    expected = PROFILE_PAIRS[detection]
    for (broad, narrow), verdict in zip(((securityhub, default), (default, securityhub)), expected):
        result = contains(broad, narrow)
        assert result.verdict == verdict, result.reason
        if verdict == NOT:
            assert _separates(result, broad, narrow)


def test_every_detection_with_two_profiles_is_listed() -> None:
    assert set(PROFILE_PAIRS) == {d.id for d in CATALOG.detections.values() if "securityhub" in d.patterns}
