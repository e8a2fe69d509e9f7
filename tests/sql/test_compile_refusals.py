"""Every construct the table cannot keep is refused with its named reason, before any SQL is written;
the interface's other errors name what is wrong."""

from __future__ import annotations

import pytest
import sqlglot

from trailguard.patterns import PatternSyntaxError, compile_pattern, parse
from trailguard.sql import REFUSALS, SqlRefusal, compile_predicate

REFUSED = [
    ("not-json", '"ERROR" -"Exiting"'),
    ("not-json", "%AccessDenied%"),
    ("not-json", "[ip, user, status = 4*]"),
    ("no-column", "{ $.managementEvent IS TRUE }"),
    ("no-column", '{ $.userIdentity.sessionContext.sourceIdentity = "x" }'),
    ("no-column", '{ $.resources[*].ARNs = "x" }'),
    ("key-case", '{ $.sourceIpAddress = "203.0.113.7" }'),
    ("key-case", '{ $.resources[*].arn = "arn:*" }'),
    ("key-case", '{ $.userIdentity.Type = "Root" }'),
    ("struct-members", '{ $.userIdentity.* = "Root" }'),
    ("struct-members", '{ $.* = "Root" }'),
    ("struct-members", '{ $.tlsDetails.* = "TLSv1.2" }'),
    ("map-field", '{ $.userIdentity.sessionContext.webIdFederationData.attributes.* = "x" }'),
    ("json-wildcard", '{ $.requestParameters.items[*].name = "x" }'),
    ("json-wildcard", '{ $.requestParameters.* = "x" }'),
    ("json-path-key", "{ $.requestParameters.['a\"b'] = x }"),
    ("json-path-key", "{ $.requestParameters.['*'] = x }"),
    ("json-path-key", "{ $.requestParameters.[''] = x }"),
    ("regex", "{ $.eventName = %\\bStop% }"),
    ("number-range", "{ $.requestParameters.n > 1e999 }"),
]


@pytest.mark.parametrize("dialect", ["duckdb", "athena"])
@pytest.mark.parametrize(("reason", "pattern"), REFUSED, ids=[f"{r}: {p}" for r, p in REFUSED])
def test_refused_with_its_reason(reason: str, pattern: str, dialect: str) -> None:
    compile_pattern(pattern)  # a valid filter pattern: the refusal is the table's, not the syntax's
    with pytest.raises(SqlRefusal) as refusal:
        compile_predicate(pattern, dialect)
    assert refusal.value.reason == reason
    assert isinstance(refusal.value, ValueError)
    assert str(refusal.value).startswith(f"cannot compile to SQL ({reason}): {REFUSALS[reason]}")


def test_every_reason_is_exercised() -> None:
    assert {reason for reason, _ in REFUSED} == set(REFUSALS)


def test_a_tree_and_a_compiled_pattern_compile_like_the_text() -> None:
    text = '{ $.eventName = "StopLogging" && $.errorCode NOT EXISTS }'
    expected = compile_predicate(text, "duckdb")
    assert compile_predicate(compile_pattern(text), "duckdb") == expected
    assert compile_predicate(parse(text), "duckdb") == expected
    assert compile_predicate(parse(text).expr, "duckdb") == expected


def test_the_empty_pattern_is_every_row() -> None:
    assert compile_predicate("", "duckdb") == "TRUE"
    assert sqlglot.parse_one(compile_predicate(" ", "athena"), read="trino").sql("trino") == "TRUE"


def test_an_unknown_dialect_is_named() -> None:
    with pytest.raises(ValueError, match="dialect 'postgres': use one of duckdb, athena"):
        compile_predicate("{ $.eventName = x }", "postgres")  # type: ignore[arg-type]


def test_invalid_pattern_text_is_a_syntax_error() -> None:
    with pytest.raises(PatternSyntaxError):
        compile_predicate("{ $.eventName = }", "duckdb")


def test_a_pattern_whose_answer_is_fixed_by_the_documented_types_compiles_to_a_constant() -> None:
    assert compile_predicate("{ $.eventName > 4 }", "duckdb") == "FALSE"  # a string field is never a number
    assert compile_predicate('{ $.userIdentity = "x" }', "athena") == "FALSE"  # an object is never a string
    assert compile_predicate("{ $.eventName.x NOT EXISTS }", "duckdb") == "TRUE"  # nothing under a string
