"""The one query of a run (`trailguard.sql.query`): its parts, its inputs' checks, and its rows on DuckDB."""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pytest

from trailguard.alarms import AlarmSettings
from trailguard.backtest import build_report, from_detection_ids
from trailguard.backtest.runner import RunResult
from trailguard.backtest.selection import Target
from trailguard.sql.query import SPAN, DetectionRefused, QueryError, RowOrigin, build_query
from trailguard.sql.results import UNCOUNTED, ResultError, run_result, tally_from_rows

from ..backtest.conftest import fixture_events

TARGETS = [
    Target("stop-logging", "Trail stopped", '{ $.eventName = "StopLogging" }', AlarmSettings()),
    Target("console", "Console sign-in", '{ $.eventName = "ConsoleLogin" }', AlarmSettings(period=3600)),
]


def events_at(*times: str, name: str = "StopLogging") -> list[dict]:
    base = fixture_events()[0]
    return [dict(base, eventName=name, eventTime=when, eventID=f"e{position}") for position, when in enumerate(times)]


def run(events: list[dict], targets=TARGETS, **options):
    """The query over `events` on DuckDB: (the query, its rows)."""
    from trailguard.sql.table import create_table, load_records

    connection = duckdb.connect(":memory:")
    create_table(connection, "cloudtrail")
    load_records(connection, events, "cloudtrail")
    query = build_query(targets, dialect="duckdb", table="cloudtrail", sample_limit=3, **options)
    return query, connection.execute(query.sql).fetchall()


def named(query, rows) -> list[dict]:
    return [dict(zip(query.columns, row)) for row in rows]


def test_one_boolean_column_per_detection_computed_once():
    query = build_query(TARGETS, dialect="duckdb", table="cloudtrail", sample_limit=3)
    assert query.detection_columns == (("d0", "stop-logging"), ("d1", "console"))
    assert query.sql.count(" AS d0") == 1 and query.sql.count(" AS d1") == 1
    assert query.sql.count("FROM cloudtrail") == 1  # the table is read once ...
    for step in ("rows_read", "expanded", "grouped", "capped"):  # ... and each step once: Athena inlines a WITH
        assert len(re.findall(rf"FROM {step}\b", query.sql)) == 1, step


def test_counts_per_minute_and_the_span():
    rows = named(*run(events_at("2026-03-14T09:21:07Z", "2026-03-14T09:21:59Z", "2026-03-14T09:22:00Z")))
    counts = sorted((r["tg_minute"], r["tg_count"], r["tg_first"], r["tg_last"]) for r in rows if r["tg_detection"] == 0)
    minute = int(dt.datetime(2026, 3, 14, 9, 21, tzinfo=dt.timezone.utc).timestamp())
    assert counts == [(minute, 2, "2026-03-14T09:21:07Z", "2026-03-14T09:21:59Z"),
                      (minute + 60, 1, "2026-03-14T09:22:00Z", "2026-03-14T09:22:00Z")]
    (span,) = [r for r in rows if r["tg_detection"] == SPAN]
    assert (span["tg_count"], span["tg_first"], span["tg_last"]) == (3, "2026-03-14T09:21:07Z", "2026-03-14T09:22:00Z")
    assert not [r for r in rows if r["tg_detection"] == 1]  # no ConsoleLogin: no group


def test_samples_are_the_first_few_per_alarm_period():
    times = [f"2026-03-14T09:{21 + step // 6 * 5}:{step % 6 * 10:02d}Z" for step in range(12)]  # two 5-minute periods
    query, rows = run(events_at(*reversed(times)))
    minute_slots = [r for r in named(query, rows) if r["tg_detection"] == 0]
    assert all(r["tg_s3_time"] is not None for r in minute_slots if r["tg_count"] >= 3)  # three per minute from SQL
    found = tally_from_rows(query, rows, TARGETS).detections[0]
    samples = [sample[0] for bucket in found.sampled_periods() for sample in found.period_samples(bucket)]
    assert samples == [*times[:3], *times[6:9]]  # three per alarm period, as the native scan keeps


def test_window_keeps_the_half_open_range_of_event_times():
    events = events_at("2026-03-13T23:59:59Z", "2026-03-14T00:00:00Z", "2026-03-14T12:00:00Z", "2026-03-15T00:00:00Z")
    (span,) = [r for r in named(*run(events, window=(dt.date(2026, 3, 14), dt.date(2026, 3, 15))))
               if r["tg_detection"] == SPAN]
    assert (span["tg_count"], span["tg_first"], span["tg_last"]) == (2, "2026-03-14T00:00:00Z", "2026-03-14T12:00:00Z")


def test_partition_filter_is_added_as_given():
    query = build_query(TARGETS, dialect="athena", table="cloudtrail_logs", sample_limit=3,
                        partition_filter="region = 'eu-west-1' AND day >= '2026/03/14'")
    assert "WHERE (region = 'eu-west-1' AND day >= '2026/03/14')" in query.sql


def test_athena_dialect_uses_its_functions_and_paths():
    sql = build_query(TARGETS, dialect="athena", table="cloudtrail_logs", sample_limit=3,
                      window=(dt.datetime(2026, 3, 14, 6), None)).sql
    assert '"$path" AS tg_file' in sql and "regexp_like(" in sql and "from_iso8601_timestamp(" in sql
    assert "min_by(CAST(ROW(" in sql and "element_at(tg_kept, 3).s_index AS tg_s3_index" in sql
    assert "t.eventtime >= '2026-03-14T06:00:00Z'" in sql
    assert "//" not in sql and "ASOF" not in sql


def test_origin_table_locates_rows_for_the_native_sample_order():
    sql = build_query(TARGETS, dialect="duckdb", table="cloudtrail", sample_limit=3, origin=RowOrigin("where_from")).sql
    assert "ASOF JOIN where_from o ON e.tg_row >= o.first_row" in sql


@pytest.mark.parametrize("options, message", [
    ({"dialect": "sqlite"}, "dialect 'sqlite': allowed duckdb, athena"),
    ({"sample_limit": 0}, "sample_limit 0: allowed a whole number of 1 or more samples per minute"),
    ({"window": (dt.date(2026, 3, 15), dt.date(2026, 3, 14))}, "window start 2026-03-15T00:00:00Z is not before its end"),
    ({"window": ("yesterday", None)}, "window start 'yesterday': allowed a datetime, a date, epoch seconds or None"),
    ({"window": (1,)}, "window (1,): allowed (start, end) or None"),
])
def test_bad_inputs_are_named(options, message):
    arguments = {"dialect": "duckdb", "table": "cloudtrail", "sample_limit": 3, **options}
    with pytest.raises(QueryError) as raised:
        build_query(TARGETS, **arguments)
    assert message in str(raised.value)


def test_no_targets_is_refused():
    with pytest.raises(QueryError, match="no detections to query"):
        build_query([], dialect="duckdb", table="cloudtrail", sample_limit=3)


def test_rows_become_the_report_the_native_engine_builds():
    events = events_at("2026-03-14T09:21:07Z", "2026-03-14T09:21:09Z")
    report = build_report(run_result(*run(events), TARGETS, 1.0)).as_json_dict()
    first = report["detections"][0]
    assert (first["matches"], first["first"], first["last"]) == (2, "2026-03-14T09:21:07Z", "2026-03-14T09:21:09Z")
    assert len(first["episodes"]) == 1 and [s["time"] for s in first["samples"]] == ["2026-03-14T09:21:07Z",
                                                                                       "2026-03-14T09:21:09Z"]
    # what SQL cannot know is zero, not invented
    assert (report["summary"]["files"], report["summary"]["bytes"], report["summary"]["eventsRejected"]) == (0, 0, 0)
    assert report["summary"]["eventsEvaluated"] == 2
    assert report["summary"]["notes"] == [UNCOUNTED]


def test_a_run_with_everything_counted_has_no_notes():
    tally = tally_from_rows(*run(events_at("2026-03-14T09:21:07Z")), TARGETS)
    report = build_report(RunResult(tuple(TARGETS), tally, 1.0)).as_json_dict()
    assert "notes" not in report["summary"]


def test_rows_that_do_not_fit_the_query_are_a_bug():
    query, rows = run(events_at("2026-03-14T09:21:07Z"))
    with pytest.raises(ResultError, match="no span row"):
        tally_from_rows(query, [row for row in rows if row[0] != SPAN], TARGETS)
    with pytest.raises(ResultError, match="a query row has 2 columns; the query returns 48"):
        tally_from_rows(query, [(0, 1)], TARGETS)
    with pytest.raises(ResultError, match="a query row is for detection number 7; the run has 2"):
        tally_from_rows(query, [(7, *rows[0][1:])], TARGETS)
    with pytest.raises(ResultError, match="the query is for 2 detections, the run for 1"):
        tally_from_rows(query, rows, TARGETS[:1])


def test_a_refusal_names_the_detection(monkeypatch):
    from trailguard.sql import compile as compiler

    def refuse(pattern, dialect):
        raise compiler.SqlRefusal("no-column", "$.notAColumn")

    monkeypatch.setattr(compiler, "compile_predicate", refuse)
    with pytest.raises(DetectionRefused) as raised:
        build_query(from_detection_ids(["root-usage"]), dialect="athena", table="t", sample_limit=3)
    assert raised.value.detection == "root-usage" and raised.value.reason == "no-column"
    assert str(raised.value).startswith("detection 'root-usage': cannot compile to SQL (no-column): ")
    assert "$.notAColumn; replay it with --engine native" in str(raised.value)


def test_a_pattern_the_compiler_refuses_for_real():
    target = Target("raw-text", "raw text", '"AccessDenied"', AlarmSettings())  # a term: the table has no raw message
    with pytest.raises(DetectionRefused) as raised:
        build_query([target], dialect="duckdb", table="t", sample_limit=3)
    assert raised.value.reason == "not-json"


def test_notes_show_under_the_table_and_on_the_page():
    from trailguard.backtest.html import render_html
    from trailguard.backtest.terminal import format_summary

    report = build_report(run_result(*run(events_at("2026-03-14T09:21:07Z")), TARGETS, 1.0))
    assert f"note: {UNCOUNTED}" in format_summary(report).splitlines()
    assert "<th>note</th><td>files, bytes and rejected records are not known here" in render_html(report)


def test_the_athena_query_of_the_catalogue_parses_as_trino():
    import sqlglot

    targets = from_detection_ids(["all"])
    sql = build_query(targets, dialect="athena", table="cloudtrail_logs", sample_limit=3,
                      partition_filter="region = 'eu-west-1'", window=(dt.date(2026, 3, 1), dt.date(2026, 4, 1))).sql
    tree = sqlglot.parse_one(sql, read="trino")
    tables = [table.name for table in tree.find_all(sqlglot.exp.Table)]
    assert tables.count("cloudtrail_logs") == 1 and tables.count("rows_read") == 1  # one scan of the table
    assert all(f") AS d{index}\n" in sql or f") AS d{index},\n" in sql for index in range(len(targets)))  # one flag each


def test_rows_as_athena_returns_them_all_text_give_the_same_report():
    events = events_at("2026-03-14T09:21:07Z", "2026-03-14T09:21:09Z", "2026-03-14T10:00:00.5Z", "later")
    query, rows = run(events)
    as_text = [tuple(None if value is None else str(value) for value in row) for row in rows]
    typed = build_report(run_result(query, rows, TARGETS, 1.0)).as_json_dict()
    assert build_report(run_result(query, as_text, TARGETS, 1.0)).as_json_dict() == typed
    assert typed["detections"][0]["matches"] == 4 and typed["detections"][0]["untimedMatches"] == 1
    broken = [("x", *row[1:]) for row in as_text]
    with pytest.raises(ResultError, match="query column 1 holds 'x'; expected a whole number"):
        run_result(query, broken, TARGETS, 1.0)
