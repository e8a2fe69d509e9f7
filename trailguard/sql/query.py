"""One SQL query per back-test run: every detection's predicate once per row, counts per minute,
and the samples the native engine would keep.

The query reads AWS's documented Athena CloudTrail table (`table.py` gives DuckDB the same shape)
and returns three kinds of rows, told apart by `tg_kind`:

* `count`: matches per detection per minute (`tg_minute`, epoch seconds), with the earliest and
  latest eventTime text of the minute. Times that are not CloudTrail's own
  `YYYY-MM-DDTHH:MM:SSZ` get no minute in SQL; they come back grouped by their text
  (`tg_time`) and Python places them as the native engine does (`scan.minute_of`), so an odd
  time is counted, or counted untimed, exactly as there.
* `sample`: per detection and alarm period, the first `sample_limit` matches in the native
  engine's sample order (eventTime text, file, index in file), for the earliest
  `SAMPLED_PERIODS` periods with matches; plus every match whose time SQL could not place
  (Python sorts those in; real CloudTrail has none).
* `span`: one row with the events evaluated and the earliest and latest eventTime among them
  (the replay's span), as the native scan measures them.

`results.py` turns the rows into the native engine's tallies, so the alarm replay, the report
and its renderings are the native engine's own code. A caller running it elsewhere (Athena):

    query = build_query(targets, dialect="athena", table="cloudtrail_logs", window=(start, end),
                        partition_filter="...", sample_limit=scan.SAMPLES_PER_PERIOD)
    result = results.run_result(rows, targets, seconds)   # rows: RESULT_COLUMNS, text or typed
    report = backtest.build_report(result)

On Athena a sample's file is `"$path"` and it has no index in its file, so samples that tie on
eventTime and file are ordered by eventID: deterministic, not the native engine's order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal, Sequence

from trailguard.backtest.scan import SAMPLED_PERIODS
from trailguard.backtest.selection import Target

Dialect = Literal["duckdb", "athena"]
DIALECTS: tuple[str, ...] = ("duckdb", "athena")

RESULT_COLUMNS = ("tg_kind", "tg_detection", "tg_minute", "tg_time", "tg_count", "tg_first", "tg_last",
                  "tg_event", "tg_service", "tg_arn", "tg_username", "tg_principal", "tg_identity_type",
                  "tg_invokedby", "tg_account", "tg_region", "tg_source_ip", "tg_error", "tg_file", "tg_index")
"""The columns every result row has, in this order (`results.py` reads them by position)."""

_CANONICAL_TIME = ("^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$")
"""CloudTrail's own eventTime; SQL places only these on the minute timeline (with a valid date)."""


class QueryError(ValueError):
    """A query that cannot be built: bad dialect, window or limit (the message names the input)."""


class DetectionRefused(QueryError):
    """A detection whose pattern the compiler refuses (`compile.SqlRefusal`): names the detection,
    the compiler's reason (`reason`, a key of `compile.REFUSALS`) and what to do instead."""

    def __init__(self, detection: str, refusal: Exception) -> None:
        self.detection = detection
        self.reason: str = getattr(refusal, "reason", "")
        super().__init__(f"detection {detection!r}: {refusal}; replay it with --engine native, or leave it out")


@dataclass(frozen=True, slots=True)
class BuiltQuery:
    """The SQL text of a run, and which detection each `tg_detection` number stands for."""

    sql: str
    detection_columns: tuple[tuple[str, str], ...]  # (column in the query, detection id), in target order
    dialect: str
    sample_limit: int


@dataclass(frozen=True, slots=True)
class RowOrigin:
    """Where each row of the table came from, for the native sample order (file, index in file).

    `table` holds one row per loaded stretch of events: `first_row` (the table's row number of
    its first event), `file` (the source label) and `base` (the index of its first event in that
    file); a row's index is `base + row - first_row`. Without it (Athena), the file is Athena's
    `"$path"` and ties fall back to eventID: deterministic, but not the native order."""

    table: str
    row_number: str = "rowid"


def build_query(targets: Sequence[Target], *, dialect: Dialect, table: str,
                window: tuple[Any, Any] | None = None, partition_filter: str | None = None,
                sample_limit: int, origin: RowOrigin | None = None) -> BuiltQuery:
    """The one query of a run over `table` for `targets` (see the module docstring).

    `window` is `(start, end)`, a half-open UTC range (datetimes, dates or epoch seconds; either
    may be None) compared with the eventTime text; `partition_filter` is a SQL condition the
    caller adds to prune partitions (Athena). Raises `DetectionRefused` naming the first detection
    whose pattern has no SQL form, before anything runs."""
    if dialect not in DIALECTS:
        raise QueryError(f"dialect {dialect!r}: allowed {', '.join(DIALECTS)}")
    if not targets:
        raise QueryError("no detections to query; give at least one")
    if not isinstance(sample_limit, int) or sample_limit < 1:
        raise QueryError(f"sample_limit {sample_limit!r}: allowed a whole number of 1 or more samples per alarm period")
    predicates = compile_targets(targets, dialect)
    columns = tuple((f"d{index}", target.id) for index, target in enumerate(targets))
    conditions = [f"({partition_filter})"] if partition_filter else []
    conditions += _window_conditions(window)
    where = f"\n  WHERE {' AND '.join(conditions)}" if conditions else ""
    if origin is None:
        file_expr, index_expr, row_expr = ('"$path"' if dialect == "athena" else "CAST(NULL AS VARCHAR)"), \
            "CAST(NULL AS BIGINT)", ""
    else:
        file_expr, index_expr, row_expr = "CAST(NULL AS VARCHAR)", "CAST(NULL AS BIGINT)", \
            f",\n    CAST(t.{origin.row_number} AS BIGINT) AS tg_row"
    # a NULL flag (a predicate over missing fields) counts as no match in every test below
    flags = ",\n    ".join(f"({predicate}) AS {column}"
                            for predicate, (column, _) in zip(predicates, columns))
    periods = ", ".join(f"({index}, {target.alarm.period})" for index, target in enumerate(targets))
    chosen = " ".join(f"WHEN {index} THEN l.{column}" for index, (column, _) in enumerate(columns))
    any_match = " OR ".join(f"l.{column}" for column, _ in columns)
    minute = _minute_expression(dialect, "t.eventtime")
    tiebreak = ", m.tg_eventid" if origin is None else ""
    divide = "//" if dialect == "duckdb" else "/"  # whole-number division (DuckDB's `/` gives a fraction)
    locate = ""
    if origin is not None:  # the matches only: a handful of rows, joined to their stretch of a file
        locate = (f",\nlocated AS (\n  SELECT m.tg_detection, m.tg_period, m.tg_minute, m.tg_time, m.tg_event, m.tg_service,"
                  f" m.tg_arn, m.tg_username, m.tg_principal, m.tg_identity_type, m.tg_invokedby, m.tg_account,"
                  f" m.tg_region, m.tg_source_ip, m.tg_error, m.tg_eventid,\n"
                  f"    o.file AS tg_file, o.base + (m.tg_row - o.first_row) AS tg_index\n"
                  f"  FROM matched m ASOF JOIN {origin.table} o ON m.tg_row >= o.first_row\n)")
    sampled_from = "located" if origin is not None else "matched"
    sql = f"""WITH rows_read AS (
  SELECT
    t.eventtime AS tg_time,
    {minute} AS tg_minute,
    t.eventname AS tg_event,
    t.eventsource AS tg_service,
    t.useridentity.arn AS tg_arn,
    t.useridentity.username AS tg_username,
    t.useridentity.principalid AS tg_principal,
    t.useridentity.type AS tg_identity_type,
    t.useridentity.invokedby AS tg_invokedby,
    t.recipientaccountid AS tg_account,
    t.awsregion AS tg_region,
    t.sourceipaddress AS tg_source_ip,
    t.errorcode AS tg_error,
    t.eventid AS tg_eventid,
    {file_expr} AS tg_file,
    {index_expr} AS tg_index{row_expr},
    {flags}
  FROM {table} t{where}
),
matched AS (
  SELECT k.tg_detection, k.tg_period, l.*
  FROM rows_read l CROSS JOIN (VALUES {periods}) AS k (tg_detection, tg_period)
  WHERE ({any_match}) AND (CASE k.tg_detection {chosen} ELSE FALSE END)
){locate},
ranked AS (
  SELECT m.*,
    ROW_NUMBER() OVER (PARTITION BY m.tg_detection, m.tg_minute {divide} m.tg_period
                       ORDER BY m.tg_time, m.tg_file, m.tg_index{tiebreak}) AS tg_rank,
    DENSE_RANK() OVER (PARTITION BY m.tg_detection ORDER BY m.tg_minute {divide} m.tg_period) AS tg_period_rank
  FROM {sampled_from} m
  WHERE m.tg_minute IS NOT NULL
)
SELECT 'count' AS tg_kind, tg_detection, tg_minute,
  CASE WHEN tg_minute IS NULL THEN tg_time END AS tg_time, COUNT(*) AS tg_count,
  MIN(tg_time) AS tg_first, MAX(tg_time) AS tg_last,
  {_nulls(13)}
FROM matched
GROUP BY tg_detection, tg_minute, CASE WHEN tg_minute IS NULL THEN tg_time END
UNION ALL
SELECT 'sample', tg_detection, tg_minute, tg_time, CAST(NULL AS BIGINT), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR),
  tg_event, tg_service, tg_arn, tg_username, tg_principal, tg_identity_type, tg_invokedby, tg_account, tg_region,
  tg_source_ip, tg_error, tg_file, tg_index
FROM ranked
WHERE tg_rank <= {sample_limit} AND tg_period_rank <= {SAMPLED_PERIODS}
UNION ALL
SELECT 'sample', m.tg_detection, m.tg_minute, m.tg_time, CAST(NULL AS BIGINT), CAST(NULL AS VARCHAR),
  CAST(NULL AS VARCHAR), m.tg_event, m.tg_service, m.tg_arn, m.tg_username, m.tg_principal, m.tg_identity_type,
  m.tg_invokedby, m.tg_account, m.tg_region, m.tg_source_ip, m.tg_error, m.tg_file, m.tg_index
FROM {sampled_from} m
WHERE m.tg_minute IS NULL AND m.tg_time IS NOT NULL
UNION ALL
SELECT 'span', CAST(NULL AS INTEGER), CAST(NULL AS BIGINT), CAST(NULL AS VARCHAR), COUNT(*),
  MIN(CASE WHEN tg_time >= '0' AND tg_time < ':' THEN tg_time END),
  MAX(CASE WHEN tg_time >= '0' AND tg_time < ':' THEN tg_time END),
  {_nulls(13)}
FROM rows_read
"""
    return BuiltQuery(sql, columns, dialect, sample_limit)


def compile_targets(targets: Sequence[Target], dialect: Dialect) -> list[str]:
    """Each target's predicate; a refusal is raised as `DetectionRefused`, before any query runs."""
    from trailguard.sql.compile import SqlRefusal, compile_predicate

    predicates = []
    for target in targets:
        try:
            predicates.append(compile_predicate(target.pattern, dialect))
        except SqlRefusal as error:
            raise DetectionRefused(target.id, error) from None
    return predicates


def _nulls(count: int) -> str:
    """`count` typed NULLs for the sample columns a row kind does not fill (text, then the index)."""
    texts = ["CAST(NULL AS VARCHAR)"] * (count - 1)
    return ", ".join([*texts, "CAST(NULL AS BIGINT)"])


def _minute_expression(dialect: str, column: str) -> str:
    """Epoch seconds of the minute of a CloudTrail-format time, NULL for any other text (or an
    impossible date), in the dialect's functions."""
    if dialect == "duckdb":
        return (f"CASE WHEN regexp_full_match({column}, '{_CANONICAL_TIME[1:-1]}') THEN "
                f"CAST(epoch(try_strptime(substr({column}, 1, 16), '%Y-%m-%dT%H:%M')) AS BIGINT) END")
    return (f"CASE WHEN regexp_like({column}, '{_CANONICAL_TIME}') THEN "
            f"CAST(try(to_unixtime(from_iso8601_timestamp(substr({column}, 1, 16) || ':00Z'))) AS BIGINT) END")


def _window_conditions(window: tuple[Any, Any] | None) -> list[str]:
    if window is None:
        return []
    try:
        start, end = window
    except (TypeError, ValueError):
        raise QueryError(f"window {window!r}: allowed (start, end) or None") from None
    low, high = _time_text(start, "start"), _time_text(end, "end")
    if low is not None and high is not None and low >= high:
        raise QueryError(f"window start {low} is not before its end {high}")
    conditions = []
    if low is not None:
        conditions.append(f"t.eventtime >= '{low}'")
    if high is not None:
        conditions.append(f"t.eventtime < '{high}'")
    return conditions


def _time_text(value: Any, which: str) -> str | None:
    """A window bound as CloudTrail's eventTime text (UTC), which compares as time does."""
    from trailguard.timefmt import format_utc

    if value is None:
        return None
    if isinstance(value, bool):
        raise QueryError(f"window {which} {value!r}: allowed a datetime, a date, epoch seconds or None")
    if isinstance(value, (int, float)):
        return format_utc(int(value))
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return format_utc(int(value.timestamp()))
    if isinstance(value, dt.date):
        return value.isoformat() + "T00:00:00Z"
    raise QueryError(f"window {which} {value!r}: allowed a datetime, a date, epoch seconds or None")
