"""Lints: valid patterns that probably do not do what their author meant."""

from __future__ import annotations

import pytest

from trailguard.patterns import compile_pattern


def codes(pattern: str) -> list[str]:
    return [w.code for w in compile_pattern(pattern).warnings]


@pytest.mark.parametrize(("pattern", "expected"), [
    ('{ $.errorCode != "AccessDenied" }', ["W001"]),
    ('{ $.eventType != "AwsServiceEvent" }', []),  # always present in CloudTrail
    ('{ $.a = 1 || $.b = 2 && $.c = 3 }', ["W002"]),
    ('{ $.a = 1 || ($.b = 2 && $.c = 3) }', []),
    ('{ ($.a = 1 || $.b = 2) && $.c = 3 }', []),
    ("{ $.eventName = Ev*ent }", ["W003"]),
    ("{ $.eventName = *Event* }", []),
    ("?ERROR REQUEST", ["W004"]),
    ("?ERROR ?WARN", []),
    ("{ $.flag = true }", ["W005"]),
    ("{ $.flag IS TRUE }", []),
    ("[a, b = 4*4]", ["W003"]),
    ("[a = 1 && c = 2, b]", ["W006"]),
])
def test_lint_codes(pattern: str, expected: list[str]) -> None:
    assert codes(pattern) == expected


def test_lint_messages_say_what_to_do() -> None:
    (w,) = compile_pattern('{ $.additionalEventData.MFAUsed != "Yes" }').warnings
    assert "NOT EXISTS" in w.message and w.column == 3
    (w,) = compile_pattern("{ $.flag = true }").warnings
    assert "IS TRUE" in w.message
    (w,) = compile_pattern("?ERROR REQUEST").warnings
    assert w.column == 1 and "ignored" in w.message


@pytest.mark.parametrize(("pattern", "grouping"), [
    ('{ $.a = 1 || $.b = 2 && $.c = 3 }', "$.a = 1 || ($.b = 2 && $.c = 3)"),
    ('{ $.a = 1 && $.b = 2 || $.c = 3 }', "($.a = 1 && $.b = 2) || $.c = 3"),
    ('{ $.a = 1 && $.b = 2 || $.c = 3 && $.d = 4 }', "($.a = 1 && $.b = 2) || ($.c = 3 && $.d = 4)"),
    ('{ ($.a = 1 || $.b = 2 && $.c = 3) && $.d = 4 }', "$.a = 1 || ($.b = 2 && $.c = 3)"),
])
def test_w002_shows_the_grouping_of_the_pattern_at_hand(pattern: str, grouping: str) -> None:
    (w,) = compile_pattern(pattern).warnings
    assert w.code == "W002"
    assert f"reads as {grouping}." in w.message
    assert "a || (b && c)" not in w.message


def test_w002_points_at_the_first_unparenthesised_and() -> None:
    (w,) = compile_pattern('{ $.a = 1 && $.b = 2 || $.c = 3 }').warnings
    assert w.column == 3
    (w,) = compile_pattern('{ $.a = 1 || $.b = 2 && $.c = 3 }').warnings
    assert w.column == 14


def test_w002_shortens_a_long_grouping_but_keeps_its_shape() -> None:
    route_audit = ("{($.eventSource = ec2.amazonaws.com) && ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || "
                   "($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = "
                   "DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) }")
    (w,) = compile_pattern(route_audit).warnings
    grouping = w.message.split("reads as ", 1)[1].split(". Add", 1)[0]
    assert len(grouping) <= 120
    assert grouping.startswith("($.eventSource = ")
    assert "&& $.eventName = " in grouping and ") || " in grouping and "…" in grouping
    unauthorized = ('{ ($.errorCode ="*UnauthorizedOperation") || ($.errorCode ="AccessDenied*") && '
                    '($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }')
    (w,) = [w for w in compile_pattern(unauthorized).warnings if w.code == "W002"]
    grouping = w.message.split("reads as ", 1)[1].split(". Add", 1)[0]
    assert len(grouping) <= 120
    assert grouping.startswith("$.errorCode = ") and " || ($.errorCode = " in grouping
    assert grouping.endswith("$.eventName != …)") or grouping.endswith('$.eventName != "HeadBucket")')


@pytest.mark.parametrize(("pattern", "expected"), [
    # ConsoleLogin always carries additionalEventData.MFAUsed: pinned by a sibling of an &&, no W001
    ('{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }', []),
    ('{ $.eventName = ConsoleLogin && ($.userIdentity.type = IAMUser && $.additionalEventData.MFAUsed != Yes) }', []),
    ('{ $.eventName = ConsoleLogin && $.responseElements.ConsoleLogin != "Failure" }', []),
    # not pinned: alone, beside the event name only through ||, or with another event name allowed
    ('{ $.additionalEventData.MFAUsed != "Yes" }', ["W001"]),
    ('{ $.eventName = ConsoleLogin || $.additionalEventData.MFAUsed != "Yes" }', ["W001"]),
    ('{ ($.eventName = ConsoleLogin || $.eventName = CreateUser) && $.additionalEventData.MFAUsed != "Yes" }',
     ["W001"]),
    ('{ $.eventName = Console* && $.additionalEventData.MFAUsed != "Yes" }', ["W001"]),
    # pinned to ConsoleLogin, but a field ConsoleLogin does not always carry
    ('{ $.eventName = ConsoleLogin && $.additionalEventData.SamlProviderArn != "x" }', ["W001"]),
    # W001's own advice taken: an `||` with NOT EXISTS of the same field says what absence does
    ('{ $.errorCode != "AccessDenied" || $.errorCode NOT EXISTS }', []),
    ('{ $.eventName = X && ($.errorCode != "A" || $.errorCode NOT EXISTS) }', []),
    ('{ ($.sourceIPAddress != "10.*" && $.errorCode != "A") || $.errorCode NOT EXISTS }', []),
    ('{ $.errorCode != "A" || $.errorMessage NOT EXISTS }', ["W001"]),  # another field's absence
    ('{ ($.errorCode != "A" || $.errorCode NOT EXISTS) && $.errorMessage != "B" }', ["W001"]),
])
def test_w001_knows_the_fields_an_event_name_always_carries(pattern: str, expected: list[str]) -> None:
    assert codes(pattern) == expected
