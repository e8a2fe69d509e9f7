"""Syntax errors and AWS quotas: exact messages, 1-based columns and caret excerpts."""

from __future__ import annotations

import pytest

from trailguard.patterns import PatternSyntaxError, compile_pattern, render_caret


def error_of(text: str) -> PatternSyntaxError:
    with pytest.raises(PatternSyntaxError) as info:
        compile_pattern(text)
    return info.value


def test_render_caret_points_at_position() -> None:
    assert render_caret("{ $.a = }", 8) == "  { $.a = }\n          ^"
    assert render_caret("abc", 3) == "  abc\n     ^"


def test_str_has_message_column_and_caret() -> None:
    err = error_of('{ $.eventName = "x" && }')
    assert err.column == 24
    assert str(err) == (
        "expected a property selector starting with '$.' or '(', found '}' (at column 24)\n"
        '  { $.eventName = "x" && }\n'
        "                         ^")


def test_end_of_pattern_is_named() -> None:
    err = error_of('{ $.eventName = "x"')
    assert "(at end of pattern)" in str(err)
    assert err.message == "expected '&&', '||' or the closing '}', found end of pattern"


@pytest.mark.parametrize(("text", "column", "fragment"), [
    ("{ $.a EXISTS }", 7, "EXISTS is not supported"),
    ("{ $.a IS NOT NULL }", 7, "IS NOT is not supported"),
    ("{ $.a is null }", 7, "keywords are upper case"),
    ("{ $.a == 1 }", 7, "'==' is not an operator"),
    ("{ $.a > abc }", 9, "compares numbers"),
    ('{ $.a < "5" }', 9, "compares numbers"),
    ("{ $.a = %a(b)% }", 11, "Invalid character(s) in term"),
    ("{ $.a = %ab! }", 9, "unterminated regex"),
    ("{ $.a = %a!b% }", 11, "'!' is not allowed in a regex"),
    ("%é%", 2, "multi-byte"),
    ('{ $.a = "abc }', 9, "unterminated string"),
    ("{ $.a[x] = 1 }", 7, "expected an array index or '*'"),
    ("{ $a = 1 }", 4, "expected '.' after '$'"),
    ("{ a = 1 }", 3, "property selector starting with '$.'"),
    ("{ ($.a = 1 }", 12, "to close the '(' at column 3"),
    ("{}", 2, "expected a condition"),
    ("ERROR user@example.com", 11, "unquoted term may contain only letters"),
    ("ERROR -", 8, "expected a term after '-'"),
    ("[a, b", 6, "expected ',' or ']'"),
    ("[a, ..., b, ...]", 13, "only one '...'"),
    ("[]", 2, "at least one field"),
    ("{ $.a = 1 } extra", 13, "expected end of pattern"),
    ("%abc% ERROR", 7, "expected end of pattern after a standalone regex"),
    ("%[a%", 2, "invalid regex"),
])
def test_syntax_errors(text: str, column: int, fragment: str) -> None:
    err = error_of(text)
    assert fragment in err.message
    assert err.column == column
    assert str(err).splitlines()[-1].index("^") == column + 1  # two-space indent


def test_length_quota() -> None:
    text = "{ " + " || ".join(f'$.eventName = "Event{i:04d}"' for i in range(40)) + " }"
    assert len(text) > 1024
    err = error_of(text)
    assert err.message.startswith(f"pattern is {len(text)} characters long; CloudWatch Logs allows at most 1024")
    assert err.column == 1025


def test_exactly_1024_characters_is_allowed() -> None:
    body = "x" * (1024 - len('{ $.a = "" }'))
    compile_pattern('{ $.a = "' + body + '" }')


def test_regex_quota() -> None:
    err = error_of("{ $.a = %a% || $.b = %b% || $.c = %c% }")
    assert "3 regular expressions" in err.message and "at most 2" in err.message
    assert err.column == 35
    compile_pattern("{ $.a = %a% || $.b = %b% }")


def test_wildcard_selector_quotas() -> None:
    assert "at most 1 is allowed per selector" in error_of("{ $.a[*].b[*] = 1 }").message
    err = error_of("{ $.a[*] = 1 || $.b[*] = 2 || $.c.* = 3 || $.d[*] = 4 }")
    assert "more than 3 wildcard selectors" in err.message
    compile_pattern("{ $.a[*] = 1 || $.b[*] = 2 || $.c.* = 3 }")


def test_arbitrary_non_string_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        compile_pattern(None)  # type: ignore[arg-type]
