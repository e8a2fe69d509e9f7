"""`--engine athena` end to end against moto's server: the table from Glue, the partitions and the
estimate printed, the query sent (table, partition filter, window, workgroup, database, output),
its rows typed and turned into the report, and the CLI's exit statuses and messages.

moto runs no SQL: the rows the query returns are queued in moto beforehand (a minute's group with
a sample slot, and the span row, in `BuiltQuery.columns`' shape and Athena's types). What is tested is everything around
the SQL; the SQL's meaning is tested by the DuckDB engine's tests (tests/sql, branch sql-run).
"""

from __future__ import annotations

import calendar
import datetime as dt
import json

import pytest
from botocore.stub import Stubber
from click.testing import CliRunner

from bench.local_s3 import moto_server
from trailguard.backtest import build_report, from_detection_ids
from trailguard.backtest.scan import SAMPLES_PER_PERIOD
from trailguard.cli import main
from trailguard.sql.athena import AthenaError
from trailguard.sql.athena_engine import AthenaInputError, AthenaRequest, Clients, plan_run, run_athena
from trailguard.sql.partitions import PartitionRefusal
from trailguard.sql.query import SPAN, result_columns
from trailguard.sql.results import UNCOUNTED

from .athena_moto import (
    ACCOUNT, REGION, moto_server_checking_iam, queue_results, reset, session, user_allowed,
)

BUCKET = "trail-bucket"
TRAIL = f"s3://{BUCKET}/AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/"
PROJECTED = {
    "projection.enabled": "true", "projection.timestamp.type": "date", "projection.timestamp.format": "yyyy/MM/dd",
    "projection.timestamp.range": "2020/01/01,NOW", "projection.timestamp.interval": "1",
    "projection.timestamp.interval.unit": "DAYS", "storage.location.template": TRAIL + "${timestamp}",
}
COLUMNS = result_columns(SAMPLES_PER_PERIOD)
COLUMN_TYPES = {"tg_detection": "integer", "tg_minute": "bigint", "tg_count": "bigint",
                **{f"tg_s{slot}_index": "bigint" for slot in range(1, SAMPLES_PER_PERIOD + 1)}}
MINUTE = calendar.timegm(dt.datetime(2026, 1, 31, 10, 15).timetuple())


@pytest.fixture(scope="module")
def endpoint():
    with moto_server() as url:
        yield url


@pytest.fixture
def clients(endpoint):
    reset(endpoint)
    s = session()
    made = Clients(*(s.client(service, endpoint_url=endpoint) for service in ("athena", "glue", "s3")))
    made.glue.create_database(DatabaseInput={"Name": "trails"})
    made.glue.create_table(DatabaseName="trails", TableInput={
        "Name": "cloudtrail_logs_pp", "TableType": "EXTERNAL_TABLE", "Parameters": PROJECTED,
        "PartitionKeys": [{"Name": "timestamp", "Type": "string"}],
        "StorageDescriptor": {"Location": TRAIL, "Columns": [{"Name": "eventtime", "Type": "string"}]}})
    made.s3.create_bucket(Bucket=BUCKET)
    for day, size in (("2026/01/30", 100), ("2026/01/31", 250), ("2026/02/01", 50), ("2026/02/03", 9999)):
        made.s3.put_object(Bucket=BUCKET, Key=f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/{day}/x.json.gz", Body=b"z" * size)
    return made


def result_row(**values) -> list[str | None]:
    return [None if values.get(column) is None else str(values[column]) for column in COLUMNS]


def queue_root_usage_rows(endpoint: str) -> None:
    """What Athena would return for root-usage matching twice in one minute: the minute's group
    (with one sample slot filled) and the span row of every event evaluated."""
    columns = [(column, COLUMN_TYPES.get(column, "varchar")) for column in COLUMNS]
    rows = [
        result_row(tg_detection=0, tg_minute=MINUTE, tg_count=2,
                   tg_first="2026-01-31T10:15:05Z", tg_last="2026-01-31T10:15:40Z",
                   tg_s1_time="2026-01-31T10:15:05Z", tg_s1_event="ConsoleLogin", tg_s1_service="signin.amazonaws.com",
                   tg_s1_arn=f"arn:aws:iam::{ACCOUNT}:root", tg_s1_principal=ACCOUNT, tg_s1_identity_type="Root",
                   tg_s1_account=ACCOUNT, tg_s1_region="us-east-1", tg_s1_source_ip="198.51.100.7",
                   tg_s1_file=TRAIL + "2026/01/31/x.json.gz"),
        result_row(tg_detection=SPAN, tg_count=1000, tg_first="2026-01-30T00:00:01Z", tg_last="2026-02-01T23:59:59Z"),
    ]
    queue_results(endpoint, columns, rows)


def targets():
    return from_detection_ids(["root-usage"], "default")


def request(**changes) -> AthenaRequest:
    base = dict(table="trails.cloudtrail_logs_pp", since=dt.date(2026, 1, 30), until=dt.date(2026, 2, 2),
                output="s3://results-bucket/trailguard/")
    return AthenaRequest(**{**base, **changes})


# -- the library ----------------------------------------------------------------------------------------

def test_a_run_prints_its_partitions_sends_one_bounded_query_and_reports(clients, endpoint) -> None:
    queue_root_usage_rows(endpoint)
    lines: list[str] = []
    result = run_athena(targets=targets(), since=dt.date(2026, 1, 30), until=dt.date(2026, 2, 2),
                        table="trails.cloudtrail_logs_pp", workgroup="primary", output="s3://results-bucket/tg/",
                        clients=clients, echo=lines.append)
    assert lines[:3] == ["window: 2026-01-30 .. 2026-02-02 (UTC days, inclusive)",
                         "table trails.cloudtrail_logs_pp: partition filter \"timestamp\" BETWEEN '2026/01/30' AND '2026/02/02'",
                         "partitions read: 4"]
    assert f"  timestamp=2026/01/31  {TRAIL}2026/01/31" in lines
    assert any(line.startswith("scan estimate: 400 B (400 bytes compressed) in 3 objects under 4 prefixes, 1 of "
                               "them empty") for line in lines)
    assert "athena: workgroup primary, results to s3://results-bucket/tg/" in lines
    assert any(line.startswith("athena: query ") and "SUCCEEDED" in line and "2 rows" in line for line in lines)

    (query_id,) = clients.athena.list_query_executions()["QueryExecutionIds"]
    execution = clients.athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
    assert execution["QueryExecutionContext"] == {"Database": "trails"}
    assert execution["WorkGroup"] == "primary"
    assert execution["ResultConfiguration"]["OutputLocation"].startswith("s3://results-bucket/tg/")
    sql = execution["Query"]
    assert 'FROM "trails"."cloudtrail_logs_pp" t' in sql
    assert "WHERE (\"timestamp\" BETWEEN '2026/01/30' AND '2026/02/02') AND t.eventtime >= '2026-01-30T00:00:00Z' " \
           "AND t.eventtime < '2026-02-03T00:00:00Z'" in sql

    report = build_report(result)
    (detection,) = report.detections
    assert (detection.id, detection.matches) == ("root-usage", 2)
    assert (detection.first, detection.last) == ("2026-01-31T10:15:05Z", "2026-01-31T10:15:40Z")
    assert len(detection.episodes) == 1
    (sample,) = detection.samples
    assert (sample.event, sample.source_ip, sample.identity_type, sample.index) == (
        "ConsoleLogin", "198.51.100.7", "Root", None)
    assert (report.summary.events_evaluated, report.summary.first_event) == (1000, "2026-01-30T00:00:01Z")
    assert report.summary.notes == (UNCOUNTED,)  # files, bytes, rejections: not known to a query


def test_sql_prints_the_plan_and_the_query_and_runs_nothing(clients) -> None:
    printed: list[str] = []
    assert run_athena(targets=targets(), since=dt.date(2026, 1, 30), until=dt.date(2026, 2, 2),
                      table="trails.cloudtrail_logs_pp", show_sql=True, clients=clients, out=printed.append,
                      echo=printed.append) is None
    plan_text, sql = printed
    assert "-- partitions read: 4" in plan_text.splitlines()
    assert "-- scan estimate: 400 B" in plan_text
    assert sql.startswith("WITH rows_read AS (") and sql.endswith(";")
    import sqlglot  # the query with its partition filter parses as Trino, Athena's engine v3

    (parsed,) = sqlglot.parse(sql.rstrip(";"), read="trino")
    assert parsed.find(sqlglot.exp.Between).sql(dialect="trino") == \
        "\"timestamp\" BETWEEN '2026/01/30' AND '2026/02/02'"
    assert clients.athena.list_query_executions()["QueryExecutionIds"] == []


def test_until_defaults_to_today_and_since_is_required(clients) -> None:
    plan = plan_run(targets(), request(until=None), clients, today=dt.date(2026, 2, 1))
    assert plan.window.last_day == dt.date(2026, 2, 1)
    assert len(plan.partitions.partitions) == 3
    with pytest.raises(AthenaInputError, match="--engine athena needs --since YYYY-MM-DD"):
        plan_run(targets(), request(since=None), clients)


class Untouchable:
    def __getattr__(self, name):
        raise AssertionError(f"a client was used ({name}) before the inputs were checked")


@pytest.mark.parametrize("changes, message", [
    (dict(table="cloudtrail"), "--table 'cloudtrail': expected DATABASE.TABLE"),
    (dict(workgroup="my group"), "--workgroup 'my group'"),
    (dict(output="results-bucket/x"), "--output 'results-bucket/x': expected s3://"),
    (dict(timeout=-1.0), "--timeout -1: allowed a number of seconds above 0"),
    (dict(since=dt.date(2026, 3, 1)), "--since 2026-03-01 is after --until 2026-02-02"),
])
def test_bad_options_are_refused_before_any_call(changes, message) -> None:
    options = dict(table="trails.cloudtrail_logs_pp", since=dt.date(2026, 1, 30), until=dt.date(2026, 2, 2))
    options.update(changes)
    untouchable = Untouchable()
    with pytest.raises(AthenaInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run_athena(targets=targets(), clients=Clients(untouchable, untouchable, untouchable), **options)


def test_sources_are_refused_with_athena() -> None:
    with pytest.raises(AthenaInputError, match=r"reads --table, not files: leave out SOURCE \(logs/\)"):
        run_athena(sources=("logs/",), targets=targets(), since=dt.date(2026, 1, 1), until=None, table="a.b")


def test_a_missing_table_is_named(clients) -> None:
    with pytest.raises(AthenaError, match=r"--table trails.nope: not found in the Glue Data Catalog of region "
                                          r"us-east-1 .*create the CloudTrail table"):
        plan_run(targets(), request(table="trails.nope"), clients)
    with pytest.raises(AthenaError, match=r"--table nodb.t: not found .*Database nodb not found"):
        plan_run(targets(), request(table="nodb.t"), clients)


def test_an_unpartitioned_table_is_refused_before_any_query(clients) -> None:
    clients.glue.create_table(DatabaseName="trails", TableInput={
        "Name": "flat", "StorageDescriptor": {"Location": TRAIL, "Columns": [{"Name": "eventtime", "Type": "string"}]}})
    with pytest.raises(PartitionRefusal, match="table trails.flat has no partition keys"):
        run_athena(targets=targets(), since=dt.date(2026, 1, 30), until=dt.date(2026, 2, 2), table="trails.flat",
                   clients=clients, echo=lambda line: None)
    assert clients.athena.list_query_executions()["QueryExecutionIds"] == []


def test_glue_access_denied_names_the_action(clients) -> None:
    stub = Stubber(clients.glue)
    stub.add_client_error("get_table", service_error_code="AccessDeniedException",
                          service_message="User is not authorized to perform: glue:GetTable")
    with stub, pytest.raises(AthenaError, match=r"access denied calling glue:GetTable on trails.cloudtrail_logs_pp "
                                                r"\(region us-east-1\).*docs/backtest.md"):
        plan_run(targets(), request(), clients)


def test_the_workgroup_check_stops_a_run_without_output_before_the_query(clients) -> None:
    with pytest.raises(AthenaError, match="workgroup 'primary' has no query result location; give --output"):
        run_athena(targets=targets(), since=dt.date(2026, 1, 30), until=dt.date(2026, 2, 2),
                   table="trails.cloudtrail_logs_pp", clients=clients, echo=lambda line: None)
    assert clients.athena.list_query_executions()["QueryExecutionIds"] == []


# -- the command ------------------------------------------------------------------------------------------

@pytest.fixture
def aws_env(monkeypatch, clients, endpoint):
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", REGION)):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return endpoint


ATHENA = ["backtest", "--engine", "athena", "--table", "trails.cloudtrail_logs_pp", "--since", "2026-01-30",
          "--until", "2026-02-02", "--detections", "root-usage"]


def test_the_command_runs_on_athena_and_prints_the_json_report(aws_env, tmp_path) -> None:
    queue_root_usage_rows(aws_env)
    page = tmp_path / "report.html"
    result = CliRunner().invoke(main, [*ATHENA, "--endpoint-url", aws_env, "--output", "s3://results-bucket/tg/",
                                       "--json", "--html", str(page)])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    report = json.loads(result.stdout)
    assert [(d["id"], d["matches"]) for d in report["detections"]] == [("root-usage", 2)]
    assert "partitions read: 4" in result.stderr
    assert "scan estimate: 400 B" in result.stderr
    html = page.read_text()
    assert "athena:trails.cloudtrail_logs_pp" in html and "198.51.100.7" in html


def test_the_command_prints_the_query_with_sql(aws_env) -> None:
    result = CliRunner().invoke(main, [*ATHENA, "--endpoint-url", aws_env, "--sql"])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "-- table trails.cloudtrail_logs_pp: partition filter \"timestamp\" BETWEEN" in result.stdout
    assert 'FROM "trails"."cloudtrail_logs_pp" t' in result.stdout


@pytest.mark.parametrize("args, code, message", [
    (["--table", "nodb.t"], 1, "--engine athena: --table nodb.t: not found in the Glue Data Catalog"),
    (["--table", "bad-name.t"], 2, "--engine athena: --table 'bad-name.t': expected DATABASE.TABLE"),
    (["--output", "/tmp/x"], 2, "--engine athena: --output '/tmp/x': expected s3://"),
    (["--workgroup", "nope", "--output", "s3://results/x/"], 1, "workgroup 'nope' does not exist"),
])
def test_the_command_exit_statuses(aws_env, args, code, message) -> None:
    result = CliRunner().invoke(main, [*ATHENA, "--endpoint-url", aws_env, *args])
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert message in result.stderr


def test_a_detection_without_sql_form_is_refused_by_name_before_any_query(aws_env, clients) -> None:
    result = CliRunner().invoke(main, [*ATHENA[:-2], "--pattern", "ConsoleLogin", "--endpoint-url", aws_env,
                                       "--output", "s3://results-bucket/tg/"])
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "--engine athena: detection" in result.stderr and "replay it with --engine native" in result.stderr
    assert clients.athena.list_query_executions()["QueryExecutionIds"] == []


def test_athena_options_are_refused_with_other_engines() -> None:
    result = CliRunner().invoke(main, ["backtest", "logs/", "--table", "a.b", "--sql"])
    assert result.exit_code == 2
    assert "--table, --sql applies to --engine athena only" in result.stderr


def test_other_engines_still_need_a_source() -> None:
    result = CliRunner().invoke(main, ["backtest", "--detections", "root-usage"])
    assert result.exit_code == 2
    assert "Missing argument 'SOURCE...'" in result.stderr


def test_missing_credentials_say_so(monkeypatch, endpoint, tmp_path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    result = CliRunner().invoke(main, [*ATHENA, "--endpoint-url", endpoint])
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert "glue:GetTable on trails.cloudtrail_logs_pp: no AWS credentials found; configure them" in result.stderr


def test_access_denied_by_iam_names_the_missing_action() -> None:
    """moto checking IAM policies. One user may read the table, list the trail and read the
    workgroup, but not start a query; another may not read the table. The first nine calls (the
    table, the bucket, the two users) are not checked."""
    with moto_server_checking_iam(unchecked_calls=9) as url:
        setup = session()
        glue, s3 = setup.client("glue", endpoint_url=url), setup.client("s3", endpoint_url=url)
        glue.create_database(DatabaseInput={"Name": "trails"})
        glue.create_table(DatabaseName="trails", TableInput={
            "Name": "cloudtrail_logs_pp", "Parameters": PROJECTED,
            "PartitionKeys": [{"Name": "timestamp", "Type": "string"}],
            "StorageDescriptor": {"Location": TRAIL, "Columns": [{"Name": "eventtime", "Type": "string"}]}})
        s3.create_bucket(Bucket=BUCKET)
        no_query = user_allowed(url, "no-query", ["glue:GetTable", "s3:ListBucket", "athena:GetWorkGroup"])
        no_glue = user_allowed(url, "no-glue", ["s3:ListBucket", "athena:*"])

        def run(user):
            made = Clients(*(user.client(service, endpoint_url=url) for service in ("athena", "glue", "s3")))
            run_athena(targets=targets(), since=dt.date(2026, 1, 30), until=dt.date(2026, 2, 2),
                       table="trails.cloudtrail_logs_pp", output="s3://results-bucket/tg/", clients=made,
                       echo=lambda line: None)

        with pytest.raises(AthenaError, match=r"access denied calling athena:StartQueryExecution \(workgroup 'primary', "
                                              r"region us-east-1\): User: arn:aws:iam::123456789012:user/no-query is not "
                                              r"authorized to perform: athena:StartQueryExecution\. Grant it"):
            run(no_query)
        with pytest.raises(AthenaError, match=r"access denied calling glue:GetTable on trails.cloudtrail_logs_pp "
                                              r"\(region us-east-1\): User: arn:aws:iam::123456789012:user/no-glue is not "
                                              r"authorized to perform: glue:GetTable"):
            run(no_glue)


def test_no_region_says_so(monkeypatch, tmp_path) -> None:
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    result = CliRunner().invoke(main, ATHENA)
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert "no AWS region configured: Athena runs in the region of the table; set AWS_DEFAULT_REGION" in result.stderr
