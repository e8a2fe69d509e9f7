"""The compiler's mapping, its refusals (one per unmappable construct, each asserting the reason),
the envelope and EventBridge's own rules (the validator)."""

from __future__ import annotations

import json

import pytest

from trailguard.catalog import PROFILES, load_catalog
from trailguard.eventbridge import (
    API_CALL_DETAIL_TYPE, DETAIL_TYPES, REFUSALS, SIGNIN_DETAIL_TYPE, EventBridgeRefusal, compile_event_pattern,
    event_for, validate_event_pattern,
)
from trailguard.patterns import PatternSyntaxError


def detail(text: str) -> dict:
    return compile_event_pattern(text).pattern["detail"]


@pytest.mark.parametrize(("text", "expected"), [
    ('{ $.eventName = "DeleteTrail" }', {"eventName": ["DeleteTrail"]}),
    ('{ $.errorCode = "AccessDenied*" }', {"errorCode": [{"prefix": "AccessDenied"}]}),
    ('{ $.errorCode = "*UnauthorizedOperation" }', {"errorCode": [{"suffix": "UnauthorizedOperation"}]}),
    ('{ $.userAgent = "*console*" }', {"userAgent": [{"wildcard": "*console*"}]}),
    ('{ $.userAgent = "*a*b*" }', {"userAgent": [{"wildcard": "*a\\*b*"}]}),
    ('{ $.eventType != "AwsServiceEvent" }', {"eventType": [{"anything-but": "AwsServiceEvent"}]}),
    ('{ $.eventName != "Get*" }', {"eventName": [{"anything-but": {"prefix": "Get"}}]}),
    ("{ $.errorCode NOT EXISTS }", {"errorCode": [{"exists": False}]}),
    ("{ $.a.b IS TRUE }", {"a": {"b": [True]}}),
    ("{ $.a IS FALSE }", {"a": [False]}),
    ("{ $.a IS NULL }", {"a": [None]}),
    ("{ $.bytes > 1024 }", {"bytes": [{"numeric": [">", 1024]}]}),
    ("{ $.n >= 1 && $.n < 2.5 }", {"n": [{"numeric": [">=", 1, "<", 2.5]}]}),
    ("{ $.status = 400 }", {"status": [{"numeric": ["=", 400]}, "400"]}),
    ("{ $.e = A || $.e = B || $.e = C* }", {"e": ["A", "B", {"prefix": "C"}]}),
    ("{ $.a = x && $.b.c = y }", {"a": ["x"], "b": {"c": ["y"]}}),
    ("{ $.a = x || $.b = y }", {"$or": [{"a": ["x"]}, {"b": ["y"]}]}),
    ("{ $.s = x && ($.a = y || $.b.c = z) }", {"s": ["x"], "$or": [{"a": ["y"]}, {"b": {"c": ["z"]}}]}),
    ('{ $.["key.with.dots"] = v }', {"key.with.dots": ["v"]}),
    ("{ $.eventName = ConsoleLogin }", {"eventName": ["ConsoleLogin"]}),
])
def test_maps_exactly(text: str, expected: dict) -> None:
    assert detail(text) == expected


@pytest.mark.parametrize(("text", "reason"), [
    ('ERROR', "not-json"),
    ('[ip, user, status = 404]', "not-json"),
    ('%AccessDenied%', "not-json"),
    ('', "match-all"),
    ('{ $.errorCode = %Access.*% }', "regex"),
    ('{ $.a[0] = x }', "selector-index"),
    ('{ $.a[*] = x }', "selector-wildcard"),
    ('{ $.a.* = x }', "selector-wildcard"),
    ('{ $.["$or"] = x }', "reserved-key"),
    ('{ $.status = "400" }', "numeric-text"),
    ('{ $.code = "4*" }', "numeric-text"),
    ('{ $.code != "*00" }', "numeric-text"),
    ('{ $.a = * }', "match-any"),
    ('{ $.a = "*" }', "match-any"),
    ('{ $.status != 400 }', "number-not-equal"),
    ('{ $.n > 6000000000 }', "numeric-range"),
    ('{ $.n > 0.0000001 }', "numeric-range"),
    ('{ $.a = x && $.a != y }', "two-conditions-one-field"),
    ('{ $.n > 1 && $.n > 2 }', "two-conditions-one-field"),
    ('{ $.a = x && $.a.b = y }', "field-and-object"),
    ('{ $.a = x || ($.a = x && $.b = y) }', "empty-branch"),
    ("{ (" + " || ".join(f"$.a{i} = x" for i in range(11)) + ") && ("
     + " || ".join(f"$.b{i} = y" for i in range(11)) + ") }", "too-many-combinations"),
    ("{ (" + " || ".join(f"$.{'a' * 20}{i} = x" for i in range(6)) + ") && ("
     + " || ".join(f"$.{'b' * 20}{i} = y" for i in range(6)) + ") }", "too-large"),
])
def test_refuses_with_a_named_reason(text: str, reason: str) -> None:
    with pytest.raises(EventBridgeRefusal) as refusal:
        compile_event_pattern(text)
    assert refusal.value.reason == reason
    assert REFUSALS[reason] in str(refusal.value)


def test_every_refusal_reason_is_tested() -> None:
    tested = {reason for _, reason in test_refuses_with_a_named_reason.pytestmark[0].args[1]}
    assert tested == set(REFUSALS)


def test_invalid_filter_pattern_is_a_syntax_error_not_a_refusal() -> None:
    with pytest.raises(PatternSyntaxError):
        compile_event_pattern("{ $.eventName = }")


def test_envelope_source_from_a_pinned_event_source_and_detail_types() -> None:
    compiled = compile_event_pattern("{ $.eventSource = kms.amazonaws.com && $.eventName = DisableKey }")
    assert compiled.pattern["source"] == ["aws.kms"]
    assert compiled.pattern["detail-type"] == sorted(DETAIL_TYPES)
    assert compiled.rule_state == "ENABLED"
    unknown = compile_event_pattern("{ $.eventSource = example.amazonaws.com }").pattern
    assert "source" not in unknown  # not guessed: detail.eventSource still filters
    open_source = compile_event_pattern("{ $.eventSource = kms.amazonaws.com || $.eventName = X }").pattern
    assert "source" not in open_source


def test_sign_in_detail_type_is_spelled_signin() -> None:
    assert SIGNIN_DETAIL_TYPE == "AWS Console Signin via CloudTrail"
    compiled = compile_event_pattern('{ $.eventName = "ConsoleLogin" }')
    assert compiled.pattern["detail-type"] == ["AWS Console Signin via CloudTrail"]
    by_type = compile_event_pattern('{ $.eventType = "AwsApiCall" && $.errorCode NOT EXISTS }')
    assert by_type.pattern["detail-type"] == [API_CALL_DETAIL_TYPE]


def test_read_only_names_or_open_names_need_all_management_events() -> None:
    assert compile_event_pattern("{ $.eventName = GetSecretValue }").rule_state == \
        "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
    assert compile_event_pattern('{ $.userIdentity.type = "Root" }').needs_all_management_events
    assert not compile_event_pattern("{ $.eventName = DeleteTrail }").needs_all_management_events


@pytest.mark.parametrize("profile", PROFILES)
def test_every_catalogue_pattern_compiles_and_validates(profile: str) -> None:
    for detection in load_catalog().detections.values():
        compiled = compile_event_pattern(detection.pattern_for(profile))
        assert validate_event_pattern(compiled.pattern) == []
        assert json.loads(compiled.text) == compiled.pattern
        assert len(compiled.text) <= 2048


@pytest.mark.parametrize(("pattern", "problem"), [
    ({}, "non-empty"),
    ({"detail": {"a": ["x" * 2100]}}, "size: "),
    ({"detail": {"a": [{"wildcard": "a**b"}]}}, "consecutive"),
    ({"detail": {"a": {"prefix": "x"}}}, "operator outside a leaf"),
    ({"detail": {"a": [{"regex": "x"}]}}, "unknown operator"),
    ({"detail": {"a": [{"numeric": [">", 6e9]}]}}, "outside -5.0e9"),
    ({"detail": {"a": [{"numeric": ["<", 1, ">", 0]}]}}, "lower bound then an upper"),
    ({"detail": {"a": [{"numeric": ["!=", 1]}]}}, "not a comparison"),
    ({"detail": {"a": []}}, "empty list"),
    ({"detail": {"a": "x"}}, "list of values"),
    ({"detail": {"$or": [{"a": ["x"]}]}}, "two or more objects"),
    ({"detail": {"a": [{"exists": "yes"}]}}, "exists takes"),
    ({"detail": {"a": [{"anything-but": ["x", 1]}]}}, "one type"),
    ({"detail": {"a": [{"prefix": "x", "suffix": "y"}]}}, "exactly one operator"),
    ({"detail": {"a": [["x"]]}}, "nested list"),
])
def test_validator_enforces_eventbridge_rules(pattern: dict, problem: str) -> None:
    problems = validate_event_pattern(pattern)
    assert problems and any(problem in p for p in problems), problems


def test_validator_accepts_escaped_stars_in_a_wildcard() -> None:
    assert validate_event_pattern({"detail": {"a": [{"wildcard": "*a\\*\\*b*"}]}}) == []


def test_event_for_wraps_a_record_as_cloudtrail_delivers_it() -> None:
    record = {"eventSource": "signin.amazonaws.com", "eventType": "AwsConsoleSignIn", "eventName": "ConsoleLogin",
              "awsRegion": "eu-west-1", "recipientAccountId": "111122223333"}
    event = event_for(record)
    assert (event["source"], event["detail-type"], event["region"]) == (
        "aws.signin", "AWS Console Signin via CloudTrail", "eu-west-1")
    assert event["detail"] == record


def test_text_keeps_non_ascii_characters_so_the_size_is_counted_in_characters() -> None:
    compiled = compile_event_pattern('{ $.userIdentity.userName = "José" }')
    assert '"José"' in compiled.text and json.loads(compiled.text) == compiled.pattern
