"""`trailguard backtest --engine duckdb`: the run's one SQL query (`query.py`) over local files
loaded into DuckDB in the Athena table's shape, so what runs here is what runs on Athena.

Files are read by the project's one reader (the native engine's: `backtest.sources.read_unit`,
the same files, rejections, skips and eventTime span) and streamed into the table by
`table.RecordLoader` (the rows `load_records` gives, built by DuckDB's JSON reader in a background
thread while the reader reads on), filling only the columns and struct members the query names
(`columns_read`). A table of stretches (`first_row`, `file`, `base`) remembers where each row came
from, so the samples follow the native order (eventTime, file, index in file) and the reports are
equal. DuckDB's own JSON reader over the files was measured too (bench/RESULTS-sql.md); it does not
read JSON arrays, JSON lines and damaged files the way the reader does, so the reports would differ.
"""

from __future__ import annotations

import dataclasses
import re
import time
from typing import Any, Callable, Sequence

from trailguard.backtest.fetch import ahead
from trailguard.backtest.runner import BacktestError, Progress, RunOptions, RunResult
from trailguard.backtest.scan import SAMPLES_PER_PERIOD, Scanner, Tally
from trailguard.backtest.selection import Target
from trailguard.backtest.sources import S3Object, Unit, s3_client
from trailguard.extras import missing_extra_message
from trailguard.records import OrjsonDecoder

from .query import BuiltQuery, RowOrigin, build_query
from .results import run_result

TABLE = "cloudtrail"
ORIGIN_TABLE = "tg_row_origin"
LINES_PER_INSERT = 20_000
"""Events per DuckDB insert (`table.RecordLoader`): few inserts, files of tens of MB."""

LAST_PHASES: dict[str, float] = {}
"""Seconds of the last run's phases, for bench/sql_bench.py: `read` (the reader), `lines` (each event's
loading line, in Python), `insert_wait` (waiting for DuckDB's inserts, which otherwise run while
the reader reads), `query` and `tallies`."""


def import_duckdb() -> Any:
    """The duckdb module, or an error naming the extra that installs it."""
    try:
        import duckdb
    except ModuleNotFoundError as error:
        raise BacktestError(missing_extra_message("duckdb", "sql", "--engine duckdb")) from error
    return duckdb


def prepare(targets: Sequence[Target]) -> BuiltQuery:
    """The run's query; refuses (SqlRefusal, naming the detection) before any file is read."""
    return build_query(targets, dialect="duckdb", table=TABLE, sample_limit=SAMPLES_PER_PERIOD,
                       origin=RowOrigin(ORIGIN_TABLE))


def run_duckdb(units: Sequence[Unit], targets: Sequence[Target], options: RunOptions = RunOptions(),
               progress: Progress | None = None, on_start: Callable[[], None] | None = None,
               query: BuiltQuery | None = None) -> RunResult:
    """Load `units` into an in-memory DuckDB table and run the one query; the result is the
    native engine's `RunResult`, for `report.build_report`."""
    duckdb = import_duckdb()
    from .table import RecordLoader, create_table

    query = query or prepare(targets)
    columns = columns_read(query.sql)
    started = time.perf_counter()
    connection = duckdb.connect(":memory:")
    try:
        create_table(connection, TABLE)
        connection.execute(f"CREATE TABLE {ORIGIN_TABLE} (first_row BIGINT, file VARCHAR, base BIGINT)")
        with RecordLoader(connection, TABLE, columns_read(query.sql), LINES_PER_INSERT) as records:
            loader = _Loader(connection, records)
            scanner = _LoadingScanner(loader, s3_client(options.s3) if any(isinstance(u, S3Object) for u in units)
                                      else None)
            tally = Tally.empty(0)
            if on_start:
                on_start()
            for unit, body in ahead(units, scanner.s3, options.s3.fetch_threads):
                before = (tally.files, tally.bytes, tally.read, len(tally.rejections))
                scanner.scan(unit, into=tally, body=body)
                if options.strict and len(tally.rejections) > before[3]:
                    source, reason, _ = tally.rejections[before[3]]
                    raise BacktestError(f"{source}: {reason} (--strict stops at the first rejected input)")
                if progress:
                    progress(tally.files - before[0], tally.bytes - before[1], tally.read - before[2])
            loader.finish()
        loaded = time.perf_counter()
        rows = connection.execute(query.sql).fetchall()
        queried = time.perf_counter()
    finally:
        connection.close()
    result = run_result(query, rows, targets, 0.0, tally)
    finished = time.perf_counter()
    LAST_PHASES.clear()
    LAST_PHASES.update(read=loaded - started - loader.seconds - records.waited, lines=loader.seconds,
                       insert_wait=records.waited, query=queried - loaded, tallies=finished - queried)
    return dataclasses.replace(result, seconds=finished - started)


_LITERAL = re.compile(r"'(?:[^']|'')*'")
_CHAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


def columns_read(sql: str) -> frozenset[str]:
    """What of the table `sql` reads, for `load_records(columns=...)`: each column it names outside
    its string literals, or the path of the struct member it reaches (`useridentity.arn`). A name
    that only looks like one (a function, a CTE's column) costs a column, never a row."""
    from .table import loadable_paths

    paths = frozenset(loadable_paths())
    read = set()
    for chain in _CHAIN.findall(_LITERAL.sub(" ", sql).replace('"', "")):
        parts = chain.lower().split(".")
        for start, part in enumerate(parts):
            if part in paths:  # a column, after a table alias or none
                path = part
                for member in parts[start + 1:]:
                    if f"{path}.{member}" not in paths:
                        break
                    path = f"{path}.{member}"
                read.add(path)
                break
    return frozenset(read)


class _Loader:
    """Events in, table rows out (streamed by `RecordLoader`), with where each stretch came from."""

    def __init__(self, connection: Any, records: Any) -> None:
        self.connection, self.records = connection, records
        self.origins: tuple[list[int], list[str], list[int]] = ([], [], [])
        self.seconds = 0.0  # spent writing lines, for LAST_PHASES

    def add(self, events: list[dict[str, Any]], source: str, base: int) -> None:
        first_rows, files, bases = self.origins
        first_rows.append(self.records.count)
        files.append(source)
        bases.append(base)
        started = time.perf_counter()
        self.records.add(events)
        self.seconds += time.perf_counter() - started

    def finish(self) -> None:
        """Load what is left and the stretches; check the table numbered its rows as counted."""
        loaded = self.records.finish()
        self.connection.execute(f"INSERT INTO {ORIGIN_TABLE} SELECT UNNEST(?), UNNEST(?), UNNEST(?)",
                                list(self.origins))
        count, highest = self.connection.execute(f"SELECT COUNT(*), MAX(rowid) FROM {TABLE}").fetchone()
        if count != loaded or (count and highest != count - 1):
            raise BacktestError(f"DuckDB holds {count} rows numbered up to {highest}, but {loaded} events were "
                                "loaded in order; samples could not be located in their files")


class _LoadingScanner(Scanner):
    """The native scan's reading and counting (files, bytes, rejections, eventTime span), with
    every evaluated batch loaded into the table instead of matched in Python."""

    def __init__(self, loader: _Loader, s3: Any) -> None:
        super().__init__([], s3, OrjsonDecoder())
        self.loader = loader

    def _match_batch(self, batch: list[dict[str, Any]], times: list[Any], detections: list[Any],
                     source: str, base: int) -> None:
        self.loader.add(batch, source, base)
