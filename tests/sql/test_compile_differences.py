"""Where the documented table loses a distinction the filter-pattern language makes, the SQL reads
the field as CloudTrail documents it; each difference stated in docs/backtest.md ("At scale: SQL
semantics") is shown here on a record that has it, with the engine's answer and the SQL's. On
records as CloudTrail writes them the two agree (test_compile_catalog.py, test_compile_generated.py)."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from trailguard.patterns import compile_pattern
from trailguard.sql import compile_predicate, create_table, load_records

CONNECTION = duckdb.connect()


def _sql_matches(pattern: str, record: dict[str, Any]) -> bool:
    create_table(CONNECTION)
    load_records(CONNECTION, [record])
    return bool(CONNECTION.execute(f"SELECT count(*) FROM cloudtrail WHERE {compile_predicate(pattern, 'duckdb')}")
                .fetchone()[0])


def _engine_matches(pattern: str, record: dict[str, Any]) -> bool:
    return compile_pattern(pattern).predicate(record)


DIFFERENCES = [
    # (why, record, pattern, engine, sql)
    ("null in a typed field reads as missing", {"errorCode": None}, "{ $.errorCode NOT EXISTS }", False, True),
    ("null in a typed field reads as missing", {"errorCode": None}, "{ $.errorCode IS NULL }", True, False),
    ("null in a struct field", {"userIdentity": {"invokedBy": None}}, "{ $.userIdentity.invokedBy NOT EXISTS }",
     False, True),
    ("null as a JSON-text column", {"requestParameters": None}, "{ $.requestParameters NOT EXISTS }", False, True),
    ("null as a JSON-text column", {"requestParameters": None}, "{ $.requestParameters IS NULL }", True, False),
    ("a struct holding a non-object", {"userIdentity": "root"}, "{ $.userIdentity NOT EXISTS }", False, True),
    ("a resources element that is not an object", {"resources": [None]}, "{ $.resources[0] NOT EXISTS }",
     False, True),
    ("a number in a string field is text", {"eventName": 5}, "{ $.eventName > 4 }", True, False),
    ("a boolean in a string field is text", {"eventName": True}, "{ $.eventName IS TRUE }", True, False),
    ("a boolean in a string field is text", {"eventName": True}, '{ $.eventName = "true" }', False, True),
    ("an object in a string field is its JSON text", {"errorCode": {"a": 1}}, "{ $.errorCode = * }", False, True),
    ("readOnly is read as a boolean", {"readOnly": "true"}, "{ $.readOnly IS TRUE }", False, True),
    ("readOnly is read as a boolean", {"readOnly": "true"}, '{ $.readOnly = "true" }', True, False),
    ("a key in another case fills the column", {"EventName": "StopLogging"}, "{ $.eventName = StopLogging }",
     False, True),
    ("an integer past 2**53 compares as a double", {"requestParameters": {"n": 9007199254740993}},
     "{ $.requestParameters.n = 9007199254740992 }", False, True),
    ("a large number's text is spelled otherwise", {"requestParameters": {"n": 1e20}},
     '{ $.requestParameters.n = "1e+20" }', True, False),
    ("a large number's text is spelled otherwise", {"requestParameters": {"n": 1e20}},
     "{ $.requestParameters.n = 1e20 }", True, True),
]


@pytest.mark.parametrize(("why", "record", "pattern", "engine", "sql"), DIFFERENCES,
                         ids=[f"{d[0]}: {d[2]}" for d in DIFFERENCES])
def test_documented_difference(why: str, record: dict, pattern: str, engine: bool, sql: bool) -> None:
    assert _engine_matches(pattern, record) is engine
    assert _sql_matches(pattern, record) is sql


def test_not_exists_or_is_null_together_agree_on_null_and_missing() -> None:
    pattern = "{ $.errorCode NOT EXISTS || $.errorCode IS NULL }"
    for record in ({"errorCode": None}, {}, {"errorCode": "AccessDenied"}):
        assert _sql_matches(pattern, record) is _engine_matches(pattern, record)


@pytest.mark.parametrize("record", [{"eventName": "ConsoleLogin", "readOnly": False},
                                    {"eventName": "ConsoleLogin", "readOnly": True}, {"eventName": "ConsoleLogin"}])
@pytest.mark.parametrize("pattern", ["{ $.readOnly IS TRUE }", "{ $.readOnly IS FALSE }", "{ $.readOnly NOT EXISTS }",
                                     '{ $.readOnly = "true" }', "{ $.readOnly != 1 }"])
def test_read_only_as_cloudtrail_writes_it_agrees(record: dict, pattern: str) -> None:
    assert _sql_matches(pattern, record) is _engine_matches(pattern, record)


@pytest.mark.parametrize("value", [None, True, False, "x", 1, 1.5, {"k": "v"}, ["x"]])
def test_inside_a_json_text_column_every_json_type_is_kept(value: Any) -> None:
    record = {"requestParameters": {"v": value}}
    for pattern in ("{ $.requestParameters.v IS NULL }", "{ $.requestParameters.v IS TRUE }",
                    "{ $.requestParameters.v IS FALSE }", "{ $.requestParameters.v NOT EXISTS }",
                    "{ $.requestParameters.v = * }", "{ $.requestParameters.v != x }", "{ $.requestParameters.v >= 1 }",
                    '{ $.requestParameters.v = "1" }', "{ $.requestParameters.v = 1 }"):
        assert _sql_matches(pattern, record) is _engine_matches(pattern, record), pattern
