"""`%regex%` values: the filter-pattern subset is rewritten for RE2 (DuckDB) and Athena so that a
search finds what the engine's Python `re` (ASCII) finds; what has no such spelling is refused."""

from __future__ import annotations

import re

import duckdb
import pytest
import sqlglot
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from trailguard.patterns import PatternSyntaxError, compile_pattern
from trailguard.sql import SqlRefusal, compile_predicate, create_table, load_records
from trailguard.sql.compile import _translate_regex

CONNECTION = duckdb.connect()
SUBJECTS = ["", "a", "ab", "ba", "a1", "a:b", "a b", "a\n", "a\nb", "\n", "AccessDenied", "x.y", "xzy", "a_b",
            "a-b", "é", "aaab", "{a}", "a]", "\t", "\x0b", "12", "a\n\n"]
ALPHABET = list("ab1_ :-.^$|?*+[]{},2") + ["\\d", "\\w", "\\s", "\\D", "\\S", "\\W", "\\.", "\\-", "{2}", "{1,3}"]


def _searches(body: str, translated: str) -> None:
    rows = CONNECTION.execute("SELECT s, regexp_matches(s, ?) FROM unnest(?) AS t(s)", [translated, SUBJECTS]).fetchall()
    for subject, found in rows:
        assert found == (re.search(body, subject, re.ASCII) is not None), (body, translated, subject)


@pytest.mark.parametrize("body", ["^Access", "Denied$", "^a.b$", "a\\d+", "[a-z_-]+:", "[^\\s:]b", "a|b$",
                                  "x\\.y", "\\w\\W", "a{2,3}b", "[]a]", "a{x", "a*?b", "^$", "[\\]]", "\\S\\s"])
def test_translated_regex_searches_like_python(body: str) -> None:
    compile_pattern("{ $.eventName = %" + body + "% }")  # inside the language's subset
    _searches(body, _translate_regex(body))


@pytest.mark.filterwarnings("ignore:Possible nested set:FutureWarning")  # Python's re on `[[`, not ours
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.lists(st.sampled_from(ALPHABET), min_size=1, max_size=7).map("".join))
def test_generated_regex_searches_like_python_or_is_refused(body: str) -> None:
    try:
        compile_pattern("{ $.eventName = %" + body + "% }")
        re.compile(body, re.ASCII)
    except (PatternSyntaxError, re.error):
        assume(False)
    try:
        translated = _translate_regex(body)
    except SqlRefusal as refusal:
        assert refusal.reason == "regex"
        return
    _searches(body, translated)


@pytest.mark.filterwarnings("ignore:Possible nested set:FutureWarning")
@pytest.mark.parametrize("body", ["a\\b", "\\Aa", "a{,2}", "a$b", "a*+", "[[a]", "a{1001}", "\\n"])
def test_regex_without_an_exact_spelling_is_refused(body: str) -> None:
    with pytest.raises(SqlRefusal) as refusal:
        compile_predicate("{ $.eventName = %" + body + "% }", "duckdb")
    assert refusal.value.reason == "regex"


@pytest.mark.parametrize("pattern", ["{ $.errorCode = %^Access% }", "{ $.errorCode != %Denied$% }",
                                     "{ $.requestParameters.a = %^1[0-9]$% }", "{ $.resources[*].ARN = %:s3:% }"])
def test_regex_patterns_select_what_the_engine_matches(pattern: str) -> None:
    events = [{"errorCode": "AccessDenied"}, {"errorCode": "Denied"}, {"errorCode": "NoAccess"}, {},
              {"requestParameters": {"a": 12}}, {"requestParameters": {"a": "1x"}}, {"requestParameters": {"a": True}},
              {"resources": [{"ARN": "arn:aws:s3:::b"}]}, {"resources": [{"ARN": "arn:aws:iam::1:role/x"}]}]
    create_table(CONNECTION)
    load_records(CONNECTION, events)
    local = compile_predicate(pattern, "duckdb")
    got = {row[0] for row in CONNECTION.execute(f"SELECT rowid FROM cloudtrail WHERE {local}").fetchall()}
    predicate = compile_pattern(pattern).predicate
    assert got == {n for n, event in enumerate(events) if predicate(event)}
    assert sqlglot.parse_one(compile_predicate(pattern, "athena"), read="trino").sql(dialect="duckdb") == local
