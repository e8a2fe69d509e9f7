"""`trailguard backtest --engine athena`: the run's one SQL query (`query.py`) on the Athena
CloudTrail table, inside the partitions of the window, and its rows as the native engine's
`RunResult`, so the alarm replay and the reports are the native engine's own code.

In order, before the query costs anything: the inputs are checked (`--table`, `--workgroup`,
`--output`, the window); the table's layout is read from Glue; the partition filter, the
partitions and the S3 bytes under them are worked out and printed (`partitions.py`); the query is
built (refusing, by name, a detection without a SQL form); and the workgroup is checked for a
result location. Only then does the query run (`athena.py`). `--sql` stops before the workgroup
check and prints the query instead.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from trailguard.backtest.runner import RunResult
from trailguard.backtest.scan import SAMPLES_PER_PERIOD
from trailguard.backtest.selection import Target
from trailguard.extras import missing_extra_message

from .athena import (
    AthenaError, AthenaRunner, check_output_location, check_workgroup_name, error_parts, parse_table_name,
)
from .partitions import (
    PartitionPlan, PartitionRefusal, ScanEstimate, TableLayout, Window, describe, estimate_scan, format_bytes,
    glue_expression, list_manual_partitions, plan_partitions, read_layout,
)
from .query import BuiltQuery, build_query
from .results import run_result

Echo = Callable[[str], None]


class AthenaInputError(ValueError):
    """An Athena option that cannot be used (named, with what is allowed), found before any call."""


@dataclass(frozen=True, slots=True)
class AthenaRequest:
    """A run on Athena as the command line asks for it."""

    table: str  # DATABASE.TABLE
    since: dt.date | None
    until: dt.date | None = None  # default: today (UTC)
    workgroup: str = "primary"
    output: str | None = None
    timeout: float | None = None
    accounts: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    endpoint_url: str | None = None


@dataclass(frozen=True, slots=True)
class Clients:
    athena: Any
    glue: Any
    s3: Any


@dataclass(frozen=True, slots=True)
class AthenaPlan:
    """What a run will do, known before it runs: printed by `--sql`, then executed."""

    database: str
    table: str
    layout: TableLayout
    partitions: PartitionPlan
    estimate: ScanEstimate
    query: BuiltQuery
    window: Window

    def describe(self) -> list[str]:
        return [f"window: {self.window.first_day} .. {self.window.last_day} (UTC days, inclusive)",
                *describe(self.partitions, self.estimate)]


def checked(request: AthenaRequest, today: dt.date | None = None) -> tuple[str, str, Window]:
    """(database, table, window) of a request; AthenaInputError for any option that cannot work."""
    try:
        database, table = parse_table_name(request.table)
        check_workgroup_name(request.workgroup)
        if request.output is not None:
            check_output_location(request.output)
    except ValueError as error:
        raise AthenaInputError(str(error)) from None
    if request.timeout is not None and request.timeout <= 0:
        raise AthenaInputError(f"--timeout {request.timeout:g}: allowed a number of seconds above 0")
    if request.since is None:
        raise AthenaInputError("--engine athena needs --since YYYY-MM-DD: the partitions of the window bound what "
                               "Athena reads (and bills); a run without one would read the whole trail")
    until = request.until or today or dt.datetime.now(dt.timezone.utc).date()
    if request.since > until:
        raise AthenaInputError(f"--since {request.since} is after --until {until}")
    return database, table, Window(request.since, until, frozenset(request.accounts), frozenset(request.regions))


def make_clients(request: AthenaRequest) -> Clients:
    """boto3 clients from the standard credential and region chain (`--endpoint-url` for all three)."""
    try:
        import boto3
    except ModuleNotFoundError as error:
        raise AthenaError(missing_extra_message(error.name or "boto3", "backtest", "--engine athena")) from None
    session = boto3.session.Session()
    region = session.region_name
    if not region:
        raise AthenaError("no AWS region configured: Athena runs in the region of the table; set AWS_DEFAULT_REGION "
                          "or a profile's region")
    return Clients(*(session.client(service, endpoint_url=request.endpoint_url, region_name=region)
                     for service in ("athena", "glue", "s3")))


def plan_run(targets: Sequence[Target], request: AthenaRequest, clients: Clients,
             today: dt.date | None = None) -> AthenaPlan:
    """Everything before the query: layout, partitions, estimate, the SQL. Raises AthenaInputError,
    PartitionRefusal, AthenaError or query.DetectionRefused, each naming what to change."""
    database, table, window = checked(request, today)
    layout = _layout(clients.glue, database, table, clients)
    manual = None
    if not layout.projected:
        expression = glue_expression(layout, window)
        try:
            manual = list_manual_partitions(clients.glue, layout, expression)
        except Exception as error:  # noqa: BLE001 - botocore's ClientError, explained
            raise _catalogue_error(error, f"glue:GetPartitions on {layout.name}", clients) from None
    partitions = plan_partitions(layout, window, manual)
    try:
        estimate = estimate_scan(clients.s3, partitions.partitions)
    except Exception as error:  # noqa: BLE001
        raise _catalogue_error(error, "s3:ListBucket on the trail's bucket (the scan estimate)", clients) from None
    query = build_query(targets, dialect="athena", table=f'"{database}"."{table}"',
                        window=(window.first_day, window.last_day + dt.timedelta(days=1)),
                        partition_filter=partitions.where, sample_limit=SAMPLES_PER_PERIOD)
    return AthenaPlan(database, table, layout, partitions, estimate, query, window)


def run_plan(plan: AthenaPlan, targets: Sequence[Target], request: AthenaRequest, clients: Clients,
             echo: Echo, runner: AthenaRunner | None = None) -> RunResult:
    """Check the workgroup, run the query, and turn its rows into the run's result."""
    started = time.perf_counter()
    runner = runner or AthenaRunner(clients.athena, request.workgroup, output=request.output)
    output = runner.check_workgroup()
    echo(f"athena: workgroup {request.workgroup}, results to {output or 'the workgroup managed location'}")
    outcome = runner.run(plan.query.sql, plan.database, timeout=request.timeout, progress=_progress(echo))
    echo(f"athena: query {outcome.query_id} SUCCEEDED, {format_bytes(outcome.data_scanned_bytes)} scanned "
         f"({outcome.data_scanned_bytes:,} bytes; estimate {plan.estimate.bytes:,}), {len(outcome.rows):,} rows")
    return run_result(plan.query, outcome.rows, targets, time.perf_counter() - started)


def run_athena(*, sources: Sequence[str] = (), targets: Sequence[Target], since: dt.date | None,
               until: dt.date | None, accounts: frozenset[str] = frozenset(), regions: frozenset[str] = frozenset(),
               table: str | None = None, workgroup: str = "primary", output: str | None = None,
               show_sql: bool = False, timeout: float | None = None, endpoint_url: str | None = None,
               clients: Clients | None = None, echo: Echo | None = None,
               out: Echo | None = None) -> RunResult | None:
    """The CLI's entry point (`backtest_cmd._run_athena`): plan, print the partitions and the
    estimate on stderr, then run (None with `show_sql`: the plan and the SQL went to stdout)."""
    echo = echo or (lambda line: print(line, file=sys.stderr, flush=True))
    out = out or (lambda text: print(text, flush=True))
    if sources:
        raise AthenaInputError(f"--engine athena reads --table, not files: leave out SOURCE ({', '.join(sources)})")
    if not table:
        raise AthenaInputError("--engine athena needs --table DATABASE.TABLE (the CloudTrail table in Athena)")
    request = AthenaRequest(table=table, since=since, until=until, workgroup=workgroup, output=output, timeout=timeout,
                            accounts=frozenset(accounts), regions=frozenset(regions), endpoint_url=endpoint_url)
    checked(request)  # every option, before a client is made
    clients = clients or make_clients(request)
    plan = plan_run(targets, request, clients)
    if show_sql:
        out("\n".join(f"-- {line}" for line in plan.describe()))
        out(plan.query.sql.rstrip() + ";")
        return None
    for line in plan.describe():
        echo(line)
    return run_plan(plan, targets, request, clients, echo)


def _layout(glue: Any, database: str, table: str, clients: Clients) -> TableLayout:
    try:
        return read_layout(glue, database, table)
    except Exception as error:  # noqa: BLE001
        code = _code(error)
        if code == "EntityNotFoundException":
            raise AthenaError(f"--table {database}.{table}: not found in the Glue Data Catalog of region "
                              f"{_region(clients)} ({_message(error)}); check the database and table names, or create "
                              "the CloudTrail table (docs/backtest.md, \"At scale (Athena)\")") from None
        raise _catalogue_error(error, f"glue:GetTable on {database}.{table}", clients) from None


def _catalogue_error(error: Exception, action: str, clients: Clients) -> AthenaError:
    code = _code(error)
    if code in ("AccessDeniedException", "AccessDenied"):
        return AthenaError(f"access denied calling {action} (region {_region(clients)}): {_message(error)}. Grant "
                           "it to these credentials; the policy a back-test needs is in docs/backtest.md, "
                           "\"At scale (Athena)\"")
    if type(error).__name__ in ("NoCredentialsError", "PartialCredentialsError"):
        return AthenaError(f"{action}: no AWS credentials found; configure them (environment, profile, SSO or "
                           "instance role)")
    if type(error).__name__ == "EndpointConnectionError":
        return AthenaError(f"{action}: cannot reach the endpoint ({error}); check the region or --endpoint-url")
    if code == "NoSuchBucket":
        return AthenaError(f"{action}: the bucket of the table's LOCATION does not exist ({_message(error)}); "
                           "check the table's LOCATION / storage.location.template")
    return AthenaError(f"{action} failed ({code or type(error).__name__}): {_message(error)}")


def _code(error: Exception) -> str:
    return error_parts(error)[0] if isinstance(getattr(error, "response", None), dict) else ""


def _message(error: Exception) -> str:
    return error_parts(error)[1]


def _region(clients: Clients) -> str:
    return getattr(getattr(clients.glue, "meta", None), "region_name", None) or "?"


def _progress(echo: Echo, every: float = 15.0) -> Callable[[str, float, int], None]:
    """A progress callback that prints a line when the state changes, and every `every` seconds."""
    seen: dict[str, Any] = {"state": None, "at": -every}

    def report(state: str, elapsed: float, scanned: int) -> None:
        if state != seen["state"] or elapsed - seen["at"] >= every:
            echo(f"athena: {state} {elapsed:.1f} s, {format_bytes(scanned)} scanned")
            seen["state"], seen["at"] = state, elapsed

    return report
