"""One SQL query per back-test run: every detection's predicate once per row, counts per minute,
and the samples the native engine would keep, reading the table once.

The query reads AWS's documented Athena CloudTrail table (`table.py` gives DuckDB the same shape)
in one chain of steps, each reading only the step before it (Athena inlines a WITH clause at
every use, so a second use would scan, and bill, the table again):

1. `rows_read`: one boolean column per detection (`d0`, `d1`, ...), the minute of the eventTime
   (epoch seconds, for CloudTrail's own `YYYY-MM-DDTHH:MM:SSZ` only) and what a sample shows;
2. `expanded`: each row once per detection it matches, and once as detection -1 (every row: the
   events evaluated and their eventTime span);
3. `grouped`: per detection and minute, the matches, the earliest and latest eventTime text, and
   the first `sample_limit` matches in the native sample order (eventTime text, file, index in
   file), `min_by(..., n)`: bounded memory whatever the counts. Times SQL cannot place come back
   grouped by their text (`tg_time`), and Python places them as the native engine does
   (`scan.minute_of`), so an odd time is counted, or counted untimed, exactly as there;
4. samples are kept for each detection's earliest `SAMPLED_PERIODS` alarm periods with matches.

Each result row (`BuiltQuery.columns`) is one group: `tg_detection`, `tg_minute`, `tg_time`,
`tg_count`, `tg_first`, `tg_last`, then `sample_limit` sample slots of `SAMPLE_COLUMNS` each
(NULL when the group has fewer). `results.py` turns the rows into the native engine's tallies, so
the alarm replay, the report and its renderings are the native engine's own code. A caller
running it elsewhere (Athena):

    query = build_query(targets, dialect="athena", table="cloudtrail_logs", window=(start, end),
                        partition_filter="...", sample_limit=scan.SAMPLES_PER_PERIOD)
    result = results.run_result(query, rows, targets, seconds)   # rows as text or typed
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

GROUP_COLUMNS = ("tg_detection", "tg_minute", "tg_time", "tg_count", "tg_first", "tg_last")
"""The first columns of every result row: the group, its matches and its eventTime text range."""

SAMPLE_COLUMNS = (("time", "tg_time"), ("event", "tg_event"), ("service", "tg_service"), ("arn", "tg_arn"),
                  ("username", "tg_username"), ("principal", "tg_principal"), ("identity_type", "tg_identity_type"),
                  ("invokedby", "tg_invokedby"), ("account", "tg_account"), ("region", "tg_region"),
                  ("source_ip", "tg_source_ip"), ("error", "tg_error"), ("file", "tg_file"), ("index", "tg_index"))
"""(name in a sample slot, the `rows_read` column it holds): all text but the index in the file."""

SPAN = -1
"""`tg_detection` of the row holding every event evaluated and their first and last eventTime."""

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

    @property
    def columns(self) -> tuple[str, ...]:
        """The result's columns, in order: GROUP_COLUMNS, then each sample slot's."""
        return result_columns(self.sample_limit)


def result_columns(sample_limit: int) -> tuple[str, ...]:
    """GROUP_COLUMNS, then `sample_limit` slots of SAMPLE_COLUMNS named `tg_s<slot>_<name>`."""
    slots = [f"tg_s{slot}_{name}" for slot in range(1, sample_limit + 1) for name, _ in SAMPLE_COLUMNS]
    return (*GROUP_COLUMNS, *slots)


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
    caller adds to prune partitions (Athena). `sample_limit` is the samples returned per detection
    and minute; `scan.SAMPLES_PER_PERIOD` gives the native report's samples. Raises
    `DetectionRefused` naming the first detection whose pattern has no SQL form, before anything runs."""
    if dialect not in DIALECTS:
        raise QueryError(f"dialect {dialect!r}: allowed {', '.join(DIALECTS)}")
    if not targets:
        raise QueryError("no detections to query; give at least one")
    if not isinstance(sample_limit, int) or sample_limit < 1:
        raise QueryError(f"sample_limit {sample_limit!r}: allowed a whole number of 1 or more samples per minute")
    predicates = compile_targets(targets, dialect)
    columns = tuple((f"d{index}", target.id) for index, target in enumerate(targets))
    conditions = [f"({partition_filter})"] if partition_filter else []
    conditions += _window_conditions(window)
    where = f"\n  WHERE {' AND '.join(conditions)}" if conditions else ""
    if origin is None:
        file_expr = '"$path"' if dialect == "athena" else "CAST(NULL AS VARCHAR)"
        row_expr = ""
    else:
        file_expr, row_expr = "CAST(NULL AS VARCHAR)", f",\n    CAST(t.{origin.row_number} AS BIGINT) AS tg_row"
    # a NULL flag (a predicate over missing fields) counts as no match, as FALSE would
    flags = ",\n    ".join(f"({predicate}) AS {column}" for predicate, (column, _) in zip(predicates, columns))
    periods = ", ".join([f"({SPAN}, 60)", *(f"({index}, {target.alarm.period})" for index, target in enumerate(targets))])
    chosen = " ".join(f"WHEN {index} THEN l.{column}" for index, (column, _) in enumerate(columns))
    divide = "//" if dialect == "duckdb" else "/"  # whole-number division (DuckDB's `/` gives a fraction)
    if origin is None:
        located = "expanded"
        locate = ""
    else:  # the row's file and index in it, from the stretch it was loaded with
        kept = ", ".join(f"e.{column}" for column in _EXPANDED if column not in ("tg_file", "tg_index"))
        located = "located"
        locate = (f",\nlocated AS (\n  SELECT {kept},\n    o.file AS tg_file, o.base + (e.tg_row - o.first_row) AS tg_index\n"
                  f"  FROM expanded e ASOF JOIN {origin.table} o ON e.tg_row >= o.first_row\n)")
    sample, order = _sample_expressions(dialect)
    slots = ",\n  ".join(
        f"{_element(dialect, 'tg_kept', slot)}.s_{name} AS tg_s{slot}_{name}"
        for slot in range(1, sample_limit + 1) for name, _ in SAMPLE_COLUMNS)
    sql = f"""WITH rows_read AS (
  SELECT
    t.eventtime AS tg_time,
    {_minute_expression(dialect, "t.eventtime")} AS tg_minute,
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
    CAST(NULL AS BIGINT) AS tg_index{row_expr},
    {flags}
  FROM {table} t{where}
),
expanded AS (
  SELECT k.tg_detection, k.tg_period, l.*
  FROM rows_read l CROSS JOIN (VALUES {periods}) AS k (tg_detection, tg_period)
  WHERE CASE k.tg_detection WHEN {SPAN} THEN TRUE {chosen} ELSE FALSE END
){locate},
grouped AS (
  SELECT tg_detection, tg_period, tg_minute_key AS tg_minute, tg_odd_time AS tg_time, COUNT(*) AS tg_count,
    MIN(tg_shown_time) AS tg_first, MAX(tg_shown_time) AS tg_last,
    min_by({sample}, {order}, {sample_limit}) FILTER (WHERE tg_detection <> {SPAN} AND tg_time IS NOT NULL) AS tg_samples
  FROM (
    SELECT x.*,
      CASE WHEN x.tg_detection <> {SPAN} THEN x.tg_minute END AS tg_minute_key,
      CASE WHEN x.tg_detection <> {SPAN} AND x.tg_minute IS NULL THEN x.tg_time END AS tg_odd_time,
      CASE WHEN x.tg_detection <> {SPAN} OR (x.tg_time >= '0' AND x.tg_time < ':') THEN x.tg_time END AS tg_shown_time
    FROM {located} x
  ) g
  GROUP BY tg_detection, tg_period, tg_minute_key, tg_odd_time
),
capped AS (
  SELECT c.*,
    CASE WHEN c.tg_minute IS NULL
           OR DENSE_RANK() OVER (PARTITION BY c.tg_detection ORDER BY c.tg_minute {divide} c.tg_period) <= {SAMPLED_PERIODS}
         THEN c.tg_samples END AS tg_kept
  FROM grouped c
)
SELECT tg_detection, tg_minute, tg_time, tg_count, tg_first, tg_last,
  {slots}
FROM capped
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


_EXPANDED = ("tg_detection", "tg_period", "tg_time", "tg_minute", *(column for _, column in SAMPLE_COLUMNS[1:]),
             "tg_eventid")
"""The columns of `expanded` the later steps read (the flags and the row number stay behind)."""


def _sample_expressions(dialect: str) -> tuple[str, str]:
    """A match as one sample value, and its sort key (the native order, then eventID)."""
    key = ("COALESCE(tg_time, '')", "COALESCE(tg_file, '')", "COALESCE(tg_index, -1)", "COALESCE(tg_eventid, '')")
    if dialect == "duckdb":
        value = "struct_pack(" + ", ".join(f"s_{name} := {column}" for name, column in SAMPLE_COLUMNS) + ")"
        order = "struct_pack(" + ", ".join(f"k{position} := {part}" for position, part in enumerate(key)) + ")"
        return value, order
    types = ", ".join(f"s_{name} {'BIGINT' if name == 'index' else 'VARCHAR'}" for name, _ in SAMPLE_COLUMNS)
    value = f"CAST(ROW({', '.join(column for _, column in SAMPLE_COLUMNS)}) AS ROW({types}))"
    return value, f"ROW({', '.join(key)})"


def _element(dialect: str, column: str, slot: int) -> str:
    """Element `slot` (from 1) of an array column, NULL past its end."""
    return f"{column}[{slot}]" if dialect == "duckdb" else f"element_at({column}, {slot})"


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
