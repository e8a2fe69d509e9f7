"""The Athena query runner (trailguard/sql/athena.py).

Against moto's server (a real HTTP endpoint, boto3 as against AWS): the request (workgroup,
database, result location), polling through QUEUED and RUNNING, typed rows with the header row
dropped, a missing workgroup, a workgroup without a result location, a query cancelled while it
runs, and the timeout (the query is stopped: moto then reports it CANCELLED).

Through botocore's Stubber, because moto 5.2.5 cannot produce them: results over more than one
page (moto returns every row on one page, without NextToken), a FAILED query and its reason
(moto's queries only succeed), AWS's AccessDeniedException as AWS sends it (moto, checking IAM,
answers in XML; that path is tested in test_athena_engine.py), and Athena's own "No output
location provided" refusal (moto accepts a query without one).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from botocore.stub import Stubber

from bench.local_s3 import moto_server
from trailguard.sql.athena import (
    AthenaError, AthenaRunner, check_output_location, check_workgroup_name, parse_table_name,
)

from .athena_moto import hold_queries, queue_results, reset, session


@pytest.fixture(scope="module")
def endpoint():
    with moto_server() as url:
        yield url


@pytest.fixture
def athena(endpoint):
    reset(endpoint)
    return session().client("athena", endpoint_url=endpoint)


class FakeClock:
    """Seconds advance only when the runner sleeps: polling and the timeout without waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def runner(client, workgroup: str = "primary", output: str | None = "s3://results-bucket/trailguard/",
           clock: FakeClock | None = None) -> AthenaRunner:
    clock = clock or FakeClock()
    return AthenaRunner(client, workgroup, output=output, clock=clock, sleep=clock.sleep)


# -- inputs ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, parsed", [("trails.cloudtrail_logs_pp", ("trails", "cloudtrail_logs_pp")),
                                          ("Default.CloudTrail_Logs", ("default", "cloudtrail_logs"))])
def test_table_names_parse(text, parsed) -> None:
    assert parse_table_name(text) == parsed


@pytest.mark.parametrize("text", ["cloudtrail", "a.b.c", "db.", ".t", "db.cloud-trail", "db.t;drop", 'db."t"',
                                  "db." + "t" * 256])
def test_bad_table_names_are_refused_saying_what_is_allowed(text) -> None:
    with pytest.raises(ValueError, match=r"--table .*expected DATABASE.TABLE, each name 1-255 letters, digits or underscores"):
        parse_table_name(text)


@pytest.mark.parametrize("text", ["", "a b", "wg/1", "x" * 129, "wg;"])
def test_bad_workgroup_names_are_refused(text) -> None:
    with pytest.raises(ValueError, match="--workgroup .*1-128 letters, digits, periods, hyphens or underscores"):
        check_workgroup_name(text)


def test_good_workgroup_name_passes() -> None:
    assert check_workgroup_name("analytics_team-1.prod") == "analytics_team-1.prod"


@pytest.mark.parametrize("text", ["results-bucket", "s3:/results/x", "https://bucket/x", "s3://UPPER/x", "s3://ab/x",
                                  "s3://bad..dots/x", "s3://1.2.3.4/x", "s3:///x"])
def test_bad_output_locations_are_refused(text) -> None:
    with pytest.raises(ValueError, match=r"--output .*expected s3://BUCKET/PREFIX/"):
        check_output_location(text)


def test_output_location_gains_its_trailing_slash() -> None:
    assert check_output_location("s3://athena-results.example/trailguard") == "s3://athena-results.example/trailguard/"
    assert check_output_location("s3://athena-results") == "s3://athena-results/"


# -- moto: a query end to end -----------------------------------------------------------------------

def test_query_is_submitted_with_workgroup_database_and_output_and_polled_to_success(athena, endpoint) -> None:
    athena.create_work_group(Name="trailguard", Configuration={"ResultConfiguration": {}})
    queue_results(endpoint, [("tg_kind", "varchar"), ("tg_count", "bigint"), ("tg_share", "double"),
                             ("tg_ok", "boolean"), ("tg_money", "decimal(10,2)"), ("tg_time", "varchar")],
                  [["count", "42", "0.5", "true", "1.25", None], ["span", None, None, "false", None, "2026-01-01T00:00:00Z"]])
    hold_queries(endpoint, 2)
    clock = FakeClock()
    seen = []
    outcome = runner(athena, "trailguard", clock=clock).run(
        "SELECT 1", "trails", progress=lambda state, elapsed, scanned: seen.append((state, elapsed, scanned)))
    execution = athena.get_query_execution(QueryExecutionId=outcome.query_id)["QueryExecution"]
    assert execution["Query"] == "SELECT 1"
    assert execution["WorkGroup"] == "trailguard"
    assert execution["QueryExecutionContext"] == {"Database": "trails"}
    assert execution["ResultConfiguration"]["OutputLocation"].startswith("s3://results-bucket/trailguard/")
    assert [state for state, _, _ in seen] == ["QUEUED", "RUNNING", "RUNNING", "SUCCEEDED"]
    assert [elapsed for _, elapsed, _ in seen] == [0.0, 0.5, 1.25, 2.375]  # 0.5 s, growing by half each poll
    assert clock.sleeps == [0.5, 0.75, 1.125]
    assert outcome.columns == ("tg_kind", "tg_count", "tg_share", "tg_ok", "tg_money", "tg_time")
    assert outcome.rows == [("count", 42, 0.5, True, Decimal("1.25"), None),
                            ("span", None, None, False, None, "2026-01-01T00:00:00Z")]


def test_no_output_given_sends_no_result_configuration(athena, endpoint) -> None:
    queue_results(endpoint, [("n", "integer")], [["1"]])
    outcome = runner(athena, output=None).run("SELECT 1", "trails")
    execution = athena.get_query_execution(QueryExecutionId=outcome.query_id)["QueryExecution"]
    assert execution.get("ResultConfiguration") is None
    assert outcome.rows == [(1,)]


def test_a_first_row_that_is_not_the_header_is_kept(athena, endpoint) -> None:
    queue_results(endpoint, [("n", "integer")], [["7"], ["8"]], header=False)
    assert runner(athena).run("SELECT n", "trails").rows == [(7,), (8,)]


def test_a_missing_workgroup_is_named_by_the_check_and_by_the_start(athena) -> None:
    with pytest.raises(AthenaError, match="workgroup 'nope' does not exist in region us-east-1; create it or pass an "
                                          "existing --workgroup"):
        runner(athena, "nope").check_workgroup()
    with pytest.raises(AthenaError, match="workgroup 'nope' does not exist"):
        runner(athena, "nope").run("SELECT 1", "trails")


def test_a_workgroup_without_result_location_needs_output(athena) -> None:
    # moto's "primary" workgroup has an empty ResultConfiguration, as a new account's has
    with pytest.raises(AthenaError, match="workgroup 'primary' has no query result location; give --output s3://"):
        runner(athena, output=None).check_workgroup()
    assert runner(athena, output="s3://mine/x/").check_workgroup() == "s3://mine/x/"


def test_the_workgroup_location_is_used_and_an_enforced_one_wins(athena) -> None:
    athena.create_work_group(Name="own", Configuration={"ResultConfiguration": {"OutputLocation": "s3://wg/own/"},
                                                        "EnforceWorkGroupConfiguration": False})
    athena.create_work_group(Name="enforced", Configuration={"ResultConfiguration": {"OutputLocation": "s3://wg/e/"},
                                                             "EnforceWorkGroupConfiguration": True})
    assert runner(athena, "own", output=None).check_workgroup() == "s3://wg/own/"
    assert runner(athena, "own", output="s3://mine/x/").check_workgroup() == "s3://mine/x/"
    assert runner(athena, "enforced", output="s3://mine/x/").check_workgroup() == "s3://wg/e/"


def test_a_query_cancelled_while_it_runs_says_so(athena, endpoint) -> None:
    hold_queries(endpoint, 3)
    other = session().client("athena", endpoint_url=endpoint)  # someone else, in the console

    def cancel(state, elapsed, scanned):
        if state == "QUEUED":
            query_id = other.list_query_executions()["QueryExecutionIds"][-1]
            other.stop_query_execution(QueryExecutionId=query_id)

    with pytest.raises(AthenaError, match=r"was CANCELLED before it finished .*run again") as caught:
        runner(athena).run("SELECT 1", "trails", progress=cancel)
    assert caught.value.query_id


def test_a_query_past_the_timeout_is_stopped(athena, endpoint) -> None:
    hold_queries(endpoint, 10_000)  # never leaves QUEUED by itself
    clock = FakeClock()
    with pytest.raises(AthenaError, match=r"still QUEUED after --timeout 3 seconds; it has been stopped "
                                          r"\(StopQueryExecution\).*longer --timeout, or a shorter --since/--until") as caught:
        runner(athena, clock=clock).run("SELECT 1", "trails", timeout=3)
    assert clock.now >= 3
    state = athena.get_query_execution(QueryExecutionId=caught.value.query_id)["QueryExecution"]["Status"]["State"]
    assert state == "CANCELLED"  # moto marks a stopped query so


# -- Stubber: what moto cannot do -----------------------------------------------------------------------

def stubbed():
    client = session().client("athena", endpoint_url="http://127.0.0.1:9")  # never reached
    return client, Stubber(client)


def column_info(*names_types):
    return {"ColumnInfo": [{"Name": name, "Type": kind} for name, kind in names_types]}


def cells(*values):
    return {"Data": [{} if value is None else {"VarCharValue": value} for value in values]}


def test_results_are_read_over_every_page_and_only_the_first_header_is_dropped() -> None:
    client, stub = stubbed()
    meta = column_info(("tg_kind", "varchar"), ("tg_count", "bigint"))
    stub.add_response("get_query_results",
                      {"ResultSet": {"Rows": [cells("tg_kind", "tg_count"), cells("count", "1"), cells("count", "2")],
                                     "ResultSetMetadata": meta}, "NextToken": "page-2"},
                      {"QueryExecutionId": "q-1", "MaxResults": 2})
    stub.add_response("get_query_results",
                      {"ResultSet": {"Rows": [cells("count", "3"), cells("tg_kind", "4")], "ResultSetMetadata": meta},
                       "NextToken": "page-3"},
                      {"QueryExecutionId": "q-1", "MaxResults": 2, "NextToken": "page-2"})
    stub.add_response("get_query_results",
                      {"ResultSet": {"Rows": [cells("span", None)], "ResultSetMetadata": meta}},
                      {"QueryExecutionId": "q-1", "MaxResults": 2, "NextToken": "page-3"})
    with stub:
        columns, rows = AthenaRunner(client, "primary", page_size=2).results("q-1")
    stub.assert_no_pending_responses()
    assert columns == ("tg_kind", "tg_count")
    assert rows == [("count", 1), ("count", 2), ("count", 3), ("tg_kind", 4), ("span", None)]


def test_a_failed_query_reports_athenas_reason() -> None:
    client, stub = stubbed()
    stub.add_response("get_query_execution", {"QueryExecution": {"QueryExecutionId": "q-2", "Status": {
        "State": "FAILED", "StateChangeReason": "SYNTAX_ERROR: line 1:8: Column 'x' cannot be resolved"}}})
    with stub, pytest.raises(AthenaError, match=r"Athena query q-2 FAILED: SYNTAX_ERROR: line 1:8: Column 'x' cannot be resolved$"):
        AthenaRunner(client, "primary").wait("q-2")


def test_a_query_failed_on_a_missing_table_says_to_check_table() -> None:
    client, stub = stubbed()
    stub.add_response("get_query_execution", {"QueryExecution": {"QueryExecutionId": "q-3", "Status": {
        "State": "FAILED", "StateChangeReason": "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.trails.nope' does not exist"}}})
    with stub, pytest.raises(AthenaError, match=r"TABLE_NOT_FOUND.*The table or database is missing: check --table"):
        AthenaRunner(client, "primary").wait("q-3")


def test_a_query_failed_reading_s3_names_the_permissions() -> None:
    client, stub = stubbed()
    stub.add_response("get_query_execution", {"QueryExecution": {"QueryExecutionId": "q-4", "Status": {
        "State": "FAILED", "StateChangeReason": "Access denied when writing output to url: s3://results/x.csv"}}})
    with stub, pytest.raises(AthenaError, match=r"grant s3:GetObject and s3:ListBucket on the trail's bucket, kms:Decrypt"):
        AthenaRunner(client, "primary").wait("q-4")


def test_access_denied_names_the_action_and_the_policy() -> None:
    client, stub = stubbed()
    stub.add_client_error("start_query_execution", service_error_code="AccessDeniedException",
                          service_message="User: arn:aws:iam::123456789012:user/ci is not authorized to perform: "
                                          "athena:StartQueryExecution", http_status_code=400)
    with stub, pytest.raises(AthenaError, match=r"access denied calling athena:StartQueryExecution \(workgroup "
                                                r"'primary', region us-east-1\).*docs/backtest.md"):
        AthenaRunner(client, "primary").start("SELECT 1", "trails")


def test_athenas_no_output_location_refusal_asks_for_output() -> None:
    client, stub = stubbed()
    stub.add_client_error("start_query_execution", service_error_code="InvalidRequestException",
                          service_message="No output location provided. An output location is required either "
                                          "through the Workgroup result configuration setting or as an API input.")
    with stub, pytest.raises(AthenaError, match="has no query result location; give --output s3://"):
        AthenaRunner(client, "primary").start("SELECT 1", "trails")


def test_a_missing_database_at_start_says_to_check_table() -> None:
    client, stub = stubbed()
    stub.add_client_error("start_query_execution", service_error_code="InvalidRequestException",
                          service_message="Database trails not found.")
    with stub, pytest.raises(AthenaError, match=r"database 'trails' not found in the data catalogue.*Check --table"):
        AthenaRunner(client, "primary").start("SELECT 1", "trails")


def test_aws_missing_workgroup_error_is_named() -> None:
    client, stub = stubbed()
    stub.add_client_error("get_work_group", service_error_code="InvalidRequestException",
                          service_message="WorkGroup nope is not found.")
    with stub, pytest.raises(AthenaError, match="workgroup 'nope' does not exist in region us-east-1"):
        AthenaRunner(client, "nope").check_workgroup()


def test_a_disabled_workgroup_is_named() -> None:
    client, stub = stubbed()
    stub.add_response("get_work_group", {"WorkGroup": {"Name": "old", "State": "DISABLED", "Configuration": {}}})
    with stub, pytest.raises(AthenaError, match="workgroup 'old' is DISABLED; enable it or pass another --workgroup"):
        AthenaRunner(client, "old", output="s3://results/x/").check_workgroup()


def test_a_stop_that_fails_after_the_timeout_says_to_stop_it_by_hand() -> None:
    client, stub = stubbed()
    stub.add_response("get_query_execution", {"QueryExecution": {"QueryExecutionId": "q-5", "Status": {"State": "RUNNING"},
                                                                 "Statistics": {"DataScannedInBytes": 2048}}})
    stub.add_client_error("stop_query_execution", service_error_code="AccessDeniedException",
                          service_message="not allowed to stop")
    readings = iter([0.0, 10.0])  # started, then the first poll: past the timeout
    runner_ = AthenaRunner(client, "primary", clock=lambda: next(readings), sleep=lambda seconds: None)
    with stub, pytest.raises(AthenaError, match=r"q-5 outran --timeout and could not be stopped: access denied "
                                                r"calling athena:StopQueryExecution.*stop it in the console"):
        runner_.wait("q-5", timeout=5)
