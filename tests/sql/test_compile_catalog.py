"""Every catalogue detection and profile, compiled to SQL, selects exactly the events the engine
matches: the catalogue's samples, the back-test fixtures and (when ../shared is present) the shared
real CloudTrail events, loaded with `load_records`. Also with declared exclusions merged in. And the
Athena text of each is Trino SQL that says the same as the DuckDB text."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest
import sqlglot

from tests.sql.corpus import events_matching, project_events, rows_matching, shared_events
from trailguard.catalog import load_catalog
from trailguard.exclusions import merge_exclusions, parse_exclusions
from trailguard.patterns import compile_pattern
from trailguard.sql import compile_predicate, load_records

CATALOG = load_catalog()
CASES = [(detection_id, profile) for detection_id in CATALOG.detections
         for profile in CATALOG.get(detection_id).patterns]
EXCLUSIONS = [
    [{"principal": "arn:aws:iam::111122223333:role/deployer"}, {"sourceIp": "203.0.113.7"}],
    [{"userAgent": "*terraform*"}, {"sourceIp": "10.1.0.0/16"}],
    [{"pattern": "$.requestParameters.maxItems = 400 || $.requestParameters.dryRun IS TRUE"},
     {"pattern": "$.requestParameters.note IS NULL"}],
    [{"pattern": '$.userIdentity.type = "AssumedRole" && $.requestParameters.roleName = "deployer"'},
     {"pattern": "$.additionalEventData.MFAUsed NOT EXISTS"}],
]


@pytest.fixture(scope="module")
def loaded() -> tuple[Any, list[dict[str, Any]]]:
    events = project_events() + shared_events()
    con = duckdb.connect()
    assert load_records(con, events) == len(events)
    return con, events


def _same_matches(loaded: tuple[Any, list[dict[str, Any]]], pattern: str) -> set[int]:
    con, events = loaded
    want = events_matching(compile_pattern(pattern).predicate, events)
    got = rows_matching(con, compile_predicate(pattern, "duckdb"))
    assert got == want, (f"SQL only: {[events[n].get('eventName') for n in got - want]}, "
                         f"engine only: {[events[n].get('eventName') for n in want - got]}")
    return got


@pytest.mark.parametrize(("detection_id", "profile"), CASES)
def test_catalogue_pattern_selects_what_the_engine_matches(loaded, detection_id: str, profile: str) -> None:
    detection = CATALOG.get(detection_id)
    got = _same_matches(loaded, detection.patterns[profile])
    assert got, "the corpus holds the detection's positive samples, so something must match"


@pytest.mark.parametrize("items", EXCLUSIONS, ids=lambda items: "+".join(next(iter(i)) for i in items))
@pytest.mark.parametrize("detection_id", ["unauthorized-api-calls", "console-signin-without-mfa", "root-usage"])
def test_merged_exclusions_select_what_the_engine_matches(loaded, detection_id: str, items: list) -> None:
    merged = merge_exclusions(CATALOG.get(detection_id).patterns["default"], parse_exclusions(items))
    _same_matches(loaded, merged)


@pytest.mark.parametrize(("detection_id", "profile"), CASES)
def test_athena_text_is_trino_sql_and_the_duckdb_text_in_another_dialect(detection_id: str, profile: str) -> None:
    pattern = CATALOG.get(detection_id).patterns[profile]
    athena, local = compile_predicate(pattern, "athena"), compile_predicate(pattern, "duckdb")
    parsed = sqlglot.parse_one(athena, read="trino")
    assert parsed.sql(dialect="duckdb") == local
    assert parsed.sql(dialect="trino") == athena


def test_the_corpus_has_the_shared_events_when_shared_is_present(loaded) -> None:
    _, events = loaded
    assert len(events) == len(project_events()) + len(shared_events()) > 200
