"""`trailguard backtest SOURCE...`: replay CloudTrail archives through the enabled alarms."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import click
import orjson

from trailguard.cli.errors import EXIT_ERROR, EXIT_FAIL, CommandError

if TYPE_CHECKING:
    from trailguard.backtest import RunOptions, RunResult, Target
    from trailguard.backtest.report import BacktestReport, RunContext
    from trailguard.backtest.sources import Unit
    from trailguard.sql.query import BuiltQuery


ENGINES = ("native", "duckdb", "athena")
"""What can match a back-test's events: the pattern engine, or the detections as SQL (trailguard/sql)."""


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; expected YYYY-MM-DD (UTC day, inclusive)") from None


def _csv(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(part.strip() for value in values for part in value.split(",") if part.strip())


def _accounts(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> frozenset[str]:
    accounts = _csv(values)
    for account in sorted(accounts):
        if not (len(account) == 12 and account.isdigit()):
            raise click.BadParameter(f"{account!r} is not an AWS account id; expected 12 digits")
    return accounts


@click.command("backtest")
@click.argument("sources", nargs=-1, metavar="SOURCE...")
@click.option("--stack", metavar="NAME", help="Replay exactly what Pulumi.NAME.yaml enables (patterns, profile, alarm settings).")
@click.option("--project-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
              help="Where Pulumi.yaml and the stack files are (with --stack).")
@click.option("--detections", "detection_ids", multiple=True, metavar="ID,...",
              help="Catalogue detections or presets (seed, cis, assurance, all) with default alarm settings. Default: cis.")
@click.option("--profile", type=click.Choice(["default", "securityhub"]), default="default", show_default=True,
              help="Pattern profile for --detections.")
@click.option("--pattern", metavar="TEXT", help="Replay one ad-hoc filter pattern with the default alarm.")
@click.option("--since", callback=_date, metavar="YYYY-MM-DD", help="Skip S3 day prefixes (and local AWSLogs/ day folders) before this UTC day; --engine athena needs it (the first partition read).")
@click.option("--until", callback=_date, metavar="YYYY-MM-DD", help="Skip S3 day prefixes (and local AWSLogs/ day folders) after this UTC day (--engine athena: default today).")
@click.option("--account", "accounts", multiple=True, callback=_accounts, metavar="ID,...", help="Only these account ids (S3 and local AWSLogs/ layout; the account partitions with --engine athena).")
@click.option("--region", "regions", multiple=True, metavar="NAME,...", help="Only these regions (S3 and local AWSLogs/ layout; the region partitions with --engine athena).")
@click.option("--endpoint-url", metavar="URL", help="S3 endpoint (default: AWS_ENDPOINT_URL or AWS's); --engine athena: Athena, Glue and S3's.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Also write a self-contained HTML report with a timeline per detection.")
@click.option("--strict", is_flag=True, help="Stop with exit status 1 at the first rejected input.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Processes scanning files in parallel, this one included; the report is the same for any number.")
@click.option("--fetch-threads", type=click.IntRange(min=1, max=64), default=8, show_default=True,
              help="S3 objects each worker downloads at once, ahead of scanning (1: one GET at a time).")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr (default: when stderr is a terminal).")
@click.option("--engine", type=click.Choice(ENGINES), default="native", show_default=True,
              help="What matches: native (the pattern engine, in Python), duckdb (the detections as one SQL query "
                   "over the files, loaded into DuckDB; the same report) or athena (the same SQL on Athena).")
@click.option("--table", metavar="DATABASE.TABLE",
              help="--engine athena: the CloudTrail table (partitioned by day; docs/backtest.md, \"At scale (Athena)\").")
@click.option("--workgroup", default="primary", show_default=True, metavar="NAME", help="--engine athena: the workgroup that runs the query.")
@click.option("--output", metavar="S3URI",
              help="--engine athena: where Athena writes the query result, s3://BUCKET/PREFIX/ (default: the workgroup's).")
@click.option("--sql", "show_sql", is_flag=True,
              help="--engine athena: print the partitions, the scan estimate and the query on stdout; run nothing.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="--engine athena: stop the query (StopQueryExecution) after this long. Default: wait.")
def command(sources: tuple[str, ...], stack: str | None, project_dir: Path, detection_ids: tuple[str, ...], profile: str,
            pattern: str | None, since: dt.date | None, until: dt.date | None, accounts: frozenset[str],
            regions: tuple[str, ...], endpoint_url: str | None, as_json: bool, html_path: Path | None, strict: bool,
            workers: int, fetch_threads: int, progress: bool | None, engine: str, **engine_options: object) -> None:
    """Replay CloudTrail archives through the alarms: matches, ALARM episodes, samples.

    SOURCE is a file (S3 delivery file .json/.json.gz, JSON array, JSON lines), a directory (read
    recursively), a glob, or s3://BUCKET[/PREFIX] in CloudTrail's AWSLogs/ layout (credentials
    and region from the standard AWS chain). CloudTrail-Digest files, FIFOs met in a directory and
    empty files are skipped, counted and named; every file is read once.

    With --engine duckdb or athena every detection runs as SQL (trailguard/sql); a detection whose
    pattern has no SQL form stops the command before anything is read, naming it.

    --engine athena takes no SOURCE: the query runs on the CloudTrail table --table DATABASE.TABLE
    inside the partitions of --since..--until (printed on stderr with the bytes under them before
    the query starts; --sql prints them and the query and runs nothing).

    Exit status: 0 when the back-test ran (whatever it found), 1 when a source cannot be read at
    all, the stack config is invalid, --strict met rejected input or Athena or its catalogue
    refused or failed (the message says what to fix), 2 for a usage error, an invalid pattern or a
    pattern the SQL engine cannot run.
    """
    from trailguard import backtest
    from trailguard.backtest.sources import S3Options

    chosen = [name for name, given in (("--stack", stack), ("--detections", detection_ids), ("--pattern", pattern)) if given]
    if len(chosen) > 1:
        raise CommandError(f"{' and '.join(chosen)} exclude each other; give one of --stack, --detections or --pattern",
                           EXIT_ERROR)
    if since and until and since > until:
        raise CommandError(f"--since {since} is after --until {until}", EXIT_ERROR)
    if engine != "athena":
        if not sources:
            raise click.UsageError("Missing argument 'SOURCE...'.")
        context = click.get_current_context()
        given = [f"--{name.removeprefix('show_')}" for name in engine_options
                 if context.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT]
        if given:
            raise CommandError(f"{', '.join(given)} applies to --engine athena only", EXIT_ERROR)
    if html_path is not None:
        _check_writable(html_path, "--html")  # before a scan that may take an hour, not after it
    try:
        if stack:
            targets = backtest.from_stack(project_dir, stack)
        elif pattern is not None:
            targets = backtest.from_pattern(pattern)
        else:
            targets = backtest.from_detection_ids(detection_ids or ("cis",), profile)
    except backtest.SelectionError as error:
        raise CommandError(str(error), EXIT_FAIL if stack else EXIT_ERROR) from None
    if engine != "native" and workers != 1:
        raise CommandError(f"--workers {workers} applies to --engine native; --engine {engine} parallelises its "
                           "query itself, leave --workers out", EXIT_ERROR)
    if engine == "athena":
        result = _run_athena(sources, targets, since, until, accounts, _csv(regions), endpoint_url, engine_options)
        if result is None:  # --sql: the query was printed, nothing ran
            return
        read = (f"athena:{engine_options.get('table')}",)  # what the HTML header names as the source
        _emit(backtest.build_report(result, _context(read, stack, detection_ids, pattern, targets, since, until)),
              html_path, as_json)
        return
    query = _sql_query(targets) if engine == "duckdb" else None
    options = backtest.RunOptions(
        workers=workers,
        strict=strict,
        s3=S3Options(endpoint_url=endpoint_url, accounts=accounts, regions=_csv(regions), since=since, until=until,
                     fetch_threads=fetch_threads),
    )
    try:
        units = backtest.plan(sources, options)
    except backtest.SourceError as error:
        raise CommandError(str(error), EXIT_FAIL) from None
    show_progress = sys.stderr.isatty() if progress is None else progress
    try:
        result = _run_with_progress(units, targets, options, show_progress, query)
    except backtest.BacktestError as error:
        raise CommandError(str(error), EXIT_FAIL) from None
    _emit(backtest.build_report(result, _context(sources, stack, detection_ids, pattern, targets, since, until)),
          html_path, as_json)


def _emit(report: BacktestReport, html_path: Path | None, as_json: bool) -> None:
    """The report: the HTML page when asked for, then JSON or the terminal table on stdout."""
    if html_path is not None:
        from trailguard.backtest.html import render_html

        try:
            html_path.write_text(render_html(report), encoding="utf-8")
        except OSError as error:
            raise CommandError(f"--html {html_path}: cannot write: {error.strerror or error}", EXIT_FAIL) from None
    if as_json:
        sys.stdout.write(orjson.dumps(report.as_json_dict(), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        from trailguard.backtest.terminal import format_summary, format_table
        from trailguard.cli.console import stdout_console

        console = stdout_console()
        console.print(format_table(report, console.width))
        console.print(format_summary(report), markup=False)


def _context(sources: tuple[str, ...], stack: str | None, detection_ids: tuple[str, ...], pattern: str | None,
             targets: list[Target], since: dt.date | None, until: dt.date | None) -> RunContext:
    """How this run was asked for, for the HTML report's header."""
    from trailguard.backtest.report import RunContext

    if stack:
        selection = f"--stack {stack}"
    elif pattern is not None:
        selection = "--pattern"
    else:
        selection = "--detections " + ",".join(detection_ids or ("cis",))
    return RunContext(
        sources=tuple(sources),
        selection=selection,
        stack=stack,
        profiles=tuple(sorted({target.profile for target in targets if target.profile})),
        since=since.isoformat() if since else None,
        until=until.isoformat() if until else None,
    )


def _check_writable(path: Path, option: str) -> None:
    """Raise CommandError unless `path` can be written: an existing writable file, or a new file
    in an existing writable directory. Nothing is created."""
    import os

    def refuse(why: str) -> None:
        raise CommandError(f"{option} {path}: cannot write: {why}; give a file path in a writable directory", EXIT_FAIL)

    if path.is_dir():
        refuse("it is a directory")
    if path.exists():
        if not os.access(path, os.W_OK):
            refuse("permission denied")
        return
    parent = path.parent
    if not parent.is_dir():
        refuse(f"directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        refuse(f"permission denied in directory {parent}")


def _sql_query(targets: list[Target]) -> BuiltQuery:
    """The run's SQL for --engine duckdb; a detection the compiler refuses stops here, before any file is read."""
    from trailguard.backtest import BacktestError
    from trailguard.sql.duckdb_engine import import_duckdb, prepare
    from trailguard.sql.query import DetectionRefused

    try:
        import_duckdb()
    except BacktestError as error:
        raise CommandError(str(error), EXIT_FAIL) from None
    try:
        return prepare(targets)
    except DetectionRefused as error:
        raise CommandError(f"--engine duckdb: {error}", EXIT_ERROR) from None


def _run_athena(sources: tuple[str, ...], targets: list[Target], since: dt.date | None, until: dt.date | None,
                accounts: frozenset[str], regions: frozenset[str], endpoint_url: str | None,
                engine_options: dict[str, object]) -> RunResult | None:
    """Hand the run to the Athena engine (trailguard/sql/athena_engine.py); its own options arrive
    in `engine_options` (every option this command does not name itself). None after --sql."""
    try:
        from trailguard.sql.athena_engine import run_athena
    except ModuleNotFoundError as error:
        if error.name in ("sqlglot", "duckdb", "boto3"):
            from trailguard.extras import missing_extra_message

            extra = "backtest" if error.name == "boto3" else "sql"
            raise CommandError(missing_extra_message(error.name, extra, "--engine athena"), EXIT_FAIL) from None
        if error.name != "trailguard.sql.athena_engine":
            raise
        raise CommandError("--engine athena is not available in this build (trailguard/sql/athena_engine.py is "
                           "missing); use --engine native or --engine duckdb", EXIT_ERROR) from None
    from trailguard.sql.athena import AthenaError
    from trailguard.sql.athena_engine import AthenaInputError
    from trailguard.sql.partitions import PartitionRefusal
    from trailguard.sql.query import QueryError
    from trailguard.sql.results import ResultError

    try:
        return run_athena(sources=sources, targets=targets, since=since, until=until, accounts=accounts,
                          regions=regions, endpoint_url=endpoint_url, **engine_options)
    except (AthenaInputError, QueryError) as error:  # QueryError: DetectionRefused names the detection
        raise CommandError(f"--engine athena: {error}", EXIT_ERROR) from None
    except (AthenaError, PartitionRefusal, ResultError) as error:
        raise CommandError(f"--engine athena: {error}", EXIT_FAIL) from None


def _run_with_progress(units: list[Unit], targets: list[Target], options: RunOptions, show: bool,
                       query: BuiltQuery | None = None) -> RunResult:
    from trailguard import backtest

    def run(progress: Callable[[int, int, int], None] | None = None,
            on_start: Callable[[], None] | None = None) -> RunResult:
        """The native engine's run, or with a query, the DuckDB engine's (the same result type)."""
        if query is None:
            return backtest.run_units(units, targets, options, progress, on_start=on_start)
        from trailguard.sql.duckdb_engine import run_duckdb

        return run_duckdb(units, targets, options, progress, on_start=on_start, query=query)

    if not show:
        return run()
    from rich.console import Console

    from trailguard.backtest.terminal import ProgressLine

    line = ProgressLine(Console(stderr=True), units=len(units), total_bytes=sum(unit.size for unit in units))
    try:
        return run(line.advance, on_start=line.start)
    finally:
        line.stop()
