"""AWS's documented Athena table for CloudTrail logs, as data, and the same table in DuckDB.

The schema is the `CREATE EXTERNAL TABLE cloudtrail_logs` statement of the Athena User Guide,
"Create a table for CloudTrail logs in Athena using manual partitioning"
(https://docs.aws.amazon.com/athena/latest/ug/create-cloudtrail-table.html; the partition-projection
page, create-cloudtrail-table-partition-projection.html, declares the same columns): column for
column, struct field for struct field, every scalar a STRING, read by the Hive JSON SerDe
(`org.apache.hive.hcatalog.data.JsonSerDe` with `com.amazon.emr.cloudtrail.CloudTrailInputFormat`),
partitioned by region, year, month and day.

`TABLE` holds it as a tree of `Field`s that also records what the table forgets: the key's spelling
in a CloudTrail record (the SerDe matches keys case-insensitively) and the JSON type CloudTrail
documents for each STRING (a string, `readOnly`'s boolean, or an object kept as JSON text). The
compiler (`trailguard.sql.compile`) reads the same tree, so the table and the SQL agree by
construction.

`load_records` fills a DuckDB table with what the SerDe gives Athena for each record: keys matched
case-insensitively, undeclared keys dropped, a missing or null value as NULL, a STRING column
holding an object, array, number or boolean as its compact JSON text, a string as itself.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Iterable, Mapping

import orjson

__all__ = ["Field", "TABLE", "FIELDS_BY_COLUMN", "CLOUDTRAIL_COLUMNS", "PARTITION_COLUMNS", "RAW_COLUMN",
           "DOCUMENTATION_URL", "create_table", "load_records", "table_row", "duckdb_columns"]

DOCUMENTATION_URL = "https://docs.aws.amazon.com/athena/latest/ug/create-cloudtrail-table.html"

# What a STRING column holds in a CloudTrail record (the table cannot tell; the compiler must).
STRING = "string"    # a JSON string (CloudTrail's documented type for the field)
BOOLEAN = "boolean"  # a JSON boolean, stored by the SerDe as the text true / false (readOnly)
JSON_TEXT = "json"   # a JSON object, stored as its JSON text (requestParameters, ...)
STRUCT = "struct"
ARRAY = "array"      # ARRAY<STRUCT<...>> (resources)
MAP = "map"          # MAP<STRING,STRING> (webIdFederationData.attributes)


@dataclass(frozen=True)
class Field:
    """One column or struct field: `name` in the table (lower case, as the DDL writes it), `key` as
    CloudTrail spells it in a record, `kind` (what the record holds there), and the struct's
    (or array element's) own fields."""

    name: str
    key: str
    kind: str
    fields: tuple["Field", ...] = ()

    def child(self, key: str) -> "Field | None":
        """The declared field whose CloudTrail key is exactly `key`, else None."""
        for field in self.fields:
            if field.key == key:
                return field
        return None

    def child_ignoring_case(self, key: str) -> "Field | None":
        for field in self.fields:
            if field.name == key.lower():
                return field
        return None


def _s(key: str, kind: str = STRING) -> Field:
    return Field(key.lower(), key, kind)


def _struct(key: str, *fields: Field, kind: str = STRUCT) -> Field:
    return Field(key.lower(), key, kind, tuple(fields))


_SESSION_ISSUER = _struct("sessionIssuer", _s("type"), _s("principalId"), _s("arn"), _s("accountId"), _s("userName"))

TABLE = _struct(
    "$",
    _s("eventVersion"),
    _struct("userIdentity",
            _s("type"), _s("principalId"), _s("arn"), _s("accountId"), _s("invokedBy"), _s("accessKeyId"),
            _s("userName"),
            _struct("onBehalfOf", _s("userId"), _s("identityStoreArn")),
            _struct("sessionContext",
                    _struct("attributes", _s("mfaAuthenticated"), _s("creationDate")),
                    _SESSION_ISSUER,
                    _s("ec2RoleDelivery"),
                    _struct("webIdFederationData", _s("federatedProvider"), Field("attributes", "attributes", MAP)))),
    _s("eventTime"),
    _s("eventSource"),
    _s("eventName"),
    _s("awsRegion"),
    _s("sourceIPAddress"),
    _s("userAgent"),
    _s("errorCode"),
    _s("errorMessage"),
    _s("requestParameters", JSON_TEXT),
    _s("responseElements", JSON_TEXT),
    _s("additionalEventData", JSON_TEXT),
    _s("requestID"),
    _s("eventID"),
    _struct("resources", _s("ARN"), _s("accountId"), _s("type"), kind=ARRAY),
    _s("eventType"),
    _s("apiVersion"),
    _s("readOnly", BOOLEAN),
    _s("recipientAccountId"),
    _s("serviceEventDetails", JSON_TEXT),
    _s("sharedEventID"),
    _s("vpcEndpointId"),
    _s("vpcEndpointAccountId"),
    _s("eventCategory"),
    _struct("addendum", _s("reason"), _s("updatedFields"), _s("originalRequestID"), _s("originalEventID")),
    _s("sessionCredentialFromConsole"),
    _s("edgeDeviceDetails", JSON_TEXT),
    _struct("tlsDetails", _s("tlsVersion"), _s("cipherSuite"), _s("clientProvidedHostHeader")),
)
"""The documented table's columns in the DDL's order. `kind` says what CloudTrail writes there;
every scalar is a STRING column whatever its kind."""

FIELDS_BY_COLUMN: Mapping[str, Field] = MappingProxyType({field.name: field for field in TABLE.fields})

PARTITION_COLUMNS: tuple[str, ...] = ("region", "year", "month", "day")
"""The manual-partitioning DDL's `PARTITIONED BY (region string, year string, month string, day
string)`: in Athena they come from the S3 key (`CloudTrail/<region>/<yyyy>/<mm>/<dd>/`); the DuckDB
table derives them from awsRegion and eventTime."""

RAW_COLUMN = "_raw"
"""DuckDB only, not part of AWS's table: the record's own JSON, for showing sample events."""


# ------------------------------------------------------------------ type texts per dialect

def _type(field: Field, dialect: str) -> str:
    if field.kind in (STRUCT, ARRAY):
        members = [(f.name, _type(f, dialect)) for f in field.fields]
        if dialect == "hive":
            text = "STRUCT<" + ", ".join(f"{n}:{t}" for n, t in members) + ">"
            return f"ARRAY<{text}>" if field.kind == ARRAY else text
        if dialect == "athena":
            text = "ROW(" + ", ".join(f"{n} {t}" for n, t in members) + ")"
            return f"ARRAY({text})" if field.kind == ARRAY else text
        text = "STRUCT(" + ", ".join(f'"{n}" {t}' for n, t in members) + ")"
        return text + "[]" if field.kind == ARRAY else text
    if field.kind == MAP:
        return {"hive": "MAP<STRING,STRING>", "athena": "MAP(VARCHAR, VARCHAR)"}.get(dialect, "MAP(VARCHAR, VARCHAR)")
    return {"hive": "STRING", "athena": "VARCHAR"}.get(dialect, "VARCHAR")


CLOUDTRAIL_COLUMNS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    field.name: MappingProxyType({dialect: _type(field, dialect) for dialect in ("hive", "athena", "duckdb")})
    for field in TABLE.fields
})
"""Column name -> its type text per dialect: "hive" (the DDL as AWS documents it), "athena" (the
Trino type Athena queries it as) and "duckdb" (the local table)."""


def duckdb_columns() -> dict[str, str]:
    """Every column of the DuckDB table with its type: the documented ones, the partitions, `_raw`."""
    columns = {name: types["duckdb"] for name, types in CLOUDTRAIL_COLUMNS.items()}
    columns.update({name: "VARCHAR" for name in PARTITION_COLUMNS})
    columns[RAW_COLUMN] = "VARCHAR"
    return columns


def create_table(con: Any, name: str = "cloudtrail") -> None:
    """Create (or replace) the CloudTrail table `name` on the DuckDB connection `con`."""
    _check_name(name)
    body = ", ".join(f'"{column}" {type_}' for column, type_ in duckdb_columns().items())
    con.execute(f'CREATE OR REPLACE TABLE "{name}" ({body})')


def _check_name(name: str) -> None:
    if not name or not all(ch.isalnum() or ch == "_" for ch in name):
        raise ValueError(f"table name {name!r}: use letters, digits and '_' only")


# ------------------------------------------------------------------ records -> rows, as the SerDe reads them

def _text(value: Any) -> str | None:
    """A STRING column's value: a string as itself, null as NULL, anything else as its JSON text."""
    if value is None or value.__class__ is str:
        return value
    return orjson.dumps(value).decode()


_CHILDREN: dict[int, dict[str, Field]] = {}


def _children(field: Field) -> dict[str, Field]:
    """The struct's fields by table name (lower case), built once per struct."""
    found = _CHILDREN.get(id(field))
    if found is None:
        found = _CHILDREN[id(field)] = {child.name: child for child in field.fields}
    return found


def _members(field: Field, value: dict[str, Any]) -> dict[str, Any]:
    """A struct's declared members, keys matched case-insensitively as the SerDe does (the last of
    two spellings wins); undeclared keys are dropped, and missing or null members left out (NULL)."""
    children = _children(field)
    out: dict[str, Any] = {}
    for key, item in value.items():
        child = children.get(key.lower())
        if child is None:
            continue
        converted = None if item is None else _value(child, item)
        if converted is None:
            out.pop(child.name, None)
        else:
            out[child.name] = converted
    return out


def _value(field: Field, value: Any) -> Any:
    kind = field.kind
    if kind == STRUCT:
        return _members(field, value) if value.__class__ is dict else None
    if kind == ARRAY:
        if value.__class__ is not list:
            return None
        return [_members(field, item) if item.__class__ is dict else None for item in value]
    if kind == MAP:
        return {str(k): _text(v) for k, v in value.items()} if value.__class__ is dict else None
    return _text(value)


def table_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """One CloudTrail record as a row of the table: {column: value} with structs as dicts, the
    partition columns and `_raw`. A column (or struct member) that is NULL is left out."""
    row = _members(TABLE, record if record.__class__ is dict else dict(record))
    event_time = row.get("eventtime") or ""
    for name, value in (("region", row.get("awsregion")), ("year", event_time[0:4]), ("month", event_time[5:7]),
                        ("day", event_time[8:10])):
        if value:
            row[name] = value
    row[RAW_COLUMN] = orjson.dumps(record).decode()
    return row


def load_records(con: Any, records: Iterable[Mapping[str, Any]], name: str = "cloudtrail") -> int:
    """Insert CloudTrail records (dicts, as `trailguard.records` reads them) into the table `name`,
    creating it if needed; returns how many. The rows go through DuckDB's JSON reader with the
    table's declared types, so ~100k events load in seconds without pandas or pyarrow."""
    _check_name(name)
    if not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()[0]:
        create_table(con, name)
    columns = duckdb_columns()
    handle, path = tempfile.mkstemp(suffix=".ndjson", prefix="trailguard-sql-")
    count = 0
    try:
        with os.fdopen(handle, "wb") as out:
            for record in records:
                out.write(orjson.dumps(table_row(record)))
                out.write(b"\n")
                count += 1
        if count:
            spec = "{" + ", ".join(f"'{column}': '{type_.replace(chr(39), chr(39) * 2)}'"
                                   for column, type_ in columns.items()) + "}"
            names = ", ".join(f'"{column}"' for column in columns)
            con.execute(f'INSERT INTO "{name}" ({names}) SELECT {names} FROM read_json(?, format = \'newline_delimited\', '
                        f"columns = {spec}, maximum_object_size = 67108864)", [path])
    finally:
        os.unlink(path)
    return count
