"""Hypothesis: random patterns within the compiled subset, over random CloudTrail-shaped records,
select in DuckDB exactly the records the engine matches, and their Athena text is the DuckDB text
in Trino's dialect.

The records hold what CloudTrail documents where the table types a field (strings in string
fields, a boolean in readOnly, objects in structs) and anything JSON inside the JSON-text columns
(strings, integers, decimals, booleans, null, objects, arrays), where the SQL keeps every JSON type.
What the table loses (a null or another type in a typed field) is a documented difference with its
own test in test_compile_differences.py.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb
import sqlglot
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.sql.corpus import events_matching, rows_matching
from trailguard.patterns import PatternSyntaxError, compile_pattern
from trailguard.sql import compile_predicate, create_table, load_records

CONNECTION = duckdb.connect()

TEXTS = ["", "a", "ab", "ba", "a%b", "a_b", "a!b", "!", "%", "_", "100", "1.5", "-3", "true", "null", "Root",
         "x*y", "é", "AccessDenied", "AccessDeniedException", "it's"]
NUMBERS = [0, 1, 100, -3, 1.5, 2.25, 100.0]
REGEXES = ["^a", "b$", "^$", "a.b", "[0-9]+", "^-?\\d", "\\.", "x|^1", "[^a]", "ab*c?"]
NUMBER_LITERALS = ["0", "1", "100", "-3", "1.5", "2.25", "1e2", "+1", "100.0"]

TEXT_SELECTORS = ["$.eventName", "$.errorCode", "$.userIdentity.type", "$.userIdentity.invokedBy",
                  "$.userIdentity.sessionContext.sessionIssuer.arn", "$.tlsDetails.tlsVersion",
                  "$.userIdentity.sessionContext.webIdFederationData.attributes.sub",
                  "$.userIdentity.sessionContext.webIdFederationData.attributes.['a.b']"]
JSON_SELECTORS = ["$.requestParameters.a", "$.requestParameters.n", "$.requestParameters.o.c",
                  "$.requestParameters.l[0]", "$.requestParameters.l[1]", "$.additionalEventData.MFAUsed",
                  "$.responseElements.['odd.key']", "$.serviceEventDetails.s"]
OTHER_SELECTORS = ["$.readOnly", "$.resources[*].ARN", "$.resources[*]", "$.resources", "$.userIdentity",
                   "$.requestParameters", "$.requestParameters.o", "$.eventName.x", "$.userIdentity.type[0]",
                   "$.resources[*].type", "$.resources[0].ARN", "$.resources[1]", "$.resources[2].type",
                   "$.userIdentity.sessionContext.webIdFederationData.attributes",
                   "$.userIdentity.sessionContext.webIdFederationData.attributes.sub.x"]

scalars = st.one_of(st.sampled_from(TEXTS), st.sampled_from(NUMBERS))
json_values = st.recursive(st.one_of(scalars, st.booleans(), st.none()),
                           lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(st.sampled_from(["c", "a", "n"]), inner, max_size=2)),
                           max_leaves=4)
json_objects = st.dictionaries(st.sampled_from(["a", "n", "o", "l", "MFAUsed", "odd.key", "s"]), json_values, max_size=4)


@st.composite
def records(draw: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"eventVersion": "1.08", "eventTime": "2026-01-02T03:04:05Z"}
    for key in ("eventName", "errorCode"):
        if draw(st.booleans()):
            record[key] = draw(st.sampled_from(TEXTS))
    if draw(st.booleans()):
        identity = {key: draw(st.sampled_from(TEXTS)) for key in ("type", "invokedBy") if draw(st.booleans())}
        if draw(st.booleans()):
            identity["sessionContext"] = {"sessionIssuer": {"arn": draw(st.sampled_from(TEXTS))}}
            if draw(st.booleans()):
                identity["sessionContext"]["webIdFederationData"] = {"attributes": draw(
                    st.dictionaries(st.sampled_from(["sub", "aud", "a.b"]), st.sampled_from(TEXTS), max_size=2))}
        record["userIdentity"] = identity
    if draw(st.booleans()):
        record["tlsDetails"] = {"tlsVersion": draw(st.sampled_from(TEXTS))}
    if draw(st.booleans()):
        record["readOnly"] = draw(st.booleans())
    for key in ("requestParameters", "additionalEventData", "responseElements", "serviceEventDetails"):
        if draw(st.booleans()):
            record[key] = draw(json_objects)
    if draw(st.booleans()):
        record["resources"] = draw(st.lists(st.dictionaries(st.sampled_from(["ARN", "type"]), st.sampled_from(TEXTS)),
                                            max_size=3))
    return record


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


@st.composite
def string_values(draw: Any) -> str:
    core = draw(st.sampled_from(TEXTS))
    return _quoted(draw(st.sampled_from(["", "*"])) + core + draw(st.sampled_from(["", "*"])))


@st.composite
def leaves(draw: Any) -> str:
    selector = draw(st.sampled_from(TEXT_SELECTORS + JSON_SELECTORS + OTHER_SELECTORS))
    kind = draw(st.sampled_from(["string", "number", "order", "is", "not-exists", "any", "regex"]))
    if kind == "string":
        return f"{selector} {draw(st.sampled_from(['=', '!=']))} {draw(string_values())}"
    if kind == "number":
        return f"{selector} {draw(st.sampled_from(['=', '!=']))} {draw(st.sampled_from(NUMBER_LITERALS))}"
    if kind == "order":
        return f"{selector} {draw(st.sampled_from(['<', '>', '<=', '>=']))} {draw(st.sampled_from(NUMBER_LITERALS))}"
    if kind == "is":
        return f"{selector} IS {draw(st.sampled_from(['NULL', 'TRUE', 'FALSE']))}"
    if kind == "regex":
        return f"{selector} {draw(st.sampled_from(['=', '!=']))} %{draw(st.sampled_from(REGEXES))}%"
    if kind == "any":
        return f"{selector} {draw(st.sampled_from(['=', '!=']))} *"
    return f"{selector} NOT EXISTS"


expressions = st.recursive(leaves(), lambda inner: st.builds(
    lambda op, parts: "(" + f" {op} ".join(parts) + ")", st.sampled_from(["&&", "||"]),
    st.lists(inner, min_size=2, max_size=3)), max_leaves=5)


def _check(pattern: str, events: list[dict[str, Any]]) -> None:
    try:
        compile_pattern(pattern)
    except PatternSyntaxError:  # over an AWS quota (three wildcard selectors): not a pattern at all
        assume(False)
    con = CONNECTION
    create_table(con)  # a fresh, empty table: rowid counts from 0 again
    load_records(con, events)
    local = compile_predicate(pattern, "duckdb")
    want = events_matching(compile_pattern(pattern).predicate, events)
    assert rows_matching(con, local) == want, local
    athena = compile_predicate(pattern, "athena")
    assert sqlglot.parse_one(athena, read="trino").sql(dialect="duckdb") == local


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions.map(lambda body: "{ " + body + " }"), st.lists(records(), min_size=1, max_size=8))
def test_generated_patterns_select_what_the_engine_matches(pattern: str, events: list[dict[str, Any]]) -> None:
    _check(pattern, events)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(leaves(), st.lists(records(), min_size=4, max_size=12))
def test_generated_leaves_select_what_the_engine_matches(leaf: str, events: list[dict[str, Any]]) -> None:
    _check("{ " + leaf + " }", events)


ODD_KEYS = ["a-b", "123", "with space", "ünï", "$x", "x.y", "0", "-1", "a[0]", "a*b", "@", ".", "a b.c", "[*]"]


def test_keys_of_any_spelling_inside_a_json_text_column() -> None:
    events = [{"requestParameters": {key: "v", "other": key}} for key in ODD_KEYS] + [{"requestParameters": {}}]
    for key in ODD_KEYS:
        _check("{ $.requestParameters.['" + key + "'] = v }", events)
        _check("{ $.requestParameters.['" + key + "'] NOT EXISTS }", events)
