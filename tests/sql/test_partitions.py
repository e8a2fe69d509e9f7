"""The Athena CloudTrail table's partition filter, its partitions and the scan estimate.

The layouts are the ones AWS documents (a projected `timestamp` in yyyy/MM/dd under a
storage.location.template; year/month/day partitions, projected or added by hand). The Glue and
S3 parts run against moto's server (tests/sql/athena_moto.py); the planning is pure.
"""

from __future__ import annotations

import datetime as dt
import gzip

import pytest

from bench.local_s3 import moto_server
from trailguard.sql.partitions import (
    Partition, PartitionRefusal, TableLayout, Window, collapse_day_prefixes, describe, estimate_scan,
    glue_expression, list_manual_partitions, plan_partitions, read_layout,
)

from .athena_moto import ACCOUNT, reset, session

BUCKET = "trail-bucket"
TRAIL = f"s3://{BUCKET}/AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/"
PROJECTED = {
    "projection.enabled": "true",
    "projection.timestamp.type": "date",
    "projection.timestamp.format": "yyyy/MM/dd",
    "projection.timestamp.range": "2020/01/01,NOW",
    "projection.timestamp.interval": "1",
    "projection.timestamp.interval.unit": "DAYS",
    "storage.location.template": TRAIL + "${timestamp}",
}


def projected_layout(**extra: str) -> TableLayout:
    return TableLayout("trails", "cloudtrail_logs_pp", TRAIL, (("timestamp", "string"),), {**PROJECTED, **extra})


def days(first: str, last: str, **kwargs: frozenset[str]) -> Window:
    return Window(dt.date.fromisoformat(first), dt.date.fromisoformat(last), **kwargs)


# -- projected date key (AWS's documented table) --------------------------------------------------

def test_projected_timestamp_gives_a_between_filter_and_one_partition_per_day() -> None:
    plan = plan_partitions(projected_layout(), days("2026-01-30", "2026-02-02"))
    assert plan.where == "\"timestamp\" BETWEEN '2026/01/30' AND '2026/02/02'"
    assert [p.values for p in plan.partitions] == [(("timestamp", f"2026/{d}"),) for d in
                                                   ("01/30", "01/31", "02/01", "02/02")]
    assert plan.partitions[0].location == TRAIL + "2026/01/30"
    assert plan.partitions[-1].location == TRAIL + "2026/02/02"


def test_a_format_that_does_not_sort_as_days_gets_an_in_list() -> None:
    layout = projected_layout(**{"projection.timestamp.format": "dd-MM-yyyy", "projection.timestamp.range": "01-01-2020,NOW"})
    plan = plan_partitions(layout, days("2026-03-09", "2026-03-10"))
    assert plan.where == "\"timestamp\" IN ('09-03-2026', '10-03-2026')"


def test_the_window_is_narrowed_to_the_projected_range_and_says_so() -> None:
    plan = plan_partitions(projected_layout(**{"projection.timestamp.range": "2026/02/01,2026/02/03"}),
                           days("2026-01-20", "2026-02-10"))
    assert plan.where == "\"timestamp\" BETWEEN '2026/02/01' AND '2026/02/03'"
    assert len(plan.partitions) == 3
    assert any("narrowed to 2026-02-01 .. 2026-02-03" in note for note in plan.notes)


def test_a_window_outside_the_projected_range_is_refused() -> None:
    with pytest.raises(PartitionRefusal, match="outside table trails.cloudtrail_logs_pp's projected range"):
        plan_partitions(projected_layout(), days("2019-01-01", "2019-12-31"))


def test_hourly_projection_is_refused_naming_the_format() -> None:
    layout = projected_layout(**{"projection.timestamp.format": "yyyy/MM/dd/HH",
                                 "projection.timestamp.interval.unit": "HOURS"})
    with pytest.raises(PartitionRefusal, match="'yyyy/MM/dd/HH' every 1 HOURS"):
        plan_partitions(layout, days("2026-01-01", "2026-01-01"))


def multi_account_layout(account_type: str = "enum") -> TableLayout:
    template = f"s3://{BUCKET}/AWSLogs/${{account}}/CloudTrail/${{region}}/${{timestamp}}"
    parameters = {**PROJECTED, "storage.location.template": template,
                  "projection.region.type": "enum", "projection.region.values": "us-east-1,eu-west-1",
                  "projection.account.type": account_type}
    if account_type == "enum":
        parameters["projection.account.values"] = "111111111111,222222222222"
    return TableLayout("trails", "org", f"s3://{BUCKET}/AWSLogs/",
                       (("account", "string"), ("region", "string"), ("timestamp", "string")), parameters)


def test_region_and_account_keys_are_restricted_to_what_was_asked() -> None:
    window = days("2026-05-01", "2026-05-02", regions=frozenset({"eu-west-1"}), accounts=frozenset({"222222222222"}))
    plan = plan_partitions(multi_account_layout(), window)
    assert plan.where == ("\"timestamp\" BETWEEN '2026/05/01' AND '2026/05/02' AND \"account\" = '222222222222' "
                          "AND \"region\" = 'eu-west-1'")
    assert [p.location for p in plan.partitions] == [
        f"s3://{BUCKET}/AWSLogs/222222222222/CloudTrail/eu-west-1/2026/05/0{d}" for d in (1, 2)]


def test_unrestricted_enum_keys_read_every_value_and_say_so() -> None:
    plan = plan_partitions(multi_account_layout(), days("2026-05-01", "2026-05-01"))
    assert len(plan.partitions) == 4  # 2 accounts x 2 regions x 1 day
    assert "partition key 'region' not restricted: every region is read" in plan.notes


def test_a_region_outside_the_enum_is_noted_and_one_with_nothing_left_is_refused() -> None:
    plan = plan_partitions(multi_account_layout(), days("2026-05-01", "2026-05-01",
                                                        regions=frozenset({"eu-west-1", "ap-south-1"})))
    assert any("--region ap-south-1: not among the table's region values" in note for note in plan.notes)
    assert "\"region\" = 'eu-west-1'" in plan.where
    with pytest.raises(PartitionRefusal, match="--region ap-south-1: table trails.org projects region only as"):
        plan_partitions(multi_account_layout(), days("2026-05-01", "2026-05-01", regions=frozenset({"ap-south-1"})))


def test_an_injected_account_key_needs_account() -> None:
    with pytest.raises(PartitionRefusal, match=r"injects partition key 'account'.*give --account"):
        plan_partitions(multi_account_layout("injected"), days("2026-05-01", "2026-05-01"))
    plan = plan_partitions(multi_account_layout("injected"),
                           days("2026-05-01", "2026-05-01", accounts=frozenset({"333333333333", "111111111111"})))
    assert "\"account\" IN ('111111111111', '333333333333')" in plan.where


# -- year / month / day -------------------------------------------------------------------------

MANUAL = TableLayout("trails", "manual", TRAIL,
                     (("region", "string"), ("year", "string"), ("month", "string"), ("day", "string")), {})


def test_year_month_day_filter_uses_whole_years_and_months_where_it_can() -> None:
    window = days("2025-12-30", "2027-03-02", regions=frozenset({"us-east-1"}))
    plan = plan_partitions(MANUAL, window, manual=[])
    assert plan.where == (
        "((\"year\" = '2025' AND \"month\" = '12' AND \"day\" BETWEEN '30' AND '31') OR (\"year\" = '2026') OR "
        "(\"year\" = '2027' AND \"month\" IN ('01', '02')) OR "
        "(\"year\" = '2027' AND \"month\" = '03' AND \"day\" BETWEEN '01' AND '02')) AND \"region\" = 'us-east-1'")
    assert glue_expression(MANUAL, window) == plan.where.replace('"', "")


def test_integer_year_month_day_columns_compare_as_numbers() -> None:
    layout = TableLayout("trails", "ints", TRAIL, (("year", "int"), ("month", "int"), ("day", "int")), {})
    plan = plan_partitions(layout, days("2026-02-05", "2026-02-06"), manual=[])
    assert plan.where == "\"year\" = 2026 AND \"month\" = 2 AND \"day\" BETWEEN 5 AND 6"


def test_projected_year_month_day_with_digits_map_to_cloudtrail_prefixes() -> None:
    parameters = {"projection.enabled": "true",
                  "projection.year.type": "integer", "projection.year.range": "2020,2030",
                  "projection.month.type": "integer", "projection.month.range": "1,12", "projection.month.digits": "2",
                  "projection.day.type": "integer", "projection.day.range": "1,31", "projection.day.digits": "2",
                  "storage.location.template": TRAIL + "${year}/${month}/${day}"}
    layout = TableLayout("trails", "ymd", TRAIL, (("year", "string"), ("month", "string"), ("day", "string")), parameters)
    plan = plan_partitions(layout, days("2026-02-28", "2026-03-01"))
    assert plan.where == ("(\"year\" = '2026' AND \"month\" = '02' AND \"day\" = '28') OR "
                          "(\"year\" = '2026' AND \"month\" = '03' AND \"day\" = '01')").join("()")
    assert [p.location for p in plan.partitions] == [TRAIL + "2026/02/28", TRAIL + "2026/03/01"]


def test_listed_partitions_outside_the_window_are_dropped() -> None:
    inside = Partition((("region", "us-east-1"), ("year", "2026"), ("month", "05"), ("day", "01")), TRAIL + "2026/05/01/")
    outside = Partition((("region", "us-east-1"), ("year", "2026"), ("month", "05"), ("day", "03")), TRAIL + "2026/05/03/")
    other_region = Partition((("region", "eu-west-1"), ("year", "2026"), ("month", "05"), ("day", "01")), "s3://x/y/")
    plan = plan_partitions(MANUAL, days("2026-05-01", "2026-05-02", regions=frozenset({"us-east-1"})),
                           manual=[inside, outside, other_region])
    assert plan.partitions == (inside,)
    assert plan.notes == ()
    empty = plan_partitions(MANUAL, days("2026-06-01", "2026-06-02"), manual=[inside])
    assert empty.partitions == ()
    assert any("Glue lists no partition of trails.manual in the window" in note for note in empty.notes)


# -- refusals -----------------------------------------------------------------------------------

def test_a_table_without_partitions_is_refused_before_a_full_scan() -> None:
    layout = TableLayout("default", "cloudtrail_logs", TRAIL, (), {})
    with pytest.raises(PartitionRefusal, match=r"no partition keys, so every query reads the whole trail.*projection"):
        plan_partitions(layout, days("2026-01-01", "2026-01-02"), manual=[])


def test_a_table_partitioned_without_a_date_is_refused_naming_its_keys() -> None:
    layout = TableLayout("default", "by_region", TRAIL, (("region", "string"),), {})
    with pytest.raises(PartitionRefusal, match=r"no usable date partition: its partition keys are region.*yyyy/MM/dd"):
        plan_partitions(layout, days("2026-01-01", "2026-01-02"), manual=[])


def test_a_projected_table_without_a_date_projection_is_refused() -> None:
    layout = TableLayout("default", "t", TRAIL, (("timestamp", "string"),),
                         {"projection.enabled": "true", "projection.timestamp.type": "enum",
                          "projection.timestamp.values": "a"})
    with pytest.raises(PartitionRefusal, match="no key with projection.<key>.type=date"):
        plan_partitions(layout, days("2026-01-01", "2026-01-02"))


# -- Glue and S3 (moto server) --------------------------------------------------------------------

@pytest.fixture(scope="module")
def endpoint():
    with moto_server() as url:
        yield url


@pytest.fixture
def aws(endpoint):
    reset(endpoint)
    s = session()
    return s.client("glue", endpoint_url=endpoint), s.client("s3", endpoint_url=endpoint)


def create_table(glue, name: str, keys, parameters, location: str = TRAIL) -> None:
    glue.create_table(DatabaseName="trails", TableInput={
        "Name": name, "TableType": "EXTERNAL_TABLE", "Parameters": parameters,
        "PartitionKeys": [{"Name": key, "Type": kind} for key, kind in keys],
        "StorageDescriptor": {"Location": location, "Columns": [{"Name": "eventtime", "Type": "string"}]}})


def test_layout_is_read_from_glue_get_table(aws) -> None:
    glue, _ = aws
    glue.create_database(DatabaseInput={"Name": "trails"})
    create_table(glue, "cloudtrail_logs_pp", [("timestamp", "string")], PROJECTED)
    layout = read_layout(glue, "trails", "cloudtrail_logs_pp")
    assert layout == projected_layout()
    assert layout.projected


def test_manual_partitions_are_listed_from_glue_with_the_window_expression(aws) -> None:
    glue, _ = aws
    glue.create_database(DatabaseInput={"Name": "trails"})
    create_table(glue, "manual", [("region", "string"), ("year", "string"), ("month", "string"), ("day", "string")], {})
    for region in ("us-east-1", "eu-west-1"):
        for day in ("2026-04-30", "2026-05-01", "2026-05-02", "2026-05-03"):
            y, m, d = day.split("-")
            glue.create_partition(DatabaseName="trails", TableName="manual", PartitionInput={
                "Values": [region, y, m, d],
                "StorageDescriptor": {"Location": f"s3://{BUCKET}/AWSLogs/{ACCOUNT}/CloudTrail/{region}/{y}/{m}/{d}/"}})
    layout = read_layout(glue, "trails", "manual")
    window = days("2026-05-01", "2026-05-02", regions=frozenset({"eu-west-1"}))
    listed = list_manual_partitions(glue, layout, glue_expression(layout, window))
    assert sorted(p.label() for p in listed) == ["region=eu-west-1, year=2026, month=05, day=01",
                                                 "region=eu-west-1, year=2026, month=05, day=02"]
    plan = plan_partitions(layout, window, manual=listed)
    assert [p.location for p in plan.partitions] == sorted(p.location for p in listed)


def test_scan_estimate_sums_the_objects_under_each_partition_prefix(aws) -> None:
    _, s3 = aws
    s3.create_bucket(Bucket=BUCKET)
    sizes = {}
    for day, count in (("2026/01/30", 3), ("2026/01/31", 0), ("2026/02/01", 2), ("2026/02/02", 1)):
        for n in range(count):
            body = gzip.compress(b'{"Records": []}' * (n + 1) * 50)
            key = f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/{day}/{ACCOUNT}_CloudTrail_us-east-1_{n}.json.gz"
            s3.put_object(Bucket=BUCKET, Key=key, Body=body)
            sizes[key] = len(body)
    # a day outside the window, and a prefix sharing the day's text, are not counted
    s3.put_object(Bucket=BUCKET, Key=f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/02/03/x.json.gz", Body=b"x" * 999)
    s3.put_object(Bucket=BUCKET, Key=f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/02/020/x.json.gz", Body=b"x" * 999)
    plan = plan_partitions(projected_layout(), days("2026-01-30", "2026-02-02"))
    estimate = estimate_scan(s3, plan.partitions, threads=2)
    assert estimate.bytes == sum(sizes.values())
    assert (estimate.objects, estimate.prefixes, estimate.empty_prefixes) == (6, 4, 1)
    lines = describe(plan, estimate)
    assert lines[0] == "table trails.cloudtrail_logs_pp: partition filter \"timestamp\" BETWEEN '2026/01/30' AND '2026/02/02'"
    assert lines[1] == "partitions read: 4"
    assert lines[2] == f"  timestamp=2026/01/30  {TRAIL}2026/01/30"
    assert f"({sum(sizes.values()):,} bytes compressed) in 6 objects under 4 prefixes, 1 of them empty" in lines[-1]


def test_scan_estimate_pages_through_more_than_a_thousand_objects(aws) -> None:
    _, s3 = aws
    s3.create_bucket(Bucket=BUCKET)
    prefix = f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/03/04/"
    for n in range(1005):
        s3.put_object(Bucket=BUCKET, Key=f"{prefix}{n:05d}.json.gz", Body=b"z" * 7)
    plan = plan_partitions(projected_layout(), days("2026-03-04", "2026-03-04"))
    estimate = estimate_scan(s3, plan.partitions)
    assert (estimate.bytes, estimate.objects) == (1005 * 7, 1005)


def test_describe_shortens_a_long_partition_list() -> None:
    plan = plan_partitions(projected_layout(), days("2026-01-01", "2026-03-31"))
    lines = describe(plan, None, limit=5)
    assert lines[1] == "partitions read: 90"
    assert lines[2:6] == [f"  timestamp=2026/01/0{d}  {TRAIL}2026/01/0{d}" for d in (1, 2, 3, 4)]
    assert lines[6] == "  ... 85 more ..."
    assert lines[7] == f"  timestamp=2026/03/31  {TRAIL}2026/03/31"


@pytest.mark.parametrize("layout, window", [
    (projected_layout(), days("2026-01-30", "2026-02-02")),
    (projected_layout(**{"projection.timestamp.format": "dd-MM-yyyy", "projection.timestamp.range": "01-01-2020,NOW"}),
     days("2026-03-09", "2026-03-10")),
    (multi_account_layout(), days("2026-05-01", "2026-05-02", regions=frozenset({"eu-west-1", "us-east-1"}),
                                  accounts=frozenset({"222222222222"}))),
    (MANUAL, days("2025-12-30", "2027-03-02", regions=frozenset({"us-east-1"}))),
    (TableLayout("trails", "ints", TRAIL, (("year", "int"), ("month", "int"), ("day", "int")), {}),
     days("2026-02-05", "2026-04-06")),
])
def test_every_filter_parses_as_trino_and_names_partition_keys_only(layout, window) -> None:
    import sqlglot

    plan = plan_partitions(layout, window, manual=None if layout.projected else [])
    parsed = sqlglot.parse_one(f"SELECT 1 FROM t WHERE {plan.where}", read="trino")
    named = {column.name for column in parsed.find(sqlglot.exp.Where).find_all(sqlglot.exp.Column)}
    assert named <= {key for key, _ in layout.partition_keys}
    assert named


def test_whole_months_and_years_of_day_prefixes_are_listed_once() -> None:
    head = f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/"
    window = days("2024-12-31", "2026-03-02")  # a day, a whole year, two whole months, two days
    places = [(BUCKET, f"{head}{day:%Y/%m/%d}/") for day in window.days()]
    places.append(("other", "x/key=value/"))
    assert collapse_day_prefixes(places) == sorted([
        (BUCKET, f"{head}2024/12/31/"), (BUCKET, f"{head}2025/"), (BUCKET, f"{head}2026/01/"),
        (BUCKET, f"{head}2026/02/"), (BUCKET, f"{head}2026/03/01/"), (BUCKET, f"{head}2026/03/02/"),
        ("other", "x/key=value/")])
    leap = [(BUCKET, f"{head}2024/02/{d:02d}/") for d in range(1, 29)]  # 28 of February 2024's 29 days
    assert collapse_day_prefixes(leap) == sorted(leap)


def test_a_whole_month_is_estimated_by_its_month_prefix(aws) -> None:
    _, s3 = aws
    s3.create_bucket(Bucket=BUCKET)
    head = f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/"
    for day in range(1, 29):
        s3.put_object(Bucket=BUCKET, Key=f"{head}2026/02/{day:02d}/a.json.gz", Body=b"x" * day)
    s3.put_object(Bucket=BUCKET, Key=f"{head}2026/03/01/a.json.gz", Body=b"x" * 1000)
    s3.put_object(Bucket=BUCKET, Key=f"{head}2026/01/31/a.json.gz", Body=b"x" * 1000)
    plan = plan_partitions(projected_layout(), days("2026-02-01", "2026-02-28"))
    estimate = estimate_scan(s3, plan.partitions)
    assert (estimate.bytes, estimate.objects, estimate.prefixes) == (sum(range(1, 29)), 28, 1)


def test_unpadded_day_text_is_asked_for_by_list_not_by_range() -> None:
    parameters = {"projection.enabled": "true", "projection.year.type": "integer", "projection.year.range": "2020,2030",
                  "projection.month.type": "integer", "projection.month.range": "1,12",
                  "projection.day.type": "integer", "projection.day.range": "1,31",
                  "storage.location.template": TRAIL + "${year}/${month}/${day}"}
    layout = TableLayout("trails", "bare", TRAIL, (("year", "string"), ("month", "string"), ("day", "string")), parameters)
    plan = plan_partitions(layout, days("2026-03-08", "2026-03-11"))
    assert plan.where == "\"year\" = '2026' AND \"month\" = '3' AND \"day\" IN ('8', '9', '10', '11')"
    plan = plan_partitions(layout, days("2026-03-10", "2026-03-11"))
    assert plan.where == "\"year\" = '2026' AND \"month\" = '3' AND \"day\" BETWEEN '10' AND '11'"
