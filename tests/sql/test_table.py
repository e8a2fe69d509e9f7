"""The table is AWS's documented one, column for column, and `load_records` fills it as the Athena
SerDe reads a CloudTrail record."""

from __future__ import annotations

import json
from typing import Any

import duckdb
import orjson
import pytest
import sqlglot
from sqlglot import exp

from tests.sql.corpus import project_events, shared_events
from trailguard.sql import CLOUDTRAIL_COLUMNS, create_table, load_records
from trailguard.sql.table import DOCUMENTATION_URL, PARTITION_COLUMNS, RAW_COLUMN, duckdb_columns, table_row

# The column list of the CREATE EXTERNAL TABLE statement in the Athena User Guide, "Create a table
# for CloudTrail logs in Athena using manual partitioning" (DOCUMENTATION_URL), as written there.
DOCUMENTED_DDL = """
CREATE EXTERNAL TABLE cloudtrail_logs (
eventversion STRING,
useridentity STRUCT<
               type:STRING,
               principalid:STRING,
               arn:STRING,
               accountid:STRING,
               invokedby:STRING,
               accesskeyid:STRING,
               username:STRING,
               onbehalfof: STRUCT<
                    userid: STRING,
                    identitystorearn: STRING>,
  sessioncontext:STRUCT<
    attributes:STRUCT<
               mfaauthenticated:STRING,
               creationdate:STRING>,
    sessionissuer:STRUCT<
               type:STRING,
               principalid:STRING,
               arn:STRING,
               accountid:STRING,
               username:STRING>,
    ec2roledelivery:string,
    webidfederationdata: STRUCT<
               federatedprovider: STRING,
               attributes: map<string,string>>
  >
>,
eventtime STRING,
eventsource STRING,
eventname STRING,
awsregion STRING,
sourceipaddress STRING,
useragent STRING,
errorcode STRING,
errormessage STRING,
requestparameters STRING,
responseelements STRING,
additionaleventdata STRING,
requestid STRING,
eventid STRING,
resources ARRAY<STRUCT<
               arn:STRING,
               accountid:STRING,
               type:STRING>>,
eventtype STRING,
apiversion STRING,
readonly STRING,
recipientaccountid STRING,
serviceeventdetails STRING,
sharedeventid STRING,
vpcendpointid STRING,
vpcendpointaccountid STRING,
eventcategory STRING,
addendum STRUCT<
  reason:STRING,
  updatedfields:STRING,
  originalrequestid:STRING,
  originaleventid:STRING>,
sessioncredentialfromconsole STRING,
edgedevicedetails STRING,
tlsdetails STRUCT<
  tlsversion:STRING,
  ciphersuite:STRING,
  clientprovidedhostheader:STRING>
)
PARTITIONED BY (region string, year string, month string, day string)
"""


def _documented_columns() -> dict[str, str]:
    """Column -> its type, normalised to sqlglot's Hive spelling."""
    statement = sqlglot.parse_one(DOCUMENTED_DDL, read="hive")
    return {column.name: column.args["kind"].sql("hive") for column in statement.this.expressions
            if isinstance(column, exp.ColumnDef)}


def _hive(type_text: str, dialect: str) -> str:
    return exp.DataType.build(type_text, dialect=dialect).sql("hive").replace("`", "")  # quoted or not


def test_the_columns_are_the_documented_ddl_in_its_order() -> None:
    documented = _documented_columns()
    assert list(CLOUDTRAIL_COLUMNS) == list(documented)
    for name, types in CLOUDTRAIL_COLUMNS.items():
        assert _hive(types["hive"], "hive") == documented[name], name
    assert DOCUMENTATION_URL.startswith("https://docs.aws.amazon.com/athena/")


@pytest.mark.parametrize("name", list(CLOUDTRAIL_COLUMNS))
def test_each_dialects_type_is_the_documented_type(name: str) -> None:
    hive = _hive(CLOUDTRAIL_COLUMNS[name]["hive"], "hive")
    assert _hive(CLOUDTRAIL_COLUMNS[name]["athena"], "trino") == hive
    assert _hive(CLOUDTRAIL_COLUMNS[name]["duckdb"], "duckdb") == hive


def test_the_duckdb_table_has_the_documented_columns_then_partitions_and_raw() -> None:
    con = duckdb.connect()
    create_table(con, "trail")
    described = {row[0]: row[1] for row in con.execute('DESCRIBE "trail"').fetchall()}
    assert list(described) == [*CLOUDTRAIL_COLUMNS, *PARTITION_COLUMNS, RAW_COLUMN]
    for name, types in CLOUDTRAIL_COLUMNS.items():
        assert _hive(described[name], "duckdb") == _hive(types["hive"], "hive"), name


RECORD: dict[str, Any] = {
    "eventVersion": "1.08",
    "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/admin/alice",
                     "identityProvider": "not declared",
                     "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "admin"},
                                        "attributes": {"mfaAuthenticated": "false"},
                                        "webIdFederationData": {"attributes": {"sub": "x"}}}},
    "eventTime": "2026-03-04T23:59:59Z",
    "eventSource": "s3.amazonaws.com",
    "eventName": "PutBucketPolicy",
    "awsRegion": "eu-west-1",
    "sourceIPAddress": "203.0.113.7",
    "requestParameters": {"bucketName": "b", "policy": {"Statement": [{"Effect": "Allow"}]}, "n": 3},
    "responseElements": None,
    "additionalEventData": {"x-amz-id-2": "abc=="},
    "requestID": "R1",
    "eventID": "E1",
    "readOnly": False,
    "resources": [{"ARN": "arn:aws:s3:::b", "accountId": "111122223333", "type": "AWS::S3::Bucket"}, {"type": "t"}],
    "eventType": "AwsApiCall",
    "managementEvent": True,
    "recipientAccountId": "111122223333",
    "tlsDetails": {"tlsVersion": "TLSv1.3"},
    "vpcEndpointId": 42,
}


def _loaded(records: list[dict[str, Any]]) -> Any:
    con = duckdb.connect()
    assert load_records(con, records) == len(records)
    return con


def test_a_record_loads_as_the_serde_reads_it() -> None:
    con = _loaded([RECORD])
    row = con.execute("SELECT useridentity.type, useridentity.sessioncontext.sessionissuer.username, "
                      "useridentity.sessioncontext.sessionissuer.arn, useridentity.invokedby, requestparameters, "
                      "responseelements, readonly, resources, vpcendpointid, errorcode, addendum, "
                      "useridentity.sessioncontext.webidfederationdata.attributes['sub'], region, year, month, day, "
                      f"{RAW_COLUMN} FROM cloudtrail").fetchone()
    (kind, issuer, issuer_arn, invoked_by, request, response, read_only, resources, vpc_endpoint, error_code,
     addendum, sub, region, year, month, day, raw) = row
    assert (kind, issuer, issuer_arn, invoked_by) == ("AssumedRole", "admin", None, None)
    assert json.loads(request) == RECORD["requestParameters"]
    assert request == orjson.dumps(RECORD["requestParameters"]).decode(), "compact JSON text, keys in record order"
    assert response is None and error_code is None and addendum is None, "null and missing are NULL"
    assert read_only == "false", "the boolean as the SerDe's text"
    assert vpc_endpoint == "42", "a number in a STRING column is its JSON text"
    assert resources == [{"arn": "arn:aws:s3:::b", "accountid": "111122223333", "type": "AWS::S3::Bucket"},
                         {"arn": None, "accountid": None, "type": "t"}]
    assert sub == "x"
    assert (region, year, month, day) == ("eu-west-1", "2026", "03", "04")
    assert json.loads(raw) == RECORD


def test_undeclared_keys_are_dropped_and_keys_match_in_any_case() -> None:
    row = table_row({"EVENTNAME": "X", "userIdentity": {"Type": "Root", "identityProvider": "p"}, "managementEvent": True})
    assert row["eventname"] == "X"
    assert row["useridentity"] == {"type": "Root"}
    assert "managementevent" not in row


def test_containers_of_the_wrong_shape_are_null() -> None:
    row = table_row({"userIdentity": "root", "resources": {"ARN": "x"}, "tlsDetails": [1]})
    assert "useridentity" not in row and "resources" not in row and "tlsdetails" not in row, "left out: NULL"
    assert table_row({"resources": ["x", None, {}]})["resources"] == [None, None, {}]


def test_loading_appends_and_counts() -> None:
    con = _loaded([RECORD])
    assert load_records(con, iter([RECORD, {"eventName": "B"}])) == 2
    assert con.execute("SELECT count(*) FROM cloudtrail").fetchone()[0] == 3
    assert load_records(con, []) == 0


def test_a_bad_table_name_is_named() -> None:
    con = duckdb.connect()
    with pytest.raises(ValueError, match="table name 'x; drop': use letters, digits and '_' only"):
        create_table(con, "x; drop")
    with pytest.raises(ValueError, match="table name"):
        load_records(con, [RECORD], name="a-b")


def test_every_project_and_shared_event_loads_with_its_raw_json() -> None:
    events = project_events() + shared_events()
    con = _loaded(events)
    raws = [json.loads(row[0]) for row in con.execute(f"SELECT {RAW_COLUMN} FROM cloudtrail ORDER BY rowid").fetchall()]
    assert raws == events
    names = [row[0] for row in con.execute("SELECT eventname FROM cloudtrail ORDER BY rowid").fetchall()]
    assert names == [event.get("eventName") for event in events]


def test_duckdb_columns_lists_every_column_once() -> None:
    columns = duckdb_columns()
    assert len(columns) == len(CLOUDTRAIL_COLUMNS) + len(PARTITION_COLUMNS) + 1
