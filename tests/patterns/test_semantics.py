"""Matching semantics, one rule at a time (filter-pattern-spec.md §2 and the named rules of §4)."""

from __future__ import annotations

import orjson
import pytest

from trailguard.patterns import compile_pattern

EV = {
    "eventName": "ConsoleLogin", "code": 400, "codeText": "400", "ratio": 0.5, "flag": True, "off": False,
    "nothing": None, "list": ["a", "b"], "obj": {"k": "v", "n": 3}, "items": [{"id": 1}, {"id": 2}],
    "dotted.key": "yes", "star": "Ev*ent",
}


def m(pattern: str, event=EV) -> bool:
    """Match on the decoded event and on its text: both must agree."""
    compiled = compile_pattern(pattern)
    as_dict = compiled.matches(event)
    assert compiled.matches(orjson.dumps(event).decode()) is as_dict
    assert compiled.matches(orjson.dumps(event)) is as_dict
    return as_dict


@pytest.mark.parametrize(("pattern", "expected"), [
    ('{ $.eventName = "ConsoleLogin" }', True),
    ("{ $.eventName = Console* }", True),
    ("{ $.eventName = *Login }", True),
    ("{ $.eventName = *sole* }", True),
    ("{ $.eventName = Con*gin }", False),  # A17: inner * is literal
    ('{ $.star = "Ev*ent" }', True),
    ("{ $.eventName = * }", True),
    ("{ $.missing != x }", False),  # A12
    ("{ $.missing NOT EXISTS }", True),
    ("{ $.nothing NOT EXISTS }", False),
    ("{ $.nothing IS NULL }", True),
    ("{ $.nothing = * }", False),  # A11
    ("{ $.flag IS TRUE }", True),
    ("{ $.off IS FALSE }", True),
    ("{ $.flag = true }", False),  # A19
    ("{ $.list = a }", False),  # A14
    ("{ $.list != a }", False),  # A13
    ("{ $.obj != x }", False),
    ("{ $.list[*] = b }", True),
    ("{ $.list[1] = b }", True),
    ("{ $.list[5] NOT EXISTS }", True),
    ("{ $.items[*].id = 2 }", True),
    ("{ $.items[1].id = 2 }", True),
    ("{ $.obj.* = v }", True),
    ("{ $.list[*] != a }", True),  # A15: some element differs
    ("{ $.code = 400 }", True),
    ("{ $.code = 4e2 }", True),
    ("{ $.code >= 400 }", True),
    ("{ $.code < 400 }", False),
    ("{ $.code = \"400\" }", True),  # string compare with the number's text
    ("{ $.codeText = 400 }", True),  # A16
    ("{ $.codeText > 300 }", False),  # numeric op needs a JSON number
    ("{ $.ratio < 1 }", True),
    ("{ $.ratio = 0.5 }", True),
    ("{ $.eventName = %Log% }", True),
    ("{ $.eventName != %Log% }", False),
    ("{ $.eventName = %^Log% }", False),
    ("{ $.['dotted.key'] = yes }", True),
    ("{ $.eventName = ConsoleLogin && ($.code = 1 || $.ratio < 1) }", True),
    ("{ $.eventName = x || $.code = 400 && $.ratio > 1 }", False),  # && binds tighter
    ("{ ($.eventName = x || $.code = 400) && $.ratio < 1 }", True),
])
def test_json_semantics(pattern: str, expected: bool) -> None:
    assert m(pattern) is expected


def test_json_pattern_never_matches_non_json() -> None:
    assert compile_pattern("{ $.a NOT EXISTS }").matches("not json at all") is False
    assert compile_pattern("{ $.a NOT EXISTS }").matches("") is False


@pytest.mark.parametrize(("pattern", "message", "expected"), [
    ("ERROR", "ERRORCODE 1", True),  # A1 substring
    ("error", "ERROR", False),  # case-sensitive
    ("ERROR ARGUMENTS", "ERROR: bad ARGUMENTS", True),
    ("ERROR -Exiting", "ERROR Exiting now", False),
    ('ERROR - "Exiting"', "ERROR now", True),
    ("?ERROR ?WARN", "WARN only", True),
    ("?ERROR ?WARN", "INFO only", False),
    ("?ERROR REQUEST", "REQUEST", True),  # A3: ? ignored
    ("?ERROR -REQUEST", "nothing", True),  # A4
    ('"a \\"quoted\\" word"', 'a "quoted" word', True),  # A6
    ('"back\\\\slash"', "back\\slash", True),
    ('" "', "anything", True),
    ('""', "anything", True),
    ("", "anything", True),
    ("%^ERR[0-9]{2}$%", "ERR42", True),
    ("%^ERR[0-9]{2}$%", "ERR421", False),
    ("%\\x28%", "call(x)", True),
])
def test_term_and_regex_semantics(pattern: str, message: str, expected: bool) -> None:
    assert compile_pattern(pattern).matches(message) is expected


def test_term_pattern_on_decoded_event_sees_compact_json() -> None:
    ev = {"eventName": "StopLogging", "errorCode": "AccessDenied"}
    assert compile_pattern('"\\"eventName\\":\\"StopLogging\\""').matches(ev)
    assert compile_pattern("StopLogging -AccessDenied").matches(ev) is False


LINE = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534'


@pytest.mark.parametrize(("pattern", "expected"), [
    ("[ip, user, username, timestamp, request, status_code, bytes]", True),
    ("[ip, user, username, timestamp, request, status_code]", False),  # A7 exact count
    ("[ip, ...]", True),
    ("[..., status = 404, bytes > 1000]", True),
    ("[..., status = 4*, bytes < 1000]", False),
    ("[ip = %^127%, ...]", True),
    ("[ip, user = -, ...]", True),
    ("[ip, user, name = frank || name = bob, ...]", True),
    ("[ip, user, name = bob || name = alice, ...]", False),
    ("[..., request = *index*, status = 4* && status != 403, bytes]", True),
    ("[..., request = *index*, status = 404 && bytes = 1534]", False),
])
def test_delimited_semantics(pattern: str, expected: bool) -> None:
    assert compile_pattern(pattern).matches(LINE) is expected


def test_delimited_extraction_numbers_unnamed_positions() -> None:
    extracted = compile_pattern("[..., request, status,]").extract(LINE)
    assert extracted == {"$1": "127.0.0.1", "$2": "-", "$3": "frank", "$4": "10/Oct/2000:13:25:15 -0700",
                         "$request": "GET /index.html HTTP/1.0", "$status": "404", "$7": "1534"}


def test_metric_values() -> None:
    json_pattern = compile_pattern("{ $.latency = * }")
    assert json_pattern.metric_value({"latency": 50}, "$.latency") == 50.0
    assert json_pattern.metric_value('{"latency": "12.5"}', "$.latency") == 12.5
    assert json_pattern.metric_value({"latency": "slow"}, "$.latency") is None
    assert json_pattern.metric_value({}, "$.latency") is None
    assert json_pattern.metric_value({}, "1") == 1.0
    delimited = compile_pattern("[..., status, bytes]")
    assert delimited.metric_value(LINE, "$bytes") == 1534.0
    assert delimited.metric_value(LINE, "$7") is None  # a named position is reported as $bytes
    assert compile_pattern("[a, ..., b]").metric_value("x 5 7 y", "$2") == 5.0
    with pytest.raises(ValueError, match="must be a number"):
        delimited.metric_value(LINE, "bytes")


def test_fields_read() -> None:
    p = compile_pattern('{ $.eventSource = s3.amazonaws.com && ($.eventName = A || $.userIdentity.type = "Root") }')
    assert p.fields == {"$.eventSource", "$.eventName", "$.userIdentity.type"}
    assert p.top_level_fields == {"eventSource", "eventName", "userIdentity"}
    assert not p.reads_message
    assert compile_pattern("{ $.* = x }").top_level_fields is None
    terms = compile_pattern("ERROR")
    assert terms.fields == frozenset() and terms.reads_message and terms.top_level_fields is None
    assert compile_pattern("").reads_message is False


def test_compile_is_cached() -> None:
    assert compile_pattern("{ $.a = 1 }") is compile_pattern("{ $.a = 1 }")
