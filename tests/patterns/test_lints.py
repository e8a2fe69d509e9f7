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
